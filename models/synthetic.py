"""Deterministic synthetic interval actuals for French contact-centre activities.

`generate_intervals` returns what an ACD export looks like: one row per interval of the
activity's opening hours, with offered and handled contacts and the average handling time of
the handled ones. It feeds `plancher demo`, the tests and the forecasting accuracy benchmarks,
so it reproduces the structure a forecaster must find (trend, annual seasonality, weekday
pattern, intraday double peak, school holidays, public-holiday closures and the catch-up day
after them) and the noise it must not chase (day-level autocorrelated noise, Poisson or
gamma-Poisson counts, occasional outage or campaign days).

Layout
    Intervals are laid out in LOCAL time: each local day runs from its local midnight to the
    next one in steps of `interval_minutes` of elapsed time, so a 25-hour autumn DST day holds
    50 half-hours and a 23-hour spring day 46. An interval belongs to the opening hours when
    its local wall-clock start lies in ``[open, close)``. Rows are emitted ONLY for intervals
    within opening hours, zeros included; closed hours, closed weekdays and public holidays
    have no row at all (reindex on the opening grid if a regular series with zeros is needed).
    `interval_start` is tz-aware UTC. Starts stay on the local :00/:15/:30/:45 grid wherever
    the zone's DST shift is a multiple of the interval (all of Europe; not Lord Howe's 30 min
    shift with 60-minute intervals).

Determinism
    Randomness is drawn per local calendar year from streams seeded by
    ``(seed, crc32(profile.name), year)``, always over the whole year, and the requested range
    is then sliced out. Hence the same arguments give an identical frame, a sub-range is
    exactly the slice of a longer range (same seed, profile and time zone), two profiles with
    different names get independent noise under the same seed, and a range covering parts of
    three calendar years costs three years of generation.

School holidays
    Approximated by fixed month-day ranges, identical every year (`SCHOOL_HOLIDAYS`): the
    national breaks (Toussaint, Christmas, summer) at full weight, and the winter and spring
    breaks, staggered over about four weeks across zones A, B and C, at half weight over the
    whole window. `holidays` 0.109 does carry the zone calendars (category "school",
    subdivisions "Zone A/B/C") but only for recent years, and we want output that does not
    change when that data is revised.

Outliers
    With ``outlier_rate > 0`` some open days become an outage (a contiguous 15-50 % of the
    opening hours carries only 5-30 % of the normal volume) or a campaign spike (the whole day
    x1.6-3.0). They are drawn from their own stream, so `outlier_days` and
    `known_outlier_days` return them without generating the intervals, e.g. for a benchmark to
    mask them.

AHT
    `aht_seconds` is the mean of the handled contacts' handle times, drawn as the mean of
    ``handled`` gamma-distributed handle times (per-contact CV `handle_time_cv`): it is noisy
    on small intervals and precise on busy ones. It is 0.0 (not NaN or None) when handled is 0,
    so that ``handled * aht_seconds`` is always the handled workload.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Literal

import holidays
import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "BENCHMARK_PROFILES",
    "COLUMNS",
    "DEMO_PROFILES",
    "SCHOOL_HOLIDAYS",
    "ActivityProfile",
    "OutlierDay",
    "generate_intervals",
    "known_outlier_days",
    "outlier_days",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
DayArray = npt.NDArray[np.datetime64]

Hours = tuple[str, str]
"""Local opening hours ``("HH:MM", "HH:MM")``, closing exclusive; "24:00" closes at midnight."""

COLUMNS = ("interval_start", "offered", "handled", "aht_seconds")

SCHOOL_HOLIDAYS: tuple[tuple[tuple[int, int], tuple[int, int], float], ...] = (
    ((1, 1), (1, 4), 1.0),  # Noël (end)
    ((2, 8), (3, 9), 0.5),  # hiver, zones staggered
    ((4, 5), (5, 5), 0.5),  # printemps, zones staggered
    ((7, 5), (8, 31), 1.0),  # été
    ((10, 19), (11, 3), 1.0),  # Toussaint
    ((12, 20), (12, 31), 1.0),  # Noël (start)
)
"""``(first (month, day), last (month, day), weight)``, inclusive; the dip is scaled by weight."""

# Deviation from the annual mean at mid-month, Jan..Dec: the "rentrée" peaks of January and
# September, the August trough. Centred, then scaled by `seasonality_strength`.
_SEASON_TEMPLATE = np.array(
    [0.22, 0.08, 0.04, 0.0, -0.04, -0.02, -0.10, -0.28, 0.20, 0.08, 0.02, -0.12]
)
_SEASON_TEMPLATE = _SEASON_TEMPLATE - _SEASON_TEMPLATE.mean()

_CALENDAR_PAD_DAYS = 14  # look-back for the catch-up day after a closure
_NOISE_BURN_IN_DAYS = 30  # AR(1) kernel length for the day-level noise
_NS_PER_MINUTE = 60_000_000_000
_SHAPE_SUBSAMPLES = 4  # the intraday shape is averaged over each interval

_NONE, _OUTAGE, _SPIKE = 0, 1, 2


def _parse_hhmm(value: str) -> int:
    hours, sep, minutes = value.partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise ValueError(f"opening hour {value!r} is not HH:MM")
    total = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or total > 24 * 60:
        raise ValueError(f"opening hour {value!r} is not between 00:00 and 24:00")
    return total


_WEEKDAY_HOURS: Hours = ("08:00", "20:00")


@dataclass(frozen=True)
class ActivityProfile:
    """The knobs of one synthetic activity.

    `mean_daily_volume` is the expected volume of an average Monday-to-Friday open day at
    `reference_date`, before annual seasonality, school holidays and noise: weekday weights
    are rescaled so that their Monday-to-Friday mean of open days is 1. `annual_trend` compounds
    daily from `reference_date` (+0.03 = +3 %/year). A weekday is closed when its weight is 0,
    and must then have no opening hours (and the reverse). With `saturday_half_day` the
    Saturday window is cut to its first half (09:00-17:00 becomes 09:00-13:00).
    """

    name: str
    mean_daily_volume: float
    interval_minutes: int = 30
    annual_trend: float = 0.03
    reference_date: date = date(2025, 1, 1)
    weekday_weights: tuple[float, ...] = (1.18, 1.03, 0.97, 0.95, 0.87, 0.35, 0.0)
    opening_hours: tuple[Hours | None, ...] = (
        *(_WEEKDAY_HOURS,) * 5,
        ("09:00", "17:00"),
        None,
    )
    saturday_half_day: bool = True
    intraday_peak_strength: float = 1.0
    """Exponent on the double-peak shape: 0 is flat over the opening hours, 1 the full shape."""
    seasonality_strength: float = 1.0
    """Scale of the annual template (1: about +20 % in January/September, -30 % in August)."""
    school_holiday_dip: float = 0.08
    """Relative volume drop during school holidays; negative for activities that rise then."""
    country: str = "FR"
    subdivision: str | None = None
    closed_on_public_holidays: bool = True
    post_closure_rebound: float = 0.12
    """Extra volume on the first open day after a public holiday closed a normally open day."""
    daily_noise_cv: float = 0.05
    daily_noise_autocorr: float = 0.5
    overdispersion: float = 0.0
    """Gamma-Poisson: interval variance is ``mean + overdispersion * mean**2``; 0 is Poisson."""
    outlier_rate: float = 0.0
    """Probability that an open day is an outage or a campaign spike (half and half)."""
    aht_seconds: float = 330.0
    aht_intraday_amplitude: float = 0.06
    """AHT is up to this much longer in the morning and shorter in the evening."""
    aht_seasonality: float = 0.05
    """AHT is this much longer in mid-January and shorter in mid-July."""
    aht_daily_noise_cv: float = 0.03
    handle_time_cv: float = 0.9
    """Coefficient of variation of one contact's handle time."""
    abandon_rate_min: float = 0.02
    abandon_rate_max: float = 0.10
    """Abandon rate rises from min (quiet intervals) to max (intervals at 1.4 times a busy one)."""

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("name must not be empty")
        if self.interval_minutes not in (15, 30, 60):
            raise ValueError("interval_minutes must be 15, 30 or 60")
        if not self.mean_daily_volume > 0:
            raise ValueError("mean_daily_volume must be positive")
        if len(self.weekday_weights) != 7 or len(self.opening_hours) != 7:
            raise ValueError("weekday_weights and opening_hours need 7 entries, Monday first")
        if any(w < 0 for w in self.weekday_weights) or not any(self.weekday_weights):
            raise ValueError("weekday_weights must be >= 0 with at least one open day")
        for weekday in range(7):
            hours = self.opening_hours[weekday]
            if (self.weekday_weights[weekday] > 0) != (hours is not None):
                raise ValueError(f"weekday {weekday}: a zero weight goes with no opening hours")
            if hours is not None:
                opening, closing = (_parse_hhmm(h) for h in hours)
                if opening >= closing:
                    raise ValueError(f"weekday {weekday}: opening {hours} closes before it opens")
                if opening % self.interval_minutes or closing % self.interval_minutes:
                    raise ValueError(f"weekday {weekday}: opening {hours} is off the grid")
        if not self.annual_trend > -1:
            raise ValueError("annual_trend must be > -1")
        if self.school_holiday_dip >= 1 or self.post_closure_rebound <= -1:
            raise ValueError("school_holiday_dip must be < 1 and post_closure_rebound > -1")
        nonnegative = (
            self.intraday_peak_strength,
            self.seasonality_strength,
            self.daily_noise_cv,
            self.overdispersion,
            self.aht_daily_noise_cv,
        )
        if any(v < 0 for v in nonnegative):
            raise ValueError("strengths, noise levels and overdispersion must be >= 0")
        if not 0 <= self.daily_noise_autocorr < 1:
            raise ValueError("daily_noise_autocorr must be in [0, 1)")
        if not 0 <= self.outlier_rate <= 1:
            raise ValueError("outlier_rate must be in [0, 1]")
        if not (self.aht_seconds > 0 and self.handle_time_cv > 0):
            raise ValueError("aht_seconds and handle_time_cv must be positive")
        if not (0 <= self.aht_intraday_amplitude < 1 and 0 <= self.aht_seasonality < 1):
            raise ValueError("AHT amplitudes must be in [0, 1)")
        if not 0 <= self.abandon_rate_min <= self.abandon_rate_max < 1:
            raise ValueError("need 0 <= abandon_rate_min <= abandon_rate_max < 1")

    def opening_minutes(self, weekday: int) -> tuple[int, int] | None:
        """Effective local opening ``(open, close)`` in minutes after midnight, or None if closed.

        `weekday` is 0 for Monday. This is where `saturday_half_day` applies.
        """
        hours = self.opening_hours[weekday]
        if hours is None:
            return None
        opening, closing = _parse_hhmm(hours[0]), _parse_hhmm(hours[1])
        if weekday == 5 and self.saturday_half_day:
            half = (closing - opening) // 2 // self.interval_minutes * self.interval_minutes
            closing = opening + max(half, self.interval_minutes)
        return opening, closing


