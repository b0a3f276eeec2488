"""A `/v1` request hops to a worker thread as few times as it can (issue 17): each hop costs a
thread wake-up and a return to the loop, which under load were most of a read's time."""

from typing import Any

import anyio.to_thread
import pytest

from app.core.auth import Role

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


def test_a_read_is_one_hop(client, db, hops) -> None:
    contract = make_contract(db, make_client(db))
    make_activity(db, contract)
    headers = bearer(db, Role.ADMIN)
    for path in (f"/v1/contracts/{contract.id}", "/v1/contracts?limit=10"):
        assert client.get(path, headers=headers).status_code == 200  # the key is now cached
        hops.clear()
        assert client.get(path, headers=headers).status_code == 200
        assert len(hops) == 1, path


def test_a_write_is_two_hops(client, db, hops) -> None:
    headers = bearer(db, Role.ADMIN)
    assert client.get("/v1/clients", headers=headers).status_code == 200
    hops.clear()
    response = client.post("/v1/clients", json={"name": "Hops"}, headers=headers)
    assert response.status_code == 201
    assert len(hops) == 2  # the endpoint, then commit and close
