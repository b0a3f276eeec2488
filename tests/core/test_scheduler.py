"""The schedules on the embedded runner: run when their time comes, once per occurrence however
many servers share the database, a missed occurrence once at the next start, none at the very
first start; the clock is the test's (the scheduler's own loop, with a clock and a sleep that
move it forward)."""

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.billing.runs.tables import InvoiceRun
from app.core.auth import Role, issue_key
from app.core.db import Database, create_db_engine
from app.core.migrations import upgrade_to_head
from app.core.queue import LocalQueue
from app.core.scheduler import LocalScheduler
from app.core.settings import Settings
from app.core.tables import IdempotencyRecord, ScheduleRun
from app.main import create_app

PURGE = "schedules.idempotency_purge"
INVOICES = "schedules.invoice_run"


class _Stop(Exception):
    """Ends the scheduler's loop in a test."""


class _Clock:
    """A wall clock that moves only when the scheduler sleeps, by the time it asked for."""

    def __init__(self, now: datetime, until: datetime) -> None:
        self.now, self.until = now, until
        self.sleeps: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)
        if self.now > self.until:
            raise _Stop


def _idempotency_record(db: Session, created_at: datetime) -> IdempotencyRecord:
    issued = issue_key(db, Role.ADMIN, None, "test")
    record = IdempotencyRecord(
        api_key_id=issued.id,
        idempotency_key=f"k-{created_at.isoformat()}",
        fingerprint="f",
        method="POST",
        path="/v1/clients",
        status_code=201,
        media_type="application/json",
        response_body="{}",
        created_at=created_at,
    )
    db.add(record)
    db.flush()
    return record


def test_a_schedule_runs_when_its_time_comes_and_once(db, tasks: LocalQueue) -> None:
    expired = _idempotency_record(db, datetime.now(UTC) - timedelta(hours=48)).id
    fresh = _idempotency_record(db, datetime.now(UTC)).id
    clock = _Clock(
        datetime(2026, 12, 2, 3, 0, tzinfo=UTC), until=datetime(2026, 12, 2, 3, 30, tzinfo=UTC)
    )
    scheduler = LocalScheduler(tasks, {PURGE: "15 3 * * *"}, clock, clock.sleep)
    with pytest.raises(_Stop):
        asyncio.run(scheduler.run())
    # It looked at least once a minute and never slept past the occurrence (03:15).
    assert max(clock.sleeps) <= 60
    assert tasks.drain(timeout=60)
    db.expire_all()
    assert db.get(IdempotencyRecord, expired) is None  # the purge ran
    assert db.get(IdempotencyRecord, fresh) is not None
    row = db.get(ScheduleRun, PURGE)
    assert row is not None and row.due_at == datetime(2026, 12, 2, 3, 15, tzinfo=UTC)
    # A second look within the same occurrence starts nothing more.
    assert asyncio.run(scheduler.tick(datetime(2026, 12, 2, 3, 29, tzinfo=UTC))) == []


def test_a_schedule_seen_first_waits_for_its_next_occurrence(db, tasks: LocalQueue) -> None:
    """A new installation does not run at its first start what fell before it."""
    scheduler = LocalScheduler(tasks, {INVOICES: "0 5 3 * *"})
    assert asyncio.run(scheduler.tick(datetime(2026, 12, 10, 12, 0, tzinfo=UTC))) == []
    assert asyncio.run(scheduler.tick(datetime(2027, 1, 3, 4, 59, tzinfo=UTC))) == []
    assert asyncio.run(scheduler.tick(datetime(2027, 1, 3, 5, 0, tzinfo=UTC))) == [INVOICES]


def test_occurrences_missed_while_down_run_once_at_the_next_start(db, tasks: LocalQueue) -> None:
    runs_before = db.scalar(select(func.count()).select_from(InvoiceRun))
    before = LocalScheduler(tasks, {INVOICES: "0 5 3 * *"})
    assert asyncio.run(before.tick(datetime(2026, 11, 2, 12, 0, tzinfo=UTC))) == []
    # Down from the 2nd of November to the 10th of December: the 3rds of both months passed.
    restarted = LocalScheduler(tasks, {INVOICES: "0 5 3 * *"})
    assert asyncio.run(restarted.tick(datetime(2026, 12, 10, 12, 0, tzinfo=UTC))) == [INVOICES]
    assert asyncio.run(restarted.tick(datetime(2026, 12, 10, 12, 1, tzinfo=UTC))) == []
    assert tasks.drain(timeout=60)
    assert db.scalar(select(func.count()).select_from(InvoiceRun)) == runs_before + 1


def test_two_servers_on_one_database_file_run_an_occurrence_once(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'plancher.db'}"
    upgrade_to_head(url)
    servers = [
        create_app(
            Settings(database_url=url, schedule_forecast_refresh="", schedule_invoice_run=""),
            database=Database(create_db_engine(url)),
        )
        for _ in range(2)
    ]
    schedulers = [LocalScheduler(app.state.queue, {PURGE: "15 3 * * *"}) for app in servers]
    assert asyncio.run(schedulers[0].tick(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))) == []
    due = datetime(2026, 12, 2, 3, 15, tzinfo=UTC)
    together = threading.Barrier(2)
    claimed: list[list[str]] = []

    def look(scheduler: LocalScheduler) -> None:
        together.wait()
        claimed.append(asyncio.run(scheduler.tick(due)))

    threads = [threading.Thread(target=look, args=(s,)) for s in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert sorted(claimed) == [[], [PURGE]]
    finally:
        for app in servers:
            app.state.queue.shutdown(timeout=30)
            app.state.database.dispose()


def _schedule_rows(database: Database) -> set[str]:
    with database.session(write=False) as session:
        return set(session.scalars(select(ScheduleRun.name)))


@pytest.mark.parametrize("switched_on", [True, False])
def test_the_embedded_server_runs_its_schedules_unless_switched_off(
    tmp_path, switched_on: bool
) -> None:
    url = f"sqlite:///{tmp_path / 'plancher.db'}"
    upgrade_to_head(url)
    database = Database(create_db_engine(url))
    names = ("forecast_refresh", "invoice_run", "idempotency_purge")
    crons = {} if switched_on else {f"schedule_{name}": "" for name in names}
    app = create_app(Settings.model_validate({"database_url": url, **crons}), database=database)
    try:
        with TestClient(app) as started:
            assert started.get("/healthz").status_code == 200
            # A scheduler looks at the clock as soon as it starts: give it the time to.
            deadline = time.monotonic() + (30 if switched_on else 1)
            while len(_schedule_rows(database)) < 3 and time.monotonic() < deadline:
                time.sleep(0.1)
        # Its first look records where each schedule starts from (the defaults are on).
        expected = {f"schedules.{name}" for name in names} if switched_on else set()
        assert _schedule_rows(database) == expected
    finally:
        database.dispose()
