"""HTTP layer of invoice runs: start one (it runs in the background), read it again."""

from typing import Annotated

from fastapi import Request

from app.billing.router import BillingKey
from app.billing.runs import schemas, service
from app.billing.runs.tables import InvoiceRun
from app.core.auth import Principal, Role, require
from app.core.db import SessionDep
from app.core.domain_router import DomainRouter
from app.core.errors import READ_ERRORS, WRITE_ERRORS

router = DomainRouter(tags=["minimum billing"])

RunReaderKey = Annotated[Principal, require(Role.ADMIN, Role.BILLING, Role.OPS)]
"""A run spans every client: client keys do not read it."""


def run_out(run: InvoiceRun) -> schemas.InvoiceRunOut:
    return schemas.InvoiceRunOut(
        id=run.id,
        period=run.period,
        status=run.status,
        contracts=run.contracts,
        batches=run.batches,
        batches_done=len(run.batches_done),
        created=run.created,
        existing=run.existing,
        no_shortfall=run.no_shortfall,
        invoice_ids=run.invoice_ids,
        errors=[schemas.RunError(**error) for error in run.errors],
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
    )


@router.post(
    "/invoice-runs",
    status_code=202,
    response_model=schemas.InvoiceRunOut,
    responses=WRITE_ERRORS,
)
def create_invoice_run(
    body: schemas.InvoiceRunCreate, request: Request, session: SessionDep, actor: BillingKey
) -> object:
    """Generate the period's draft invoices for every contract in force, in the background
    (one task per batch of contracts); poll the run for its counts and the invoices created."""
    return run_out(service.start_run(session, request.app.state.queue, actor, body.period))


@router.get("/invoice-runs/{run_id}", response_model=schemas.InvoiceRunOut, responses=READ_ERRORS)
def get_invoice_run(run_id: str, session: SessionDep, actor: RunReaderKey) -> object:
    """A run's status, counts, the invoices it created and the contracts it could not invoice."""
    return run_out(service.get_run(session, run_id))
