"""Month forecasts that a comparison or a scorecard lacks, made in the background.

A read never fits: it queues them (`request_month_forecasts`, once per activity and spans however
often it is asked) and answers with what is stored, saying the forecast is pending. The task
goes through the same use case as `POST /forecasts` (`service.create_forecast`), so what a
comparison shows can be fetched again as an ordinary forecast. A span the history cannot serve
(too little of it) simply stays without a provider forecast. The nightly refresh
(`app.schedules`) queues the same task for every contract in force.
"""

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.core import queue
from app.core.auth import SYSTEM
from app.core.periods import Period
from app.forecasts import schemas, service

MONTH_FORECASTS = "forecasts.month"


@dataclass(frozen=True)
class Span:
    """Months `first` to `last`, forecast as of `history_end` (None: with all history)."""

    first: Period
    last: Period
    history_end: date | None = None

    def as_json(self) -> dict[str, str | None]:
        return {
            "first": str(self.first),
            "last": str(self.last),
            "history_end": None if self.history_end is None else self.history_end.isoformat(),
        }


def request_month_forecasts(
    session: Session,
    tasks: queue.TaskQueue,
    activity_id: str,
    spans: list[Span],
    volume: schemas.Volume,
) -> None:
    """Queue one `auto` month forecast of `volume` contacts per span, unless the same request
    is already queued."""
    described = [span.as_json() for span in spans]
    lock = f"{MONTH_FORECASTS}:{activity_id}:{volume}:" + ",".join(
        f"{item['first']}-{item['last']}@{item['history_end']}" for item in described
    )
    tasks.defer(
        session, MONTH_FORECASTS, lock=lock, activity_id=activity_id, volume=volume, spans=described
    )


@queue.task(MONTH_FORECASTS)
async def make_month_forecasts(
    runtime: queue.Runtime,
    *,
    final_attempt: bool,
    activity_id: str,
    volume: schemas.Volume,
    spans: list[dict[str, Any]],
) -> None:
    """Fit the spans' month forecasts in parallel in the pool, each stored in its own short
    transaction. Every one runs to its end before an error is raised: a sibling left running
    would outlive its task."""
    requests = [_request(span, volume) for span in spans]
    outcomes = await asyncio.gather(
        *(_forecast(runtime, activity_id, request) for request in requests),
        return_exceptions=True,
    )
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


def _request(span: dict[str, Any], volume: schemas.Volume) -> schemas.ForecastCreate:
    first, last = Period.parse(span["first"]), Period.parse(span["last"])
    history_end = span["history_end"]
    return schemas.ForecastCreate(
        granularity="month",
        start=first.first_day,
        end=last.next().first_day - timedelta(days=1),
        method="auto",
        history_end=None if history_end is None else date.fromisoformat(history_end),
        volume=volume,
    )


async def _forecast(
    runtime: queue.Runtime, activity_id: str, request: schemas.ForecastCreate
) -> None:
    with contextlib.suppress(service.ForecastRefused):
        await service.create_forecast(
            runtime.transactions, runtime.pool, SYSTEM, activity_id, request
        )
