"""`create_app()`: the whole service, wired once."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

import app.schedules  # noqa: F401  (declares the schedules the queue knows)
from app.billing import service as billing
from app.billing.einvoice.router import router as einvoice_router
from app.billing.reporting.router import router as invoice_reporting_router
from app.billing.router import router as billing_router
from app.billing.runs.router import router as invoice_runs_router
from app.commitments import service as commitments
from app.commitments.router import router as commitments_router
from app.contracts import dependents
from app.contracts.router import router as contracts_router
from app.core import apidocs, auth, idempotency, openapi
from app.core.db import Database, create_db_engine
from app.core.errors import ServiceUnavailable, install_error_handlers, problem_responses
from app.core.heap import freeze_startup_heap
from app.core.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from app.core.migrations import current_revision, head_revision
from app.core.outage import Outage, install_outage_handlers
from app.core.queue import LocalQueue, ProcrastinateQueue, Runtime, TaskQueue, schedules
from app.core.scheduler import LocalScheduler
from app.core.settings import Settings, get_settings
from app.core.transactions import DatabaseTransactions
from app.dashboard.router import router as dashboard_router
from app.forecasts import jobs
from app.forecasts import service as forecasts
from app.forecasts.pool import ForecastPool
from app.forecasts.router import router as forecasts_router
from app.outlook.metrics import business_metrics
from app.outlook.router import router as outlook_router
from app.staffing.router import router as staffing_router
from app.volumes import service as volumes
from app.volumes.router import router as volumes_router

API_DESCRIPTION = """
Plancher settles axis 1 of the SP2C charter — *Prévisions d'activité et minimum de
facturation*: activity forecasts, the client's committed forecasts, and the minimum billing owed
when real activity falls far below the commitment.

Authenticate with `Authorization: Bearer <api key>` (create keys with `plancher keys create`).
Errors are `application/problem+json` (RFC 9457). Money and quantities are decimal strings.
"""

DOMAIN_ROUTERS = (
    contracts_router,
    volumes_router,
    forecasts_router,
    commitments_router,
    outlook_router,
    invoice_reporting_router,  # before /invoices/{invoice_id}
    billing_router,
    invoice_runs_router,
    einvoice_router,
    staffing_router,
)
"""The domains' `/v1` routers, each included under the app itself: FastAPI matches a request
against every route of every level of included routers again at each level it descends, so one
`/v1` router between the app and the domains' added a pass over all of them. A domain router
refuses at once a path none of its routes matches (`core.domain_router`)."""


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Freeze the start-up heap (`core.heap`); on the embedded task runner, start the schedules
    (`core.scheduler`) and resume the forecast jobs a previous process left unfinished; purge
    expired idempotency records; at exit (SIGTERM included, once uvicorn has drained the
    requests in flight) stop the schedules, let running tasks finish, then stop the
    forecasting workers."""
    log = logging.getLogger("plancher")
    freeze_startup_heap()
    tasks = app.state.queue
    if isinstance(tasks, LocalQueue):
        crons = schedules(app.state.settings)
        if crons:
            tasks.keep_running(LocalScheduler(tasks, crons).run)
    try:
        if isinstance(tasks, LocalQueue):
            resumed = await run_in_threadpool(jobs.resume_unfinished, app.state.database, tasks)
            if resumed:
                log.warning("%d unfinished forecast job(s) resumed", resumed)
        retention_hours = app.state.settings.idempotency_retention_hours
        purged = await run_in_threadpool(idempotency.purge, app.state.database, retention_hours)
        log.info("%d expired idempotency record(s) purged", purged)
    except SQLAlchemyError:
        log.warning("database not ready; /readyz tells why")
    yield
    if isinstance(tasks, LocalQueue):
        await run_in_threadpool(tasks.shutdown, app.state.settings.worker_shutdown_seconds)
    app.state.forecast_pool.shutdown()


def task_queue(app: FastAPI, settings: Settings) -> TaskQueue:
    """procrastinate on PostgreSQL (run by `plancher worker`), else the server's own runner
    with the app's database and forecasting pool."""
    if not settings.local_tasks():
        return ProcrastinateQueue(settings)

    def runtime(local: LocalQueue) -> Runtime:
        transactions = DatabaseTransactions(app.state.database, turn=local.turn)
        return Runtime(transactions, app.state.forecast_pool, settings, local)

    return LocalQueue(runtime, settings.forecast_workers)


def _operation_id(route: APIRoute) -> str:
    """Stable operationIds (the endpoint function's name) for generated clients."""
    return route.name


def _register_dependents() -> None:
    """Tell the reference data what the later domains hold (see `contracts.dependents`)."""
    dependents.register("volumes", volumes.recorded_in)
    dependents.register("forecasts", forecasts.forecast_on_grid)
    dependents.register("commitments", commitments.committed_in)
    dependents.register("invoices", billing.invoiced_in)


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    logging.basicConfig(level=settings.log_level)
    app = FastAPI(
        lifespan=_lifespan,
        title="Plancher",
        version="1.0.0",
        description=API_DESCRIPTION,
        generate_unique_id_function=_operation_id,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    auth.KEY_CACHE.seconds = settings.api_key_cache_seconds
    app.state.outage = Outage()
    app.state.forecast_pool = ForecastPool(
        settings.forecast_workers, settings.forecast_timeout_seconds
    )
    app.state.database = database or Database(
        create_db_engine(settings.database_url, echo=settings.database_echo)
    )
    app.state.queue = task_queue(app, settings)
    _register_dependents()

    for domain_router in DOMAIN_ROUTERS:
        app.include_router(domain_router)
    app.include_router(dashboard_router)
    _add_operations_routes(app)
    apidocs.install(app)
    openapi.install(app)

    install_error_handlers(app)
    install_outage_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(RequestContextMiddleware)
    return app


def _add_operations_routes(app: FastAPI) -> None:
    # Async: a sync route costs two thread hops (the endpoint, then the validation of its
    # response), for a probe that does no I/O (in-process: 260 -> 65 us a call).
    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """The process is up (no dependency is checked)."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], responses=problem_responses(503))
    async def readyz(request: Request) -> JSONResponse:
        """The database answers and its schema is at the latest migration."""
        status = await run_in_threadpool(_readiness, request.app.state.database)
        request.app.state.outage.succeeded()
        return JSONResponse(status)

    @app.get("/metrics", tags=["operations"], response_class=Response)
    def metrics(request: Request) -> Response:
        """Prometheus metrics in the text exposition format: the process's counters, then the
        business figures read from the database."""
        business = business_metrics(request.app.state.database)
        return Response(generate_latest() + business, media_type=CONTENT_TYPE_LATEST)


def _readiness(database: Database) -> dict[str, Any]:
    engine = database.engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current = current_revision(engine)
    except Exception as exc:
        raise ServiceUnavailable(f"The database is unreachable: {type(exc).__name__}.") from None
    head = head_revision()
    if current != head:
        raise ServiceUnavailable(
            f"The database schema is at migration {current}, the code expects {head}: "
            "run `plancher db upgrade`."
        )
    return {"status": "ready", "migration": current}
