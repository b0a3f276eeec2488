"""Shortfall invoices, credit notes and their gapless numbering."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.ids import new_id
from app.core.orm import Base, TimestampMixin, utc_now
from app.core.types import ExactDecimal, UTCDateTime


class Invoice(TimestampMixin, Base):
    """A shortfall invoice or a credit note for one contract and period.

    `generation_key` ("contract:period") is unique, so generating the invoice of a period twice,
    even concurrently, can only ever create one; voiding a draft releases the key. Once issued,
    only `status` (to paid), the lineage (`credited_by_id`, `replaced_by_id`, set by a
    correction) and the timestamps move: the figures, lines and mentions that an auditor
    re-derives the amount from are frozen. A correction hands the generation key to the
    replacement, so generating the period again returns the invoice that stands for it.
    """

    __tablename__ = "invoices"
    __table_args__ = (
        Index("ix_invoices_updated_at_id", "updated_at", "id"),
        Index("ix_invoices_contract_period", "contract_id", "period"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("inv"))
    # The invoice clock is the only writer of `updated_at` (no `onupdate`): a second flush of
    # the same transaction leaves the column out of its UPDATE when the stamp is unchanged,
    # and a wall-clock `onupdate` would then replace the stamp.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    kind: Mapped[str] = mapped_column(String(16))
    number: Mapped[str | None] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    generation_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"))
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"), index=True)
    period: Mapped[str] = mapped_column(String(7))
    currency: Mapped[str] = mapped_column(String(3))
    evaluation: Mapped[str] = mapped_column(String(16))
    net_amount: Mapped[Decimal] = mapped_column(ExactDecimal(18, 2))
    vat_rate: Mapped[Decimal] = mapped_column(ExactDecimal(6, 4))
    vat_amount: Mapped[Decimal] = mapped_column(ExactDecimal(18, 2))
    total_amount: Mapped[Decimal] = mapped_column(ExactDecimal(18, 2))
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    computation: Mapped[dict[str, Any]] = mapped_column(JSON)
    corrects_id: Mapped[str | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    credited_by_id: Mapped[str | None] = mapped_column(ForeignKey("invoices.id"))
    replaced_by_id: Mapped[str | None] = mapped_column(ForeignKey("invoices.id"))
    issue_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    mentions: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    amount_paid: Mapped[Decimal] = mapped_column(ExactDecimal(18, 2), default=Decimal("0.00"))
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class InvoiceClock(Base):
    """One row: the last `updated_at` stamp handed to invoices (see `app.billing.clock`)."""

    __tablename__ = "invoice_clock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_stamp: Mapped[datetime] = mapped_column(UTCDateTime())


class InvoiceSequence(Base):
    """The last number used per prefix and year. Issuing increments it in the issuing
    transaction, under the row's lock, so numbers are consecutive and a rolled-back issue
    leaves no gap."""

    __tablename__ = "invoice_sequences"

    prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class InvoicePayment(Base):
    """A payment received against an issued invoice; partial payments leave a balance, and
    the invoice is `paid` once they sum to its total. Append-only."""

    __tablename__ = "invoice_payments"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("pay"))
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    paid_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(ExactDecimal(18, 2))
    reference: Mapped[str | None] = mapped_column(String(100))
    created_by_key_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
