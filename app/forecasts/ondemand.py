"""Month forecasts made when a comparison or a scorecard needs one that is not stored yet.

They go through the same use case as `POST /forecasts` (`service.create_forecast`), so what a
comparison shows can be fetched again as an ordinary forecast. A span the history cannot serve
(too little of it) simply stays without a provider forecast.
"""

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from app.core.auth import Principal
from app.core.periods import Period
from app.core.transactions import RequestTransactions
from app.forecasts import schemas, service
from app.forecasts.pool import ForecastPool


@dataclass(frozen=True)
class Span:
    """Months `first` to `last`, forecast as of `history_end` (None: with all history)."""

    first: Period
    last: Period
    history_end: date | None = None


async def make_month_forecasts(
    pool: ForecastPool,
    session: Session,
    actor: Principal,
    activity_id: str,
    spans: list[Span],
    volume: schemas.Volume,
) -> None:
    """One `auto` month forecast of `volume` contacts per span, fitted in parallel in the pool;
    their reads and writes take turns in the request's session."""
    requests = [
        schemas.ForecastCreate(
            granularity="month",
            start=span.first.first_day,
            end=span.last.next().first_day - timedelta(days=1),
            method="auto",
            history_end=span.history_end,
            volume=volume,
        )
        for span in spans
    ]
    transactions = RequestTransactions(session)
    await asyncio.gather(
        *(_forecast(transactions, pool, actor, activity_id, request) for request in requests)
    )


async def _forecast(
    transactions: RequestTransactions,
    pool: ForecastPool,
    actor: Principal,
    activity_id: str,
    request: schemas.ForecastCreate,
) -> None:
    with contextlib.suppress(service.ForecastRefused):
        await service.create_forecast(transactions, pool, actor, activity_id, request)
