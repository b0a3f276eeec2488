"""Activity calendars: which days are open, and the calendar regressors of the daily models.

What is learned from the history (nothing here is configured per activity):
  * a weekday is closed when it carried no volume on its non-holiday days of the last
    `OPENING_LOOKBACK_DAYS` (a Saturday service stopped last quarter is closed now, whatever
    it did two years ago);
  * a public holiday of the contract's country (the `holidays` package) is closed when the
    history shows it: by the majority of that holiday's past occurrences on open weekdays,
    else by the majority of all past holidays on open weekdays, else it is assumed open.

The daily models see the series of OPEN WEEKDAYS only (a regular series with a
`CustomBusinessDay` frequency): the weekly pattern keeps a fixed period, Sundays of a Monday-
to-Friday activity are no zeros to explain, and closed holidays are gaps that the engine fills
before fitting and forces to zero after predicting.

Regressors (`features`), all deterministic functions of the date, so future values are known:
  * ``school``: the share of French school zones on holiday (A, B, C), when the `holidays`
    package covers every year involved (it does not for old or far-future years);
  * ``rebound``: the first open day after a closed public holiday, which catches up;
  * ``open_holiday``: a public holiday the activity works through (usually quieter);
  * ``annual_sin_k`` / ``annual_cos_k``: Fourier terms of the day of the year, once a year of
    history can pin them down.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import holidays
import numpy as np
import pandas as pd

from models.base import BoolArray

OPENING_LOOKBACK_DAYS = 91
ANNUAL_MIN_HISTORY_DAYS = 400
"""Annual Fourier terms need a full year plus some overlap to separate season from trend."""
ANNUAL_FOURIER_ORDER = 8
"""Harmonics of the annual cycle: enough for the sharp August trough / September peak."""
SCHOOL_ZONES: dict[str, tuple[str, ...]] = {"FR": ("Zone A", "Zone B", "Zone C")}
_MIN_SCHOOL_DAYS_PER_YEAR = 60  # below this a year's school calendar is missing or partial

WEEKDAY_CODES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@lru_cache(maxsize=64)
def public_holidays(country: str, years: tuple[int, ...]) -> dict[date, str]:
    """Public holidays of `country` in `years`, date -> name."""
    return dict(holidays.country_holidays(country, years=years).items())


@lru_cache(maxsize=64)
def _school_days(country: str, years: tuple[int, ...]) -> dict[date, float] | None:
    zones = SCHOOL_ZONES.get(country)
    if zones is None:
        return None
    share: Counter[date] = Counter()
    for zone in zones:
        calendar = holidays.country_holidays(
            country, subdiv=zone, years=years, categories=("school",)
        )
        per_year = Counter(day.year for day in calendar)
        if any(per_year[year] < _MIN_SCHOOL_DAYS_PER_YEAR for year in years):
            return None
        share.update(calendar.keys())
    return {day: count / len(zones) for day, count in share.items()}


def _years(days: pd.DatetimeIndex) -> tuple[int, ...]:
    return tuple(range(int(days.year.min()), int(days.year.max()) + 1))


@dataclass(frozen=True)
class ActivityCalendar:
    """Open weekdays and public-holiday closures of one activity, as learned from history."""

    country: str
    open_weekdays: tuple[bool, ...]
    closed_holiday_names: frozenset[str]
    open_holiday_names: frozenset[str]
    unseen_holidays_closed: bool
    """How a holiday never seen on an open weekday is treated: like most of those seen."""

    @property
    def season_length(self) -> int:
        """Open days per week: the period of the weekly pattern on the open-weekday series."""
        return sum(self.open_weekdays)

    @property
    def frequency(self) -> pd.offsets.CustomBusinessDay:
        codes = zip(WEEKDAY_CODES, self.open_weekdays, strict=True)
        mask = " ".join(code for code, is_open in codes if is_open)
        return pd.offsets.CustomBusinessDay(weekmask=mask)

    def open_weekday_index(self, first: date, last: date) -> pd.DatetimeIndex:
        """The open-weekday slots from `first` to `last` inclusive (holidays included)."""
        return pd.date_range(
            pd.Timestamp(first), pd.Timestamp(last), freq=self.frequency, name="day"
        )

    def closed_holidays(self, days: pd.DatetimeIndex) -> BoolArray:
        """Which of `days` are public holidays the activity closes on."""
        if days.empty:
            return np.zeros(0, dtype=bool)
        names = public_holidays(self.country, _years(days))
        return np.array([self._closes(names.get(day.date())) for day in days], dtype=bool)

    def _closes(self, name: str | None) -> bool:
        if name is None or name in self.open_holiday_names:
            return False
        return name in self.closed_holiday_names or self.unseen_holidays_closed

    def is_open(self, days: pd.DatetimeIndex) -> BoolArray:
        """Which of `days` are open: an open weekday that is not a closed holiday."""
        weekday_open: BoolArray = np.asarray(self.open_weekdays, dtype=bool)[days.day_of_week]
        return weekday_open & ~self.closed_holidays(days)


def learn_calendar(daily: pd.Series, country: str) -> ActivityCalendar:
    """Learn open weekdays and holiday closures from daily volumes (index: local midnights).

    `daily` must hold every day of the history, zeros included.
    """
    names = public_holidays(country, _years(daily.index))
    recent = daily[daily.index >= daily.index[-1] - pd.Timedelta(days=OPENING_LOOKBACK_DAYS - 1)]
    ordinary = recent[[day.date() not in names for day in recent.index]]
    # A weekday only ever seen on holidays (two Christmas Wednesdays) is not known to close.
    seen = set(ordinary.index.day_of_week)
    per_weekday = ordinary.groupby(ordinary.index.day_of_week).sum()
    open_weekdays = tuple(wd not in seen or bool(per_weekday[wd] > 0) for wd in range(7))

    observed: dict[str, list[bool]] = {}
    for day, volume in daily.items():
        name = names.get(day.date())
        if name is not None and open_weekdays[day.day_of_week]:
            observed.setdefault(name, []).append(volume == 0)
    closed = {name for name, closures in observed.items() if 2 * sum(closures) > len(closures)}
    every = [closed for closures in observed.values() for closed in closures]
    return ActivityCalendar(
        country=country,
        open_weekdays=open_weekdays,
        closed_holiday_names=frozenset(closed),
        open_holiday_names=frozenset(observed) - closed,
        unseen_holidays_closed=bool(every) and 2 * sum(every) > len(every),
    )


def features(calendar: ActivityCalendar, days: pd.DatetimeIndex, history_days: int) -> pd.DataFrame:
    """Calendar regressors for the open-weekday slots `days` (history then future).

    `history_days` is the length of the history in calendar days: annual terms only come with
    enough of it. Columns constant over the history part are left to the caller to drop.
    """
    frame = pd.DataFrame(index=days)
    years = _years(days)
    school = _school_days(calendar.country, years)
    if school is not None:
        frame["school"] = [school.get(day.date(), 0.0) for day in days]

    closed = calendar.closed_holidays(days)
    names = public_holidays(calendar.country, years)
    frame["rebound"] = np.concatenate(([False], closed[:-1] & ~closed[1:])).astype(np.float64)
    is_holiday = np.array([day.date() in names for day in days], dtype=bool)
    frame["open_holiday"] = (is_holiday & ~closed).astype(np.float64)

    if history_days >= ANNUAL_MIN_HISTORY_DAYS:
        angle = 2 * np.pi * (days.day_of_year.to_numpy() - 1) / 365.25
        for k in range(1, ANNUAL_FOURIER_ORDER + 1):
            frame[f"annual_sin_{k}"] = np.sin(k * angle)
            frame[f"annual_cos_{k}"] = np.cos(k * angle)
    return frame


def varying_columns(frame: pd.DataFrame, n_history: int) -> list[str]:
    """Columns that vary over the first `n_history` rows: the only ones a fit can estimate."""
    history = frame.iloc[:n_history]
    return [c for c in frame.columns if float(history[c].std(ddof=0)) > 1e-9]


def local_midnights(days: pd.DatetimeIndex, tz: str) -> pd.DatetimeIndex:
    """UTC instants of the local midnights of naive `days` (DST-safe)."""
    return days.tz_localize(tz, ambiguous=True, nonexistent="shift_forward").tz_convert("UTC")
