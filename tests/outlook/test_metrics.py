"""Business metrics on /metrics: per contract, never per activity or interval."""

import io

from fastapi.testclient import TestClient
from outlook_scenarios import (
    DAILY,
    LONG_AGO,
    THIS_MONTH,
    commit,
    days,
    read_once_forecast,
    stable_history,
)
from prometheus_client.parser import text_string_to_metric_families

from app.core.auth import SYSTEM, Role
from app.core.db import Database, create_db_engine
from app.core.settings import Settings
from app.main import create_app
from app.volumes import service as volumes

from factories import bearer


def _samples(client) -> dict[str, list]:
    response = client.get("/metrics")
    assert response.status_code == 200
    return {family.name: family.samples for family in text_string_to_metric_families(response.text)}


def test_current_period_risk_is_exported_per_contract(client, db, stable, tasks) -> None:
    _, activity = stable
    admin = bearer(db, Role.ADMIN)
    commit(client, admin, activity.id, {THIS_MONTH: 2 * DAILY * days(THIS_MONTH)}, LONG_AGO)
    read_once_forecast(
        client,
        tasks,
        f"/v1/activities/{activity.id}/comparison",
        params={"from": str(THIS_MONTH), "to": str(THIS_MONTH)},
        headers=admin,
    )
    samples = _samples(client)
    [risk] = samples["plancher_contract_probability_below_trigger"]
    assert risk.labels["contract_id"] == activity.contract_id
    assert set(risk.labels) == {"contract_id", "reference"}
    [shortfall] = samples["plancher_contract_expected_shortfall_amount"]
    assert shortfall.value > 0
    [refreshed] = samples["plancher_last_forecast_timestamp_seconds"]
    assert refreshed.value > 0
    durations = samples["plancher_forecast_duration_seconds"]
    assert any(s.name.endswith("_count") and s.labels["granularity"] == "month" for s in durations)


def test_ingested_rows_are_counted(client, db, stable) -> None:
    _, activity = stable
    before = _rows(client)
    volumes.ingest_csv(db, SYSTEM, activity.id, io.BytesIO(stable_history(3, seed=2)))
    assert _rows(client) == before + 3


def _rows(client) -> float:
    return sum(
        sample.value
        for sample in _samples(client)["plancher_ingested_rows"]
        if sample.name == "plancher_ingested_rows_total"
    )


def test_an_unreachable_database_leaves_the_process_metrics(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}"
    app = create_app(Settings(database_url=url), database=Database(create_db_engine(url)))
    with TestClient(app) as unreachable:
        response = unreachable.get("/metrics")
    assert response.status_code == 200
    assert "plancher_business_metrics_up 0\n" in response.text
    assert "plancher_http_requests_total" in response.text
