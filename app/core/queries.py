"""Query parameters several routers share: a month, and a range of months `from` to `to`.

Each is checked by its type, so that a bad month is named with every other bad parameter of the
request; the range checks, which need both bounds, follow."""

from typing import Annotated

from fastapi import Query

from app.core.errors import FieldError, ValidationFailed, failed
from app.core.fields import PeriodText, parse_period
from app.core.periods import Period, periods_between

PeriodQuery = Annotated[PeriodText, Query(description="YYYY-MM", examples=["2026-12"])]
FirstPeriod = Annotated[PeriodText, Query(alias="from", description="First period, YYYY-MM.")]
LastPeriod = Annotated[PeriodText, Query(alias="to", description="Last period, YYYY-MM.")]

MAX_PERIODS = 36


def period_range(first: str, last: str) -> list[Period]:
    """The periods `from` to `to` of a query, at most `MAX_PERIODS` of them; both bad bounds
    are named at once."""
    errors: list[FieldError] = []
    bounds: list[Period] = []
    for text, name in ((first, "from"), (last, "to")):
        try:
            bounds.append(parse_period(text, name))
        except ValidationFailed as problem:
            errors += problem.errors
    if errors:
        raise failed(errors)
    start, end = bounds
    if end < start:
        raise failed([FieldError("query", "to", "must not be before from")])
    periods = periods_between(start, end)
    if len(periods) > MAX_PERIODS:
        raise failed([FieldError("query", "to", f"at most {MAX_PERIODS} periods at once")])
    return periods
