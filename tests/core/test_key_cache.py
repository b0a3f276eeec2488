"""The in-process cache of API key hash -> principal (issue 17): a known key costs no query on
the key table, a revocation in this process takes effect at once, and one made by another
process (a direct update here, as `plancher keys revoke` makes it) within the cache's
lifetime."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, update
from sqlalchemy.orm import Session

from app.core import auth
from app.core.auth import Role, issue_key, revoke_key
from app.core.keycache import ExpiringCache
from app.core.orm import utc_now
from app.core.tables import ApiKey


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    """The process's key cache on a clock the test moves."""
    fake = Clock()
    monkeypatch.setattr(auth, "KEY_CACHE", ExpiringCache(seconds=5, clock=fake))
    yield fake


def _key_queries(db: Session) -> list[str]:
    seen: list[str] = []

    def record(_conn, _cursor, statement: str, *_args) -> None:
        if "FROM api_keys" in statement:
            seen.append(statement)

    event.listen(db.get_bind(), "before_cursor_execute", record)
    return seen


def _get(client: TestClient, secret: str) -> int:
    return client.get("/v1/clients", headers={"Authorization": f"Bearer {secret}"}).status_code


def test_a_known_key_is_not_looked_up_again(client, db, clock) -> None:
    issued = issue_key(db, Role.ADMIN)
    queries = _key_queries(db)
    assert [_get(client, issued.secret) for _ in range(3)] == [200, 200, 200]
    assert len(queries) == 1
    clock.now += 6  # expired: asked again
    assert _get(client, issued.secret) == 200
    assert len(queries) == 2


def test_revocation_in_this_process_is_immediate(client, db, clock) -> None:
    issued = issue_key(db, Role.ADMIN)
    assert _get(client, issued.secret) == 200
    assert revoke_key(db, issued.id)
    assert _get(client, issued.secret) == 401


def test_revocation_elsewhere_is_seen_once_the_entry_expires(client, db, clock) -> None:
    issued = issue_key(db, Role.ADMIN)
    assert _get(client, issued.secret) == 200
    db.execute(update(ApiKey).where(ApiKey.id == issued.id).values(revoked_at=utc_now()))
    db.flush()
    assert _get(client, issued.secret) == 200  # another process's revocation: not known yet
    clock.now += 5
    assert _get(client, issued.secret) == 401


def test_refusals_are_not_cached(client, db, clock) -> None:
    """A key unknown on one request and created meanwhile (by the CLI) works on the next."""
    assert _get(client, "plk_not-yet") == 401
    issued = issue_key(db, Role.ADMIN)
    assert _get(client, issued.secret) == 200


def test_no_cache_when_its_lifetime_is_zero() -> None:
    cache: ExpiringCache[str] = ExpiringCache(seconds=0)
    cache.put("hash", "principal")
    assert cache.get("hash") is None
