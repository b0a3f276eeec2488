"""Background forecast jobs: one queued task per activity (`app.core.queue`).

The job row is what a client polls. It is created with its tasks in one transaction, so a job
never exists without its tasks nor the reverse. Each task stores its activity's forecast and
records the outcome in the job in one transaction, holding the job row's lock: an outcome
already recorded (a task retried after its worker was killed, having got that far) is never
recorded twice, and its run is then not stored either. An activity that fails for good is
recorded with its error; the last outcome ends the job `completed`, `partial` (some activities
failed) or `failed` (all of them). A cancelled job stores nothing more, and its running fits
are stopped.
"""

import contextlib
import logging

from prometheus_client import Counter, Histogram
from sqlalchemy.orm import Session

from app.contracts import service as contracts
from app.core import audit, checks, queue
from app.core.auth import Principal
from app.core.db import Database, session_scope
from app.core.errors import Conflict, FieldError, NotFound, Problem
from app.core.orm import utc_now
from app.forecasts import schemas, service
from app.forecasts.repository import ForecastRepository
from app.forecasts.tables import ForecastJob

log = logging.getLogger("plancher.forecasts")

JOB_DURATION = Histogram(
    "plancher_forecast_job_duration_seconds",
    "Time to run a whole forecast job.",
    buckets=(5, 15, 30, 60, 120, 300, 600, 1200, 3600, float("inf")),
)
JOB_FAILURES = Counter(
    "plancher_forecast_job_failures_total", "Activities a forecast job could not forecast."
)

FORECAST_ACTIVITY = "forecasts.activity"
FINISHED = ("completed", "partial", "failed", "cancelled", "interrupted")


def check_new_job(session: Session, actor: Principal, raw: checks.RawRequest) -> list[FieldError]:
    """What the stored data refuses in a job request (an unknown contract), for the schema's
    422 too."""
    fields = checks.salvage(schemas.ForecastJobCreate, raw.body)
    return contracts.contract_id_problems(session, actor, fields.get("contract_id"))


def create_job(
    session: Session, tasks: queue.TaskQueue, actor: Principal, data: schemas.ForecastJobCreate
) -> ForecastJob:
    """Record a queued job for the activities of a contract, or of every contract the key
    may see, and queue one task per activity in the same transaction."""
    if data.contract_id is not None:
        contract = contracts.contract_named(session, actor, data.contract_id)
        activities = contracts.all_activities(session, actor, contract.id)
    else:
        activities = contracts.visible_activities(session, actor)
    job = ForecastJob(
        contract_id=data.contract_id,
        status="queued" if activities else "completed",
        request=data.model_dump(mode="json"),
        activity_ids=[activity.id for activity in activities],
        total=len(activities),
        done=0,
        results=[],
        created_by_key_id=actor.key_id,
        finished_at=None if activities else utc_now(),
    )
    ForecastRepository(session).add(job)
    for activity in activities:
        tasks.defer(session, FORECAST_ACTIVITY, job_id=job.id, activity_id=activity.id)
    audit.record(
        session, actor, "forecast_job.created", "forecast_job", job.id, {"activities": job.total}
    )
    return job


def get_job(session: Session, actor: Principal, job_id: str) -> ForecastJob:
    job = ForecastRepository(session).get_job(job_id)
    if job is None or (actor.scoped_client_id is not None and job.contract_id is None):
        raise NotFound(f"No forecast job with id {job_id}.")
    if job.contract_id is not None:
        contracts.get_contract(session, actor, job.contract_id)
    return job


def cancel_job(
    session: Session, tasks: queue.TaskQueue, actor: Principal, job_id: str
) -> ForecastJob:
    """Stop a job: its tasks still queued never start, the fits running for it are stopped
    (once this transaction commits), and none of them stores anything; what was stored
    stays."""
    get_job(session, actor, job_id)
    job = ForecastRepository(session).lock_job(job_id)
    if job.status in FINISHED:
        raise Conflict(
            f"The job is already {job.status}; only a queued or running job can be cancelled."
        )
    job.status = "cancelled"
    job.finished_at = utc_now()
    tasks.abort(session, FORECAST_ACTIVITY, job_id=job.id)
    audit.record(session, actor, "forecast_job.cancelled", "forecast_job", job.id, {})
    return job


