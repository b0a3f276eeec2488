"""Use cases of minimum billing: preview, generation (single and runs), life cycle, corrections.

Life cycle (charter §4): `draft` → `issued` (gapless number, frozen from then on) → `paid`;
a draft can be `void`ed. An issued invoice is never edited: `correct` creates a credit note for
it and, when something is still due, a new draft.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.billing import rules, schemas
from app.billing.einvoice import service as einvoice
from app.billing.repository import InvoiceFilter, InvoiceRepository
from app.billing.shortfall import Shortfall, as_json, compute, compute_many
from app.billing.tables import Invoice, InvoicePayment
from app.contracts import dependents
from app.contracts import service as contracts
from app.core import audit, checks
from app.core.auth import Principal
from app.core.errors import Conflict, FieldError, NotFound, failed
from app.core.fields import parse_period
from app.core.orm import utc_now
from app.core.pagination import PageParams
from app.core.periods import Period
from app.core.settings import Settings
from app.core.wording import with_article

INVOICE = "invoice"
CREDIT_NOTE = "credit_note"
DRAFT, ISSUED, PAID, VOID = "draft", "issued", "paid", "void"
RECOVERY_INDEMNITY_EUR = Decimal("40.00")
RUN_BATCH = 500


def preview(session: Session, actor: Principal, contract_id: str, period_text: str) -> Shortfall:
    """The shortfall as it stands now, not stored; provisional while the period is open."""
    contract = contracts.get_contract(session, actor, contract_id)
    return compute(session, contract, parse_period(period_text), utc_now())


# Generation


def generation_key(contract_id: str, period: Period) -> str:
    return f"{contract_id}:{period}"


@dataclass(frozen=True)
class Generated:
    outcome: Literal["created", "existing", "no_shortfall"]
    invoice: Invoice | None
    shortfall: Shortfall | None


def check_new_invoice(
    session: Session, actor: Principal, raw: checks.RawRequest
) -> list[FieldError]:
    """What the stored data refuses in an invoice request (an unknown contract), for the
    schema's 422 too."""
    fields = checks.salvage(schemas.InvoiceCreate, raw.body)
    return contracts.contract_id_problems(session, actor, fields.get("contract_id"))


def generate(session: Session, actor: Principal, contract_id: str, period_text: str) -> Generated:
    """The draft invoice of (contract, period): created once, returned as is afterwards."""
    contract = contracts.contract_named(session, actor, contract_id)
    period = parse_period(period_text, location="body")
    if not contracts.in_force(contract, period):
        ends = f" to {contract.ends_on}" if contract.ends_on else ""
        raise Conflict(
            f"Contract {contract.id} is not in force in {period} "
            f"(it runs from {contract.starts_on}{ends}): nothing can be invoiced for it."
        )
    repository = InvoiceRepository(session)
    key = generation_key(contract.id, period)
    existing = repository.by_generation_key(key)
    if existing is not None:
        return Generated("existing", existing, None)
    shortfall = compute(session, contract, period, utc_now())
    _ensure_invoiceable(shortfall)
    if shortfall.net_amount == 0:
        return Generated("no_shortfall", None, shortfall)
    draft = _draft(shortfall, key)
    if not _insert_generated(session, actor, repository, draft):
        winner = repository.by_generation_key(key)
        assert winner is not None, "the unique key was taken by a committed invoice"
        return Generated("existing", winner, None)
    return Generated("created", draft, None)


def _insert_generated(
    session: Session, actor: Principal, repository: InvoiceRepository, draft: Invoice
) -> bool:
    """Insert a generated draft and audit it; False when its period was generated already
    (by a concurrent request too)."""
    if not repository.insert_unique(draft):
        return False
    audit.record(
        session,
        actor,
        "invoice.generated",
        "invoice",
        draft.id,
        {"net_amount": draft.net_amount, "period": draft.period},
    )
    return True


def _ensure_invoiceable(shortfall: Shortfall) -> None:
    if shortfall.provisional:
        raise Conflict(
            f"Period {shortfall.period} has not ended in the contract's time zone "
            f"(it ends {shortfall.period_end.isoformat()}): only a provisional preview exists."
        )
    unpriced = shortfall.unpriced_activities
    if unpriced:
        which = "activity" if len(unpriced) == 1 else "activities"
        raise Conflict(
            f"No price is in force on {shortfall.period.first_day} for {which} "
            f"{', '.join(unpriced)}: add a price row before invoicing."
        )


