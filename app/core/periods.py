"""Billing periods and the instants that bound them.

A period is a calendar month *in the contract's time zone* (charter axis 1, vocabulary), so
every function that turns a period into instants takes the zone. Instants handed back for
storage or comparison are aware datetimes; callers compare them as instants, never as wall
clock readings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_PERIOD_PATTERN = re.compile(r"([0-9]{4})-([0-9]{2})")


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month, labelled ``YYYY-MM``; ordered chronologically.

    The label is zone-free: ``2026-10`` names the same period for every contract, and only
    :func:`period_bounds` decides which instants it covers in a given zone.
    """

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"month must be between 1 and 12, got {self.month}")
        if not MINYEAR <= self.year <= MAXYEAR:
            raise ValueError(f"year must be between {MINYEAR} and {MAXYEAR}, got {self.year}")

    @classmethod
    def parse(cls, text: str) -> Period:
        """Read the API's ``YYYY-MM`` form, strictly: ``2026-1`` or ``2026-10-01`` are refused
        rather than guessed at, because a misread period bills the wrong month."""
        match = _PERIOD_PATTERN.fullmatch(text)
        if match is None:
            raise ValueError(f"invalid period {text!r}: expected YYYY-MM, e.g. 2026-10")
        try:
            return cls(int(match[1]), int(match[2]))
        except ValueError as exc:
            raise ValueError(f"invalid period {text!r}: {exc}") from None

    @classmethod
    def of(cls, day: date) -> Period:
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def next(self) -> Period:
        if self.month == 12:
            return Period(self.year + 1, 1)
        return Period(self.year, self.month + 1)

    def previous(self) -> Period:
        if self.month == 1:
            return Period(self.year - 1, 12)
        return Period(self.year, self.month - 1)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def contains(self, day: date) -> bool:
        return (day.year, day.month) == (self.year, self.month)


def _require_aware(instant: datetime, name: str) -> None:
    if instant.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {instant.isoformat()}")


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of ``day`` in ``tz``, as an aware datetime in ``tz``.

    Built with ``fold=0``, which is what "start of the day" needs even in zones whose DST
    change happens at midnight: a skipped midnight maps to the transition instant (the first
    instant that exists that day) and a repeated midnight maps to its first occurrence.
    """
    return datetime(day.year, day.month, day.day, tzinfo=tz)


def period_bounds(period: Period, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants ``[start, end)`` of ``period`` in ``tz``.

    Computed from the two local midnights rather than by adding a duration, so a month that
    contains a DST change is one hour shorter or longer, as its intervals are.
    """
    start = local_midnight(period.first_day, tz).astimezone(UTC)
    end = local_midnight(period.next().first_day, tz).astimezone(UTC)
    return start, end


def period_of(instant: datetime, tz: ZoneInfo) -> Period:
    """The period containing ``instant`` in ``tz``; 00:00 local on the 1st opens its month."""
    _require_aware(instant, "instant")
    return Period.of(instant.astimezone(tz).date())


def commitment_deadline(period: Period, tz: ZoneInfo, deadline_days: int) -> datetime:
    """The last instant at which a commitment version can still bind ``period``.

    The charter counts ``deadline_days`` calendar days back from the period's start *in the
    contract's zone*; subtracting on dates and then taking local midnight keeps the deadline at
    00:00 local even when a DST change lies between it and the period's start (subtracting
    a ``timedelta`` from the start instant would move it by an hour).
    """
    if deadline_days < 0:
        raise ValueError(f"deadline_days must be >= 0, got {deadline_days}")
    return local_midnight(period.first_day - timedelta(days=deadline_days), tz)


def is_period_closed(period: Period, tz: ZoneInfo, now: datetime) -> bool:
    """Whether ``period`` has ended in ``tz``: only then may it be invoiced (charter §4)."""
    _require_aware(now, "now")
    return now.astimezone(UTC) >= period_bounds(period, tz)[1]


def periods_between(first: Period, last: Period) -> list[Period]:
    """Every period from ``first`` to ``last``, both included.

    A ``last`` before ``first`` is refused rather than answered with an empty list: it is
    almost always a swapped pair of arguments.
    """
    if last < first:
        raise ValueError(f"last period {last} is before first period {first}")
    periods = [first]
    while periods[-1] != last:
        periods.append(periods[-1].next())
    return periods
