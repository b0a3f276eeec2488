"""The schedules: procrastinate periodic tasks, each switched by its setting; the nightly
refresh stores the month forecasts that the comparison then reads without queuing anything."""

import io

import procrastinate
from outlook_scenarios import DAILY, LONG_AGO, THIS_MONTH, commit, days, stable_history

from app.core.auth import SYSTEM, Role
from app.core.queue import RETRY_STALLED, TASKS, procrastinate_app
from app.core.settings import Settings
from app.volumes import service as volumes

from factories import bearer, make_activity, make_client, make_contract

SCHEDULES = {"schedules.forecast_refresh", "schedules.invoice_run", "schedules.idempotency_purge"}


def _periodic(settings: Settings) -> dict[str, str]:
    app = procrastinate_app(procrastinate.SyncPsycopgConnector(), settings)
    return {task.task.name: task.cron for task in app.periodic_registry.periodic_tasks.values()}


def test_every_schedule_is_a_periodic_task_with_its_setting() -> None:
    settings = Settings(schedule_invoice_run="0 6 5 * *")
    periodic = _periodic(settings)
    assert set(periodic) == SCHEDULES | {RETRY_STALLED}
    assert periodic["schedules.invoice_run"] == "0 6 5 * *"
    assert periodic["schedules.forecast_refresh"] == settings.schedule_forecast_refresh


def test_a_schedule_set_empty_is_off() -> None:
    off = Settings(
        schedule_forecast_refresh="", schedule_invoice_run="", schedule_idempotency_purge=""
    )
    assert set(_periodic(off)) == {RETRY_STALLED}


def test_the_nightly_refresh_stores_what_the_comparison_reads(client, db, tasks) -> None:
    contract = make_contract(db, make_client(db), starts_on=THIS_MONTH.previous().first_day)
    activity = make_activity(db, contract, interval_minutes=60)
    volumes.ingest_csv(db, SYSTEM, activity.id, io.BytesIO(stable_history(240)))
    admin = bearer(db, Role.ADMIN)
    commit(client, admin, activity.id, {THIS_MONTH: DAILY * days(THIS_MONTH)}, LONG_AGO)
    tasks.submit(TASKS["schedules.forecast_refresh"], {})
    tasks.drain()
    response = client.get(
        f"/v1/activities/{activity.id}/comparison",
        params={"from": str(THIS_MONTH), "to": str(THIS_MONTH)},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["forecast_status"] == "stored"
    assert body["periods"][0]["provider_forecast"]["forecast_id"].startswith("fct_")