@dataclass(frozen=True)
class OutlierDay:
    """A day deliberately made abnormal; `factor` multiplies the expected volume.

    A spike applies `factor` to the whole day, an outage only to a contiguous part of it.
    """

    day: date
    kind: Literal["outage", "spike"]
    factor: float


# --------------------------------------------------------------------------------------------
# Calendar: deterministic, per local calendar year.


@lru_cache(maxsize=256)
def _public_holidays(country: str, subdivision: str | None, year: int) -> DayArray:
    calendar = holidays.country_holidays(country, subdiv=subdivision, years=year)
    return np.array(sorted(calendar.keys()), dtype="datetime64[D]")


@dataclass(frozen=True)
class _Calendar:
    days: DayArray  # every local day of the year
    weekday: IntArray
    open: BoolArray
    expected: FloatArray  # expected daily volume before noise and outliers, 0 when closed
    aht_season: FloatArray


def _weekday_factors(profile: ActivityProfile) -> FloatArray:
    weights = np.asarray(profile.weekday_weights, dtype=np.float64)
    weekdays_open = weights[:5][weights[:5] > 0]
    scale = float(weekdays_open.mean() if weekdays_open.size else weights[weights > 0].mean())
    return weights / scale


def _year_calendar(profile: ActivityProfile, year: int) -> _Calendar:
    first = np.datetime64(f"{year:04d}-01-01", "D")
    days = np.arange(
        first - _CALENDAR_PAD_DAYS,
        np.datetime64(f"{year + 1:04d}-01-01", "D"),
        dtype="datetime64[D]",
    )
    ordinal = days.astype(np.int64)
    weekday = (ordinal + 3) % 7  # 1970-01-01 was a Thursday
    factors = _weekday_factors(profile)
    normally_open = factors[weekday] > 0
    if profile.closed_on_public_holidays:
        closed_days = np.concatenate(
            [_public_holidays(profile.country, profile.subdivision, y) for y in (year - 1, year)]
        )
        holiday = np.isin(days, closed_days)
    else:
        holiday = np.zeros(days.shape, dtype=bool)
    is_open = normally_open & ~holiday

    # The first open day after a public holiday closed a normally open day catches up.
    index = np.arange(days.size)
    last_normally_open = np.maximum.accumulate(np.where(normally_open, index, -1))
    previous = np.concatenate(([-1], last_normally_open[:-1]))
    rebound = is_open & (previous >= 0) & (normally_open & holiday)[np.maximum(previous, 0)]

    months = days.astype("datetime64[M]")
    month_start = months.astype("datetime64[D]")
    month_length = ((months + 1).astype("datetime64[D]") - month_start).astype(np.float64)
    day_of_month = (days - month_start).astype(np.int64) + 1
    month_number = months.astype(np.int64) % 12 + 1
    position = month_number - 1 + (day_of_month - 0.5) / month_length
    season = np.interp(position, np.arange(12) + 0.5, _SEASON_TEMPLATE, period=12)
    season = np.maximum(1 + profile.seasonality_strength * season, 0.05)

    month_day = month_number * 100 + day_of_month
    school = np.zeros(days.shape)
    for (m1, d1), (m2, d2), weight in SCHOOL_HOLIDAYS:
        school[(month_day >= m1 * 100 + d1) & (month_day <= m2 * 100 + d2)] = weight

    reference = np.datetime64(profile.reference_date, "D")
    years_elapsed = (days - reference).astype(np.float64) / 365.25
    expected = (
        profile.mean_daily_volume
        * (1 + profile.annual_trend) ** years_elapsed
        * factors[weekday]
        * season
        * (1 - profile.school_holiday_dip * school)
        * np.where(rebound, 1 + profile.post_closure_rebound, 1.0)
        * is_open
    )
    day_of_year = (days - first).astype(np.float64)
    aht_season = 1 + profile.aht_seasonality * np.cos(2 * np.pi * (day_of_year - 14) / 365.25)

    keep = slice(_CALENDAR_PAD_DAYS, None)
    return _Calendar(
        days=days[keep],
        weekday=weekday[keep],
        open=is_open[keep],
        expected=expected[keep],
        aht_season=aht_season[keep],
    )


