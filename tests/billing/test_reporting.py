"""The invoice summary: counts and amounts per month and status, outstanding and overdue."""

from datetime import date, timedelta

from sqlalchemy import update

from app.billing.tables import Invoice
from app.core.auth import Role

from billing_scenarios import PERIOD, VOICE_100K, arrange, generate
from factories import bearer


def _summary(client, headers, first=PERIOD, last=PERIOD):
    response = client.get(
        "/v1/invoices/summary", params={"from": first, "to": last}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def _issued(client, db, admin, billing) -> dict:
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    invoice = generate(client, contract_id, billing).json()
    return client.post(f"/v1/invoices/{invoice['id']}/issue", headers=billing).json()


def test_summary_counts_and_adds_up_per_month_and_status(client, db, admin, billing) -> None:
    _issued(client, db, admin, billing)
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    generate(client, contract_id, billing)
    body = _summary(client, billing)
    rows = {(row["status"], row["kind"]): row for row in body["items"]}
    assert (rows["issued", "invoice"]["count"], rows["issued", "invoice"]["total_amount"]) == (
        1,
        "7200.00",
    )
    assert (rows["draft", "invoice"]["count"], rows["draft", "invoice"]["net_amount"]) == (
        1,
        "6000.00",
    )
    assert {row["period"] for row in body["items"]} == {PERIOD}


def test_issued_unpaid_is_outstanding_and_overdue_once_due(client, db, admin, billing) -> None:
    issued = _issued(client, db, admin, billing)
    [owed] = _summary(client, billing)["receivables"]
    assert (owed["currency"], owed["outstanding_amount"], owed["overdue_amount"]) == (
        "EUR",
        "7200.00",
        "0.00",
    )
    db.execute(
        update(Invoice)
        .where(Invoice.id == issued["id"])
        .values(due_date=date.today() - timedelta(days=1))
    )
    [owed] = _summary(client, billing)["receivables"]
    assert (owed["overdue_amount"], owed["overdue_count"]) == ("7200.00", 1)


def test_paid_invoice_is_no_longer_outstanding(client, db, admin, billing) -> None:
    issued = _issued(client, db, admin, billing)
    client.post(f"/v1/invoices/{issued['id']}/mark-paid", headers=billing)
    assert _summary(client, billing)["receivables"] == []


def test_client_key_sums_only_its_own_invoices(client, db, admin, billing) -> None:
    issued = _issued(client, db, admin, billing)
    _issued(client, db, admin, billing)
    own = bearer(db, Role.CLIENT, issued["client_id"])
    [row] = _summary(client, own)["items"]
    assert row["count"] == 1


def test_bad_range_names_both_fields(client, db, billing) -> None:
    response = client.get(
        "/v1/invoices/summary", params={"from": "2026-13", "to": "soon"}, headers=billing
    )
    assert response.status_code == 422
    assert {error["field"] for error in response.json()["errors"]} == {"from", "to"}
