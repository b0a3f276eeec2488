"""Background tasks: declared once by the domains, run by procrastinate or by the server itself.

A domain declares a task body with `@task("name")` (or a schedule with `@schedule`): an async
function `body(runtime, *, final_attempt, **arguments)` taking JSON arguments. Two queues run
the same bodies:

- `ProcrastinateQueue` (PostgreSQL): the job is inserted with procrastinate on the caller's own
  connection, so it commits or rolls back with the rows that asked for it; `plancher worker`
  processes on any machine that reaches the database run it (`app.worker`), with procrastinate's
  retries, periodic tasks and stalled-job recovery.
- `LocalQueue` (SQLite, the embedded default): the job starts once the caller's transaction has
  committed, on a thread of the server's own, and fits in the server's process pool; nothing to
  start besides the server. What it loses on a crash, the domains resume at start-up from their
  own rows (`forecasts.jobs.resume_unfinished`).

A body that fails with a transient error (the database or a fitting process went away) is tried
again after a back-off; on its last attempt (`final_attempt`) it must record the failure in its
own rows rather than leave them unfinished.
"""

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import CancelledError, Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Protocol

import procrastinate
from pebble import ProcessExpired
from procrastinate.connector import BaseConnector
from procrastinate.job_context import JobContext
from sqlalchemy import event, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, SessionTransaction

from app.core.settings import Settings
from app.core.transactions import Transactions

log = logging.getLogger("plancher.queue")

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    BrokenProcessPool,
    ProcessExpired,
    ConnectionError,
)
"""Errors worth another attempt: the database or a fitting process was briefly unavailable
(a fitting process that died mid-fit: `ProcessExpired`; every one of them: `BrokenProcessPool`)."""


class FittingPool(Protocol):
    """The processes that run CPU-bound work (`forecasts.pool.ForecastPool`)."""

    async def run(self, task: Callable[[Any], Any], payload: Any) -> Any: ...


@dataclass(frozen=True)
class Runtime:
    """What a task body runs with: short transactions, the fitting processes, the settings."""

    transactions: Transactions
    pool: FittingPool
    settings: Settings
    queue: "TaskQueue"
    """Where a body defers further tasks (a schedule fanning out, for instance)."""


Body = Callable[..., Awaitable[None]]


@dataclass(frozen=True)
class TaskSpec:
    name: str
    body: Body
    cron_setting: str | None = None
    """For a schedule: the `Settings` field holding its cron expression (empty: switched off)."""


TASKS: dict[str, TaskSpec] = {}
"""Every task the domains declared, by name (filled as their modules are imported)."""


def task(name: str) -> Callable[[Body], Body]:
    """Declare a task body under a stable name (the name is what the queue stores)."""

    def register(body: Body) -> Body:
        TASKS[name] = TaskSpec(name, body)
        return body

    return register


def schedule(name: str, cron_setting: str) -> Callable[[Body], Body]:
    """Declare a periodic task whose cron expression is the setting `cron_setting`."""

    def register(body: Body) -> Body:
        TASKS[name] = TaskSpec(name, body, cron_setting)
        return body

    return register


def schedules(settings: Settings) -> dict[str, str]:
    """The schedules switched on, with their cron expressions."""
    crons = {
        spec.name: getattr(settings, spec.cron_setting)
        for spec in TASKS.values()
        if spec.cron_setting is not None
    }
    return {name: cron for name, cron in crons.items() if cron}


class TaskQueue(Protocol):
    def defer(
        self, session: Session, name: str, *, lock: str | None = None, **arguments: Any
    ) -> None:
        """Queue task `name` with `arguments`, in the session's transaction: it runs only if
        that transaction commits (a read's session on PostgreSQL has none, and queues it at
        once). With a `lock`, a task already queued under it is enough."""
        ...

    def abort(self, session: Session, name: str, **arguments: Any) -> None:
        """Once the session's transaction commits, stop the tasks `name` whose arguments
        include `arguments`: those queued never start, those running are cancelled (their
        fit stops with them, see `forecasts.pool`) and are not retried."""
        ...


def retry_wait(settings: Settings, attempt: int) -> float:
    """Seconds before attempt `attempt + 1` (exponential, as procrastinate computes it)."""
    return float(settings.task_retry_base_seconds ** (attempt + 1))


