"""Minimum billing through the API: the charter's worked examples, invoices and their life."""

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from app.billing.runs import service as runs
from app.billing.tables import Invoice, InvoiceClock
from app.core.auth import Role
from app.core.queue import TASKS
from app.core.tables import ApiKey, AuditEntry

from billing_scenarios import (
    BEFORE_DEADLINE,
    MID_PERIOD,
    PERIOD,
    VOICE_100K,
    Stream,
    arrange,
    generate,
    invoice_run,
    issue_and_correct,
    shortfall,
)
from factories import bearer, make_activity, make_client, make_contract

# The worked examples of charter-axis-1.md


def test_example_1_bills_the_gap_to_ninety_percent(client, db, admin, billing) -> None:
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    [line] = shortfall(client, contract_id, billing)["lines"]
    assert (line["trigger"], line["shortfall_units"], line["amount"]) == (
        "90000",
        "5000",
        "6000.00",
    )
    invoice = generate(client, contract_id, billing).json()
    assert (invoice["net_amount"], invoice["vat_amount"], invoice["total_amount"]) == (
        "6000.00",
        "1200.00",
        "7200.00",
    )


def test_example_2_within_the_band_gives_no_invoice(client, db, admin, billing) -> None:
    contract_id, _ = arrange(client, db, admin, [Stream("voice", "1.20", 100_000, 92_000)])
    response = generate(client, contract_id, billing)
    assert response.status_code == 200
    assert response.json()["status"] == "no_shortfall"
    assert db.scalar(select(func.count()).select_from(Invoice)) == 0


@pytest.mark.parametrize(("actual", "amount"), [(85_000, "12000.00"), (91_000, "0.00")])
def test_example_3_floor_above_trigger_bills_up_to_the_floor(
    client, db, admin, billing, actual, amount
) -> None:
    contract_id, _ = arrange(
        client,
        db,
        admin,
        [Stream("voice", "1.20", 100_000, actual)],
        trigger_ratio="0.90",
        floor_ratio="0.95",
    )
    assert shortfall(client, contract_id, billing)["net_amount"] == amount


def test_example_4_hour_billing_uses_production_hours(client, db, admin, billing) -> None:
    stream = Stream(
        "back-office", "28.50", 20_000, 15_000, unit="hour", committed_aht=300, actual_aht=310
    )
    contract_id, _ = arrange(client, db, admin, [stream])
    [line] = shortfall(client, contract_id, billing)["lines"]
    assert Decimal(line["trigger"]) == Decimal(1500)
    assert abs(Decimal(line["actual"]) - Decimal(15_000 * 310) / 3600) < Decimal("1e-20")
    assert abs(
        Decimal(line["shortfall_units"]) - (Decimal(1500) - Decimal(15_000 * 310) / 3600)
    ) < Decimal("1e-20")
    assert line["amount"] == "5937.50"


def test_example_5_bills_on_the_version_received_before_the_deadline(
    client, db, admin, billing
) -> None:
    contract_id, ids = arrange(client, db, admin, [VOICE_100K])
    late = {
        "received_at": "2026-09-20T10:00:00+02:00",
        "lines": [{"period": PERIOD, "volume": 50_000}],
    }
    client.post(f"/v1/activities/{ids['voice']}/commitments", json=late, headers=admin)
    [line] = shortfall(client, contract_id, billing)["lines"]
    assert line["committed"] == "100000"
    assert line["latest_commitment_id"] != line["binding_commitment_id"]
    assert line["deadline"] == "2026-09-01T00:00:00+02:00"


def test_example_6_over_forecast_is_flagged_without_amount(client, db, admin, billing) -> None:
    contract_id, _ = arrange(client, db, admin, [Stream("voice", "1.20", 100_000, 112_000)])
    [line] = shortfall(client, contract_id, billing)["lines"]
    assert (line["status"], line["amount"]) == ("over_band", "0.00")


POOLED_STREAMS = [Stream("voice", "1.20", 50_000, 40_000), Stream("email", "2.00", 10_000, 12_000)]


def test_example_7_pooled_surplus_offsets_the_shortfall(client, db, admin, billing) -> None:
    contract_id, _ = arrange(client, db, admin, POOLED_STREAMS, evaluation="pooled")
    result = shortfall(client, contract_id, billing)
    assert (result["pooled"]["committed_value"], result["pooled"]["actual_value"]) == (
        "80000.00",
        "72000.00",
    )
    assert result["net_amount"] == "0.00"
    assert generate(client, contract_id, billing).json()["status"] == "no_shortfall"


