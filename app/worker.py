"""`plancher worker`: a procrastinate worker process, on this machine or any that reaches the
database.

It runs the tasks every domain declared (`app.core.queue.TASKS`, filled by importing them
here), the schedules switched on, and the recovery of tasks whose worker went silent. Fitting is
CPU-bound, so the worker runs `concurrency` tasks at a time and fits each in a process of its own
pool, one per core by default. SIGTERM (or Ctrl-C) stops fetching, lets the running tasks finish
for up to `worker_shutdown_seconds`, and hands those still running back to the queue.
"""

import asyncio
import logging

import procrastinate

import app.schedules  # noqa: F401  (declares the schedules)
from app.core.db import Database, create_db_engine
from app.core.queue import ProcrastinateQueue, Runtime, libpq_url, procrastinate_app
from app.core.settings import Settings
from app.core.transactions import DatabaseTransactions
from app.forecasts import jobs, ondemand  # noqa: F401  (declare their tasks)
from app.forecasts.pool import ForecastPool

log = logging.getLogger("plancher.worker")


def run_worker(settings: Settings, concurrency: int, name: str = "worker") -> None:
    """Run until stopped by a signal."""
    if settings.local_tasks():
        raise ValueError(
            "workers need PostgreSQL (PLANCHER_DATABASE_URL=postgresql+psycopg://…) and "
            "task_queue auto or procrastinate; on SQLite the server runs the tasks itself"
        )
    asyncio.run(_run(settings, concurrency, name))


async def _run(settings: Settings, concurrency: int, name: str) -> None:
    database = Database(create_db_engine(settings.database_url))
    pool = ForecastPool(concurrency, timeout_seconds=float("inf"))  # tasks have no time limit
    # Fetch tasks only once the fitting processes have loaded the models: a task taken by a
    # worker still starting would wait while another worker could run it.
    await asyncio.gather(*(asyncio.wrap_future(future) for future in pool.warm_up()))
    runtime = Runtime(DatabaseTransactions(database), pool, settings, ProcrastinateQueue(settings))
    connector = procrastinate.PsycopgConnector(conninfo=libpq_url(settings.database_url))
    worker_app = procrastinate_app(connector, settings)
    try:
        async with worker_app.open_async():
            log.info("worker %s: %d at a time", name, concurrency)
            await worker_app.run_worker_async(
                name=name,
                concurrency=concurrency,
                additional_context={"runtime": runtime},
                update_heartbeat_interval=settings.worker_heartbeat_seconds,
                stalled_worker_timeout=settings.worker_stalled_seconds,
                shutdown_graceful_timeout=settings.worker_shutdown_seconds,
            )
    finally:
        pool.shutdown()
        database.dispose()