class LocalQueue:
    """Runs the tasks in this process, on a thread with its own event loop.

    Tasks start after the deferring transaction commits (forgotten if it rolls back), at most
    `concurrency` at a time; transient errors are retried as procrastinate would. The database
    steps of the tasks take turns (`Runtime.transactions`): SQLite has one writer at a time
    anyway, and a turn in the process is cheaper than waiting on the file lock.
    """

    def __init__(self, runtime_of: Callable[["LocalQueue"], Runtime], concurrency: int) -> None:
        self._runtime_of = runtime_of
        self._concurrency = concurrency
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Lock()
        self._slots: asyncio.Semaphore | None = None
        self._turn: asyncio.Lock | None = None
        self._running: dict[Future[None], tuple[str, dict[str, Any]]] = {}
        self._locks: set[str] = set()
        self.paused = False
        """Hold tasks back until `drain()` (tests, whose requests share one connection)."""
        self._backlog: list[tuple[TaskSpec, dict[str, Any], str | None]] = []
        self._background: list[Future[None]] = []

    def runtime(self) -> Runtime:
        """What the tasks run with: the app's database, fitting pool and settings."""
        return self._runtime_of(self)

    def keep_running(self, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run `work()` on the runner's thread until `shutdown` (the schedules,
        `core.scheduler`)."""
        self._background.append(asyncio.run_coroutine_threadsafe(work(), self._ensure_loop()))

    @property
    def turn(self) -> asyncio.Lock:
        """The lock the database steps of the tasks take turns on (used on the thread)."""
        if self._turn is None:
            self._turn = asyncio.Lock()
        return self._turn

    def defer(
        self, session: Session, name: str, *, lock: str | None = None, **arguments: Any
    ) -> None:
        spec = TASKS[name]
        session.info.setdefault(_DEFERRED, []).append(lambda: self.submit(spec, arguments, lock))

    def abort(self, session: Session, name: str, **arguments: Any) -> None:
        session.info.setdefault(_DEFERRED, []).append(lambda: self.stop(name, arguments))

    def stop(self, name: str, arguments: dict[str, Any]) -> None:
        """Drop the tasks `name` held back and cancel those running whose arguments include
        `arguments` (see `TaskQueue.abort`)."""
        kept = []
        for held in self._backlog:
            spec, held_arguments, lock = held
            if spec.name == name and _includes(held_arguments, arguments):
                if lock is not None:
                    self._locks.discard(lock)
            else:
                kept.append(held)
        self._backlog = kept
        for future, (running, running_arguments) in list(self._running.items()):
            if running == name and _includes(running_arguments, arguments):
                future.cancel()  # raises CancelledError inside the task, on its own loop

    def submit(self, spec: TaskSpec, arguments: dict[str, Any], lock: str | None = None) -> None:
        """Start a task now (after a commit, or at start-up for work to resume)."""
        if lock is not None:
            if lock in self._locks:
                return
            self._locks.add(lock)
        if self.paused:
            self._backlog.append((spec, arguments, lock))
            return
        self._start(spec, arguments, lock)

    def _start(self, spec: TaskSpec, arguments: dict[str, Any], lock: str | None) -> None:
        loop = self._ensure_loop()
        future = asyncio.run_coroutine_threadsafe(self._run(spec, arguments, lock), loop)
        self._running[future] = (spec.name, arguments)
        future.add_done_callback(lambda done: self._running.pop(done, None))

    async def _run(self, spec: TaskSpec, arguments: dict[str, Any], lock: str | None) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._concurrency)
        runtime = self.runtime()
        try:
            async with self._slots:
                await _attempts(spec, runtime, arguments)
        finally:
            if lock is not None:
                self._locks.discard(lock)

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._started:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=loop.run_forever, name="plancher-tasks", daemon=True
                )
                self._thread.start()
                self._loop = loop
            return self._loop

    def drain(self, timeout: float | None = None) -> bool:
        """Start what is held back, wait until every task has finished (those they queue
        included); False if some still run after `timeout` s."""
        while self._backlog or self._running:
            while self._backlog:
                self._start(*self._backlog.pop(0))
            for future in list(self._running):
                try:
                    future.result(timeout)
                except TimeoutError:
                    return False
                except CancelledError:
                    pass  # aborted (`stop`): nothing went wrong
                except Exception:
                    log.exception("task failed")
        return True

    def forget(self) -> None:
        """Drop the tasks held back (by a test that did not drain them)."""
        for _spec, _arguments, lock in self._backlog:
            if lock is not None:
                self._locks.discard(lock)
        self._backlog.clear()

    def shutdown(self, timeout: float) -> None:
        """Let running tasks finish (up to `timeout` s), then stop the thread. A task cut short
        leaves its rows unfinished, and the start-up resumes it."""
        for work in self._background:
            work.cancel()
        self._background.clear()
        if not self.drain(timeout):
            log.warning("%d task(s) still running at shutdown", len(self._running))
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._thread is not None:
                self._thread.join(timeout=5)
            # The next task starts a new loop, with locks of its own.
            self._loop, self._slots, self._turn = None, None, None


async def _attempts(spec: TaskSpec, runtime: Runtime, arguments: dict[str, Any]) -> None:
    attempts = runtime.settings.task_max_attempts
    for attempt in range(attempts + 1):
        try:
            await spec.body(runtime, final_attempt=attempt >= attempts, **arguments)
            return
        except TRANSIENT_ERRORS as error:
            if attempt >= attempts:
                log.error("task %s failed for good: %s", spec.name, error)
                return
            log.warning("task %s: %s; retrying", spec.name, type(error).__name__)
            await asyncio.sleep(retry_wait(runtime.settings, attempt))


def _includes(arguments: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return all(arguments.get(key) == value for key, value in wanted.items())


_DEFERRED = "plancher.deferred_tasks"


@event.listens_for(Session, "after_commit")
def _start_deferred(session: Session) -> None:
    for start in session.info.pop(_DEFERRED, []):
        start()


@event.listens_for(Session, "after_transaction_end")
def _forget_deferred(session: Session, transaction: SessionTransaction) -> None:
    """A transaction that ended without committing takes its tasks with it."""
    if transaction.parent is None:
        session.info.pop(_DEFERRED, None)


# PostgreSQL: procrastinate


def libpq_url(database_url: str) -> str:
    """procrastinate speaks libpq: the SQLAlchemy URL without its driver name."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class ProcrastinateQueue:
    """Defers into procrastinate's tables on the session's own connection."""

    def __init__(self, settings: Settings) -> None:
        # Only ever used with the caller's connection, so its pool is never opened.
        self.app = procrastinate_app(procrastinate.SyncPsycopgConnector(), settings)

    def defer(
        self, session: Session, name: str, *, lock: str | None = None, **arguments: Any
    ) -> None:
        driver: Any = session.connection().connection.driver_connection
        if driver.autocommit:
            # A read's session has no transaction to join (`db.Database`): the job is queued in
            # one of its own, at once. Already queued under the lock: nothing more to queue.
            queued = contextlib.suppress(procrastinate.exceptions.AlreadyEnqueued)
            with queued, driver.transaction():
                self._deferrer(session, name, lock).defer(**arguments)
            return
        if lock is None:
            self._deferrer(session, name, lock).defer(**arguments)
            return
        # Already queued under this lock: the same work is pending, nothing more to queue. The
        # savepoint keeps the refused insert from aborting the caller's work.
        with contextlib.suppress(procrastinate.exceptions.AlreadyEnqueued), session.begin_nested():
            self._deferrer(session, name, lock).defer(**arguments)

    def abort(self, session: Session, name: str, **arguments: Any) -> None:
        """procrastinate's abort on the session's connection: queued jobs are cancelled, and
        the worker running one is told (NOTIFY, at commit) to cancel its asyncio task."""
        connection = session.connection().connection.driver_connection
        wanted = session.scalars(
            text(
                "SELECT id FROM procrastinate_jobs WHERE task_name = :name"
                " AND args @> CAST(:arguments AS jsonb) AND status IN ('todo', 'doing')"
            ),
            {"name": name, "arguments": json.dumps(arguments)},
        )
        for job_id in wanted.all():
            self.app.job_manager.cancel_job_by_id(job_id, abort=True, connection=connection)

    def _deferrer(self, session: Session, name: str, lock: str | None) -> Any:
        """procrastinate's deferrer on the session's connection. Asking the session for it
        also emits a pending SAVEPOINT, which SQLAlchemy only sends with its own statements."""
        connection = session.connection().connection.driver_connection
        return self.app.tasks[name].configure(connection=connection, queueing_lock=lock)