def test_example_7_per_activity_bills_the_voice_shortfall(client, db, admin, billing) -> None:
    contract_id, _ = arrange(client, db, admin, POOLED_STREAMS)
    assert shortfall(client, contract_id, billing)["net_amount"] == "6000.00"


def test_example_8_adjustment_reduces_the_commitment(client, db, admin, billing) -> None:
    contract_id, ids = arrange(client, db, admin, [Stream("voice", "1.20", 100_000, 70_000)])
    client.post(
        f"/v1/activities/{ids['voice']}/adjustments",
        json={"period": PERIOD, "units": "20000", "reason": "grève chez le client"},
        headers=admin,
    )
    [line] = shortfall(client, contract_id, billing)["lines"]
    assert (line["committed_effective"], line["trigger"], line["shortfall_units"]) == (
        "80000",
        "72000",
        "2000",
    )
    assert line["amount"] == "2400.00"


# Preview and invoice


@pytest.mark.parametrize(
    "streams",
    [
        [VOICE_100K],
        [Stream("bo", "28.50", 20_000, 15_000, unit="hour", committed_aht=300, actual_aht=310)],
        [Stream("a", "1.17", 33_333, 10_001), Stream("b", "0.37", 7_777, 1_234)],
    ],
)
def test_preview_and_invoice_agree_to_the_cent(client, db, admin, billing, streams) -> None:
    contract_id, _ = arrange(client, db, admin, streams)
    preview = shortfall(client, contract_id, billing)
    invoice = generate(client, contract_id, billing).json()
    assert invoice["net_amount"] == preview["net_amount"]
    assert [line["amount"] for line in invoice["lines"]] == [
        line["amount"] for line in preview["lines"] if Decimal(line["amount"]) > 0
    ]


def test_preview_of_an_open_period_is_provisional(client, db, admin, billing) -> None:
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    assert shortfall(client, contract_id, billing, period="2099-01")["provisional"] is True
    assert shortfall(client, contract_id, billing)["provisional"] is False


def test_open_period_cannot_be_invoiced(client, db, admin, billing) -> None:
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    response = generate(client, contract_id, billing, period="2099-01")
    assert response.status_code == 409
    assert "has not ended" in response.json()["detail"]


def test_no_binding_commitment_is_reported_per_line(client, db, admin, billing) -> None:
    contract = make_contract(db, make_client(db))
    make_activity(db, contract)
    [line] = shortfall(client, contract.id, billing)["lines"]
    assert (line["reason"], line["amount"]) == ("no_binding_commitment", "0.00")


def test_generating_twice_returns_the_same_invoice(client, db, admin, billing) -> None:
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    first = generate(client, contract_id, billing)
    second = generate(client, contract_id, billing)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert db.scalar(select(func.count()).select_from(Invoice)) == 1


def test_invoice_carries_what_an_auditor_needs(client, db, admin, billing) -> None:
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    invoice = generate(client, contract_id, billing).json()
    [line] = invoice["lines"]
    for name in (
        "binding_commitment_id",
        "binding_received_at",
        "deadline",
        "committed",
        "adjustments",
        "actual",
        "unit_price",
        "shortfall_units",
        "amount",
    ):
        assert line[name] is not None, name
    assert invoice["computation"]["trigger_ratio"] == "0.90"
    assert invoice["computation"]["floor_ratio"] == "0.90"


# Life cycle


def test_issuing_assigns_consecutive_numbers_of_the_year(client, db, admin, billing) -> None:
    numbers = []
    for _ in range(3):
        contract_id, _ = arrange(client, db, admin, [VOICE_100K])
        invoice = generate(client, contract_id, billing).json()
        issued = client.post(f"/v1/invoices/{invoice['id']}/issue", headers=billing).json()
        numbers.append(issued["number"])
    year = date.today().year
    sequence = [int(number.rsplit("-", 1)[1]) for number in numbers]
    assert all(number.startswith(f"MB-{year}-") for number in numbers)
    assert sequence == list(range(sequence[0], sequence[0] + 3))


def test_issued_invoice_carries_the_french_mentions(client, db, admin, billing) -> None:
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    invoice = generate(client, contract_id, billing).json()
    issued = client.post(f"/v1/invoices/{invoice['id']}/issue", headers=billing).json()
    mentions = issued["mentions"]
    assert mentions["recovery_indemnity"]["amount"] == "40.00"
    assert mentions["service_period"] == {"start": "2026-10-01", "end": "2026-10-31"}
    assert mentions["late_payment_penalty_rate"]
    assert mentions["seller"]["siren"] and mentions["buyer"]["name"]
    assert date.fromisoformat(issued["due_date"]) - date.fromisoformat(issued["issue_date"]) == (
        date(2000, 1, 31) - date(2000, 1, 1)
    )


