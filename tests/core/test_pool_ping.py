"""On PostgreSQL a pooled connection is pinged before use only after it sat idle
(`db.PING_AFTER_IDLE_SECONDS`): a restarted server costs no request its answer, and a busy pool
no round trip per request."""

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
    database.engine.dispose()


@pytest.fixture
def pings(database: Database, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The connections pinged (the dialect's own ping, counted)."""
    seen: list[Any] = []
    ping = database.engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        seen.append(dbapi_connection)
        return ping(dbapi_connection)

    monkeypatch.setattr(database.engine.dialect, "do_ping", counted)
    return seen


def _read(database: Database) -> int:
    with database.session(write=False) as session:
        return int(session.execute(text("SELECT 1")).scalar_one())


def test_a_connection_just_used_is_not_pinged_one_left_idle_is(
    database: Database, pings: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.2)
    for _ in range(5):
        assert _read(database) == 1
    assert pings == []  # the first was a new connection, the others just came back
    time.sleep(0.3)
    assert _read(database) == 1
    assert len(pings) == 1


def test_a_restarted_server_costs_no_request_its_answer(
    server: PostgresServer, database: Database, pings: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.2)
    assert _read(database) == 1
    server.pause()  # pg_ctl stop: the pooled connection is dropped
    server.resume()
    time.sleep(0.3)
    assert _read(database) == 1  # the ping found the drop; a new connection answered
    assert len(pings) == 1