# --------------------------------------------------------------------------------------------
# Randomness: one generator per (seed, activity, year, stream).


def _rng(seed: int, profile: ActivityProfile, year: int, stream: int) -> np.random.Generator:
    name_key = zlib.crc32(profile.name.encode("utf-8"))
    return np.random.default_rng(np.random.SeedSequence([seed, name_key, year, stream]))


@dataclass(frozen=True)
class _DayEvents:
    kind: IntArray
    factor: FloatArray  # volume multiplier of the outlier (1 when none)
    outage_from: FloatArray  # outage window, as fractions of the day's opening
    outage_to: FloatArray
    volume_noise: FloatArray
    aht_noise: FloatArray


def _lognormal_sigma(cv: float) -> float:
    return math.sqrt(math.log1p(cv * cv))


def _day_events(profile: ActivityProfile, calendar: _Calendar, year: int, seed: int) -> _DayEvents:
    # Fixed-size draws of standard distributions in a fixed order: the outlier days depend only
    # on the seed, the name, the calendar and outlier_rate, not on the other knobs.
    rng = _rng(seed, profile, year, 0)
    n = calendar.days.size
    u_outlier, u_kind, u_start, u_length, u_size = rng.random((5, n))
    shocks = rng.standard_normal(n + _NOISE_BURN_IN_DAYS)
    aht_shocks = rng.standard_normal(n)

    kind = np.where(
        calendar.open & (u_outlier < profile.outlier_rate),
        np.where(u_kind < 0.5, _OUTAGE, _SPIKE),
        _NONE,
    ).astype(np.int64)
    factor = np.select(
        [kind == _OUTAGE, kind == _SPIKE], [0.05 + 0.25 * u_size, 1.6 + 1.4 * u_size], 1.0
    )
    length = 0.15 + 0.35 * u_length
    outage_from = u_start * (1 - length)

    # AR(1) over calendar days, as a truncated MA filter scaled to unit variance.
    kernel = profile.daily_noise_autocorr ** np.arange(_NOISE_BURN_IN_DAYS + 1)
    ar = np.convolve(shocks, kernel)[_NOISE_BURN_IN_DAYS : _NOISE_BURN_IN_DAYS + n]
    ar /= math.sqrt(float(np.sum(kernel**2)))
    sigma = _lognormal_sigma(profile.daily_noise_cv)
    aht_sigma = _lognormal_sigma(profile.aht_daily_noise_cv)
    return _DayEvents(
        kind=kind,
        factor=factor,
        outage_from=outage_from,
        outage_to=outage_from + length,
        volume_noise=np.exp(sigma * ar - sigma**2 / 2),
        aht_noise=np.exp(aht_sigma * aht_shocks - aht_sigma**2 / 2),
    )