def _draft(shortfall: Shortfall, key: str | None, corrects: str | None = None) -> Invoice:
    return Invoice(**_draft_values(shortfall, key, corrects))


def _draft_values(
    shortfall: Shortfall, key: str | None, corrects: str | None = None
) -> dict[str, Any]:
    """The columns of a shortfall's draft invoice: one definition for the single generation
    (an ORM object) and the invoice run (a bulk insert)."""
    lines = [as_json(line.__dict__) for line in shortfall.lines]
    billed = _billed_lines(shortfall, lines)
    totals = rules.invoice_totals([Decimal(line["amount"]) for line in billed], shortfall.vat_rate)
    return dict(
        kind=INVOICE,
        status=DRAFT,
        generation_key=key,
        contract_id=shortfall.contract_id,
        client_id=shortfall.client_id,
        period=str(shortfall.period),
        currency=shortfall.currency,
        evaluation=shortfall.evaluation,
        net_amount=totals.net,
        vat_rate=shortfall.vat_rate,
        vat_amount=totals.vat,
        total_amount=totals.total,
        lines=billed,
        computation=computation_json(shortfall, lines),
        corrects_id=corrects,
    )


def _billed_lines(shortfall: Shortfall, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per activity, the lines with something to bill; pooled, one line for the contract.
    `lines` are the shortfall's lines as JSON (computed once for the lines and the
    computation)."""
    if shortfall.pooled is None:
        return [
            line_json
            for line, line_json in zip(shortfall.lines, lines, strict=True)
            if line.amount > 0
        ]
    return [
        {
            "activity_id": None,
            "description": "Pooled evaluation of the contract",
            **as_json(shortfall.pooled.__dict__),
        }
    ]


def computation_json(shortfall: Shortfall, lines: list[dict[str, Any]]) -> dict[str, Any]:
    """Every input and intermediate figure, so that an auditor can re-derive the amount;
    `lines` are the shortfall's lines as JSON."""
    summary = as_json(
        {
            "period": str(shortfall.period),
            "period_start": shortfall.period_start,
            "period_end": shortfall.period_end,
            "evaluation": shortfall.evaluation,
            "trigger_ratio": shortfall.trigger_ratio,
            "floor_ratio": shortfall.floor_ratio,
            "upper_tolerance": shortfall.upper_tolerance,
            "vat_rate": shortfall.vat_rate,
            "net_amount": shortfall.net_amount,
            "computed_at": utc_now(),
        }
    )
    return {
        **summary,
        "lines": lines,
        "pooled": None if shortfall.pooled is None else as_json(shortfall.pooled.__dict__),
    }


@dataclass
class RunSummary:
    period: str
    contracts: int = 0
    created: int = 0
    existing: int = 0
    no_shortfall: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    invoice_ids: list[str] = field(default_factory=list)
    """The drafts created, in order."""

    def add(self, batch: "RunSummary") -> None:
        self.contracts += batch.contracts
        self.created += batch.created
        self.existing += batch.existing
        self.no_shortfall += batch.no_shortfall
        self.errors += batch.errors
        self.invoice_ids += batch.invoice_ids


def run(
    session: Session, actor: Principal, period_text: str, contract_ids: Sequence[str] | None = None
) -> RunSummary:
    """Generate the period's invoice for every contract in force (or for those of
    `contract_ids` that are: one batch of a stored run, `billing.runs`), in batches."""
    period = parse_period(period_text, location="body")
    in_force = contracts.contract_rows_in_force(
        session, period.first_day, period.next().first_day, contract_ids
    )
    summary = RunSummary(period=str(period))
    now = utc_now()
    for first in range(0, len(in_force), RUN_BATCH):
        summary.add(run_batch(session, actor, period, in_force[first : first + RUN_BATCH], now))
    audit.record(
        session,
        actor,
        "invoice_run.completed",
        "invoice_run",
        str(period),
        {
            "contracts": summary.contracts,
            "created": summary.created,
            "existing": summary.existing,
            "no_shortfall": summary.no_shortfall,
            "errors": len(summary.errors),
        },
    )
    return summary


