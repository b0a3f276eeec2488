"""Staffing an interval forecast: agents per interval, risk quantiles, daily agent-hours."""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from app.core.auth import SYSTEM, Role
from app.volumes import service as volumes
from models.synthetic import DEMO_PROFILES, generate_intervals

from factories import bearer, make_activity, make_client, make_contract

TODAY = date.today()
TARGETS = {"service_level_target": "0.80", "answer_time_seconds": "20", "shrinkage": "0.30"}


@pytest.fixture
def admin(db: Session) -> dict[str, str]:
    return bearer(db, Role.ADMIN)


def _forecast(client, db: Session, admin, granularity: str, volume: str = "offered") -> dict:
    activity = make_activity(db, make_contract(db, make_client(db)))
    history = generate_intervals(
        DEMO_PROFILES[0], TODAY - timedelta(weeks=8), TODAY - timedelta(days=1), seed=5
    )
    body = history.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S+00:00").encode()
    volumes.ingest_csv(db, SYSTEM, activity.id, io.BytesIO(body))
    monday = TODAY + timedelta(days=7 - TODAY.weekday())
    response = client.post(
        f"/v1/activities/{activity.id}/forecasts",
        headers=admin,
        json={
            "granularity": granularity,
            "volume": volume,
            "method": "snaive",
            "start": str(monday),
            "end": str(monday),
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def _staffing(client, admin, forecast_id: str, **params):
    return client.get(
        f"/v1/forecasts/{forecast_id}/staffing", params={**TARGETS, **params}, headers=admin
    )


def test_every_forecast_interval_is_staffed(client, db, admin) -> None:
    forecast = _forecast(client, db, admin, "interval")
    body = _staffing(client, admin, forecast["id"]).json()
    assert len(body["intervals"]) == len(forecast["points"])
    for interval in body["intervals"]:
        busy = Decimal(interval["volume"]) > 0
        assert (interval["agents"] > 0) == busy
        if busy:
            assert Decimal(interval["service_level"]) >= Decimal("0.80")


def test_staffing_for_the_upper_bound_needs_at_least_as_many_agents(client, db, admin) -> None:
    forecast = _forecast(client, db, admin, "interval")
    expected = _staffing(client, admin, forecast["id"]).json()["intervals"]
    risky = _staffing(client, admin, forecast["id"], quantile="upper_80").json()["intervals"]
    assert all(r["agents"] >= e["agents"] for r, e in zip(risky, expected, strict=True))
    assert sum(r["agents"] for r in risky) > sum(e["agents"] for e in expected)


def test_daily_agent_hours_add_up_the_intervals(client, db, admin) -> None:
    forecast = _forecast(client, db, admin, "interval")
    body = _staffing(client, admin, forecast["id"]).json()
    [day] = body["days"]
    half_hours = Decimal(sum(i["agents"] for i in body["intervals"])) / 2
    assert Decimal(day["agent_hours"]) == half_hours


def test_daily_forecast_cannot_be_staffed_per_interval(client, db, admin) -> None:
    forecast = _forecast(client, db, admin, "day")
    response = _staffing(client, admin, forecast["id"])
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "forecast_id"


def test_a_forecast_of_handled_contacts_cannot_be_staffed(client, db, admin) -> None:
    """Abandoned calls load the queue too: sizing on handled contacts would under-staff."""
    forecast = _forecast(client, db, admin, "interval", volume="handled")
    response = _staffing(client, admin, forecast["id"])
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "forecast_id" and "offered" in error["reason"]


def test_bad_targets_are_named_as_query_fields(client, db, admin) -> None:
    forecast = _forecast(client, db, admin, "interval")
    response = _staffing(client, admin, forecast["id"], service_level_target="1.5", shrinkage="1")
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert {"service_level_target", "shrinkage"} <= fields
