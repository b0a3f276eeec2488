"""A `/v1` request hops to a worker thread as few times as it can (issue 17): each hop costs a
thread wake-up and a return to the loop, which under load were most of a read's time. A quick
read on a SQLite file makes none: it runs on the loop, on a connection of its own."""

from typing import Any

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient

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


def test_a_read_is_one_hop_and_a_quick_read_on_sqlite_none(client, db, database, hops) -> None:
    contract = make_contract(db, make_client(db))
    activity = make_activity(db, contract)
    headers = bearer(db, Role.ADMIN)
    quick = 0 if database.engine.dialect.name == "sqlite" else 1
    volumes = f"/v1/activities/{activity.id}/volumes?start=2026-11-01&end=2026-12-01"
    for path, expected in (
        (f"/v1/contracts/{contract.id}", quick),
        ("/v1/contracts?limit=10", quick),
        (f"{volumes}&granularity=interval", quick),  # a page of intervals
        (f"{volumes}&granularity=day", 1),  # the caller's range summed: in a thread
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


def test_a_quick_read_on_sqlite_answers_when_the_pool_is_exhausted(
    database_url_factory, hops
) -> None:
    """The loop's reads have a connection of their own: with every connection of the main
    pool held (by writes between their two hops, say), a quick read still answers, where
    waiting on the pool would have blocked the loop, and with it the writes' second hops."""
    url = database_url_factory("sqlite")
    upgrade_to_head(url)
    database = Database(create_db_engine(url))
    with session_scope(database) as session:
        contract = make_contract(session, make_client(session))
        headers = bearer(session, Role.ADMIN)  # committed: the lookup reads it on the loop
    settings = Settings(
        database_url=url,
        task_queue="local",
        schedule_forecast_refresh="",
        schedule_invoice_run="",
        schedule_idempotency_purge="",
    )
    app = create_app(settings, database=database)
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
        database.engine.dispose()
