"""`Idempotency-Key` on every create: the same key and body replay the first response, another
body is a 409, keys are per API key, a rejected request is not remembered, and keys expire
after the retention period."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.contracts.tables import Activity, ActivityPrice, Client, Contract
from app.core import idempotency
from app.core.auth import Role
from app.core.db import Database
from app.core.tables import IdempotencyRecord

from factories import bearer, make_activity, make_client, make_contract

PROBLEM = "application/problem+json"


@dataclass
class CreateRoute:
    """One create endpoint: where to post, a valid body, another valid body, an invalid one,
    and how many rows it has created so far."""

    path: str
    body: dict[str, Any]
    other_body: dict[str, Any]
    invalid_body: dict[str, Any]
    count: Callable[[], int]


def _counter(db: Session, statement: Any) -> Callable[[], int]:
    return lambda: int(db.scalar(statement) or 0)


def _clients(db: Session) -> CreateRoute:
    return CreateRoute(
        "/v1/clients",
        {"name": "Acme Énergie", "siren": "552081317"},
        {"name": "Acme Énergie bis"},
        {"name": "Acme", "siren": "552081318"},
        _counter(db, select(func.count()).select_from(Client)),
    )


def _contracts(db: Session) -> CreateRoute:
    client = make_client(db)
    return CreateRoute(
        "/v1/contracts",
        {"client_id": client.id, "reference": "CTR-1", "starts_on": "2026-01-01"},
        {"client_id": client.id, "reference": "CTR-2", "starts_on": "2026-01-01"},
        {
            "client_id": client.id,
            "reference": "CTR-1",
            "starts_on": "2026-01-01",
            "trigger_ratio": "1.5",
        },
        _counter(
            db, select(func.count()).select_from(Contract).where(Contract.client_id == client.id)
        ),
    )


def _activities(db: Session) -> CreateRoute:
    contract = make_contract(db, make_client(db))
    body = {
        "name": "Voix",
        "channel": "voice",
        "interval_minutes": 30,
        "billing_unit": "contact",
        "prices": [{"effective_from": "2026-01-01", "unit_price": "1.20"}],
    }
    return CreateRoute(
        f"/v1/contracts/{contract.id}/activities",
        body,
        {**body, "name": "Chat", "channel": "chat"},
        {**body, "interval_minutes": 20},
        _counter(
            db,
            select(func.count()).select_from(Activity).where(Activity.contract_id == contract.id),
        ),
    )


def _prices(db: Session) -> CreateRoute:
    activity = make_activity(db, make_contract(db, make_client(db)))
    return CreateRoute(
        f"/v1/activities/{activity.id}/prices",
        {"effective_from": "2026-01-01", "unit_price": "1.30"},
        {"effective_from": "2026-02-01", "unit_price": "1.35"},
        {"effective_from": "2026-01-01", "unit_price": "0"},
        _counter(
            db,
            select(func.count())
            .select_from(ActivityPrice)
            .where(ActivityPrice.activity_id == activity.id),
        ),
    )


ROUTES = {
    "clients": _clients,
    "contracts": _contracts,
    "activities": _activities,
    "prices": _prices,
}


@pytest.fixture(params=list(ROUTES))
def route(request: pytest.FixtureRequest, db: Session) -> CreateRoute:
    return ROUTES[request.param](db)


@pytest.fixture
def admin(db: Session) -> dict[str, str]:
    return bearer(db, Role.ADMIN)


def _post(
    client: TestClient,
    route: CreateRoute,
    headers: dict[str, str],
    key: str,
    body: dict[str, Any] | None = None,
) -> Any:
    return client.post(
        route.path,
        json=route.body if body is None else body,
        headers={**headers, "Idempotency-Key": key},
    )


def test_first_response_is_not_marked_replayed(
    client: TestClient, db: Session, admin: dict[str, str]
) -> None:
    route = _clients(db)
    response = _post(client, route, admin, "k-1")
    assert "Idempotent-Replayed" not in response.headers


def test_same_key_and_body_replays_the_first_id(
    client: TestClient, route: CreateRoute, admin: dict[str, str]
) -> None:
    first = _post(client, route, admin, "k-1")
    second = _post(client, route, admin, "k-1")
    assert second.json()["id"] == first.json()["id"]


def test_replay_is_the_first_response_byte_for_byte(
    client: TestClient, db: Session, admin: dict[str, str]
) -> None:
    route = _clients(db)
    first = _post(client, route, admin, "k-1")
    second = _post(client, route, admin, "k-1")
    assert second.content == first.content


def test_replay_keeps_status_201(
    client: TestClient, route: CreateRoute, admin: dict[str, str]
) -> None:
    _post(client, route, admin, "k-1")
    assert _post(client, route, admin, "k-1").status_code == 201


def test_replay_is_marked_replayed(
    client: TestClient, route: CreateRoute, admin: dict[str, str]
) -> None:
    _post(client, route, admin, "k-1")
    assert _post(client, route, admin, "k-1").headers["Idempotent-Replayed"] == "true"


def test_replay_creates_one_row_only(
    client: TestClient, route: CreateRoute, admin: dict[str, str]
) -> None:
    before = route.count()
    _post(client, route, admin, "k-1")
    _post(client, route, admin, "k-1")
    _post(client, route, admin, "k-1")
    assert route.count() == before + 1


def test_without_a_key_the_same_body_creates_again(
    client: TestClient, db: Session, admin: dict[str, str]
) -> None:
    """The contrast for the replays: only the key makes a retry safe (clients allow twins
    when they have no SIREN)."""
    route = _clients(db)
    before = route.count()
    client.post(route.path, json=route.other_body, headers=admin)
    client.post(route.path, json=route.other_body, headers=admin)
    assert route.count() == before + 2


def test_same_key_with_another_body_is_409(
    client: TestClient, route: CreateRoute, admin: dict[str, str]
) -> None:
    _post(client, route, admin, "k-1")
    response = _post(client, route, admin, "k-1", route.other_body)
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM


def test_reused_key_problem_names_the_reuse(
    client: TestClient, db: Session, admin: dict[str, str]
) -> None:
    route = _clients(db)
    _post(client, route, admin, "k-1")
    body = _post(client, route, admin, "k-1", route.other_body).json()
    assert body["type"].endswith("idempotency-key-reused")
    assert "Idempotency-Key" in body["detail"]


def test_same_key_with_another_body_writes_nothing(
    client: TestClient, db: Session, admin: dict[str, str]
) -> None:
    route = _clients(db)
    before = route.count()
    _post(client, route, admin, "k-1")
    _post(client, route, admin, "k-1", route.other_body)
    assert route.count() == before + 1


def test_same_key_on_another_route_is_409(
    client: TestClient, db: Session, admin: dict[str, str]
) -> None:
    clients, contracts = _clients(db), _contracts(db)
    assert _post(client, clients, admin, "k-1").status_code == 201
    assert _post(client, contracts, admin, "k-1").status_code == 409


def test_same_key_and_body_under_another_api_key_is_not_a_replay(
    client: TestClient, db: Session
) -> None:
    """The second create may still collide on a business rule (SIREN, reference, name,
    effective date), but it is processed, not answered from the first key's record."""
    route = _clients(db)
    _post(client, route, bearer(db, Role.ADMIN), "shared")
    second = _post(client, route, bearer(db, Role.ADMIN), "shared")
    assert "Idempotent-Replayed" not in second.headers


