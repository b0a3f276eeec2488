"""The periodic work of the service, each switched by a cron setting (empty: off).

- `schedule_forecast_refresh` (nightly): queue fresh month forecasts of every activity of the
  contracts in force, from this month on, so that the comparisons, the scorecard and the
  overview read stored forecasts and never fit.
- `schedule_invoice_run` (monthly): the draft shortfall invoices of the month before, once it
  has closed; drafts only, issuing stays a person's decision.
- `schedule_idempotency_purge` (daily): forget expired idempotency keys.

procrastinate runs them on PostgreSQL (`app.core.queue.procrastinate_app`): whichever worker
comes first defers the occurrence, and the queueing lock keeps it to one at a time. On SQLite
the server runs them itself (`app.core.scheduler`).
"""

import logging

from sqlalchemy.orm import Session

from app.billing.runs import service as invoice_runs
from app.contracts import service as contracts
from app.core import idempotency, queue
from app.core.auth import SYSTEM
from app.core.orm import utc_now
from app.core.periods import Period
from app.forecasts import ondemand
from app.outlook import comparison

log = logging.getLogger("plancher.schedules")


@queue.schedule("schedules.forecast_refresh", "schedule_forecast_refresh")
async def refresh_forecasts(runtime: queue.Runtime, *, final_attempt: bool) -> None:
    """Queue one month-forecast task per activity of the contracts in force."""
    months = runtime.settings.schedule_forecast_refresh_months
    queued = await runtime.transactions.write(lambda s: _queue_refresh(s, runtime, months))
    log.info("forecast refresh: %d activities queued", queued)


def _queue_refresh(session: Session, runtime: queue.Runtime, months: int) -> int:
    first = Period.of(utc_now().date())
    last = first
    for _ in range(months - 1):
        last = last.next()
    queued = 0
    for contract in contracts.contracts_in_force(session, first.first_day, last.next().first_day):
        for activity in contracts.all_activities(session, SYSTEM, contract.id):
            ondemand.request_month_forecasts(
                session,
                runtime.queue,
                activity.id,
                [ondemand.Span(first, last)],
                comparison.forecast_volume(activity),
            )
            queued += 1
    return queued


@queue.schedule("schedules.invoice_run", "schedule_invoice_run")
async def run_invoices(runtime: queue.Runtime, *, final_attempt: bool) -> None:
    """Start the stored run of the month before (a contract already invoiced is left as is)."""
    period = str(Period.of(utc_now().date()).previous())
    run = await runtime.transactions.write(
        lambda s: invoice_runs.start_run(s, runtime.queue, SYSTEM, period)
    )
    log.info("invoice run %s of %s: %d contracts queued", run.id, period, run.contracts)


@queue.schedule("schedules.idempotency_purge", "schedule_idempotency_purge")
async def purge_idempotency(runtime: queue.Runtime, *, final_attempt: bool) -> None:
    hours = runtime.settings.idempotency_retention_hours
    purged = await runtime.transactions.write(lambda s: idempotency.purge_in(s, hours))
    log.info("%d expired idempotency record(s) purged", purged)