def run_batch(
    session: Session,
    actor: Principal,
    period: Period,
    batch: Sequence[contracts.ContractFacts],
    now: datetime,
) -> RunSummary:
    """The period's invoices of one batch of contracts, as set-based work: the batch's
    existing invoices and every input of its shortfalls in a few queries, the same pure rule
    as a single generation in memory, the drafts in one insert (a key generated meanwhile, by a
    concurrent request too, is skipped and counted as existing) and one audit entry naming
    them. The invoice clock is taken once for the transaction, so every draft has its stamp."""
    repository = InvoiceRepository(session)
    summary = RunSummary(period=str(period), contracts=len(batch))
    existing = repository.existing_generation_keys([generation_key(c.id, period) for c in batch])
    pending = [c for c in batch if generation_key(c.id, period) not in existing]
    summary.existing += len(batch) - len(pending)
    drafts = []
    for contract_id, shortfall in compute_many(session, pending, period, now).items():
        try:
            _ensure_invoiceable(shortfall)
        except Conflict as problem:
            summary.errors.append((contract_id, problem.detail))
            continue
        if shortfall.net_amount == 0:
            summary.no_shortfall += 1
            continue
        drafts.append(_draft_values(shortfall, generation_key(contract_id, period)))
    created = repository.insert_drafts(drafts)
    summary.created += len(created)
    summary.invoice_ids += [
        created[draft["generation_key"]] for draft in drafts if draft["generation_key"] in created
    ]
    summary.existing += len(drafts) - len(created)
    if created:
        audit.record(
            session,
            actor,
            "invoice.generated",
            "invoice_run",
            str(period),
            {
                "invoices": [
                    {
                        "id": created[draft["generation_key"]],
                        "contract_id": draft["contract_id"],
                        "net_amount": draft["net_amount"],
                    }
                    for draft in drafts
                    if draft["generation_key"] in created
                ]
            },
        )
    return summary


# Reading


def _touch(session: Session, invoice: Invoice) -> None:
    """Stamp an invoice whose view changed without a change of its own (its credit note or
    replacement got a number): a billing system syncing on `updated_since` must see it."""
    invoice.updated_at = utc_now()  # replaced by the transaction's clock stamp at flush
    session.flush()


def lineage(session: Session, invoices: Sequence[Invoice]) -> dict[str, Invoice]:
    """The invoices these ones correct or are corrected by, by id, in one query."""
    ids = {
        related
        for invoice in invoices
        for related in (invoice.corrects_id, invoice.credited_by_id, invoice.replaced_by_id)
        if related is not None
    }
    return InvoiceRepository(session).by_ids(sorted(ids))


def get_invoice(session: Session, actor: Principal, invoice_id: str) -> Invoice:
    invoice = InvoiceRepository(session).get(invoice_id)
    if invoice is None:
        raise NotFound(f"No invoice with id {invoice_id}.")
    actor.ensure_can_see(invoice.client_id, "invoice", invoice_id)
    return invoice


def list_invoices(
    session: Session,
    actor: Principal,
    filters: InvoiceFilter,
    params: PageParams,
) -> tuple[Sequence[Invoice], str | None]:
    """A client key sees its own client's invoices whatever `client_id` it asks for."""
    scope = actor.scoped_client_id
    if scope is not None and filters.client_id not in (None, scope):
        return [], None
    scoped = replace(filters, client_id=scope or filters.client_id)
    return InvoiceRepository(session).sync_page(scoped, params)


def invoiced_in(session: Session, scope: dependents.Scope) -> list[str]:
    """The invoices a contract change must not rewrite: nothing issued ever changes, and a
    draft is voided first if its terms are to change."""
    first, last = scope.periods()
    return [
        f"{invoice.kind} {invoice.id} ({invoice.number or 'draft'}, {invoice.status}) "
        f"for {invoice.period}"
        for invoice in InvoiceRepository(session).standing_in(scope.contract.id, first, last)
    ]


# Life cycle


def _locked(session: Session, actor: Principal, invoice_id: str) -> Invoice:
    invoice = InvoiceRepository(session).get(invoice_id, for_update=True)
    if invoice is None:
        raise NotFound(f"No invoice with id {invoice_id}.")
    actor.ensure_can_see(invoice.client_id, "invoice", invoice_id)
    return invoice


