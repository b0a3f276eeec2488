"""Use cases of e-invoices: refuse to issue without a complete identity, build and store the
documents in the issuing transaction, and serve them (or a draft's preview) afterwards."""

import hashlib
from typing import Literal

from sqlalchemy.orm import Session

from app.billing.einvoice import cii, freeze, pdf, ubl
from app.billing.einvoice.parties import Parties, parties
from app.billing.einvoice.repository import DocumentRepository
from app.billing.einvoice.tables import InvoiceDocument
from app.billing.tables import Invoice
from app.contracts import service as contracts
from app.contracts.service import Client, Contract
from app.core.auth import Principal
from app.core.errors import Conflict
from app.core.periods import Period
from app.core.settings import Settings

Syntax = Literal["cii", "ubl"]
Format = Literal["pdf", "cii", "ubl"]
MEDIA_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "cii": "application/xml",
    "ubl": "application/xml",
}


def identity(settings: Settings, client: Client, invoice_id: str) -> Parties:
    """The parties of an invoice about to be issued; a 409 naming every missing item, before
    a number is taken, when the seller's settings or the client's record are incomplete."""
    found = parties(settings, client)
    if found.missing:
        names = ", ".join(f"{error.location} {error.field}" for error in found.missing)
        raise Conflict(
            f"Invoice {invoice_id} cannot be issued as an e-invoice; missing or invalid: {names}.",
            errors=found.missing,
        )
    return found


def _payment_days(session: Session, invoice: Invoice, contract: Contract) -> int:
    """The payment terms of the invoice's period (terms change by amendment, from a period)."""
    return contracts.terms_of_period(
        session, contract, Period.parse(invoice.period)
    ).payment_terms_days


def issue_documents(
    session: Session,
    invoice: Invoice,
    contract: Contract,
    found: Parties,
    settings: Settings,
    credited: Invoice | None,
) -> dict[str, str]:
    """Build the CII, UBL and Factur-X PDF of a just-issued invoice once, store them, and
    return their SHA-256 digests for the audit trail."""
    document = freeze.snapshot(
        invoice,
        contract.reference,
        found,
        settings,
        credited,
        _payment_days(session, invoice, contract),
    )
    cii_xml = cii.build(document)
    contents: dict[str, bytes] = {
        "cii": cii_xml,
        "ubl": ubl.build(document),
        "pdf": pdf.factur_x(document, cii_xml),
    }
    repository = DocumentRepository(session)
    digests = {}
    for format_, content in contents.items():
        digest = hashlib.sha256(content).hexdigest()
        repository.add(
            InvoiceDocument(
                invoice_id=invoice.id,
                format=format_,
                media_type=MEDIA_TYPES[format_],
                sha256=digest,
                content=content,
            )
        )
        digests[format_] = digest
    return digests


def stored(session: Session, invoice: Invoice, format_: Format) -> InvoiceDocument:
    """The document generated at issue; drafts and voided invoices have none."""
    if invoice.status in ("draft", "void"):
        raise Conflict(
            f"Invoice {invoice.id} is {invoice.status}: only an issued invoice has e-invoice "
            "documents (a draft's PDF is a preview)."
        )
    document = DocumentRepository(session).get(invoice.id, format_)
    if document is None:
        raise Conflict(
            f"Invoice {invoice.id} was issued before e-invoices were generated; it has no "
            f"{format_} document."
        )
    return document


def preview(session: Session, actor: Principal, invoice: Invoice, settings: Settings) -> bytes:
    """A draft's PDF preview, rendered on request and never stored: the draft may change, and
    it shows what is still missing before it can be issued."""
    contract = contracts.get_contract(session, actor, invoice.contract_id)
    found = parties(settings, contracts.get_client(session, actor, invoice.client_id))
    document = freeze.snapshot(
        invoice,
        contract.reference,
        found,
        settings,
        None,
        _payment_days(session, invoice, contract),
    )
    missing = tuple(f"{error.location} {error.field}" for error in found.missing)
    return pdf.preview(document, missing)
