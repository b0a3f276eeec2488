"""All SQL of the e-invoice documents."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.billing.einvoice.tables import InvoiceDocument


class DocumentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, document: InvoiceDocument) -> None:
        self.session.add(document)
        self.session.flush()

    def get(self, invoice_id: str, format_: str) -> InvoiceDocument | None:
        return self.session.scalars(
            select(InvoiceDocument).where(
                InvoiceDocument.invoice_id == invoice_id, InvoiceDocument.format == format_
            )
        ).first()
