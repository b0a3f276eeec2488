"""HTTP layer of minimum billing: shortfall preview, invoices, runs, life cycle."""

import csv
import io
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Query, Request, Response
from sqlalchemy.orm import Session

from app.billing import schemas, service
from app.billing.repository import InvoiceFilter
from app.billing.tables import Invoice
from app.core import checks
from app.core.auth import Principal, ReaderKey, Role, require
from app.core.db import SessionDep
from app.core.domain_router import DomainRouter
from app.core.errors import READ_ERRORS, WRITE_ERRORS, NotAcceptable, problem_responses
from app.core.fields import Instant, PeriodText, canonical_decimal
from app.core.pagination import PageDep
from app.core.queries import PeriodQuery
from app.core.routing import quick_read
from app.core.settings import SettingsDep

router = DomainRouter(tags=["minimum billing"])

BillingKey = Annotated[Principal, require(Role.ADMIN, Role.BILLING)]
LIFECYCLE_ERRORS = problem_responses(401, 403, 404, 409)


def _ref(related: dict[str, Invoice], invoice_id: str | None) -> schemas.InvoiceRef | None:
    if invoice_id is None:
        return None
    return schemas.InvoiceRef(id=invoice_id, number=related[invoice_id].number)


def invoices_out(session: Session, invoices: Sequence[Invoice]) -> list[schemas.InvoiceOut]:
    """Invoices with their lineage (what they correct, what corrected them)."""
    related = service.lineage(session, invoices)
    return [invoice_out(invoice, related) for invoice in invoices]


def one_out(session: Session, invoice: Invoice) -> schemas.InvoiceOut:
    [out] = invoices_out(session, [invoice])
    return out


def invoice_out(invoice: Invoice, related: dict[str, Invoice]) -> schemas.InvoiceOut:
    corrects = _ref(related, invoice.corrects_id)
    return schemas.InvoiceOut(
        id=invoice.id,
        kind=invoice.kind,
        number=invoice.number,
        status=invoice.status,
        contract_id=invoice.contract_id,
        client_id=invoice.client_id,
        period=invoice.period,
        currency=invoice.currency,
        evaluation=invoice.evaluation,
        lines=invoice.lines,
        computation=invoice.computation,
        net_amount=invoice.net_amount,
        vat_rate=invoice.vat_rate,
        vat_amount=invoice.vat_amount,
        total_amount=invoice.total_amount,
        corrects=invoice.corrects_id,
        corrects_number=corrects.number if corrects else None,
        credited_by=_ref(related, invoice.credited_by_id),
        replaced_by=_ref(related, invoice.replaced_by_id),
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        mentions=invoice.mentions,
        created_at=invoice.created_at,
        updated_at=invoice.updated_at,
        issued_at=invoice.issued_at,
        paid_at=invoice.paid_at,
        amount_paid=invoice.amount_paid,
        balance_due=invoice.total_amount - invoice.amount_paid,
    )


@router.get(
    "/contracts/{contract_id}/shortfall",
    response_model=schemas.ShortfallOut,
    responses={**READ_ERRORS, **problem_responses(422)},
)
@quick_read
def get_shortfall(
    contract_id: str,
    session: SessionDep,
    actor: ReaderKey,
    period: PeriodQuery,
) -> object:
    """The charter axis 1 shortfall of a period with every input; provisional while open."""
    return schemas.ShortfallOut.model_validate(service.preview(session, actor, contract_id, period))


@router.post(
    "/invoices",
    status_code=201,
    response_model=schemas.InvoiceOut | schemas.NoShortfallOut,
    responses={
        200: {"description": "The invoice already generated, or `no_shortfall`."},
        **WRITE_ERRORS,
    },
)
@checks.checked_by(service.check_new_invoice)
def create_invoice(
    body: schemas.InvoiceCreate, response: Response, session: SessionDep, actor: BillingKey
) -> object:
    """Generate the draft shortfall invoice of (contract, period); never two for one period."""
    generated = service.generate(session, actor, body.contract_id, body.period)
    if generated.outcome == "created":
        assert generated.invoice is not None
        return one_out(session, generated.invoice)
    response.status_code = 200
    if generated.outcome == "existing":
        assert generated.invoice is not None
        return one_out(session, generated.invoice)
    assert generated.shortfall is not None
    return schemas.NoShortfallOut(
        status="no_shortfall",
        contract_id=body.contract_id,
        period=body.period,
        shortfall=schemas.ShortfallOut.model_validate(generated.shortfall),
    )


@router.get(
    "/invoices",
    response_model=schemas.InvoicePage,
    responses={**READ_ERRORS, **problem_responses(422)},
)
@quick_read
def list_invoices(
    session: SessionDep,
    actor: ReaderKey,
    page: PageDep,
    status: schemas.InvoiceStatus | None = None,
    kind: schemas.InvoiceKind | None = None,
    client_id: str | None = None,
    contract_id: str | None = None,
    period: Annotated[PeriodText | None, Query(description="YYYY-MM", examples=["2026-10"])] = None,
    updated_since: Annotated[
        Instant | None,
        Query(
            description="Only invoices changed after this instant (RFC 3339 with an offset;"
            " a bare date is refused). Stamps increase in commit order, so polling from the"
            " latest `updated_at` already seen misses no change."
        ),
    ] = None,
) -> object:
    """Invoices and credit notes in (updated_at, id) order, for billing systems that sync."""
    filters = InvoiceFilter(
        status=status,
        kind=kind,
        contract_id=contract_id,
        client_id=client_id,
        period=period,
        updated_since=updated_since,
    )
    items, next_cursor = service.list_invoices(session, actor, filters, page)
    return {"items": invoices_out(session, items), "next_cursor": next_cursor}


