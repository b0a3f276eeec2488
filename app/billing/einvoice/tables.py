"""The e-invoice documents of issued invoices, stored once and served byte for byte."""

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.orm import Base, utc_now
from app.core.types import UTCDateTime


class InvoiceDocument(Base):
    """One rendering (`pdf`, `cii` or `ubl`) of an issued invoice or credit note. Written in the
    issuing transaction and never updated: re-rendering after a code or data change could
    differ from what the buyer received, so the bytes themselves are the record."""

    __tablename__ = "invoice_documents"

    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), primary_key=True)
    format: Mapped[str] = mapped_column(String(8), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
