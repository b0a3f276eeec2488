"""What a request may ask: the checks that turn a bad value into a `ForecastInputError`
naming its field, before any history is read."""

from __future__ import annotations

import zoneinfo
from datetime import date, timedelta

from models.base import check_levels
from models.contract import ActivitySeries, ForecastInputError, ForecastRequest
from models.registry import MODELS

MAX_HORIZON_DAYS: dict[str, int] = {"day": 400, "month": 400, "interval": 62}
"""Longest forecast, in days from `history_end` to the last forecast day (for months: the last
day of the last month)."""


def forecast_days(request: ForecastRequest) -> tuple[date, date]:
    """First and last local day the output covers (whole months for `month`)."""
    if request.granularity != "month":
        return request.start, request.end
    first = request.start.replace(day=1)
    after = (request.end.replace(day=1) + timedelta(days=32)).replace(day=1)
    return first, after - timedelta(days=1)


def validate(series: ActivitySeries, request: ForecastRequest) -> tuple[int, ...]:
    """The request's levels, sorted and without repeats, once every value the engine reads
    before the history is checked; the first bad one raises, naming its field."""
    if request.granularity not in MAX_HORIZON_DAYS:
        raise ForecastInputError(
            "granularity", f"unknown granularity {request.granularity!r}: day, interval or month"
        )
    if request.method != "auto" and request.method not in MODELS:
        known = ", ".join(["auto", *MODELS])
        raise ForecastInputError("method", f"unknown method {request.method!r}: one of {known}")
    if not serves(request.method, request.granularity):
        raise ForecastInputError(
            "method",
            f"the {request.method} model forecasts intervals: use it with granularity interval",
        )
    if request.end < request.start:
        raise ForecastInputError("end", f"end {request.end} is before start {request.start}")
    try:
        levels = check_levels(tuple(request.levels))
    except ValueError as error:
        raise ForecastInputError("levels", str(error)) from None
    if series.interval_minutes not in (15, 30, 60):
        raise ForecastInputError("interval_minutes", "must be 15, 30 or 60")
    try:
        zoneinfo.ZoneInfo(series.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ForecastInputError("timezone", f"unknown time zone {series.timezone!r}") from None
    if request.volume not in ("offered", "handled"):
        raise ForecastInputError("volume", f"unknown volume {request.volume!r}: offered or handled")
    for special in request.special_days:
        needs_factor = special.kind == "multiplier"
        if special.kind not in ("outlier", "closed", "open", "multiplier"):
            raise ForecastInputError("special_days", f"unknown kind {special.kind!r}")
        if needs_factor != (special.multiplier is not None) or (
            needs_factor and not (special.multiplier or 0) > 0
        ):
            raise ForecastInputError(
                "special_days",
                f"{special.day}: a positive multiplier goes with kind 'multiplier' only",
            )
    return levels


def check_horizon(request: ForecastRequest, history_end: date) -> None:
    first, last = forecast_days(request)
    if request.granularity != "month" and first < history_end:
        raise ForecastInputError(
            "start", f"start {first} is before history_end {history_end}: that is history"
        )
    if last < history_end:
        raise ForecastInputError("end", f"end {last} is before history_end {history_end}")
    horizon = (last - history_end).days + 1
    limit = MAX_HORIZON_DAYS[request.granularity]
    if horizon > limit:
        raise ForecastInputError(
            "end",
            f"the forecast would run {horizon} days past history_end {history_end}; "
            f"the maximum for {request.granularity} is {limit} days",
        )


def serves(method: str, granularity: str) -> bool:
    """Whether `method` can forecast at `granularity`: every daily model serves days, months
    (their totals) and intervals (spread by the profiles); an interval model intervals only."""
    return method == "auto" or granularity == "interval" or "day" in MODELS[method].levels