def test_issued_invoice_cannot_be_issued_or_voided_again(client, db, admin, billing) -> None:
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    invoice_id = generate(client, contract_id, billing).json()["id"]
    client.post(f"/v1/invoices/{invoice_id}/issue", headers=billing)
    assert client.post(f"/v1/invoices/{invoice_id}/issue", headers=billing).status_code == 409
    assert client.post(f"/v1/invoices/{invoice_id}/void", headers=billing).status_code == 409


def test_issued_invoice_is_paid_once(client, db, admin, billing) -> None:
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    invoice_id = generate(client, contract_id, billing).json()["id"]
    assert client.post(f"/v1/invoices/{invoice_id}/mark-paid", headers=billing).status_code == 409
    client.post(f"/v1/invoices/{invoice_id}/issue", headers=billing)
    paid = client.post(f"/v1/invoices/{invoice_id}/mark-paid", headers=billing).json()
    assert paid["status"] == "paid" and paid["paid_at"]


def test_voided_draft_releases_the_period(client, db, admin, billing) -> None:
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    first = generate(client, contract_id, billing).json()
    assert client.post(f"/v1/invoices/{first['id']}/void", headers=billing).json()["status"] == (
        "void"
    )
    second = generate(client, contract_id, billing)
    assert second.status_code == 201 and second.json()["id"] != first["id"]


def test_correction_credits_the_issued_invoice_and_drafts_anew(client, db, admin, billing) -> None:
    _, issued, correction = issue_and_correct(client, db, admin, billing)
    original = issued
    assert correction["status"] == "corrected"
    credit, replacement = correction["credit_note"], correction["invoice"]
    assert (credit["kind"], credit["total_amount"], credit["corrects"]) == (
        "credit_note",
        "-7200.00",
        original["id"],
    )
    # C_eff = 95 000, floor 85 500, A = 85 000: 500 units at 1.20.
    assert (replacement["net_amount"], replacement["corrects"]) == ("600.00", original["id"])
    after = client.get(f"/v1/invoices/{original['id']}", headers=billing).json()
    for frozen in ("number", "net_amount", "lines", "mentions", "status"):
        assert after[frozen] == issued[frozen], frozen


def test_correction_with_unchanged_amount_creates_nothing(client, db, admin, billing) -> None:
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    invoice_id = generate(client, contract_id, billing).json()["id"]
    client.post(f"/v1/invoices/{invoice_id}/issue", headers=billing)
    correction = client.post(f"/v1/invoices/{invoice_id}/correct", headers=billing).json()
    assert correction["status"] == "unchanged" and correction["credit_note"] is None
    assert db.scalar(select(func.count()).select_from(Invoice)) == 1


def test_draft_cannot_be_corrected(client, db, admin, billing) -> None:
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    invoice_id = generate(client, contract_id, billing).json()["id"]
    assert client.post(f"/v1/invoices/{invoice_id}/correct", headers=billing).status_code == 409


def test_credit_note_is_numbered_in_its_own_sequence(client, db, admin, billing) -> None:
    contract_id, ids = arrange(client, db, admin, [VOICE_100K])
    invoice_id = generate(client, contract_id, billing).json()["id"]
    client.post(f"/v1/invoices/{invoice_id}/issue", headers=billing)
    client.post(
        f"/v1/activities/{ids['voice']}/adjustments",
        json={"period": PERIOD, "units": "1", "reason": "x"},
        headers=admin,
    )
    credit = client.post(f"/v1/invoices/{invoice_id}/correct", headers=billing).json()
    issued = client.post(
        f"/v1/invoices/{credit['credit_note']['id']}/issue", headers=billing
    ).json()
    assert issued["number"].startswith(f"AV-{date.today().year}-")


def test_invoice_lines_as_csv(client, db, admin, billing) -> None:
    contract_id, _ = arrange(client, db, admin, POOLED_STREAMS)
    invoice_id = generate(client, contract_id, billing).json()["id"]
    response = client.get(f"/v1/invoices/{invoice_id}", headers={**billing, "Accept": "text/csv"})
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(row["activity_name"], row["amount"]) for row in rows] == [("voice", "6000.00")]
    assert response.headers["content-disposition"] == (
        f'attachment; filename="draft-{invoice_id}.csv"'
    )