class _AlreadyRecorded(Exception):
    """The job no longer wants this activity's forecast: roll its storing back."""


@queue.task(FORECAST_ACTIVITY)
async def forecast_activity(
    runtime: queue.Runtime, *, final_attempt: bool, job_id: str, activity_id: str
) -> None:
    """Forecast one activity of a job and record the outcome (exactly once)."""
    started = await runtime.transactions.write(lambda s: _start(s, job_id, activity_id))
    if started is None:
        return
    actor, request = started
    try:
        await service.create_forecast(
            runtime.transactions,
            runtime.pool,
            actor,
            activity_id,
            request,
            on_stored=lambda session, stored: _record(
                session, job_id, activity_id, stored.run.id, None
            ),
        )
        return
    except _AlreadyRecorded:
        return
    except Problem as problem:
        error = problem.detail
    except queue.TRANSIENT_ERRORS as transient:
        if not final_attempt:
            raise
        error = f"gave up after {runtime.settings.task_max_attempts + 1} attempts: {transient}"
    except Exception as unexpected:
        log.exception("forecast of %s in job %s failed", activity_id, job_id)
        error = f"{type(unexpected).__name__}: {unexpected}"
    JOB_FAILURES.inc()
    with contextlib.suppress(_AlreadyRecorded):  # cancelled meanwhile
        await runtime.transactions.write(lambda s: _record(s, job_id, activity_id, None, error))


def _start(
    session: Session, job_id: str, activity_id: str
) -> tuple[Principal, schemas.ForecastCreate] | None:
    """Mark the job running; None when this activity is no longer wanted."""
    job = ForecastRepository(session).lock_job(job_id)
    if job.status in FINISHED or _recorded(job, activity_id):
        return None
    if job.status == "queued":
        job.status = "running"
        job.started_at = utc_now()
    # The key was authorised when the job was made; the task acts for it (the stored runs
    # name it) without the key's scope, which the job's activity list already applied.
    actor = Principal(key_id=job.created_by_key_id, role="system")
    request = schemas.ForecastCreate.model_validate(
        {k: v for k, v in job.request.items() if k != "contract_id"}
    )
    return actor, request


def _recorded(job: ForecastJob, activity_id: str) -> bool:
    return any(outcome["activity_id"] == activity_id for outcome in job.results)


def _record(
    session: Session, job_id: str, activity_id: str, forecast_id: str | None, error: str | None
) -> None:
    """Add an activity's outcome to the job (holding its lock), ending the job with its last."""
    job = ForecastRepository(session).lock_job(job_id)
    if job.status in FINISHED or _recorded(job, activity_id):
        raise _AlreadyRecorded
    outcome = {"activity_id": activity_id, "forecast_id": forecast_id, "error": error}
    job.results = [*job.results, outcome]
    job.done += 1
    if job.done < job.total:
        return
    failures = sum(1 for item in job.results if item["error"] is not None)
    job.status = "completed" if failures == 0 else "failed" if failures == job.total else "partial"
    job.finished_at = utc_now()
    if job.started_at is not None:
        JOB_DURATION.observe((job.finished_at - job.started_at).total_seconds())


def resume_unfinished(database: Database, tasks: queue.LocalQueue) -> int:
    """At start-up of the embedded runner: queue again the activities that jobs left
    unfinished by a previous process (a job from before activity lists were kept cannot be
    resumed and is marked interrupted). procrastinate keeps its own queue and needs none."""
    spec = queue.TASKS[FORECAST_ACTIVITY]
    wanted = []
    with session_scope(database) as session:
        unfinished = ForecastRepository(session).unfinished_jobs()
        for job in unfinished:
            if job.activity_ids is None:
                job.status = "interrupted"
                continue
            recorded = {outcome["activity_id"] for outcome in job.results}
            wanted += [
                {"job_id": job.id, "activity_id": activity_id}
                for activity_id in job.activity_ids
                if activity_id not in recorded
            ]
    for arguments in wanted:
        tasks.submit(spec, arguments)
    return len(unfinished)
