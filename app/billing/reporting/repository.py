"""All SQL of the invoice reporting: read-only, set-based."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from app.billing.tables import Invoice
from app.core.pagination import PageParams
from app.core.repository import Repository, one_of


@dataclass(frozen=True)
class InvoiceFigures:
    """The columns a summary adds up, without the lines and computation of the invoice."""

    period: str
    kind: str
    status: str
    currency: str
    net_amount: Decimal
    vat_amount: Decimal
    total_amount: Decimal
    due_date: date | None


class ReportingRepository(Repository[Invoice]):
    model = Invoice

    def newest_page(
        self, client_id: str | None, params: PageParams
    ) -> tuple[Sequence[Invoice], str | None]:
        """Invoices most recently changed first, of one client or all."""
        statement = self.select()
        if client_id is not None:
            statement = statement.where(Invoice.client_id == client_id)
        return self.page(statement, params, by=Invoice.updated_at, newest_first=True)

    def of_period(self, contract_ids: Sequence[str], period: str) -> list[Invoice]:
        """Every invoice (not credit note) of `period` for these contracts, newest first."""
        if not contract_ids:
            return []
        return list(
            self.session.scalars(
                select(Invoice)
                .where(
                    one_of(Invoice.contract_id, contract_ids),
                    Invoice.period == period,
                    Invoice.kind == "invoice",
                )
                .order_by(Invoice.created_at.desc(), Invoice.id.desc())
            )
        )

    def figures(
        self, first: str | None, last: str | None, client_id: str | None
    ) -> list[InvoiceFigures]:
        """The amounts of every invoice and credit note of the periods `first` to `last`
        (open-ended when None).

        Summed in Python: SQLite keeps exact decimals as text, which its SUM would turn into
        floats."""
        statement = select(
            Invoice.period,
            Invoice.kind,
            Invoice.status,
            Invoice.currency,
            Invoice.net_amount,
            Invoice.vat_amount,
            Invoice.total_amount,
            Invoice.due_date,
        )
        if first is not None:
            statement = statement.where(Invoice.period >= first)
        if last is not None:
            statement = statement.where(Invoice.period <= last)
        if client_id is not None:
            statement = statement.where(Invoice.client_id == client_id)
        return [InvoiceFigures(*row) for row in self.session.execute(statement)]

    def status_counts(self) -> dict[tuple[str, str], int]:
        statement = select(Invoice.status, Invoice.kind, func.count()).group_by(
            Invoice.status, Invoice.kind
        )
        return {(status, kind): count for status, kind, count in self.session.execute(statement)}