# --------------------------------------------------------------------------------------------
# Intervals.


def _sigmoid(x: FloatArray) -> FloatArray:
    return 1 / (1 + np.exp(-x))


def _bump(t: FloatArray, centre: float, width: float) -> FloatArray:
    return np.exp(-0.5 * ((t - centre) / width) ** 2)


def _intraday_shape(hours: FloatArray) -> FloatArray:
    """Relative arrival intensity at local wall-clock time `hours`: peaks near 11:00 and 14:30."""
    daytime = 0.04 + 0.36 * _sigmoid((hours - 7.6) / 0.5) * _sigmoid((19.0 - hours) / 0.8)
    shape = (
        daytime
        + 1.00 * _bump(hours, 11.0, 1.25)
        + 0.85 * _bump(hours, 14.6, 1.15)
        - 0.30 * _bump(hours, 12.9, 0.55)
    )
    return np.maximum(shape, 0.02)


def _local_grid(
    profile: ActivityProfile, days: DayArray, weekday: IntArray, tz: str
) -> tuple[IntArray, IntArray, IntArray]:
    """Open intervals of `days`: (day index, UTC start in ns, local wall-clock minute)."""
    step_ns = profile.interval_minutes * _NS_PER_MINUTE
    # `days` need not be consecutive: each day runs to its own next local midnight.
    bounds = np.concatenate([days, days + 1]).astype("datetime64[ns]")
    midnights = (
        pd.DatetimeIndex(bounds)
        .tz_localize(tz, ambiguous=np.ones(bounds.size, dtype=bool), nonexistent="shift_forward")
        .as_unit("ns")
        .asi8
    )
    day_start, day_end = midnights[: days.size], midnights[days.size :]
    slots_per_day = (day_end - day_start) // step_ns
    day_index = np.repeat(np.arange(days.size), slots_per_day)
    first_slot = np.repeat(np.cumsum(slots_per_day) - slots_per_day, slots_per_day)
    utc_ns = day_start[day_index] + (np.arange(day_index.size) - first_slot) * step_ns
    local = pd.DatetimeIndex(utc_ns.astype("datetime64[ns]")).tz_localize("UTC").tz_convert(tz)
    wall = np.asarray(local.hour, dtype=np.int64) * 60 + np.asarray(local.minute, dtype=np.int64)

    opening = np.zeros(7, dtype=np.int64)
    closing = np.zeros(7, dtype=np.int64)
    for wd in range(7):
        minutes = profile.opening_minutes(wd)
        if minutes is not None:
            opening[wd], closing[wd] = minutes
    slot_weekday = weekday[day_index]
    inside = (wall >= opening[slot_weekday]) & (wall < closing[slot_weekday])
    return day_index[inside], utc_ns[inside], wall[inside]


