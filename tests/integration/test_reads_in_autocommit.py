"""On PostgreSQL a read runs in autocommit (issue 17): no `BEGIN` and `COMMIT` round trips
around its statements; a write keeps its transaction; and the month forecasts a comparison
lacks are still queued, once, each in a transaction of its own. On a committed database, as
the service runs (the suite's other tests join an outer transaction, which has none)."""

from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.core.auth import Role
from app.core.db import Database, create_db_engine, session_scope
from app.core.migrations import upgrade_to_head
from app.core.orm import utc_now
from app.core.periods import period_of
from app.core.settings import Settings
from app.main import create_app

from factories import bearer, make_activity, make_client, make_contract
from pg_server import PostgresServer

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def database(pg_server: PostgresServer) -> Iterator[Database]:
    url = pg_server.create_database("reads_in_autocommit")
    upgrade_to_head(url)
    database = Database(create_db_engine(url))
    yield database
    database.dispose()


def _driver(session: Session) -> Any:
    return session.connection().connection.driver_connection


def _in_a_transaction(session: Session) -> bool:
    """Whether two statements of the session ran in one transaction block: the second's
    transaction then began (`now()`) before the statement did."""
    session.execute(text("SELECT pg_sleep(0.01)"))
    return bool(session.execute(text("SELECT now() <> statement_timestamp()")).scalar())


def test_a_read_runs_in_autocommit_and_a_write_in_a_transaction(database: Database) -> None:
    with database.session(write=False) as reading:
        assert _driver(reading).autocommit
        assert not _in_a_transaction(reading)
    with session_scope(database) as writing:
        assert not _driver(writing).autocommit
        assert _in_a_transaction(writing)


def test_a_comparison_queues_the_forecasts_it_lacks_once(database: Database) -> None:
    with session_scope(database) as session:
        contract = make_contract(session, make_client(session))
        make_activity(session, contract)
        headers = bearer(session, Role.ADMIN)
        contract_id = contract.id
    settings = Settings(database_url=database.engine.url.render_as_string(hide_password=False))
    app = create_app(settings, database=database)
    client = TestClient(app)
    upcoming = period_of(utc_now(), ZoneInfo("Europe/Paris")).next()  # open: forecast wanted
    path = f"/v1/contracts/{contract_id}/comparison?period={upcoming}"
    for _ in range(2):  # the second finds the same forecasts queued already
        response = client.get(path, headers=headers)
        assert response.status_code == 200, response.text
    with database.session(write=False) as session:
        queued = session.execute(
            text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'forecasts.month'")
        ).scalar()
    assert queued == 1