def procrastinate_app(connector: BaseConnector, settings: Settings) -> procrastinate.App:
    """A procrastinate app with every declared task, the schedules switched on, and the
    recovery of the tasks of workers that stopped sending heartbeats (killed, cut off)."""
    app = procrastinate.App(connector=connector)
    retry = procrastinate.RetryStrategy(
        max_attempts=settings.task_max_attempts,
        exponential_wait=settings.task_retry_base_seconds,
        retry_exceptions=set(TRANSIENT_ERRORS),  # type: ignore[arg-type]
    )
    crons = schedules(settings)
    for spec in TASKS.values():
        if spec.cron_setting is None:
            app.task(name=spec.name, pass_context=True, retry=retry)(
                _procrastinate_body(spec, settings.task_max_attempts)
            )
        elif spec.name in crons:
            periodic = app.task(name=spec.name, pass_context=True, queueing_lock=spec.name)(
                _procrastinate_body(spec, 0)
            )
            app.periodic(cron=crons[spec.name], periodic_id=spec.name)(periodic)
    stalled = app.task(name=RETRY_STALLED, pass_context=True, queueing_lock=RETRY_STALLED)(
        _retry_stalled
    )
    app.periodic(cron=settings.worker_stalled_check_cron, periodic_id=RETRY_STALLED)(stalled)
    return app


RETRY_STALLED = "queue.retry_stalled"


def _procrastinate_body(spec: TaskSpec, max_attempts: int) -> Callable[..., Awaitable[None]]:
    async def run(context: JobContext, **arguments: Any) -> None:
        runtime: Runtime = context.additional_context["runtime"]
        if spec.cron_setting is not None:
            arguments.pop("timestamp", None)  # procrastinate hands schedules their instant
        await spec.body(runtime, final_attempt=context.job.attempts >= max_attempts, **arguments)

    return run


async def _retry_stalled(context: JobContext, timestamp: int) -> None:
    """Put back in the queue the tasks of workers silent for longer than the stall timeout
    (procrastinate's own recipe); the task bodies are idempotent, so a task that had in fact
    finished its work records nothing twice."""
    runtime: Runtime = context.additional_context["runtime"]
    manager = context.app.job_manager
    seconds = runtime.settings.worker_stalled_seconds
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=seconds):
        log.warning("retrying task %s of a stalled worker", job.call_string)
        await manager.retry_job(job)