def test_same_key_under_two_api_keys_is_independent(
    client: TestClient, db: Session, route: CreateRoute
) -> None:
    """With bodies that do not collide, each API key gets its own object."""
    first = _post(client, route, bearer(db, Role.ADMIN), "shared")
    second = _post(client, route, bearer(db, Role.ADMIN), "shared", route.other_body)
    assert second.status_code == 201, second.text
    assert second.json()["id"] != first.json()["id"]


def test_rejected_request_is_not_remembered(
    client: TestClient, route: CreateRoute, admin: dict[str, str]
) -> None:
    rejected = _post(client, route, admin, "k-1", route.invalid_body)
    assert rejected.status_code == 422
    retry = _post(client, route, admin, "k-1")
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry.headers


def test_conflict_is_not_remembered(client: TestClient, db: Session, admin: dict[str, str]) -> None:
    """A 409 from a business rule (duplicate SIREN) is not stored either: once the cause is
    gone, the retry with the same key is processed afresh."""
    route = _clients(db)
    existing = make_client(db, siren="552081317")
    assert _post(client, route, admin, "k-1").status_code == 409
    existing.siren = None
    db.flush()
    assert _post(client, route, admin, "k-1").status_code == 201


def test_key_of_255_characters_is_accepted(
    client: TestClient, db: Session, admin: dict[str, str]
) -> None:
    assert _post(client, _clients(db), admin, "k" * 255).status_code == 201


def test_key_of_256_characters_is_400(
    client: TestClient, db: Session, admin: dict[str, str]
) -> None:
    response = _post(client, _clients(db), admin, "k" * 256)
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM


def test_overlong_key_problem_names_the_header(
    client: TestClient, db: Session, admin: dict[str, str]
) -> None:
    response = _post(client, _clients(db), admin, "k" * 256)
    assert "Idempotency-Key" in response.json()["detail"]


def test_overlong_key_writes_nothing(
    client: TestClient, db: Session, admin: dict[str, str]
) -> None:
    route = _clients(db)
    before = route.count()
    _post(client, route, admin, "k" * 256)
    assert route.count() == before


