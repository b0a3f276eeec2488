"""Changes of a contract that would rewrite what was recorded or billed under it are refused
with a 409 naming what depends on them."""

from datetime import date

import pytest
from sqlalchemy.orm import Session

from app.core.auth import Role

from billing_scenarios import VOICE_100K, arrange, generate
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


def test_a_price_after_the_invoiced_periods_is_accepted(client, db, admin) -> None:
    _, ids, _ = _invoiced(client, db, admin)
    response = client.post(
        f"/v1/activities/{ids['voice']}/prices",
        json={"effective_from": "2026-11-01", "unit_price": "1.30"},
        headers=admin,
    )
    assert response.status_code == 201, response.text


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
