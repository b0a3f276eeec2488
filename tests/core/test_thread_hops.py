"""A `/v1` request hops to a worker thread as few times as it can (issue 17): each hop costs a
thread wake-up and a return to the loop, which under load were most of a read's time. A quick
read makes none, on a SQLite file or on PostgreSQL: it runs on the loop, on a connection of its
own, while the database answers."""

import socket
import threading
from typing import Any

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from app.core.auth import Role
from app.core.db import MAX_OVERFLOW, POOL_SIZE, Database, create_db_engine, session_scope
from app.core.migrations import upgrade_to_head
from app.core.settings import Settings
from app.main import create_app

from factories import bearer, make_activity, make_client, make_contract


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The functions run in worker threads (every thread hop goes through anyio)."""
    seen: list[Any] = []
    run_sync = anyio.to_thread.run_sync

    async def counting(func: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(func)
        return await run_sync(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting)
    return seen


def test_a_read_is_one_hop_and_a_quick_read_none(client, db, database, hops) -> None:
    contract = make_contract(db, make_client(db))
    activity = make_activity(db, contract)
    headers = bearer(db, Role.ADMIN)
    quick = 0
    month_summed = 0 if database.engine.dialect.name == "sqlite" else 1  # by the server: a hop
    volumes = f"/v1/activities/{activity.id}/volumes?start=2026-11-01&end=2026-12-01"
    for path, expected in (
        (f"/v1/contracts/{contract.id}", quick),
        ("/v1/contracts?limit=10", quick),
        (f"{volumes}&granularity=interval", quick),  # a page of intervals
        (f"{volumes}&granularity=day", month_summed),
        (f"{volumes}&granularity=month", month_summed),
        # a longer range of the caller's summed: in a thread
        (f"/v1/activities/{activity.id}/volumes?start=2025-11-01&end=2026-12-01", 1),
        (f"/v1/activities/{activity.id}/volumes?start=2025-11-01T00:00Z&end=2026-12-01", 1),
        (f"/v1/contracts/{contract.id}/deadlines", 1),  # not a quick read
        # one contract's figures for one period
        (f"/v1/contracts/{contract.id}/shortfall?period=2026-11", quick),
        (f"/v1/contracts/{contract.id}/comparison?period=2026-11", quick),
        # a range of periods, read in one hop (with the forecasts it lacks queued)
        (f"/v1/activities/{activity.id}/comparison?from=2026-09&to=2026-11", 1),
        (f"/v1/activities/{activity.id}/scorecard?from=2026-09&to=2026-11", 1),
    ):
        assert client.get(path, headers=headers).status_code == 200  # the key is now cached
        hops.clear()
        assert client.get(path, headers=headers).status_code == 200
        assert len(hops) == expected, path


def test_volumes_with_bounds_that_are_not_dates_are_refused_as_usual(client, db, hops) -> None:
    """The quick-read test only glances at the bounds: what it cannot read goes to a thread,
    where the endpoint names every bad bound."""
    activity = make_activity(db, make_contract(db, make_client(db)))
    headers = bearer(db, Role.ADMIN)
    path = f"/v1/activities/{activity.id}/volumes?start=yesterday&end=2026-13-01"
    assert client.get(path, headers=headers).status_code == 422  # the key is now cached
    hops.clear()
    response = client.get(path, headers=headers)
    assert response.status_code == 422
    assert {error["field"] for error in response.json()["errors"]} == {"start", "end"}
    assert len(hops) == 1


def test_the_liveness_probe_makes_no_hop(client, hops) -> None:
    assert client.get("/healthz").status_code == 200
    assert hops == []


def test_a_write_is_two_hops(client, db, hops) -> None:
    headers = bearer(db, Role.ADMIN)
    assert client.get("/v1/clients", headers=headers).status_code == 200
    hops.clear()
    response = client.post("/v1/clients", json={"name": "Hops"}, headers=headers)
    assert response.status_code == 201
    assert len(hops) == 2  # the endpoint, then commit and close


def test_during_an_outage_a_quick_read_goes_back_to_a_thread(client, db, hops) -> None:
    """While the database fails to answer, a wait on the loop would stall every request: a
    quick read then hops, and once one reaches the database again, reads are back on the loop."""
    contract = make_contract(db, make_client(db))
    headers = bearer(db, Role.ADMIN)
    path = f"/v1/contracts/{contract.id}"
    assert client.get(path, headers=headers).status_code == 200  # the key is now cached
    outage = client.app.state.outage  # type: ignore[attr-defined]
    outage.failed(OperationalError("SELECT 1", {}, Exception("connection refused")))
    hops.clear()
    assert client.get(path, headers=headers).status_code == 200
    assert len(hops) == 1  # in a thread, and it reached the database: the outage is over
    assert not outage.is_down
    hops.clear()
    assert client.get(path, headers=headers).status_code == 200
    assert hops == []


def _served(database: Database) -> Any:
    settings = Settings(
        database_url=database.engine.url.render_as_string(hide_password=False),
        task_queue="local",
        schedule_forecast_refresh="",
        schedule_invoice_run="",
        schedule_idempotency_purge="",
    )
    return create_app(settings, database=database)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_quick_read_answers_when_the_pool_is_exhausted(
    backend: str, database_url_factory, hops
) -> None:
    """The loop's reads have connections of their own: with every connection of the main
    pool held (by writes between their two hops, say), a quick read still answers, where
    waiting on the pool would have blocked the loop, and with it the writes' second hops."""
    url = database_url_factory(backend)
    upgrade_to_head(url)
    database = Database(create_db_engine(url))
    with session_scope(database) as session:
        contract = make_contract(session, make_client(session))
        headers = bearer(session, Role.ADMIN)  # committed: the lookup reads it on the loop
    app = _served(database)
    held = [database.engine.connect() for _ in range(POOL_SIZE + MAX_OVERFLOW)]
    try:
        response = TestClient(app).get(f"/v1/contracts/{contract.id}", headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["reference"] == contract.reference
        assert hops == []  # the key's lookup and the read both ran on the loop
    finally:
        for connection in held:
            connection.close()
        app.state.queue.shutdown(timeout=60)
        app.state.forecast_pool.shutdown()
        database.dispose()


def test_a_quick_read_on_a_silent_postgresql_server_fails_instead_of_holding_the_loop(
    hops,
) -> None:
    """A server that accepts the connection and never answers (a network gone quiet, a
    process stopped): the quick read's wait on the loop is bounded, and it answers the
    outage's 503, after which reads go to threads."""
    with socket.create_server(("127.0.0.1", 0)) as silent:  # the kernel accepts; nobody answers
        port = silent.getsockname()[1]
        database = Database(create_db_engine(f"postgresql+psycopg://u:p@127.0.0.1:{port}/none"))
        app = _served(database)
        answered: list[Any] = []
        caller = threading.Thread(
            target=lambda: answered.append(
                TestClient(app).get("/v1/contracts/ctr_x", headers={"Authorization": "Bearer k"})
            ),
            daemon=True,
        )
        caller.start()
        caller.join(timeout=60)
        try:
            assert answered, "the read is still waiting on the silent server"
            assert answered[0].status_code == 503, answered[0].text
            assert answered[0].headers["Retry-After"].isdigit()
            assert hops == []  # it waited on the loop, within its bounds
            assert app.state.outage.is_down
        finally:
            app.state.queue.shutdown(timeout=60)
            app.state.forecast_pool.shutdown()