def test_blank_key_is_400(client: TestClient, db: Session, admin: dict[str, str]) -> None:
    assert _post(client, _clients(db), admin, "   ").status_code == 400


# Retention: a key is remembered for `idempotency_retention_hours` (24 by default)


def _age_records(db: Session, hours: float) -> None:
    for record in db.scalars(select(IdempotencyRecord)):
        record.created_at -= timedelta(hours=hours)
    db.flush()


def test_a_key_is_still_replayed_just_before_the_retention_ends(
    client: TestClient, db: Session, admin: dict[str, str]
) -> None:
    route = _clients(db)
    first = _post(client, route, admin, "retry-1")
    _age_records(db, 23.5)
    again = _post(client, route, admin, "retry-1")
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["id"] == first.json()["id"]


def test_an_expired_key_acts_afresh_and_is_remembered_again(
    client: TestClient, db: Session, admin: dict[str, str]
) -> None:
    route = _clients(db)
    _post(client, route, admin, "reused-next-day")
    _age_records(db, 25)
    before = route.count()
    fresh = _post(client, route, admin, "reused-next-day", route.other_body)
    assert fresh.status_code == 201 and "Idempotent-Replayed" not in fresh.headers
    assert route.count() == before + 1
    replay = _post(client, route, admin, "reused-next-day", route.other_body)
    assert replay.json()["id"] == fresh.json()["id"]


def test_purge_deletes_the_expired_records_only(
    client: TestClient, db: Session, database: Database, admin: dict[str, str]
) -> None:
    route = _clients(db)
    _post(client, route, admin, "old")
    _age_records(db, 30)
    _post(client, route, admin, "recent", route.other_body)
    assert idempotency.purge(database, retention_hours=24) == 1
    remaining = db.scalars(select(IdempotencyRecord.idempotency_key)).all()
    assert remaining == ["recent"]


def _raw_post(client: TestClient, route: CreateRoute, headers: dict[str, str], text: str) -> Any:
    return client.post(
        route.path,
        content=text.encode(),
        headers={**headers, "Idempotency-Key": "k-canon", "Content-Type": "application/json"},
    )


def test_the_same_json_reindented_and_reordered_is_a_replay(
    client: TestClient, route: CreateRoute, admin: dict[str, str]
) -> None:
    """The JSON value is compared, not its bytes: a retry that re-serialises the body (other
    indentation, other key order) is the same request."""
    first = _raw_post(client, route, admin, json.dumps(route.body))
    reordered = dict(reversed(list(route.body.items())))
    second = _raw_post(client, route, admin, json.dumps(reordered, indent=4))
    assert first.status_code == 201, first.text
    assert (second.status_code, second.headers["Idempotent-Replayed"]) == (201, "true")
    assert second.json()["id"] == first.json()["id"]


def test_the_same_number_written_otherwise_is_a_replay(
    client: TestClient, db: Session, admin: dict[str, str]
) -> None:
    route = _prices(db)
    first = _raw_post(client, route, admin, '{"effective_from": "2026-01-01", "unit_price": 1.3}')
    second = _raw_post(client, route, admin, '{"unit_price": 1.30, "effective_from": "2026-01-01"}')
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert second.json()["id"] == first.json()["id"]


def test_a_changed_value_is_still_a_409(
    client: TestClient, db: Session, admin: dict[str, str]
) -> None:
    route = _prices(db)
    _raw_post(client, route, admin, '{"effective_from": "2026-01-01", "unit_price": 1.3}')
    second = _raw_post(client, route, admin, '{"effective_from": "2026-01-01", "unit_price": 1.31}')
    assert second.status_code == 409


def test_canonical_json_ignores_layout_but_not_values() -> None:
    def canon(text: str) -> str:
        return idempotency.canonical_json(json.loads(text, parse_float=Decimal, parse_int=Decimal))

    assert canon('{"b": [1, 2.50], "a": "x"}') == canon('{ "a":"x","b":[1.0,2.5] }')
    assert canon('{"a": 1}') != canon('{"a": "1"}')
    assert canon('{"a": 0.1000000000000000001}') != canon('{"a": 0.1}')


def test_a_bulk_body_over_the_cap_is_compared_as_bytes() -> None:
    """Parsing a bulk upload twice would double the largest requests' memory: past the cap
    the bytes are the fingerprint, below it the value."""
    small = b'{"b": 1,  "a": 2}'
    assert idempotency._canonical_body(small, "application/json") == b'{"a":2,"b":1}'
    big = b'{"records": [' + b" " * idempotency.CANONICAL_JSON_MAX_BYTES + b"]}"
    assert idempotency._canonical_body(big, "application/json") is big
    assert idempotency._canonical_body(small, "text/csv") is small
