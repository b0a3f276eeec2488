"""The lists of forecasts: an activity's stored forecasts and the forecast jobs, newest first,
filtered, paged, and scoped to the key's client."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from app.core.auth import Role
from app.forecasts.tables import ForecastJob, ForecastRun

from factories import bearer, make_activity, make_client, make_contract

T0 = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def admin(db: Session) -> dict[str, str]:
    return bearer(db, Role.ADMIN)


def _run(db: Session, activity_id: str, minutes: int, granularity="day", volume="offered"):
    run = ForecastRun(
        activity_id=activity_id,
        granularity=granularity,
        start=date(2026, 12, 1),
        end=date(2026, 12, 31),
        method_requested="auto",
        method="ets",
        levels=[80, 95],
        history_end=None,
        volume=volume,
        backtest=[],
        selection=None,
        assumptions=[],
        samples=[[1.0, 2.0]],
        created_at=T0 + timedelta(minutes=minutes),
    )
    db.add(run)
    db.flush()
    return run


def _job(db: Session, contract_id: str | None, minutes: int, status="completed") -> ForecastJob:
    job = ForecastJob(
        contract_id=contract_id,
        status=status,
        request={},
        total=1,
        done=1,
        results=[],
        created_at=T0 + timedelta(minutes=minutes),
    )
    db.add(job)
    db.flush()
    return job


def test_an_activitys_forecasts_newest_first_without_points(client, db, admin) -> None:
    activity = make_activity(db, make_contract(db, make_client(db)))
    other = make_activity(db, make_contract(db, make_client(db)))
    older, newer = _run(db, activity.id, 1), _run(db, activity.id, 2, granularity="month")
    _run(db, other.id, 3)
    response = client.get(f"/v1/activities/{activity.id}/forecasts", headers=admin)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [item["id"] for item in items] == [newer.id, older.id]
    assert "points" not in items[0] and items[0]["method"] == "ets"
    monthly = client.get(
        f"/v1/activities/{activity.id}/forecasts", params={"granularity": "month"}, headers=admin
    ).json()["items"]
    assert [item["id"] for item in monthly] == [newer.id]


def test_the_forecasts_page_on(client, db, admin) -> None:
    activity = make_activity(db, make_contract(db, make_client(db)))
    runs = [_run(db, activity.id, minute) for minute in range(5)]
    url = f"/v1/activities/{activity.id}/forecasts"
    first = client.get(url, params={"limit": 3}, headers=admin).json()
    rest = client.get(url, params={"limit": 3, "cursor": first["next_cursor"]}, headers=admin)
    seen = [item["id"] for item in first["items"] + rest.json()["items"]]
    assert seen == [run.id for run in reversed(runs)]
    assert rest.json()["next_cursor"] is None


def test_another_clients_forecasts_are_not_found(client, db) -> None:
    activity = make_activity(db, make_contract(db, make_client(db)))
    other = bearer(db, Role.CLIENT, make_client(db).id)
    response = client.get(f"/v1/activities/{activity.id}/forecasts", headers=other)
    assert response.status_code == 404


def test_the_jobs_newest_first_filtered_by_contract_and_status(client, db, admin) -> None:
    contract = make_contract(db, make_client(db))
    other = make_contract(db, make_client(db))
    done, failed = _job(db, contract.id, 1), _job(db, contract.id, 2, status="failed")
    everything, elsewhere = _job(db, None, 3), _job(db, other.id, 4)
    listed = client.get("/v1/forecast-jobs", headers=admin)
    assert listed.status_code == 200, listed.text
    ids = [item["id"] for item in listed.json()["items"]]
    assert ids[:4] == [elsewhere.id, everything.id, failed.id, done.id]
    of_contract = client.get(
        "/v1/forecast-jobs", params={"contract_id": contract.id}, headers=admin
    ).json()["items"]
    assert [item["id"] for item in of_contract] == [failed.id, done.id]
    failed_only = client.get(
        "/v1/forecast-jobs",
        params={"contract_id": contract.id, "status": "failed"},
        headers=admin,
    ).json()["items"]
    assert [item["id"] for item in failed_only] == [failed.id]


def test_a_client_key_lists_its_own_contracts_jobs_only(client, db) -> None:
    customer = make_client(db)
    contract = make_contract(db, customer)
    make_activity(db, contract)
    own = _job(db, contract.id, 1)
    _job(db, None, 2)
    other_contract = make_contract(db, make_client(db))
    _job(db, other_contract.id, 3)
    headers = bearer(db, Role.CLIENT, customer.id)
    items = client.get("/v1/forecast-jobs", headers=headers).json()["items"]
    assert [item["id"] for item in items] == [own.id]
    response = client.get(
        "/v1/forecast-jobs", params={"contract_id": other_contract.id}, headers=headers
    )
    assert response.status_code == 422  # named as a bad filter, as a missing contract is
    assert [(e["location"], e["field"]) for e in response.json()["errors"]] == [
        ("query", "contract_id")
    ]


def test_a_bad_status_and_limit_are_named_together(client, admin) -> None:
    response = client.get("/v1/forecast-jobs", params={"status": "x", "limit": 0}, headers=admin)
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"status", "limit"}


def test_an_unknown_contract_is_named_with_a_bad_status(client, admin) -> None:
    params = {"status": "x", "contract_id": "ctr_nope"}
    response = client.get("/v1/forecast-jobs", params=params, headers=admin)
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"status", "contract_id"}
