"""Forecast jobs as queued tasks: one per activity, recorded exactly once, ending failed with
the error when their activity cannot be forecast, cancellable, and (on PostgreSQL) queued in
procrastinate in the very transaction that records the job."""

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.core.auth import SYSTEM, Role
from app.core.periods import Period
from app.core.queue import TASKS, ProcrastinateQueue
from app.core.settings import Settings
from app.forecasts import jobs, ondemand, schemas
from app.forecasts.tables import ForecastJob, ForecastRun
from app.volumes import service as volumes
from models.synthetic import DEMO_PROFILES, generate_intervals

from factories import bearer, make_activity, make_client, make_contract

TODAY = date.today()
START = TODAY + timedelta(days=7)
THIS = Period.of(TODAY)
REQUEST = {"granularity": "day", "method": "snaive", "start": str(START), "end": str(START)}


def _with_history(db: Session, contract=None):
    activity = make_activity(db, contract or make_contract(db, make_client(db)))
    history = generate_intervals(
        DEMO_PROFILES[0], TODAY - timedelta(weeks=8), TODAY - timedelta(days=1), seed=5
    )
    body = history.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S+00:00").encode()
    volumes.ingest_csv(db, SYSTEM, activity.id, io.BytesIO(body))
    db.flush()
    return activity


def test_job_whose_every_activity_fails_ends_failed_with_the_errors(client, db, tasks) -> None:
    contract = make_contract(db, make_client(db))
    empty = [make_activity(db, contract, name=name) for name in ("A", "B")]
    admin = bearer(db, Role.ADMIN)
    created = _job_of(client, contract.id, admin)
    tasks.drain()
    job = client.get(f"/v1/forecast-jobs/{created['id']}", headers=admin).json()
    assert (job["status"], job["done"], job["total"]) == ("failed", 2, 2)
    assert {r["activity_id"] for r in job["results"]} == {a.id for a in empty}
    assert all("at least" in r["error"] and r["forecast_id"] is None for r in job["results"])
    assert job["finished_at"] is not None


def _job_of(client, contract_id: str, admin: dict[str, str]) -> dict:
    created = client.post(
        "/v1/forecast-jobs", json={**REQUEST, "contract_id": contract_id}, headers=admin
    )
    assert created.status_code == 202, created.text
    return created.json()


def test_a_task_run_twice_stores_its_forecast_once(client, db, tasks) -> None:
    """What a worker killed after storing would leave: the retried task records nothing."""
    activity = _with_history(db)
    admin = bearer(db, Role.ADMIN)
    created = _job_of(client, activity.contract_id, admin)
    tasks.drain()
    tasks.submit(
        TASKS[jobs.FORECAST_ACTIVITY], {"job_id": created["id"], "activity_id": activity.id}
    )
    tasks.drain()
    job = client.get(f"/v1/forecast-jobs/{created['id']}", headers=admin).json()
    assert (job["status"], job["done"], len(job["results"])) == ("completed", 1, 1)
    runs = db.scalar(select(func.count()).where(ForecastRun.activity_id == activity.id))
    assert runs == 1


def test_a_cancelled_job_stores_nothing_more(client, db, tasks) -> None:
    activity = _with_history(db)
    admin = bearer(db, Role.ADMIN)
    created = _job_of(client, activity.contract_id, admin)
    cancelled = client.post(f"/v1/forecast-jobs/{created['id']}/cancel", headers=admin)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    tasks.drain()
    job = client.get(f"/v1/forecast-jobs/{created['id']}", headers=admin).json()
    assert (job["status"], job["done"], job["results"]) == ("cancelled", 0, [])
    assert db.scalar(select(func.count()).where(ForecastRun.activity_id == activity.id)) == 0
    again = client.post(f"/v1/forecast-jobs/{created['id']}/cancel", headers=admin)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


def test_a_job_without_activities_is_completed_at_once(client, db) -> None:
    contract = make_contract(db, make_client(db))
    admin = bearer(db, Role.ADMIN)
    created = _job_of(client, contract.id, admin)
    assert (created["status"], created["total"]) == ("completed", 0)


@pytest.mark.integration
def test_procrastinate_tasks_commit_and_roll_back_with_the_job(database_url_factory) -> None:
    """On PostgreSQL the tasks are procrastinate jobs inserted on the job's own connection."""
    from app.core.db import Database, create_db_engine
    from app.core.migrations import upgrade_to_head

    url = database_url_factory("postgresql")
    upgrade_to_head(url)
    database = Database(create_db_engine(url))
    tasks = ProcrastinateQueue(Settings(database_url=url))
    request = schemas.ForecastJobCreate.model_validate({**REQUEST})
    try:
        with database.session(write=True) as session:
            contract = make_contract(session, make_client(session))
            activities = [make_activity(session, contract, name=n) for n in ("A", "B")]
            session.commit()
            data = request.model_copy(update={"contract_id": contract.id})
            kept = jobs.create_job(session, tasks, SYSTEM, data)
            session.commit()
            dropped = jobs.create_job(session, tasks, SYSTEM, data)
            session.rollback()
            queued = session.execute(
                text(
                    "SELECT args->>'job_id', args->>'activity_id', status FROM procrastinate_jobs"
                    " WHERE task_name = :name"
                ),
                {"name": jobs.FORECAST_ACTIVITY},
            ).all()
            assert sorted(queued) == sorted(
                (kept.id, activity.id, "todo") for activity in activities
            )
            assert session.get(ForecastJob, dropped.id) is None
            # The same request queued twice under one lock (two reads of one comparison):
            # one task, and the reader's transaction goes on.
            for _ in range(2):
                ondemand.request_month_forecasts(
                    session, tasks, activities[0].id, [ondemand.Span(THIS, THIS)], "offered"
                )
            month_tasks = session.execute(
                text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = :name"),
                {"name": ondemand.MONTH_FORECASTS},
            ).scalar()
            assert month_tasks == 1
    finally:
        database.dispose()
