"""Local-calendar aggregation of interval actuals: the periods, and the AHT of a total.

Days, ISO weeks (Monday start) and months are taken in the contract's time zone, so a DST day
sums its 23 or 25 hours of intervals and 00:00 local on the 1st belongs to its own month. The
database sums the intervals of each period (`VolumeRepository.period_sums`: one query, a few
dozen rows back instead of every interval); AHT aggregates as the handled-weighted mean, from
exact integer milliseconds.
"""

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from app.core.periods import local_midnight


class Granularity(StrEnum):
    INTERVAL = "interval"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


_MS = Decimal("0.001")


def weighted_aht_seconds(handled: int, handled_ms: int) -> Decimal | None:
    """Σ(handled × AHT) / Σ handled, in seconds to the millisecond; None when nothing was
    handled (an average of nothing is not zero)."""
    if handled == 0:
        return None
    return (Decimal(handled_ms) / Decimal(handled) / 1000).quantize(_MS, rounding=ROUND_HALF_UP)


def period_starts(
    low: datetime, high: datetime, timezone: ZoneInfo, granularity: Granularity
) -> list[datetime]:
    """The local starts (aware, in `timezone`) of every local day, ISO week (Monday) or month
    that [low, high) touches, in order: the first one may start before `low`.

    Periods are taken on local wall-clock dates, never by adding durations, so a DST day is
    23 or 25 hours long; where a zone skips or repeats midnight, a period starts at the first
    instant of its day (`local_midnight`).
    """
    day = low.astimezone(timezone).date()
    if granularity is Granularity.WEEK:
        day -= timedelta(days=day.weekday())
    elif granularity is Granularity.MONTH:
        day = day.replace(day=1)
    starts = []
    while (start := local_midnight(day, timezone)) < high:
        starts.append(start)
        if granularity is Granularity.DAY:
            day += timedelta(days=1)
        elif granularity is Granularity.WEEK:
            day += timedelta(days=7)
        else:
            day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return starts
