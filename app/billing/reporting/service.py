"""Invoice reporting for dashboards: the period's invoice of each contract, and the summary of
the invoices of a range of months by status, with what is outstanding and overdue."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from app.billing.reporting.repository import InvoiceFigures, ReportingRepository
from app.billing.service import ISSUED, VOID

# The read type callers annotate with (ARCHITECTURE.md, "Across domains").
from app.billing.tables import Invoice as Invoice
from app.core.auth import Principal
from app.core.pagination import PageParams
from app.core.periods import Period

_ZERO = Decimal("0.00")


def period_invoices(
    session: Session, contract_ids: Sequence[str], period: Period
) -> dict[str, Invoice]:
    """The current invoice of `period` per contract: the newest one not voided (a correction
    replaces an invoice with a newer one)."""
    current: dict[str, Invoice] = {}
    for invoice in ReportingRepository(session).of_period(contract_ids, str(period)):
        if invoice.status != VOID:
            current.setdefault(invoice.contract_id, invoice)
    return current


@dataclass
class Bucket:
    """Invoices of one month, status, kind and currency."""

    period: str
    status: str
    kind: str
    currency: str
    count: int = 0
    net_amount: Decimal = _ZERO
    vat_amount: Decimal = _ZERO
    total_amount: Decimal = _ZERO

    def add(self, invoice: InvoiceFigures) -> None:
        self.count += 1
        self.net_amount += invoice.net_amount
        self.vat_amount += invoice.vat_amount
        self.total_amount += invoice.total_amount


@dataclass
class Receivables:
    """What is owed per currency: issued and unpaid, and of that, past its due date."""

    outstanding: Decimal = _ZERO
    overdue: Decimal = _ZERO
    overdue_count: int = 0


@dataclass(frozen=True)
class InvoiceSummary:
    buckets: list[Bucket]
    receivables: dict[str, Receivables] = field(default_factory=dict)


def summarise(
    session: Session, actor: Principal, first: Period, last: Period, today: date
) -> InvoiceSummary:
    """Counts and amounts per month and status of the invoices (and credit notes) of the
    periods `first` to `last`, and the issued amounts still unpaid, overdue once the due date
    has passed (`today` is the caller's date, so that tests can fix it)."""
    buckets: dict[tuple[str, str, str, str], Bucket] = {}
    rows = ReportingRepository(session).figures(str(first), str(last), actor.scoped_client_id)
    for invoice in rows:
        key = (invoice.period, invoice.status, invoice.kind, invoice.currency)
        buckets.setdefault(key, Bucket(*key)).add(invoice)
    return InvoiceSummary(
        buckets=[buckets[key] for key in sorted(buckets)], receivables=_owed(rows, today)
    )


def receivables(session: Session, actor: Principal, today: date) -> dict[str, Receivables]:
    """What is owed today on every invoice the key may see, whatever its period."""
    return _owed(ReportingRepository(session).figures(None, None, actor.scoped_client_id), today)


def _owed(rows: list[InvoiceFigures], today: date) -> dict[str, Receivables]:
    owed: dict[str, Receivables] = defaultdict(Receivables)
    for invoice in rows:
        if invoice.status == ISSUED:
            due = owed[invoice.currency]
            due.outstanding += invoice.total_amount
            if invoice.due_date is not None and invoice.due_date < today:
                due.overdue += invoice.total_amount
                due.overdue_count += 1
    return dict(owed)


def status_counts(session: Session) -> dict[tuple[str, str], int]:
    """How many invoices and credit notes there are in each status, by (status, kind)."""
    return ReportingRepository(session).status_counts()


def invoices_page(
    session: Session, actor: Principal, params: PageParams
) -> tuple[Sequence[Invoice], str | None]:
    """The invoices the key may see, most recently changed first (the dashboard's list)."""
    return ReportingRepository(session).newest_page(actor.scoped_client_id, params)