def test_an_issued_invoices_csv_carries_its_number_dates_and_totals(
    client, db, admin, billing
) -> None:
    contract_id, _ = arrange(client, db, admin, POOLED_STREAMS)
    invoice_id = generate(client, contract_id, billing).json()["id"]
    issued = client.post(f"/v1/invoices/{invoice_id}/issue", headers=billing).json()
    response = client.get(f"/v1/invoices/{invoice_id}", headers={**billing, "Accept": "text/csv"})
    (row,) = csv.DictReader(io.StringIO(response.text))
    assert (row["invoice_number"], row["issue_date"], row["due_date"]) == (
        issued["number"],
        issued["issue_date"],
        issued["due_date"],
    )
    assert (row["invoice_net_amount"], row["invoice_vat_amount"], row["invoice_total_amount"]) == (
        issued["net_amount"],
        issued["vat_amount"],
        issued["total_amount"],
    )
    assert response.headers["content-disposition"] == (
        f'attachment; filename="{issued["number"]}.csv"'
    )


def test_listing_pages_in_update_order_and_filters_by_update_time(
    client, db, admin, billing
) -> None:
    ids = []
    for _ in range(3):
        contract_id, _ = arrange(client, db, admin, [VOICE_100K])
        ids.append(generate(client, contract_id, billing).json()["id"])
    first = client.get("/v1/invoices", params={"limit": 2}, headers=billing).json()
    second = client.get(
        "/v1/invoices", params={"limit": 2, "cursor": first["next_cursor"]}, headers=billing
    ).json()
    assert [i["id"] for i in first["items"] + second["items"]] == ids
    issued = client.post(f"/v1/invoices/{ids[0]}/issue", headers=billing).json()
    since = first["items"][-1]["updated_at"]
    changed = client.get("/v1/invoices", params={"updated_since": since}, headers=billing).json()
    assert [i["id"] for i in changed["items"]] == [ids[2], issued["id"]]


def test_client_key_sees_only_its_own_invoices(client, db, admin, billing) -> None:
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    invoice = generate(client, contract_id, billing).json()
    stranger = bearer(db, Role.CLIENT, make_client(db, name="Stranger").id)
    owner = bearer(db, Role.CLIENT, invoice["client_id"])
    assert client.get(f"/v1/invoices/{invoice['id']}", headers=stranger).status_code == 404
    assert client.get(f"/v1/invoices/{invoice['id']}", headers=owner).status_code == 200
    assert client.get("/v1/invoices", headers=stranger).json()["items"] == []


@pytest.mark.parametrize("role", [Role.OPS, Role.CLIENT])
def test_only_billing_and_admin_generate_and_issue(client, db, admin, role) -> None:
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    customer = db.scalar(select(Invoice.client_id)) if role == Role.CLIENT else None
    headers = (
        bearer(db, role, customer)
        if role != Role.CLIENT
        else bearer(db, role, make_client(db, name="C").id)
    )
    assert generate(client, contract_id, headers).status_code in (403, 404)


def test_invoice_run_summarises_every_contract(client, db, admin, billing, tasks) -> None:
    due, _ = arrange(client, db, admin, [VOICE_100K])
    arrange(client, db, admin, [Stream("voice", "1.20", 100_000, 95_000)])
    generate(client, due, billing)
    summary = invoice_run(client, billing, tasks)
    assert (summary["status"], summary["contracts"], summary["batches_done"]) == ("completed", 2, 1)
    assert (summary["created"], summary["existing"], summary["no_shortfall"]) == (0, 1, 1)
    assert (summary["errors"], summary["invoice_ids"]) == ([], [])


def test_invoice_run_creates_missing_invoices_once(client, db, admin, billing, tasks) -> None:
    contracts = [arrange(client, db, admin, [VOICE_100K])[0] for _ in range(2)]
    first = invoice_run(client, billing, tasks)
    again = invoice_run(client, billing, tasks)
    assert (first["created"], again["created"], again["existing"]) == (2, 0, 2)
    created = [
        client.get(f"/v1/invoices/{i}", headers=billing).json() for i in first["invoice_ids"]
    ]
    assert sorted(invoice["contract_id"] for invoice in created) == sorted(contracts)
    assert again["invoice_ids"] == []


