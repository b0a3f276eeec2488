"""The charter terms are dated amendments: a change applies from a period on and never to a
period already invoiced or past its deadline, unless an admin back-dates it explicitly."""

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.auth import Role
from app.core.tables import AuditEntry

from billing_scenarios import PERIOD, VOICE_100K, arrange, generate, shortfall
from factories import bearer, make_client

STRICTER = {"trigger_ratio": "0.95", "floor_ratio": "0.95"}


@pytest.fixture
def admin(db: Session) -> dict[str, str]:
    return bearer(db, Role.ADMIN)


def _issued(client, db, admin) -> tuple[str, dict]:
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    draft = generate(client, contract_id, admin).json()
    return contract_id, client.post(f"/v1/invoices/{draft['id']}/issue", headers=admin).json()


def _amend(client, contract_id, headers, **body):
    return client.post(f"/v1/contracts/{contract_id}/amendments", json=body, headers=headers)


def test_a_patch_of_terms_never_changes_an_invoiced_month(client, db, admin) -> None:
    contract_id, invoice = _issued(client, db, admin)
    before = shortfall(client, contract_id, admin)
    response = client.patch(f"/v1/contracts/{contract_id}", json=STRICTER, headers=admin)
    assert response.status_code == 200, response.text
    assert shortfall(client, contract_id, admin) == before
    again = client.get(f"/v1/invoices/{invoice['id']}", headers=admin).json()
    assert again["net_amount"] == invoice["net_amount"] == "6000.00"


def test_a_patch_amends_from_the_next_open_period(client, db, admin) -> None:
    contract_id, _ = _issued(client, db, admin)
    patched = client.patch(f"/v1/contracts/{contract_id}", json=STRICTER, headers=admin).json()
    first, amended = patched["amendments"]
    assert (first["effective_from"], first["trigger_ratio"]) == ("2025-01-01", "0.90")
    assert amended["trigger_ratio"] == "0.95"
    assert date.fromisoformat(amended["effective_from"]) > date.today()
    assert patched["trigger_ratio"] == "0.95"
    assert patched["terms_in_force"]["trigger_ratio"] == "0.90"


def test_an_amendment_of_an_invoiced_month_is_refused_naming_the_invoice(client, db, admin) -> None:
    contract_id, invoice = _issued(client, db, admin)
    response = _amend(client, contract_id, admin, effective_from=PERIOD, **STRICTER)
    assert response.status_code == 409
    assert invoice["id"] in response.json()["detail"]
    assert "deadline" in response.json()["detail"]


def test_a_backdated_amendment_lists_the_invoices_to_correct(client, db, admin) -> None:
    contract_id, invoice = _issued(client, db, admin)
    response = _amend(client, contract_id, admin, effective_from=PERIOD, backdate=True, **STRICTER)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["amendment"]["backdated"] is True
    assert [invoice["id"] in line for line in body["invoices_to_correct"]] == [True]
    # C 100 000, floor 95 000, A 85 000: 10 000 units at 1.20; the issued invoice stands.
    assert shortfall(client, contract_id, admin)["net_amount"] == "12000.00"
    assert client.get(f"/v1/invoices/{invoice['id']}", headers=admin).json()["net_amount"] == (
        "6000.00"
    )
    correction = client.post(f"/v1/invoices/{invoice['id']}/correct", headers=admin).json()
    assert correction["invoice"]["net_amount"] == "12000.00"
    audited = db.scalars(
        select(AuditEntry).where(
            AuditEntry.entity_id == contract_id, AuditEntry.action == "contract.amended"
        )
    ).all()
    assert len(audited) == 1


def test_an_amendment_of_a_future_period_leaves_the_past_alone(client, db, admin) -> None:
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    response = _amend(client, contract_id, admin, effective_from="2099-01", vat_rate="0.10")
    assert response.status_code == 201, response.text
    assert shortfall(client, contract_id, admin)["vat_rate"] == "0.20"
    assert shortfall(client, contract_id, admin, period="2099-01")["vat_rate"] == "0.10"


def test_payment_terms_of_the_invoiced_period_apply_at_issue(client, db, admin) -> None:
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    client.patch(f"/v1/contracts/{contract_id}", json={"payment_terms_days": 45}, headers=admin)
    draft = generate(client, contract_id, admin).json()
    issued = client.post(f"/v1/invoices/{draft['id']}/issue", headers=admin).json()
    assert issued["mentions"]["payment_terms_days"] == 30


def test_a_new_contract_starts_with_its_terms_as_first_amendment(client, db, admin) -> None:
    body = {"client_id": make_client(db).id, "reference": "A-1", "starts_on": "2026-03-15"}
    created = client.post("/v1/contracts", json=body, headers=admin).json()
    fetched = client.get(f"/v1/contracts/{created['id']}", headers=admin).json()
    [first] = fetched["amendments"]
    assert (first["effective_from"], first["trigger_ratio"]) == ("2026-03-01", "0.90")
