"""HTTP layer of the invoice reporting. Mounted before the invoice routes, so that
`/invoices/summary` is not read as an invoice id."""

from datetime import date

from app.billing.reporting import schemas, service
from app.core.auth import ReaderKey
from app.core.db import SessionDep
from app.core.domain_router import DomainRouter
from app.core.errors import READ_ERRORS, problem_responses
from app.core.queries import FirstPeriod, LastPeriod, period_range

router = DomainRouter(tags=["minimum billing"])


@router.get(
    "/invoices/summary",
    response_model=schemas.InvoiceSummaryOut,
    response_model_by_alias=True,
    responses={**READ_ERRORS, **problem_responses(422)},
)
def get_invoice_summary(
    session: SessionDep, actor: ReaderKey, first: FirstPeriod, last: LastPeriod
) -> object:
    """Counts and amounts of invoices per month and status; outstanding and overdue amounts."""
    periods = period_range(first, last)
    start, end = periods[0], periods[-1]
    summary = service.summarise(session, actor, start, end, date.today())
    return schemas.InvoiceSummaryOut.model_validate(
        {
            "from": str(start),
            "to": str(end),
            "items": [schemas.SummaryBucketOut(**bucket.__dict__) for bucket in summary.buckets],
            "receivables": [
                schemas.ReceivablesOut(
                    currency=currency,
                    outstanding_amount=owed.outstanding,
                    overdue_amount=owed.overdue,
                    overdue_count=owed.overdue_count,
                )
                for currency, owed in sorted(summary.receivables.items())
            ],
        }
    )