def test_a_batch_run_twice_is_recorded_once(client, db, admin, billing, tasks) -> None:
    """What a worker killed after its batch committed would leave: the retry adds nothing."""
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    run = invoice_run(client, billing, tasks)
    tasks.submit(
        TASKS[runs.RUN_BATCH_TASK], {"run_id": run["id"], "batch": 0, "contract_ids": [contract_id]}
    )
    tasks.drain()
    again = client.get(f"/v1/invoice-runs/{run['id']}", headers=billing).json()
    assert (again["created"], again["existing"], again["batches_done"]) == (1, 0, 1)


def test_unknown_invoice_run_is_404_and_client_keys_cannot_read_runs(client, db, billing) -> None:
    assert client.get("/v1/invoice-runs/run_x", headers=billing).status_code == 404
    customer = bearer(db, Role.CLIENT, make_client(db, name="C").id)
    assert client.get("/v1/invoice-runs/run_x", headers=customer).status_code == 403


def test_every_state_change_is_audited_with_its_key(client, db, admin, billing) -> None:
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    invoice_id = generate(client, contract_id, billing).json()["id"]
    client.post(f"/v1/invoices/{invoice_id}/issue", headers=billing)
    client.post(f"/v1/invoices/{invoice_id}/mark-paid", headers=billing)
    key_id = db.scalar(select(ApiKey.id).where(ApiKey.role == "billing"))
    trail = db.execute(
        select(AuditEntry.action, AuditEntry.api_key_id)
        .where(AuditEntry.entity_id == invoice_id)
        .order_by(AuditEntry.at)
    ).all()
    assert [tuple(row) for row in trail] == [
        ("invoice.generated", key_id),
        ("invoice.issued", key_id),
        ("invoice.paid", key_id),
    ]


# The invoice clock: `updated_at` increases in commit order (the concurrent case is in
# tests/integration/test_billing_concurrency.py)


def test_stamps_never_go_back_even_when_the_server_clock_does(client, db, admin, billing) -> None:
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    first = generate(client, contract_id, billing).json()
    ahead = datetime.fromisoformat(first["updated_at"]) + timedelta(days=1)
    db.execute(update(InvoiceClock).values(last_stamp=ahead))  # as if the clock stepped back
    db.flush()
    issued = client.post(f"/v1/invoices/{first['id']}/issue", headers=billing).json()
    assert datetime.fromisoformat(issued["updated_at"]) == ahead + timedelta(microseconds=1)


def test_what_one_transaction_changes_shares_its_stamp(client, db, admin, billing) -> None:
    contract_id, ids = arrange(client, db, admin, [VOICE_100K])
    invoice = generate(client, contract_id, billing).json()
    client.post(f"/v1/invoices/{invoice['id']}/issue", headers=billing)
    more = {"interval_start": MID_PERIOD, "offered": 1000, "handled": 1000, "aht_seconds": 300}
    client.post(f"/v1/activities/{ids['voice']}/volumes", json={"records": [more]}, headers=admin)
    corrected = client.post(f"/v1/invoices/{invoice['id']}/correct", headers=billing).json()
    stamps = {corrected["credit_note"]["updated_at"], corrected["invoice"]["updated_at"]}
    assert len(stamps) == 1


def test_an_invoice_changed_without_the_clock_is_refused(client, db, admin, billing) -> None:
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    invoice_id = generate(client, contract_id, billing).json()["id"]
    invoice = db.get(Invoice, invoice_id)
    assert invoice is not None
    invoice.status = "paid"
    with pytest.raises(RuntimeError, match="invoice clock"):
        db.flush()
    db.rollback()


def test_paying_a_draft_is_refused_in_plain_english(client, db, admin, billing) -> None:
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    invoice_id = generate(client, contract_id, billing).json()["id"]
    response = client.post(f"/v1/invoices/{invoice_id}/mark-paid", headers=billing)
    assert response.status_code == 409
    assert response.json()["detail"].endswith("only an issued invoice can be marked paid.")


def test_an_unpriced_activity_is_named_in_the_singular(client, db, admin, billing) -> None:
    contract = make_contract(db, make_client(db), starts_on=date(2025, 1, 1))
    activity = make_activity(db, contract, price=None)
    version = {"received_at": BEFORE_DEADLINE, "lines": [{"period": PERIOD, "volume": 1000}]}
    committed = client.post(
        f"/v1/activities/{activity.id}/commitments", json=version, headers=admin
    )
    assert committed.status_code == 201, committed.text
    response = generate(client, contract.id, billing)  # a shortfall: nothing was handled
    assert response.status_code == 409, response.text
    assert (
        f"No price is in force on 2026-10-01 for activity {activity.id}:"
        in (response.json()["detail"])
    )
