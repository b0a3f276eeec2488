"""On PostgreSQL a pooled connection is pinged before use only after it sat idle
(`db.PING_AFTER_IDLE_SECONDS`): a restarted server costs no request its answer, and a busy pool
no round trip per request. So it is for both pools: the threads' reads and the quick reads on
the event loop (`Database.loop_reader`)."""

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from app.core import db
from app.core.db import Database, create_db_engine

from pg_server import PostgresServer


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    with PostgresServer() as own:
        yield own


@pytest.fixture
def database(server: PostgresServer) -> Iterator[Database]:
    database = Database(create_db_engine(server.create_database(f"ping_{time.monotonic_ns()}")))
    yield database
    database.dispose()


@pytest.fixture(params=["in a thread", "on the loop"])
def on_the_loop(request: pytest.FixtureRequest) -> bool:
    return bool(request.param == "on the loop")


@pytest.fixture
def pings(database: Database, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The connections pinged (the dialect's own ping, counted, for every engine)."""
    seen: list[Any] = []
    dialect_class = type(database.engine.dialect)
    ping = dialect_class.do_ping

    def counted(dialect: Any, dbapi_connection: Any) -> bool:
        seen.append(dbapi_connection)
        return ping(dialect, dbapi_connection)

    monkeypatch.setattr(dialect_class, "do_ping", counted)
    return seen


def _read(database: Database, on_the_loop: bool) -> int:
    with database.session(write=False, on_the_loop=on_the_loop) as session:
        return int(session.execute(text("SELECT 1")).scalar_one())


def test_a_connection_just_used_is_not_pinged_one_left_idle_is(
    database: Database, on_the_loop: bool, pings: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.2)
    for _ in range(5):
        assert _read(database, on_the_loop) == 1
    assert pings == []  # the first was a new connection, the others just came back
    time.sleep(0.3)
    assert _read(database, on_the_loop) == 1
    assert len(pings) == 1


def test_a_restarted_server_costs_no_request_its_answer(
    server: PostgresServer,
    database: Database,
    on_the_loop: bool,
    pings: list[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.2)
    assert _read(database, on_the_loop) == 1
    server.pause()  # pg_ctl stop: the pooled connection is dropped
    server.resume()
    time.sleep(0.3)
    assert _read(database, on_the_loop) == 1  # the ping found the drop; a new connection answered
    assert len(pings) == 1