INVOICE_CSV_COLUMNS = [
    "invoice_id",
    "invoice_number",
    "kind",
    "status",
    "period",
    "currency",
    "issue_date",
    "due_date",
    "invoice_net_amount",
    "invoice_vat_rate",
    "invoice_vat_amount",
    "invoice_total_amount",
]
"""The invoice's own figures, on every line so that each row of a spreadsheet or an accounting
import stands alone; prefixed `invoice_` so that no one adds them up as the lines' amounts."""

CSV_COLUMNS = [
    *INVOICE_CSV_COLUMNS,
    "activity_id",
    "activity_name",
    "billing_unit",
    "binding_commitment_id",
    "binding_received_at",
    "deadline",
    "committed",
    "adjustments",
    "committed_effective",
    "actual",
    "trigger",
    "floor",
    "shortfall_units",
    "unit_price",
    "amount",
    "status",
    "reason",
]


def _lines_csv(invoice: Invoice) -> str:
    head = {
        "invoice_id": invoice.id,
        "invoice_number": invoice.number or "",
        "kind": invoice.kind,
        "status": invoice.status,
        "period": invoice.period,
        "currency": invoice.currency,
        "issue_date": invoice.issue_date or "",
        "due_date": invoice.due_date or "",
        "invoice_net_amount": canonical_decimal(invoice.net_amount, 2),
        "invoice_vat_rate": canonical_decimal(invoice.vat_rate, 2),
        "invoice_vat_amount": canonical_decimal(invoice.vat_amount, 2),
        "invoice_total_amount": canonical_decimal(invoice.total_amount, 2),
    }
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for line in invoice.lines:
        writer.writerow({**line, **head})
    return buffer.getvalue()


def _csv_file_name(invoice: Invoice) -> str:
    """The invoice number, or `draft-<id>` before a number is given (at issue)."""
    return f"{invoice.number or f'draft-{invoice.id}'}.csv"


@router.get(
    "/invoices/{invoice_id}",
    response_model=schemas.InvoiceOut,
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "The invoice; with `Accept: text/csv`, its lines as CSV, each with "
            "the invoice's number, dates and totals, as an attachment named after the number.",
        },
        **READ_ERRORS,
        **problem_responses(406),
    },
)
@quick_read
def get_invoice(invoice_id: str, request: Request, session: SessionDep, actor: ReaderKey) -> Any:
    """An invoice or credit note as JSON, or its lines as CSV (`Accept: text/csv`)."""
    invoice = service.get_invoice(session, actor, invoice_id)
    accept = request.headers.get("accept", "application/json")
    if "text/csv" in accept:
        return Response(
            _lines_csv(invoice),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{_csv_file_name(invoice)}"'},
        )
    if not any(kind in accept for kind in ("application/json", "*/*", "application/*")):
        raise NotAcceptable("This resource is available as application/json or text/csv.")
    return one_out(session, invoice)


@router.post(
    "/invoices/{invoice_id}/issue", response_model=schemas.InvoiceOut, responses=LIFECYCLE_ERRORS
)
def issue_invoice(
    invoice_id: str, session: SessionDep, actor: BillingKey, settings: SettingsDep
) -> object:
    """Issue a draft: it receives the next number of the year's gapless sequence and freezes."""
    return one_out(session, service.issue(session, actor, invoice_id, settings))


@router.post(
    "/invoices/{invoice_id}/void", response_model=schemas.InvoiceOut, responses=LIFECYCLE_ERRORS
)
def void_invoice(invoice_id: str, session: SessionDep, actor: BillingKey) -> object:
    """Void a draft; the period can then be generated again."""
    return one_out(session, service.void(session, actor, invoice_id))


@router.post(
    "/invoices/{invoice_id}/mark-paid",
    response_model=schemas.InvoiceOut,
    responses={**LIFECYCLE_ERRORS, **problem_responses(422)},
)
@checks.checked_by(service.check_payment)
def mark_invoice_paid(
    invoice_id: str,
    session: SessionDep,
    actor: BillingKey,
    body: schemas.PaymentCreate | None = None,
) -> object:
    """Record a payment of an issued invoice (`paid_on`, `amount`, `reference`); partial
    payments leave a balance. Without a body, the balance is paid in full today."""
    return one_out(session, service.mark_paid(session, actor, invoice_id, body))


@router.post(
    "/invoices/{invoice_id}/correct",
    response_model=schemas.CorrectionOut,
    responses=LIFECYCLE_ERRORS,
)
def correct_invoice(invoice_id: str, session: SessionDep, actor: BillingKey) -> object:
    """Recompute an issued invoice: if the amount changed, a credit note and a new draft."""
    correction = service.correct(session, actor, invoice_id)
    documents = (correction.original, correction.credit_note, correction.invoice)
    out = {o.id: o for o in invoices_out(session, [d for d in documents if d is not None])}
    return schemas.CorrectionOut(
        status=correction.outcome,
        original=out[correction.original.id],
        credit_note=out[correction.credit_note.id] if correction.credit_note else None,
        invoice=out[correction.invoice.id] if correction.invoice else None,
    )
