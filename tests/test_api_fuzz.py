"""Property test of the whole HTTP surface from its OpenAPI document (schemathesis): whatever
the input, the service answers without a server error, and every error is problem+json."""

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from app.core.db import Database, create_db_engine, session_scope
from app.core.migrations import upgrade_to_head
from app.core.settings import Settings
from app.demo import load_demo
from app.main import create_app

# The app is built at import, as schemathesis reads its OpenAPI document to generate the tests;
# building it touches no database: the fixture below migrates and fills one before any call.
_URL = f"sqlite:///{Path(tempfile.mkdtemp(prefix='plancher-fuzz-')) / 'fuzz.db'}"
_DATABASE = Database(create_db_engine(_URL))
_APP = create_app(Settings(database_url=_URL), database=_DATABASE)
_APP.state.queue.paused = True  # the answers are under test, not the jobs they queue
schema = schemathesis.openapi.from_asgi("/openapi.json", _APP)
ADMIN: dict[str, str] = {}


@pytest.fixture(scope="module", autouse=True)
def demo_data() -> Iterator[None]:
    """The demo client, contract and history, and an admin key for the calls."""
    upgrade_to_head(_URL)
    # As `plancher serve` does: the workers start and load the models while the first cases
    # run, so that the first forecast call does not spend schemathesis' 10 s per call waiting
    # for processes to start on a loaded machine.
    _APP.state.forecast_pool.warm_up()
    with session_scope(_DATABASE) as session:
        ADMIN["Authorization"] = f"Bearer {load_demo(session).admin_key.secret}"
    yield
    _APP.state.queue.forget()
    _APP.state.forecast_pool.shutdown()
    _DATABASE.dispose()


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_any_request_gets_an_answer_and_errors_are_problems(case: schemathesis.Case) -> None:
    response = case.call(headers=ADMIN)
    assert response.status_code < 500, (case, response.text[:300])
    if response.status_code >= 400:
        assert "application/problem+json" in str(response.headers.get("content-type"))
