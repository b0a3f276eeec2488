"""Month forecasts made when a comparison or a scorecard needs one that is not stored yet.

They go through the same pool, task and storage as `POST /forecasts`, so what a comparison
shows can be fetched again as an ordinary forecast. A span the history cannot serve (too
little of it) simply stays without a provider forecast.
"""

import asyncio
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.core.auth import Principal
from app.core.periods import Period
from app.forecasts import schemas, service
from app.forecasts.pool import ForecastPool
from app.forecasts.tasks import run_forecast


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
    """One `auto` month forecast of `volume` contacts per span, fitted in parallel in the pool,
    stored in turn (the request's session is never used by two threads at once)."""
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
    prepared = [
        await run_in_threadpool(service.prepare, session, actor, activity_id, request)
        for request in requests
    ]
    results = await asyncio.gather(*(pool.run(run_forecast, ready.payload) for ready in prepared))
    for request, ready, result in zip(requests, prepared, results, strict=True):
        if "error" not in result:
            await run_in_threadpool(service.store, session, actor, ready.activity, request, result)
