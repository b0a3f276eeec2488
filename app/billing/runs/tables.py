"""Stored invoice runs: what a run was asked for, how far it got, and what it created."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.ids import new_id
from app.core.orm import Base, TimestampMixin
from app.core.types import UTCDateTime


class InvoiceRun(TimestampMixin, Base):
    """One invoice run of a period, made of one task per batch of contracts.

    `status`: queued, running, then completed (every batch done; contracts that could not be
    invoiced are in `errors`) or failed (a batch failed for good, see `errors`).
    """

    __tablename__ = "invoice_runs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("run"))
    period: Mapped[str] = mapped_column(String(7), index=True)
    status: Mapped[str] = mapped_column(String(16))
    contracts: Mapped[int] = mapped_column(Integer)
    batches: Mapped[int] = mapped_column(Integer)
    batches_done: Mapped[list[int]] = mapped_column(JSON, default=list)
    created: Mapped[int] = mapped_column(Integer, default=0)
    existing: Mapped[int] = mapped_column(Integer, default=0)
    no_shortfall: Mapped[int] = mapped_column(Integer, default=0)
    invoice_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    """The draft invoices this run created (not those it found already generated)."""
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_by_key_id: Mapped[str | None] = mapped_column(String(40))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
