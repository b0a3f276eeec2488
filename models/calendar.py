"""Activity calendars: which days are open, and the calendar regressors of the daily models.

What is learned from the history (nothing here is configured per activity):
  * a weekday is closed when it carried no volume on its non-holiday days of the last
    `OPENING_LOOKBACK_DAYS` (a Saturday service stopped last quarter is closed now, whatever
    it did two years ago);
  * a public holiday of the contract's country (the `holidays` package) is closed only when the
    history shows THAT holiday closed: by the majority of its past occurrences on open weekdays
    (an "observed" day counts as the holiday it replaces). A holiday with no such evidence is
    forecast open, never closed by analogy with the other holidays: a centre that closed on
    three holidays may well work the fourth, and a zero forecast on an open day costs far more
    than a normal forecast on a closed one (a planner closes it with a special day). Such a
    holiday is reported as unconfirmed (`assumptions`), as is every day forecast closed, with
    its reason.

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
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cached_property, lru_cache
from typing import Literal

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
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_OBSERVED_SUFFIX = " (observed)"

AssumptionReason = Literal[
    "closed_weekday", "closed_holiday", "closed_special_day", "unconfirmed_holiday"
]


@dataclass(frozen=True)
class DayAssumption:
    """A forecast day the calendar decided without a planner: closed, or an unconfirmed holiday.

    ``closed_weekday``: that weekday carried no volume lately; ``closed_holiday``: that holiday
    was closed on most of its past occurrences; ``closed_special_day``: a special day closes it;
    ``unconfirmed_holiday``: a public holiday the history has no evidence about, forecast open.
    """

    day: date
    closed: bool
    reason: AssumptionReason
    detail: str
    holiday: str | None = None


def holiday_key(name: str) -> str:
    """The holiday an occurrence belongs to: "Christmas Day (observed)" is Christmas Day."""
    return name.removesuffix(_OBSERVED_SUFFIX)


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
    holiday_evidence: tuple[tuple[str, int, int], ...] = ()
    """(holiday, closed occurrences, occurrences) seen on open weekdays: the closures and
    their reasons both come from it."""

    @cached_property
    def closed_holiday_names(self) -> frozenset[str]:
        """Holidays (`holiday_key`) closed on most of their past occurrences on open weekdays."""
        return frozenset(name for name, closed, seen in self.holiday_evidence if 2 * closed > seen)

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
        return name is not None and holiday_key(name) in self.closed_holiday_names

    def regular_days(self, slots: pd.DatetimeIndex) -> BoolArray:
        """Which open-weekday `slots` no calendar regressor explains: not a public holiday, not
        the first open day after a closed one (``rebound``), not a school holiday. Only these
        may be called abnormal (`anomalies`): a quiet holiday is the holiday's effect."""
        if slots.empty:
            return np.zeros(0, dtype=bool)
        years = _years(slots)
        names = public_holidays(self.country, years)
        holiday: BoolArray = np.array([day.date() in names for day in slots], dtype=bool)
        rebound = first_open_after_closure(self.closed_holidays(slots))
        school = _school_days(self.country, years) or {}
        on_school_holiday = np.array([day.date() in school for day in slots], dtype=bool)
        return np.asarray(~(holiday | rebound | on_school_holiday), dtype=bool)

    def is_open(self, days: pd.DatetimeIndex) -> BoolArray:
        """Which of `days` are open: an open weekday that is not a closed holiday."""
        weekday_open: BoolArray = np.asarray(self.open_weekdays, dtype=bool)[days.day_of_week]
        return weekday_open & ~self.closed_holidays(days)

    def assumptions(
        self, days: pd.DatetimeIndex, planned: Mapping[date, str]
    ) -> list[DayAssumption]:
        """Every day of `days` forecast closed, and every unconfirmed holiday, with its reason.

        `planned`: the kinds of the planner's special days by date; ``closed`` closes a day and
        ``open`` re-opens a closed holiday (not a weekday never worked: it has no pattern).
        """
        if days.empty:
            return []
        names = public_holidays(self.country, _years(days))
        evidence = {name: (closed, seen) for name, closed, seen in self.holiday_evidence}
        out = []
        for day in days:
            today = day.date()
            name = names.get(today)
            key = None if name is None else holiday_key(name)
            kind = planned.get(today)
            if kind == "closed":
                detail = "a special day closes it"
                out.append(DayAssumption(today, True, "closed_special_day", detail, name))
            elif not self.open_weekdays[day.day_of_week]:
                weekday = WEEKDAY_NAMES[day.day_of_week]
                detail = f"no volume on {weekday}s in the last {OPENING_LOOKBACK_DAYS} days"
                out.append(DayAssumption(today, True, "closed_weekday", detail, name))
            elif kind == "open" or key is None:
                continue
            elif key in self.closed_holiday_names:
                closed, seen = evidence[key]
                detail = f"{key} was closed on {closed} of its {seen} past occurrences"
                out.append(DayAssumption(today, True, "closed_holiday", detail, name))
            elif key not in evidence:
                detail = (
                    f"{key} is not in the history: forecast open; "
                    "a special day of kind closed closes it"
                )
                out.append(DayAssumption(today, False, "unconfirmed_holiday", detail, name))
        return out


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
            observed.setdefault(holiday_key(name), []).append(volume == 0)
    return ActivityCalendar(
        country=country,
        open_weekdays=open_weekdays,
        holiday_evidence=tuple(
            (name, sum(closures), len(closures)) for name, closures in sorted(observed.items())
        ),
    )


def first_open_after_closure(closed: BoolArray) -> BoolArray:
    """Which slots are the first open day after a closed holiday (the ``rebound`` day that
    catches up), given which slots are closed holidays."""
    return np.asarray(np.concatenate(([False], closed[:-1] & ~closed[1:])), dtype=bool)


WORKED_HOLIDAY_COLUMN = "open_holiday"
"""The regressor of public holidays worked; a history without one has no such column."""


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
    frame["rebound"] = first_open_after_closure(closed).astype(np.float64)
    is_holiday = np.array([day.date() in names for day in days], dtype=bool)
    frame[WORKED_HOLIDAY_COLUMN] = (is_holiday & ~closed).astype(np.float64)

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
