"""Changes of a contract that would rewrite what was recorded or billed under it are refused
with a 409 naming what depends on them."""

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.auth import SYSTEM, Role
from app.core.tables import AuditEntry
from app.volumes import service as volumes
from models.synthetic import DEMO_PROFILES, generate_intervals

from billing_scenarios import VOICE_100K, arrange, generate, shortfall
from factories import bearer, make_activity, make_client, make_contract


@pytest.fixture
def admin(db: Session) -> dict[str, str]:
    return bearer(db, Role.ADMIN)


def _refused(response, *named: str) -> None:
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    for name in named:
        assert name in body["detail"]
    assert body["dependents"]


def _invoiced(client, db, admin) -> tuple[str, dict[str, str], dict]:
    contract_id, ids = arrange(client, db, admin, [VOICE_100K])
    invoice = generate(client, contract_id, admin).json()
    client.post(f"/v1/invoices/{invoice['id']}/issue", headers=admin)
    return contract_id, ids, invoice


@pytest.mark.parametrize("effective_from", ["2026-10-01", "2026-10-15", "2025-06-01"])
def test_a_price_inside_an_invoiced_period_names_the_invoice(
    client, db, admin, effective_from
) -> None:
    _, ids, invoice = _invoiced(client, db, admin)
    response = client.post(
        f"/v1/activities/{ids['voice']}/prices",
        json={"effective_from": effective_from, "unit_price": "1.30"},
        headers=admin,
    )
    _refused(response, invoice["id"])


