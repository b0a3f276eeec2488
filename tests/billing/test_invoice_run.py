"""The invoice run as set-based work (issue 17): a batch's inputs read together, the rule in
memory, the drafts in one insert, one audit entry and one clock stamp. What it creates must be
exactly what one generation per contract creates."""

from dataclasses import fields

from sqlalchemy import select

from app.billing import schemas, service
from app.billing.shortfall import ShortfallLine
from app.billing.tables import Invoice
from app.core.tables import AuditEntry

from billing_scenarios import PERIOD, VOICE_100K, Stream, arrange, generate, invoice_run

POOLED = [Stream("voice", "1.20", 50_000, 40_000), Stream("email", "2.00", 10_000, 5_000)]
MIXED = [Stream("voice", "1.20", 100_000, 70_000), Stream("chat", "0.80", 20_000, 21_000)]
WITHIN_BAND = [Stream("voice", "1.20", 100_000, 95_000)]
HOURS = [Stream("voice", "30.00", 8_000, 5_000, unit="hour", committed_aht=300)]
# Stamps, ids and the instant of computation differ between two generations by nature.
_OWN = {"id", "created_at", "updated_at"}


def _arranged(client, db, admin) -> dict[str, str]:
    """Contracts of every kind the rule judges, by what they are."""
    return {
        "per activity": arrange(client, db, admin, [VOICE_100K])[0],
        "pooled": arrange(client, db, admin, POOLED, evaluation="pooled")[0],
        "two activities": arrange(client, db, admin, MIXED)[0],
        "within the band": arrange(client, db, admin, WITHIN_BAND)[0],
        "billed in hours": arrange(client, db, admin, HOURS, trigger_ratio="0.85")[0],
    }


def _comparable(invoice: dict) -> dict:
    figures = {name: value for name, value in invoice.items() if name not in _OWN}
    figures["computation"] = {
        name: value for name, value in invoice["computation"].items() if name != "computed_at"
    }
    return figures


def test_run_drafts_equal_one_generation_per_contract(client, db, admin, billing, tasks) -> None:
    contracts = _arranged(client, db, admin)
    summary = invoice_run(client, billing, tasks)
    assert (summary["created"], summary["no_shortfall"], summary["errors"]) == (4, 1, [])
    by_contract = {
        invoice.contract_id: invoice.id
        for invoice in db.scalars(select(Invoice).where(Invoice.period == PERIOD))
    }
    assert set(by_contract) == set(contracts.values()) - {contracts["within the band"]}
    for kind, contract_id in contracts.items():
        if kind == "within the band":
            continue
        invoice_id = by_contract[contract_id]
        from_run = client.get(f"/v1/invoices/{invoice_id}", headers=billing).json()
        assert client.post(f"/v1/invoices/{invoice_id}/void", headers=billing).status_code == 200
        single = generate(client, contract_id, billing)
        assert single.status_code == 201, (kind, single.text)
        assert _comparable(from_run) == _comparable(single.json()), kind


def test_a_run_batch_has_one_stamp_and_one_audit_entry(client, db, admin, billing, tasks) -> None:
    contracts = _arranged(client, db, admin)
    invoice_run(client, billing, tasks)
    invoices = db.scalars(select(Invoice).where(Invoice.period == PERIOD)).all()
    assert len({invoice.updated_at for invoice in invoices}) == 1
    assert all(invoice.created_at == invoice.updated_at for invoice in invoices)
    entries = db.scalars(
        select(AuditEntry).where(
            AuditEntry.entity_type == "invoice_run", AuditEntry.action == "invoice.generated"
        )
    ).all()
    assert len(entries) == 1
    named = {entry["id"]: entry for entry in entries[0].changes["invoices"]}
    assert set(named) == {invoice.id for invoice in invoices}
    assert {entry["contract_id"] for entry in named.values()} == set(contracts.values()) - {
        contracts["within the band"]
    }
    assert all(named[invoice.id]["net_amount"] == str(invoice.net_amount) for invoice in invoices)
    # one invoice.generated per invoice is what a single generation writes, not the run
    assert not db.scalars(
        select(AuditEntry).where(
            AuditEntry.entity_type == "invoice", AuditEntry.action == "invoice.generated"
        )
    ).all()


def test_each_batch_is_audited_once(client, db, admin, billing, tasks, monkeypatch) -> None:
    """Batches of two contracts: the four invoices are named by two entries."""
    _arranged(client, db, admin)
    monkeypatch.setattr(service, "RUN_BATCH", 2)
    summary = invoice_run(client, billing, tasks)
    assert (summary["contracts"], summary["created"]) == (5, 4)
    entries = db.scalars(
        select(AuditEntry).where(
            AuditEntry.entity_type == "invoice_run", AuditEntry.action == "invoice.generated"
        )
    ).all()
    named = [invoice["id"] for entry in entries for invoice in entry.changes["invoices"]]
    # batches of 2, 2 and 1 contracts, one of which is within the band: 2 or 3 entries
    assert len(entries) in (2, 3)
    assert all(len(entry.changes["invoices"]) <= 2 for entry in entries)
    assert sorted(named) == sorted(db.scalars(select(Invoice.id)))


def test_a_shortfall_line_has_the_fields_of_the_response_line_in_its_order() -> None:
    """The rule's lines are plain dataclasses; the preview and the invoice show them with the
    response's fields, so the two must never drift apart."""
    assert [field.name for field in fields(ShortfallLine)] == list(
        schemas.ShortfallLineOut.model_fields
    )
