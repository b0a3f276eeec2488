"""Committed forecasts through the API: versions, the binding rule, adjustments, roles."""

from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.commitments.tables import CommitmentLine, CommitmentVersion
from app.core.auth import Role

from factories import bearer, make_activity, make_client, make_contract


@pytest.fixture
def tenant(db: Session):
    client = make_client(db)
    contract = make_contract(db, client, starts_on=date(2025, 1, 1))
    return client, contract, make_activity(db, contract)


@pytest.fixture
def admin(db: Session) -> dict[str, str]:
    return bearer(db, Role.ADMIN)


def _post(client: TestClient, activity_id: str, body: dict, headers: dict[str, str]):
    return client.post(f"/v1/activities/{activity_id}/commitments", json=body, headers=headers)


def _import(client, activity_id, headers, received_at: str, volume: int, period="2026-12"):
    response = _post(
        client,
        activity_id,
        {"received_at": received_at, "lines": [{"period": period, "volume": volume}]},
        headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


def _binding(client, activity_id, headers, period="2026-12"):
    return client.get(
        f"/v1/activities/{activity_id}/commitments/binding",
        params={"period": period},
        headers=headers,
    )


def test_worked_example_5_binds_the_last_version_before_the_deadline(client, tenant, admin) -> None:
    _, _, activity = tenant
    _import(client, activity.id, admin, "2026-10-15T10:00:00+02:00", 100_000)
    bound = _import(client, activity.id, admin, "2026-10-31T23:59:00+01:00", 95_000)
    late = _import(client, activity.id, admin, "2026-11-20T09:00:00+01:00", 80_000)
    response = _binding(client, activity.id, admin)
    assert response.status_code == 200
    body = response.json()
    assert body["deadline"] == "2026-11-01T00:00:00+01:00"
    assert (body["version_id"], body["volume"], body["committed"]) == (
        bound["id"],
        "95000",
        "95000",
    )
    assert (body["latest_version_id"], body["latest_volume"]) == (late["id"], "80000")


def test_version_received_exactly_at_deadline_binds(client, tenant, admin) -> None:
    _, _, activity = tenant
    _import(client, activity.id, admin, "2026-10-15T00:00:00Z", 100_000)
    exact = _import(client, activity.id, admin, "2026-10-31T23:00:00Z", 90_000)
    assert _binding(client, activity.id, admin).json()["version_id"] == exact["id"]


def test_version_one_second_after_deadline_does_not_bind(client, tenant, admin) -> None:
    _, _, activity = tenant
    early = _import(client, activity.id, admin, "2026-10-15T00:00:00Z", 100_000)
    _import(client, activity.id, admin, "2026-10-31T23:00:01Z", 90_000)
    assert _binding(client, activity.id, admin).json()["version_id"] == early["id"]


def test_deadline_across_a_dst_change_stays_at_local_midnight(client, tenant, admin) -> None:
    _, _, activity = tenant
    # 2026-04 starts after the 29 March change; 30 days earlier is 2 March, still winter time.
    on_time = _import(client, activity.id, admin, "2026-03-01T23:00:00Z", 1_000, "2026-04")
    _import(client, activity.id, admin, "2026-03-01T23:30:00Z", 2_000, "2026-04")
    body = _binding(client, activity.id, admin, "2026-04").json()
    assert body["deadline"] == "2026-03-02T00:00:00+01:00"
    assert body["version_id"] == on_time["id"]


def test_period_without_binding_version_is_a_404_problem(client, tenant, admin) -> None:
    _, _, activity = tenant
    _import(client, activity.id, admin, "2026-11-20T00:00:00Z", 80_000)
    response = _binding(client, activity.id, admin)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "2026-11-01T00:00:00+01:00" in response.json()["detail"]


def test_newer_version_without_the_periods_line_does_not_displace_it(client, tenant, admin) -> None:
    _, _, activity = tenant
    december = _import(client, activity.id, admin, "2026-10-01T00:00:00Z", 100_000)
    _import(client, activity.id, admin, "2026-10-10T00:00:00Z", 5_000, period="2027-01")
    assert _binding(client, activity.id, admin).json()["version_id"] == december["id"]


def test_server_stamps_received_at_on_ordinary_versions(client, db, tenant) -> None:
    customer, _, activity = tenant
    headers = bearer(db, Role.CLIENT, customer.id)
    response = _post(client, activity.id, {"lines": [{"period": "2027-02", "volume": 10}]}, headers)
    body = response.json()
    assert response.status_code == 201 and body["source"] == "api"
    assert body["received_at"].startswith(str(date.today().year))


def test_client_key_may_not_set_received_at(client, db, tenant) -> None:
    customer, _, activity = tenant
    body = {"received_at": "2026-01-01T00:00:00Z", "lines": [{"period": "2027-02", "volume": 1}]}
    response = _post(client, activity.id, body, bearer(db, Role.CLIENT, customer.id))
    assert response.status_code == 403


def test_admin_import_is_marked_as_such(client, tenant, admin) -> None:
    _, _, activity = tenant
    version = _import(client, activity.id, admin, "2026-01-01T00:00:00Z", 10)
    assert version["source"] == "import"
    assert version["received_at"] == "2026-01-01T00:00:00Z"


def test_received_at_in_the_future_is_refused(client, tenant, admin) -> None:
    _, _, activity = tenant
    body = {"received_at": "2099-01-01T00:00:00Z", "lines": [{"period": "2027-02", "volume": 1}]}
    response = _post(client, activity.id, body, admin)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "received_at"


def test_every_bad_line_is_named_in_one_response(client, db, tenant, admin) -> None:
    _, contract, _ = tenant
    hourly = make_activity(db, contract, name="Back-office", billing_unit="hour")
    body = {
        "lines": [
            {"period": "2026-13", "volume": 1},
            {"period": "2020-01", "volume": 1},
            {"period": "2026-12", "volume": 10},
            {"period": "2026-12", "volume": 20},
        ]
    }
    response = _post(client, hourly.id, body, admin)
    assert response.status_code == 422
    fields = [error["field"] for error in response.json()["errors"]]
    assert fields == [
        "lines.0.period",
        "lines.0.aht_seconds",  # missing whatever the period: named too
        "lines.1.period",
        "lines.1.aht_seconds",
        "lines.2.aht_seconds",
        "lines.3.period",
        "lines.3.aht_seconds",
    ]


@pytest.mark.parametrize("volume", [-5, "lots", None])
def test_bad_volume_is_named(client, tenant, admin, volume) -> None:
    _, _, activity = tenant
    response = _post(
        client, activity.id, {"lines": [{"period": "2026-12", "volume": volume}]}, admin
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "lines.0.volume"


def test_hour_billed_line_with_its_own_aht_gives_hours(client, db, tenant, admin) -> None:
    _, contract, _ = tenant
    hourly = make_activity(db, contract, name="Back-office", billing_unit="hour")
    body = {
        "received_at": "2026-10-01T00:00:00Z",
        "lines": [{"period": "2026-12", "volume": 20000, "aht_seconds": 300}],
    }
    assert _post(client, hourly.id, body, admin).status_code == 201
    committed = Decimal(_binding(client, hourly.id, admin).json()["committed"])
    assert abs(committed - Decimal(20000 * 300) / 3600) < Decimal("1e-20")


def test_rejected_version_writes_nothing(client, db, tenant, admin) -> None:
    _, _, activity = tenant
    before = db.scalar(select(func.count()).select_from(CommitmentVersion))
    _post(
        client,
        activity.id,
        {"lines": [{"period": "2026-12", "volume": 1}, {"period": "bad", "volume": 1}]},
        admin,
    )
    assert db.scalar(select(func.count()).select_from(CommitmentVersion)) == before


def test_bulk_version_covers_several_activities(client, db, tenant, admin) -> None:
    _, contract, voice = tenant
    email = make_activity(db, contract, name="E-mails", channel="email")
    body = {
        "label": "V12",
        "lines": [
            {"activity_id": voice.id, "period": "2026-12", "volume": 100},
            {"activity_id": email.id, "period": "2026-12", "volume": 50},
        ],
    }
    response = client.post(f"/v1/contracts/{contract.id}/commitments", json=body, headers=admin)
    assert response.status_code == 201
    assert {line["activity_id"] for line in response.json()["lines"]} == {voice.id, email.id}


def test_bulk_version_with_a_foreign_activity_writes_nothing(client, db, tenant, admin) -> None:
    _, contract, voice = tenant
    other = make_activity(db, make_contract(db, make_client(db, name="Other")), name="x")
    body = {
        "lines": [
            {"activity_id": voice.id, "period": "2026-12", "volume": 100},
            {"activity_id": other.id, "period": "2026-12", "volume": 50},
        ]
    }
    response = client.post(f"/v1/contracts/{contract.id}/commitments", json=body, headers=admin)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "lines.1.activity_id"
    assert db.scalar(select(func.count()).select_from(CommitmentLine)) == 0


def test_client_key_cannot_post_to_another_clients_activity(client, db, tenant) -> None:
    _, _, activity = tenant
    stranger = make_client(db, name="Stranger")
    response = _post(
        client,
        activity.id,
        {"lines": [{"period": "2026-12", "volume": 1}]},
        bearer(db, Role.CLIENT, stranger.id),
    )
    assert response.status_code == 404


@pytest.mark.parametrize("role", [Role.OPS, Role.BILLING])
def test_read_only_roles_cannot_post_commitments(client, db, tenant, role) -> None:
    _, _, activity = tenant
    response = _post(
        client, activity.id, {"lines": [{"period": "2026-12", "volume": 1}]}, bearer(db, role)
    )
    assert response.status_code == 403


def test_ops_key_reads_versions_newest_first_with_paging(client, db, tenant, admin) -> None:
    _, _, activity = tenant
    ids = [
        _import(client, activity.id, admin, f"2026-0{m}-01T00:00:00Z", m)["id"] for m in (3, 1, 2)
    ]
    ops = bearer(db, Role.OPS)
    url = f"/v1/activities/{activity.id}/commitments"
    first = client.get(url, params={"limit": 2}, headers=ops).json()
    second = client.get(
        url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=ops
    ).json()
    seen = [v["id"] for v in first["items"] + second["items"]]
    assert seen == [ids[0], ids[2], ids[1]]
    assert second["next_cursor"] is None


def test_versions_cannot_be_modified_or_deleted(client, tenant, admin) -> None:
    _, _, activity = tenant
    url = f"/v1/activities/{activity.id}/commitments"
    assert client.put(url, json={}, headers=admin).status_code == 405
    assert client.delete(url, headers=admin).status_code == 405


def test_adjustment_is_recorded_with_its_author(client, db, tenant, admin) -> None:
    _, _, activity = tenant
    body = {"period": "2026-12", "units": "20000", "reason": "Grève chez le client"}
    response = client.post(f"/v1/activities/{activity.id}/adjustments", json=body, headers=admin)
    assert response.status_code == 201
    listed = client.get(f"/v1/activities/{activity.id}/adjustments", headers=admin).json()
    assert [(a["units"], a["reason"]) for a in listed] == [("20000", "Grève chez le client")]
    assert listed[0]["created_by_key_id"].startswith("key_")


def test_client_key_cannot_record_adjustments(client, db, tenant) -> None:
    customer, _, activity = tenant
    body = {"period": "2026-12", "units": "1", "reason": "x"}
    response = client.post(
        f"/v1/activities/{activity.id}/adjustments",
        json=body,
        headers=bearer(db, Role.CLIENT, customer.id),
    )
    assert response.status_code == 403


def test_adjustment_must_reduce_by_a_positive_amount(client, tenant, admin) -> None:
    _, _, activity = tenant
    body = {"period": "2026-12", "units": "0", "reason": "nothing"}
    response = client.post(f"/v1/activities/{activity.id}/adjustments", json=body, headers=admin)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "units"


def test_negative_volume_and_period_problems_come_in_one_response(client, tenant, admin) -> None:
    _, _, activity = tenant
    body = {"lines": [{"period": "2026-13", "volume": 5}, {"period": "2020-01", "volume": -5}]}
    response = _post(client, activity.id, body, admin)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [
        "lines.0.period",
        "lines.1.volume",
        "lines.1.period",
    ]
