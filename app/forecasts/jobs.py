"""Background forecast jobs: many activities, one at a time through the process pool.

A job's state lives in the database (progress and per-activity results are committed as each
activity finishes), so a client can poll it and a restart cannot leave it "running" forever:
`interrupt_unfinished` marks such jobs when the service starts again.
"""

import time
from collections.abc import Callable
from typing import Any

from prometheus_client import Counter, Histogram
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.contracts import service as contracts
from app.core import audit
from app.core.auth import Principal
from app.core.db import Database, session_scope
from app.core.errors import NotFound, Problem
from app.core.orm import utc_now
from app.core.transactions import DatabaseTransactions
from app.forecasts import schemas, service
from app.forecasts.pool import ForecastPool
from app.forecasts.repository import ForecastRepository
from app.forecasts.tables import ForecastJob

JOB_DURATION = Histogram(
    "plancher_forecast_job_duration_seconds",
    "Time to run a whole forecast job.",
    buckets=(5, 15, 30, 60, 120, 300, 600, 1200, 3600, float("inf")),
)
JOB_FAILURES = Counter(
    "plancher_forecast_job_failures_total", "Activities a forecast job could not forecast."
)


def create_job(
    session: Session, actor: Principal, data: schemas.ForecastJobCreate
) -> tuple[ForecastJob, list[str]]:
    """Record a queued job for the activities of a contract, or of every contract the key
    may see; return it with the activity ids to forecast."""
    if data.contract_id is not None:
        activities = contracts.all_activities(session, actor, data.contract_id)
    else:
        activities = contracts.visible_activities(session, actor)
    job = ForecastJob(
        contract_id=data.contract_id,
        status="queued",
        request=data.model_dump(mode="json"),
        total=len(activities),
        done=0,
        results=[],
        created_by_key_id=actor.key_id,
    )
    ForecastRepository(session).add(job)
    audit.record(
        session, actor, "forecast_job.created", "forecast_job", job.id, {"activities": job.total}
    )
    return job, [activity.id for activity in activities]


def get_job(session: Session, actor: Principal, job_id: str) -> ForecastJob:
    job = ForecastRepository(session).get_job(job_id)
    if job is None or (actor.scoped_client_id is not None and job.contract_id is None):
        raise NotFound(f"No forecast job with id {job_id}.")
    if job.contract_id is not None:
        contracts.get_contract(session, actor, job.contract_id)
    return job


async def run_job(
    database: Database,
    pool: ForecastPool,
    actor: Principal,
    job_id: str,
    activity_ids: list[str],
    on_progress: Callable[[int, int], None] | None = None,
) -> None:
    """Forecast each activity in turn, committing progress after each one."""
    started = time.monotonic()
    await run_in_threadpool(
        _update, database, job_id, {"status": "running", "started_at": utc_now()}
    )
    request = await run_in_threadpool(_job_request, database, job_id)
    for done, activity_id in enumerate(activity_ids, start=1):
        outcome = await _forecast_one(database, pool, actor, activity_id, request)
        await run_in_threadpool(_record, database, job_id, outcome)
        if on_progress is not None:
            on_progress(done, len(activity_ids))
    await run_in_threadpool(
        _update, database, job_id, {"status": "completed", "finished_at": utc_now()}
    )
    JOB_DURATION.observe(time.monotonic() - started)


async def _forecast_one(
    database: Database,
    pool: ForecastPool,
    actor: Principal,
    activity_id: str,
    request: schemas.ForecastCreate,
) -> dict[str, Any]:
    try:
        stored = await service.create_forecast(
            DatabaseTransactions(database), pool, actor, activity_id, request
        )
    except Problem as problem:
        JOB_FAILURES.inc()
        return {"activity_id": activity_id, "forecast_id": None, "error": problem.detail}
    return {"activity_id": activity_id, "forecast_id": stored.run.id, "error": None}


def _job_request(database: Database, job_id: str) -> schemas.ForecastCreate:
    with database.session(write=False) as session:
        job = ForecastRepository(session).get_job(job_id)
        assert job is not None
        return schemas.ForecastCreate.model_validate(
            {k: v for k, v in job.request.items() if k != "contract_id"}
        )


def _record(database: Database, job_id: str, outcome: dict[str, Any]) -> None:
    with session_scope(database) as session:
        job = ForecastRepository(session).get_job(job_id)
        assert job is not None
        job.results = [*job.results, outcome]
        job.done += 1


def _update(database: Database, job_id: str, values: dict[str, Any]) -> None:
    with session_scope(database) as session:
        job = ForecastRepository(session).get_job(job_id)
        assert job is not None
        for name, value in values.items():
            setattr(job, name, value)


def interrupt_unfinished(database: Database) -> int:
    """Called at start-up: jobs of a previous process can no longer progress."""
    with session_scope(database) as session:
        return ForecastRepository(session).interrupt_unfinished_jobs()