def _require_status(invoice: Invoice, allowed: Sequence[str], action: str) -> None:
    if invoice.status not in allowed:
        kinds = with_article(f"{' or '.join(allowed)} invoice")
        raise Conflict(f"Invoice {invoice.id} is {invoice.status}; only {kinds} can be {action}.")


def issue(session: Session, actor: Principal, invoice_id: str, settings: Settings) -> Invoice:
    """Number the draft with the next number of its year's gapless sequence and freeze it."""
    invoice = _locked(session, actor, invoice_id)
    _require_status(invoice, [DRAFT], "issued")
    contract = contracts.get_contract(session, actor, invoice.contract_id)
    client = contracts.get_client(session, actor, invoice.client_id)
    parties = einvoice.identity(settings, client, invoice.id)
    now = utc_now()
    today = now.astimezone(ZoneInfo(contract.timezone)).date()
    prefix = settings.invoice_prefix if invoice.kind == INVOICE else settings.credit_note_prefix
    number = InvoiceRepository(session).next_number(prefix, today.year)
    invoice.number = f"{prefix}-{today.year}-{number:06d}"
    invoice.status = ISSUED
    invoice.issue_date = today
    payment_days = contracts.terms_of_period(
        session, contract, Period.parse(invoice.period)
    ).payment_terms_days
    invoice.due_date = today + timedelta(days=payment_days) if invoice.kind == INVOICE else None
    invoice.issued_at = now
    invoice.mentions = _mentions(
        invoice, contract, payment_days, client.name, client.siren, client.country, settings
    )
    session.flush()
    corrected = InvoiceRepository(session).get(invoice.corrects_id) if invoice.corrects_id else None
    if corrected is not None:
        _touch(session, corrected)
    credited = corrected if invoice.kind == CREDIT_NOTE else None
    documents = einvoice.issue_documents(session, invoice, contract, parties, settings, credited)
    audit.record(
        session,
        actor,
        "invoice.issued",
        "invoice",
        invoice.id,
        {"number": invoice.number, "documents_sha256": documents},
    )
    return invoice


def _mentions(
    invoice: Invoice,
    contract: contracts.Contract,
    payment_terms_days: int,
    client_name: str,
    client_siren: str | None,
    client_country: str,
    settings: Settings,
) -> dict[str, Any]:
    """The mentions French law requires on a B2B invoice, frozen at issue."""
    period = Period.parse(invoice.period)
    return {
        "seller": {
            "name": settings.seller_name,
            "siren": settings.seller_siren,
            "vat_number": settings.seller_vat_number,
            "address": f"{settings.seller_address_line1}, {settings.seller_postcode} "
            f"{settings.seller_city}",
        },
        "buyer": {"name": client_name, "siren": client_siren, "country": client_country},
        "issue_date": invoice.issue_date.isoformat() if invoice.issue_date else None,
        "service_period": {
            "start": period.first_day.isoformat(),
            "end": (period.next().first_day - timedelta(days=1)).isoformat(),
        },
        "due_date": invoice.due_date.isoformat() if invoice.due_date else None,
        "payment_terms_days": payment_terms_days,
        "late_payment_penalty_rate": settings.late_payment_rate,
        "recovery_indemnity": {
            "amount": str(RECOVERY_INDEMNITY_EUR),
            "currency": "EUR",
            "legal_basis": "Code de commerce, articles L441-10 et D441-5",
        },
        "vat": {"rate": str(invoice.vat_rate), "amount": str(invoice.vat_amount)},
        "contract_reference": contract.reference,
    }


def void(session: Session, actor: Principal, invoice_id: str) -> Invoice:
    """Discard a draft; its (contract, period) can then be generated again."""
    invoice = _locked(session, actor, invoice_id)
    _require_status(invoice, [DRAFT], "voided")
    invoice.status = VOID
    invoice.generation_key = None
    invoice.voided_at = utc_now()
    session.flush()
    audit.record(session, actor, "invoice.voided", "invoice", invoice.id)
    return invoice


def check_payment(session: Session, actor: Principal, raw: checks.RawRequest) -> list[FieldError]:
    """What the invoice refuses in a payment (more than its balance), for the schema's 422."""
    invoice = get_invoice(session, actor, raw.path["invoice_id"])
    return _payment_problems(invoice, checks.salvage(schemas.PaymentCreate, raw.body))