def test_a_backdated_price_lists_the_invoices_to_correct(client, db, admin) -> None:
    contract_id, ids, invoice = _invoiced(client, db, admin)
    response = client.post(
        f"/v1/activities/{ids['voice']}/prices",
        json={"effective_from": "2026-10-01", "unit_price": "1.50", "backdate": True},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert [invoice["id"] in line for line in body["invoices_to_correct"]] == [True]
    assert body["unit_price"] == "1.50"
    # 5 000 units at the new price; the issued invoice stands until it is corrected.
    assert shortfall(client, contract_id, admin)["net_amount"] == "7500.00"
    issued = client.get(f"/v1/invoices/{invoice['id']}", headers=admin).json()
    assert issued["net_amount"] == "6000.00"
    correction = client.post(f"/v1/invoices/{invoice['id']}/correct", headers=admin).json()
    assert correction["invoice"]["net_amount"] == "7500.00"
    [audited] = db.scalars(
        select(AuditEntry).where(
            AuditEntry.entity_id == body["id"], AuditEntry.action == "price.created"
        )
    ).all()
    assert audited.changes["backdated"] is True
    assert audited.changes["invoices_to_correct"] == body["invoices_to_correct"]


def test_only_an_admin_backdates_a_price(client, db, admin) -> None:
    _, ids, _ = _invoiced(client, db, admin)
    response = client.post(
        f"/v1/activities/{ids['voice']}/prices",
        json={"effective_from": "2026-10-01", "unit_price": "1.50", "backdate": True},
        headers=bearer(db, Role.BILLING),
    )
    assert response.status_code == 403, response.text


def test_a_price_after_the_invoiced_periods_is_accepted(client, db, admin) -> None:
    _, ids, _ = _invoiced(client, db, admin)
    response = client.post(
        f"/v1/activities/{ids['voice']}/prices",
        json={"effective_from": "2026-11-01", "unit_price": "1.30"},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    assert response.json()["invoices_to_correct"] == []


def test_the_currency_of_an_invoiced_contract_is_kept(client, db, admin) -> None:
    contract_id, _, invoice = _invoiced(client, db, admin)
    response = client.patch(f"/v1/contracts/{contract_id}", json={"currency": "USD"}, headers=admin)
    _refused(response, invoice["id"])


def test_the_time_zone_of_recorded_volumes_is_kept(client, db, admin) -> None:
    contract_id, ids = arrange(client, db, admin, [VOICE_100K])
    response = client.patch(
        f"/v1/contracts/{contract_id}", json={"timezone": "America/New_York"}, headers=admin
    )
    _refused(response, ids["voice"], "volume intervals")


def test_a_contract_without_history_may_change_currency_and_zone(client, db, admin) -> None:
    contract = make_contract(db, make_client(db))
    make_activity(db, contract)
    response = client.patch(
        f"/v1/contracts/{contract.id}",
        json={"currency": "USD", "timezone": "America/New_York"},
        headers=admin,
    )
    assert response.status_code == 200, response.text


def test_a_later_start_cannot_strand_what_was_recorded(client, db, admin) -> None:
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    response = client.patch(
        f"/v1/contracts/{contract_id}", json={"starts_on": "2026-11-01"}, headers=admin
    )
    _refused(response, "volume intervals", "commitment lines")


def test_an_earlier_end_cannot_strand_an_invoice(client, db, admin) -> None:
    contract_id, _, invoice = _invoiced(client, db, admin)
    response = client.patch(
        f"/v1/contracts/{contract_id}", json={"ends_on": "2026-09-01"}, headers=admin
    )
    _refused(response, invoice["id"])


def test_a_month_before_the_contract_starts_is_not_invoiced(client, db, admin) -> None:
    contract = make_contract(db, make_client(db), starts_on=date(2026, 11, 1))
    make_activity(db, contract)
    response = generate(client, contract.id, admin, period="2026-10")
    assert response.status_code == 409
    assert "not in force" in response.json()["detail"]


def _regrid(client, admin, activity_id: str, minutes: int):
    return client.patch(
        f"/v1/activities/{activity_id}", json={"interval_minutes": minutes}, headers=admin
    )


def test_the_grid_of_recorded_volumes_is_kept(client, db, admin) -> None:
    _, ids = arrange(client, db, admin, [VOICE_100K])
    response = _regrid(client, admin, ids["voice"], 60)
    _refused(response, ids["voice"], "volume intervals", "interval grid")
    fetched = client.get(f"/v1/activities/{ids['voice']}", headers=admin).json()
    assert fetched["interval_minutes"] == 30


def test_the_grid_of_an_interval_forecast_is_kept(client, db, admin) -> None:
    """Eight weeks of half-hour history and an interval forecast made from it: both named."""
    activity = make_activity(db, make_contract(db, make_client(db)), interval_minutes=30)
    today = date.today()
    history = generate_intervals(
        DEMO_PROFILES[0], today - timedelta(weeks=8), today - timedelta(days=1), seed=5
    )
    body = history.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S+00:00").encode()
    volumes.ingest_csv(db, SYSTEM, activity.id, io.BytesIO(body))
    monday = today + timedelta(days=7 - today.weekday())
    forecast = client.post(
        f"/v1/activities/{activity.id}/forecasts",
        json={
            "granularity": "interval",
            "method": "snaive",
            "start": str(monday),
            "end": str(monday),
        },
        headers=admin,
    )
    assert forecast.status_code == 201, forecast.text
    response = _regrid(client, admin, activity.id, 60)
    _refused(response, "volume intervals", f"1 interval forecast of activity {activity.id}")


def test_a_grid_with_nothing_on_it_may_change(client, db, admin) -> None:
    """Commitments and invoices are monthly quantities: the grid of an activity that only has
    them (here beside an invoiced one) may still change."""
    contract_id, _, _ = _invoiced(client, db, admin)
    created = client.post(
        f"/v1/contracts/{contract_id}/activities",
        json={"name": "chat", "channel": "chat", "interval_minutes": 15, "billing_unit": "contact"},
        headers=admin,
    ).json()
    committed = client.post(
        f"/v1/activities/{created['id']}/commitments",
        json={"lines": [{"period": "2027-06", "volume": 1000}]},
        headers=admin,
    )
    assert committed.status_code == 201, committed.text
    response = _regrid(client, admin, created["id"], 60)
    assert response.status_code == 200, response.text
    assert response.json()["interval_minutes"] == 60