@dataclass(frozen=True)
class _Block:
    day: DayArray
    utc_ns: IntArray
    offered: IntArray
    handled: IntArray
    aht: FloatArray


def _year_block(profile: ActivityProfile, year: int, tz: str, seed: int) -> _Block:
    calendar = _year_calendar(profile, year)
    events = _day_events(profile, calendar, year, seed)
    open_days = np.flatnonzero(calendar.open)
    if open_days.size == 0:
        empty_int = np.zeros(0, dtype=np.int64)
        return _Block(
            calendar.days[:0], empty_int, empty_int, empty_int, np.zeros(0, dtype=np.float64)
        )
    local_day, utc_ns, wall = _local_grid(
        profile, calendar.days[open_days], calendar.weekday[open_days], tz
    )
    day = open_days[local_day]  # index into the year's calendar

    step = profile.interval_minutes
    offsets = (np.arange(_SHAPE_SUBSAMPLES) + 0.5) * step / _SHAPE_SUBSAMPLES
    sub_hours = (wall[:, None] + offsets[None, :]) / 60.0
    shape = np.mean(_intraday_shape(sub_hours) ** profile.intraday_peak_strength, axis=1)
    share = shape / np.bincount(day, weights=shape, minlength=calendar.days.size)[day]

    # Where each interval sits in its day's opening, for the outage window.
    slots_in_day = np.bincount(day, minlength=calendar.days.size)
    first_of_day = np.cumsum(slots_in_day) - slots_in_day
    position = (np.arange(day.size) - first_of_day[day] + 0.5) / slots_in_day[day]
    in_outage = (
        (events.kind[day] == _OUTAGE)
        & (position >= events.outage_from[day])
        & (position < events.outage_to[day])
    )
    outlier = np.where(
        events.kind[day] == _SPIKE, events.factor[day], np.where(in_outage, events.factor[day], 1)
    )

    baseline = calendar.expected[day] * share
    mean = baseline * events.volume_noise[day] * outlier

    rng = _rng(seed, profile, year, 1)
    if profile.overdispersion > 0:
        k = 1 / profile.overdispersion
        mean = rng.gamma(k, mean / k)
    offered = rng.poisson(mean).astype(np.int64)

    # Abandons rise with the load relative to a busy interval of the year.
    busy = float(np.quantile(baseline, 0.9))
    load = np.clip((offered / busy - 0.6) / 0.8, 0.0, 1.0)
    abandon_rate = (
        profile.abandon_rate_min + (profile.abandon_rate_max - profile.abandon_rate_min) * load**2
    )
    handled = offered - rng.binomial(offered, abandon_rate).astype(np.int64)

    centre_hours = (wall + step / 2) / 60.0
    aht_mean = (
        profile.aht_seconds
        * (1 + profile.aht_intraday_amplitude * np.tanh((12.5 - centre_hours) / 2.5))
        * calendar.aht_season[day]
        * events.aht_noise[day]
    )
    gamma_shape = handled / profile.handle_time_cv**2
    aht = rng.gamma(gamma_shape, aht_mean / np.maximum(gamma_shape, 1.0))
    aht = np.where(handled > 0, np.round(aht, 1), 0.0)

    return _Block(calendar.days[day], utc_ns, offered, handled, aht)


