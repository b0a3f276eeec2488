"""Payments: `mark-paid` records what was received; a partial payment leaves a balance."""

from billing_scenarios import VOICE_100K, arrange, generate


def _issued(client, db, admin, billing) -> dict:
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    draft = generate(client, contract_id, billing).json()
    return client.post(f"/v1/invoices/{draft['id']}/issue", headers=billing).json()


def _pay(client, invoice_id, headers, amount):
    body = {"paid_on": "2026-11-20", "amount": amount, "reference": "VIR-42"}
    return client.post(f"/v1/invoices/{invoice_id}/mark-paid", json=body, headers=headers)


def test_a_partial_payment_leaves_a_balance(client, db, admin, billing) -> None:
    invoice = _issued(client, db, admin, billing)
    paid = _pay(client, invoice["id"], billing, "2000.00").json()
    assert (paid["status"], paid["amount_paid"], paid["balance_due"]) == (
        "issued",
        "2000.00",
        "5200.00",
    )


def test_payments_reaching_the_total_pay_the_invoice(client, db, admin, billing) -> None:
    invoice = _issued(client, db, admin, billing)
    _pay(client, invoice["id"], billing, "7000.00")
    paid = _pay(client, invoice["id"], billing, "200.00").json()
    assert (paid["status"], paid["balance_due"]) == ("paid", "0.00")
    assert paid["paid_at"] is not None


def test_a_payment_above_the_balance_is_a_problem_naming_amount(client, db, admin, billing):
    invoice = _issued(client, db, admin, billing)
    response = _pay(client, invoice["id"], billing, "7200.01")
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["amount"]


def test_without_a_body_the_balance_is_paid(client, db, admin, billing) -> None:
    invoice = _issued(client, db, admin, billing)
    _pay(client, invoice["id"], billing, "1000.00")
    paid = client.post(f"/v1/invoices/{invoice['id']}/mark-paid", headers=billing).json()
    assert (paid["status"], paid["amount_paid"], paid["balance_due"]) == (
        "paid",
        "7200.00",
        "0.00",
    )


def test_an_amount_above_the_balance_is_named_with_a_bad_date(client, db, admin, billing):
    invoice = _issued(client, db, admin, billing)
    body = {"paid_on": "2026-13-01", "amount": "7200.01", "reference": "x" * 101}
    response = client.post(f"/v1/invoices/{invoice['id']}/mark-paid", json=body, headers=billing)
    assert response.status_code == 422
    assert {error["field"] for error in response.json()["errors"]} == {
        "paid_on",
        "amount",
        "reference",
    }
