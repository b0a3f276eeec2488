"""The invoice clock: `updated_at` stamps that increase in commit order, so that a billing
system syncing with `GET /v1/invoices?updated_since=<the latest updated_at it has seen>` can
never miss a change.

With stamps taken from the wall clock when a change is made, two concurrent transactions can
commit in the opposite order to their stamps: a poll that sees the later stamp first moves the
client's high-water mark past the earlier one, which then commits and is never listed. So every
transaction that changes invoices first takes the clock: one row, locked until the transaction
ends (PostgreSQL `FOR UPDATE`; SQLite writers are serialised anyway), which hands out one stamp,
strictly later than the last one handed out even if the server's clock steps back. Invoice
writers queue on it — a shortfall invoice run holds it for its whole run — and every invoice
the transaction inserts or changes gets that stamp. A reader that sees a stamp therefore sees
every smaller one.

`InvoiceRepository` takes the clock before any invoice write; a flush of an invoice change in a
transaction that has not taken it is a programming error and raises.
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session, SessionTransaction

from app.billing.tables import Invoice, InvoiceClock
from app.core.db import dialect_insert
from app.core.orm import utc_now

_STAMP = "plancher.invoice_clock_stamp"
_TICK = timedelta(microseconds=1)


def hold(session: Session) -> datetime:
    """Take the clock for the rest of the session's transaction; the transaction's stamp."""
    held: datetime | None = session.info.get(_STAMP)
    if held is not None:
        return held
    session.execute(
        dialect_insert(session)(InvoiceClock)
        .values(id=1, last_stamp=utc_now())
        .on_conflict_do_nothing()
    )
    last = session.scalar(
        select(InvoiceClock.last_stamp).where(InvoiceClock.id == 1).with_for_update()
    )
    assert last is not None
    stamp = max(utc_now(), last + _TICK)
    session.execute(update(InvoiceClock).where(InvoiceClock.id == 1).values(last_stamp=stamp))
    session.info[_STAMP] = stamp
    return stamp


@event.listens_for(Session, "before_flush")
def _stamp_invoice_changes(session: Session, _context: Any, _instances: Any) -> None:
    changed = [
        obj
        for obj in (*session.new, *session.dirty)
        if isinstance(obj, Invoice) and (obj in session.new or session.is_modified(obj))
    ]
    if not changed:
        return
    stamp: datetime | None = session.info.get(_STAMP)
    if stamp is None:
        raise RuntimeError("an invoice changed without the invoice clock: use InvoiceRepository")
    for invoice in changed:
        invoice.updated_at = stamp
        if invoice in session.new:
            invoice.created_at = stamp


@event.listens_for(Session, "after_transaction_end")
def _release(session: Session, transaction: SessionTransaction) -> None:
    """The lock ends with the transaction; so does the stamp (not with a savepoint)."""
    if transaction.parent is None:
        session.info.pop(_STAMP, None)