def _payment_problems(invoice: Invoice, fields: dict[str, Any]) -> list[FieldError]:
    balance = invoice.total_amount - invoice.amount_paid
    amount = fields.get("amount")
    if amount is None or amount <= balance:
        return []
    return [FieldError("body", "amount", f"exceeds the balance due ({balance})")]


def mark_paid(
    session: Session, actor: Principal, invoice_id: str, payment: schemas.PaymentCreate | None
) -> Invoice:
    """Record a payment; the invoice is `paid` once payments reach its total. Without a
    payment the balance is paid in full today (the call before payments had a body)."""
    invoice = _locked(session, actor, invoice_id)
    _require_status(invoice, [ISSUED], "marked paid")
    balance = invoice.total_amount - invoice.amount_paid
    now = utc_now()
    if payment is None:
        payment = schemas.PaymentCreate(paid_on=now.date(), amount=balance) if balance > 0 else None
    elif invoice.kind != INVOICE:
        raise Conflict("A credit note is settled against its invoice; it takes no payment.")
    elif problems := _payment_problems(invoice, payment.model_dump()):
        raise failed(problems)
    if payment is not None:
        InvoiceRepository(session).add_payment(
            InvoicePayment(
                invoice_id=invoice.id, created_by_key_id=actor.key_id, **payment.model_dump()
            )
        )
        invoice.amount_paid += payment.amount
    if invoice.amount_paid >= invoice.total_amount:
        invoice.status = PAID
        invoice.paid_at = now
    session.flush()
    audit.record(
        session,
        actor,
        "invoice.paid" if invoice.status == PAID else "invoice.payment_received",
        "invoice",
        invoice.id,
        None if payment is None else payment.model_dump(mode="json"),
    )
    return invoice


@dataclass(frozen=True)
class Correction:
    outcome: Literal["corrected", "unchanged"]
    original: Invoice
    credit_note: Invoice | None
    invoice: Invoice | None


def correct(session: Session, actor: Principal, invoice_id: str) -> Correction:
    """Recompute an issued invoice; if the amount changed, credit it in full and draft anew.

    Nothing issued moves: the credit note and the new draft both refer to the original.
    """
    original = _locked(session, actor, invoice_id)
    if original.kind != INVOICE:
        raise Conflict("A credit note cannot be corrected; correct the invoice it credits.")
    _require_status(original, [ISSUED, PAID], "corrected")
    repository = InvoiceRepository(session)
    if original.credited_by_id is not None:
        raise Conflict(
            f"Invoice {original.id} has already been credited by {original.credited_by_id}."
        )
    contract = contracts.get_contract(session, actor, original.contract_id)
    shortfall = compute(session, contract, Period.parse(original.period), utc_now())
    _ensure_invoiceable(shortfall)
    if shortfall.net_amount == original.net_amount:
        return Correction("unchanged", original, None, None)
    credit_note = repository.add(_credit_note(original))
    # The period's generation key moves to the replacement (or is released): generating the
    # period again returns the invoice that stands for it, never the credited one.
    key, original.generation_key = original.generation_key, None
    session.flush()
    replacement = None
    if shortfall.net_amount > 0:
        replacement = repository.add(_draft(shortfall, key, corrects=original.id))
    original.credited_by_id = credit_note.id
    original.replaced_by_id = replacement.id if replacement else None
    session.flush()
    audit.record(
        session,
        actor,
        "invoice.corrected",
        "invoice",
        original.id,
        {
            "credit_note_id": credit_note.id,
            "replacement_id": replacement.id if replacement else None,
            "new_net_amount": shortfall.net_amount,
        },
    )
    return Correction("corrected", original, credit_note, replacement)


def _credit_note(original: Invoice) -> Invoice:
    return Invoice(
        kind=CREDIT_NOTE,
        status=DRAFT,
        generation_key=None,
        contract_id=original.contract_id,
        client_id=original.client_id,
        period=original.period,
        currency=original.currency,
        evaluation=original.evaluation,
        net_amount=-original.net_amount,
        vat_rate=original.vat_rate,
        vat_amount=-original.vat_amount,
        total_amount=-original.total_amount,
        lines=[{**line, "amount": str(-Decimal(line["amount"]))} for line in original.lines],
        computation={
            "credits": original.id,
            "credited_number": original.number,
            **original.computation,
        },
        corrects_id=original.id,
    )
