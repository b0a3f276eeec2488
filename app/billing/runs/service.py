"""Invoice runs: the draft invoices of a period for every contract in force, one queued task
per batch of contracts (`app.core.queue`), stored so that they can be read again.

The run row and its tasks are recorded in one transaction. A batch generates its invoices with
the billing service (`billing.service.run` over its contracts) and adds its counts and the ids
it created to the run in the same transaction, holding the run row's lock: a batch already
recorded (retried after its worker died) adds nothing, and since invoice generation is unique
per contract and period, its second pass creates no invoice either. The last batch ends the run.
"""

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.billing import service as billing
from app.billing.runs.tables import InvoiceRun
from app.contracts import service as contracts
from app.core import audit, queue
from app.core.auth import Principal
from app.core.errors import NotFound
from app.core.fields import parse_period
from app.core.orm import utc_now

log = logging.getLogger("plancher.billing")

RUN_BATCH_TASK = "billing.invoice_run_batch"


def start_run(
    session: Session, tasks: queue.TaskQueue, actor: Principal, period_text: str
) -> InvoiceRun:
    """Record a queued run of the period and queue one task per batch of contracts."""
    period = parse_period(period_text, location="body")
    ids = contracts.contract_ids_in_force(session, period.first_day, period.next().first_day)
    size = billing.RUN_BATCH
    batches = [ids[first : first + size] for first in range(0, len(ids), size)]
    run = InvoiceRun(
        period=str(period),
        status="queued" if batches else "completed",
        contracts=len(ids),
        batches=len(batches),
        batches_done=[],
        invoice_ids=[],
        errors=[],
        created_by_key_id=actor.key_id,
        finished_at=None if batches else utc_now(),
    )
    session.add(run)
    session.flush()
    for number, batch in enumerate(batches):
        tasks.defer(session, RUN_BATCH_TASK, run_id=run.id, batch=number, contract_ids=batch)
    audit.record(
        session, actor, "invoice_run.created", "invoice_run", run.id, {"period": str(period)}
    )
    return run


def get_run(session: Session, run_id: str) -> InvoiceRun:
    run = session.get(InvoiceRun, run_id)
    if run is None:
        raise NotFound(f"No invoice run with id {run_id}.")
    return run


class _AlreadyRecorded(Exception):
    """This batch is in the run already: roll its second pass back."""


@queue.task(RUN_BATCH_TASK)
async def run_batch(
    runtime: queue.Runtime,
    *,
    final_attempt: bool,
    run_id: str,
    batch: int,
    contract_ids: list[str],
) -> None:
    """Generate one batch's drafts and add the outcome to the run (exactly once)."""
    try:
        await runtime.transactions.write(lambda s: _run_batch(s, run_id, batch, contract_ids))
    except _AlreadyRecorded:
        return
    except queue.TRANSIENT_ERRORS:
        if not final_attempt:
            raise
        await runtime.transactions.write(lambda s: _fail(s, run_id, batch, "database unavailable"))
    except Exception as unexpected:
        log.exception("batch %d of invoice run %s failed", batch, run_id)
        detail = f"{type(unexpected).__name__}: {unexpected}"
        await runtime.transactions.write(lambda s: _fail(s, run_id, batch, detail))


def _run_batch(session: Session, run_id: str, batch: int, contract_ids: list[str]) -> None:
    run = _lock(session, run_id)
    if batch in run.batches_done:
        raise _AlreadyRecorded
    actor = Principal(key_id=run.created_by_key_id, role="system")
    summary = billing.run(session, actor, run.period, contract_ids)
    run.created += summary.created
    run.existing += summary.existing
    run.no_shortfall += summary.no_shortfall
    run.invoice_ids = [*run.invoice_ids, *summary.invoice_ids]
    run.errors = [*run.errors, *({"contract_id": c, "detail": d} for c, d in summary.errors)]
    _batch_done(run, batch)


def _fail(session: Session, run_id: str, batch: int, detail: str) -> None:
    run = _lock(session, run_id)
    if batch in run.batches_done:
        return
    run.errors = [*run.errors, {"contract_id": None, "detail": f"batch {batch}: {detail}"}]
    _batch_done(run, batch)


def _lock(session: Session, run_id: str) -> InvoiceRun:
    return session.scalars(
        select(InvoiceRun)
        .where(InvoiceRun.id == run_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _batch_done(run: InvoiceRun, batch: int) -> None:
    """Count the batch; the last one ends the run, failed if a whole batch failed (an error
    without a contract)."""
    if run.started_at is None:
        run.started_at = utc_now()
    run.status = "running"
    run.batches_done = [*run.batches_done, batch]
    if len(run.batches_done) == run.batches:
        failed = any(error["contract_id"] is None for error in run.errors)
        run.status = "failed" if failed else "completed"
        run.finished_at = utc_now()
