"""Test fixtures: real databases built by the migrations, one rolled-back transaction per test.

Every test that asks for `database` runs twice: on a SQLite file and on a real PostgreSQL server
started for the session on loopback (`pg_server.py`); the PostgreSQL run is marked
`integration`. Each test works inside one outer transaction that is rolled back at the end; the
app's request transactions become savepoints inside it, so commits and rollbacks behave as in
production while tests stay isolated.
"""

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from app.core.db import Database, create_db_engine
from app.core.migrations import upgrade_to_head
from app.core.queue import LocalQueue
from app.core.settings import Settings
from app.main import create_app

from backends import BACKENDS
from pg_server import PostgresServer


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    with PostgresServer() as server:
        yield server


@pytest.fixture(scope="session")
def database_url_factory(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[object]:
    """Make a new, empty database of a backend and return its URL."""
    counter = iter(range(10_000))

    def make(backend: str) -> str:
        name = f"plancher_test_{next(counter)}"
        if backend == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('db') / name}.db"
        server: PostgresServer = request.getfixturevalue("pg_server")
        return server.create_database(name)

    yield make


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_url(request: pytest.FixtureRequest, database_url_factory: object) -> str:
    """A database per backend for the whole session, built by running the migrations."""
    url: str = database_url_factory(request.param)  # type: ignore[operator]
    upgrade_to_head(url)
    return url


class SavepointDatabase(Database):
    """Hands every request a session joined to the test's outer transaction."""

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection.engine)
        self.connection = connection

    def session(self, *, write: bool, on_the_loop: bool = False) -> Session:
        return Session(
            bind=self.connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )


@pytest.fixture(scope="session")
def engines() -> Iterator[dict[str, object]]:
    cache: dict[str, object] = {}
    yield cache
    for engine in cache.values():
        engine.dispose()  # type: ignore[attr-defined]


@pytest.fixture
def database(migrated_url: str, engines: dict[str, object]) -> Iterator[SavepointDatabase]:
    engine = engines.setdefault(migrated_url, create_db_engine(migrated_url))
    with engine.connect() as connection:  # type: ignore[attr-defined]
        outer = connection.begin()
        try:
            yield SavepointDatabase(connection)
        finally:
            outer.rollback()


@pytest.fixture
def db(database: SavepointDatabase) -> Iterator[Session]:
    """A session for arranging and checking data, inside the test's transaction."""
    session = database.session(write=True)
    yield session
    session.close()


@pytest.fixture
def settings(migrated_url: str) -> Settings:
    # Tasks run in the test's process and transaction on both databases (`tasks` drains them);
    # the procrastinate queue and its workers are tested on committed databases
    # (tests/integration).
    # The schedules are off: a test that enters the app's lifespan would otherwise start the
    # embedded scheduler on the test's one connection (tests/core/test_scheduler.py runs it).
    return Settings(
        database_url=migrated_url,
        max_request_bytes=1_000_000,
        task_queue="local",
        schedule_forecast_refresh="",
        schedule_invoice_run="",
        schedule_idempotency_purge="",
    )


@pytest.fixture(scope="session")
def apps() -> Iterator[dict[str, FastAPI]]:
    """One app per database for the session: building one costs ~40 ms, a third of a test,
    and its forecasting workers start once."""
    built: dict[str, FastAPI] = {}
    yield built
    for app in built.values():
        app.state.queue.shutdown(timeout=60)
        app.state.forecast_pool.shutdown()


@pytest.fixture
def client(
    settings: Settings, database: SavepointDatabase, apps: dict[str, FastAPI]
) -> Iterator[TestClient]:
    """The API over the test's transaction: the session's app with this test's database."""
    app = apps.get(settings.database_url)
    if app is None:
        app = apps[settings.database_url] = create_app(settings, database=database)
        app.state.queue.paused = True  # tasks run when a test drains them (`tasks`)
    app.state.database = database
    # Not entered as a context manager: the app's lifespan (which stops the forecasting
    # workers) runs once per session, not once per test.
    yield TestClient(app, raise_server_exceptions=False)
    app.state.queue.forget()  # tasks the test did not run must not outlive its transaction


@pytest.fixture
def tasks(client: TestClient) -> LocalQueue:
    """The app's task runner: `tasks.drain()` waits for the background work queued so far."""
    queue: LocalQueue = client.app.state.queue  # type: ignore[attr-defined]
    return queue