def _as_date(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


def _check_range(start: date, end: date, seed: int) -> tuple[date, date]:
    start, end = _as_date(start), _as_date(end)
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    if seed < 0:
        raise ValueError("seed must be >= 0")
    return start, end


def generate_intervals(
    profile: ActivityProfile,
    start: date,
    end: date,
    tz: str = "Europe/Paris",
    seed: int = 0,
) -> pd.DataFrame:
    """Interval actuals of `profile` for the local days `start`..`end` inclusive.

    Columns: `interval_start` (datetime64[ns, UTC], on the local interval grid), `offered` and
    `handled` (int64), `aht_seconds` (float64, 0.1 s, 0.0 when handled is 0). One row per
    interval within opening hours, sorted; no row for closed hours or days.
    """
    start, end = _check_range(start, end, seed)
    blocks = [_year_block(profile, year, tz, seed) for year in range(start.year, end.year + 1)]
    day = np.concatenate([b.day for b in blocks])
    keep = (day >= np.datetime64(start, "D")) & (day <= np.datetime64(end, "D"))
    utc_ns = np.concatenate([b.utc_ns for b in blocks])[keep]
    return pd.DataFrame(
        {
            "interval_start": pd.DatetimeIndex(utc_ns.astype("datetime64[ns]")).tz_localize("UTC"),
            "offered": np.concatenate([b.offered for b in blocks])[keep],
            "handled": np.concatenate([b.handled for b in blocks])[keep],
            "aht_seconds": np.concatenate([b.aht for b in blocks])[keep].astype(np.float64),
        }
    )


def outlier_days(
    profile: ActivityProfile, start: date, end: date, seed: int = 0
) -> list[OutlierDay]:
    """The outage and spike days `generate_intervals` puts in `start`..`end` for this seed."""
    start, end = _check_range(start, end, seed)
    found: list[OutlierDay] = []
    if profile.outlier_rate == 0:
        return found
    for year in range(start.year, end.year + 1):
        calendar = _year_calendar(profile, year)
        events = _day_events(profile, calendar, year, seed)
        for i in np.flatnonzero(events.kind != _NONE):
            day = date(year, 1, 1) + timedelta(days=int(i))
            if start <= day <= end:
                kind: Literal["outage", "spike"] = (
                    "outage" if events.kind[i] == _OUTAGE else "spike"
                )
                found.append(OutlierDay(day, kind, round(float(events.factor[i]), 3)))
    return found


def known_outlier_days(
    profile: ActivityProfile, start: date, end: date, seed: int = 0
) -> list[date]:
    """The local dates of `outlier_days`, for a benchmark to mask."""
    return [o.day for o in outlier_days(profile, start, end, seed)]


# --------------------------------------------------------------------------------------------
# Ready-made profiles.

DEMO_PROFILES: tuple[ActivityProfile, ...] = (
    ActivityProfile(
        name="Service client voix",
        mean_daily_volume=4000,
        interval_minutes=30,
        annual_trend=0.03,
        outlier_rate=0.004,
        overdispersion=0.01,
    ),
    ActivityProfile(
        name="E-mails",
        mean_daily_volume=1200,
        interval_minutes=60,
        annual_trend=0.06,
        weekday_weights=(1.25, 1.05, 0.98, 0.94, 0.78, 0.45, 0.0),
        opening_hours=(*(("08:00", "19:00"),) * 5, ("09:00", "17:00"), None),
        saturday_half_day=False,
        intraday_peak_strength=0.4,
        seasonality_strength=0.6,
        school_holiday_dip=0.05,
        aht_seconds=420,
        aht_intraday_amplitude=0.03,
        abandon_rate_min=0.0,
        abandon_rate_max=0.0,
    ),
    ActivityProfile(
        name="Back-office dossiers",
        mean_daily_volume=600,
        interval_minutes=60,
        annual_trend=-0.02,
        weekday_weights=(1.10, 1.02, 1.0, 0.98, 0.90, 0.0, 0.0),
        opening_hours=(*(("09:00", "17:00"),) * 5, None, None),
        intraday_peak_strength=0.3,
        seasonality_strength=0.8,
        school_holiday_dip=0.04,
        post_closure_rebound=0.25,
        daily_noise_cv=0.08,
        overdispersion=0.03,
        aht_seconds=750,
        aht_intraday_amplitude=0.08,
        aht_seasonality=0.06,
        handle_time_cv=0.5,
        abandon_rate_min=0.0,
        abandon_rate_max=0.0,
    ),
)
"""The three activities of `plancher demo`: voice care, e-mail, back-office files."""

BENCHMARK_PROFILES: tuple[ActivityProfile, ...] = (
    ActivityProfile(
        name="bench-voix-fort-volume",
        mean_daily_volume=12000,
        annual_trend=0.02,
        daily_noise_cv=0.04,
        overdispersion=0.005,
    ),
    ActivityProfile(
        name="bench-voix-faible-bruite",
        mean_daily_volume=150,
        annual_trend=0.0,
        seasonality_strength=0.5,
        daily_noise_cv=0.15,
        daily_noise_autocorr=0.3,
        overdispersion=0.15,
    ),
    ActivityProfile(
        name="bench-forte-croissance",
        mean_daily_volume=2000,
        interval_minutes=60,
        annual_trend=0.15,
        seasonality_strength=0.5,
    ),
    ActivityProfile(
        name="bench-declin-samedi-ferme",
        mean_daily_volume=3000,
        annual_trend=-0.08,
        weekday_weights=(1.15, 1.02, 0.98, 0.97, 0.88, 0.0, 0.0),
        opening_hours=(*(("08:30", "18:00"),) * 5, None, None),
        seasonality_strength=0.3,
        school_holiday_dip=0.03,
    ),
    ActivityProfile(
        name="bench-saisonnier-samedi-complet",
        mean_daily_volume=2500,
        annual_trend=0.04,
        weekday_weights=(1.12, 1.02, 0.98, 0.96, 0.92, 0.60, 0.0),
        opening_hours=(*(_WEEKDAY_HOURS,) * 5, ("09:00", "18:00"), None),
        saturday_half_day=False,
        seasonality_strength=1.6,
        school_holiday_dip=0.15,
    ),
    ActivityProfile(
        name="bench-jours-atypiques",
        mean_daily_volume=1800,
        annual_trend=0.03,
        outlier_rate=0.03,
        overdispersion=0.02,
    ),
    ActivityProfile(
        name="bench-7j-quart-heure",
        mean_daily_volume=800,
        interval_minutes=15,
        annual_trend=0.05,
        weekday_weights=(1.10, 1.0, 0.98, 0.97, 0.95, 0.70, 0.45),
        opening_hours=(("08:00", "22:00"),) * 7,
        saturday_half_day=False,
        closed_on_public_holidays=False,
        post_closure_rebound=0.0,
        intraday_peak_strength=0.7,
        school_holiday_dip=-0.10,
        aht_seconds=280,
    ),
    ActivityProfile(
        name="bench-assistance-24-7",
        mean_daily_volume=5000,
        interval_minutes=60,
        annual_trend=0.01,
        weekday_weights=(1.05, 1.0, 1.0, 1.0, 0.98, 0.80, 0.75),
        opening_hours=(("00:00", "24:00"),) * 7,
        saturday_half_day=False,
        closed_on_public_holidays=False,
        post_closure_rebound=0.0,
        seasonality_strength=0.4,
        school_holiday_dip=0.0,
        aht_seconds=380,
    ),
)
"""Varied activities for forecasting accuracy benchmarks (levels, trends, seasonality,
Saturday open or closed, 7/7 and 24/7 lines, a noisy low-volume one, one with outlier days)."""
