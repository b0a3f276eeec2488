"""Local-calendar aggregation of interval actuals (pure: pandas in, pandas out).

Days, ISO weeks (Monday start) and months are taken in the contract's time zone, so a DST day
sums its 23 or 25 hours of intervals and 00:00 local on the 1st belongs to its own month. AHT
aggregates as the handled-weighted mean, from exact integer milliseconds.
"""

from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

import pandas as pd


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


def aggregate(frame: pd.DataFrame, timezone: ZoneInfo, granularity: Granularity) -> pd.DataFrame:
    """Totals per local period: period_start (aware, local), offered, handled, handled_ms.

    `frame` has interval_start (UTC), offered, handled, aht_ms as read from the repository.
    """
    # Calendar arithmetic on local wall-clock dates, never on instants: "minus 6 days" across
    # a DST change would otherwise land an hour off and on the wrong day.
    day = frame["interval_start"].dt.tz_convert(timezone).dt.tz_localize(None).dt.normalize()
    if granularity is Granularity.DAY:
        key = day
    elif granularity is Granularity.WEEK:
        key = day - pd.to_timedelta(day.dt.day_of_week, unit="D")
    else:
        key = day - pd.to_timedelta(day.dt.day - 1, unit="D")
    work = pd.DataFrame(
        {
            "period_start": key,
            "offered": frame["offered"].astype("int64"),
            "handled": frame["handled"].astype("int64"),
            "handled_ms": (frame["handled"] * frame["aht_ms"].fillna(0)).astype("int64"),
        }
    )
    totals = work.groupby("period_start", sort=True).sum().reset_index()
    # Local midnight re-attached to the zone; where a zone skips or repeats midnight, the
    # first instant of the day is the period start.
    totals["period_start"] = totals["period_start"].dt.tz_localize(
        timezone, ambiguous=True, nonexistent="shift_forward"
    )
    return totals
