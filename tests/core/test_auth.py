"""The auth matrix of api.md: 401 without a valid key, 403 for the wrong role, 404 for another
client's object (indistinguishable from a missing one), and keys stored only as hashes."""

import hashlib
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.contracts.tables import Client
from app.core.auth import Role, issue_key, revoke_key

from factories import bearer, make_activity, make_client, make_contract

PROBLEM = "application/problem+json"


def _headers(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@dataclass
class Tenant:
    client_id: str
    contract_id: str
    activity_id: str


def _tenant(db: Session, name: str) -> Tenant:
    client = make_client(db, name=name)
    contract = make_contract(db, client)
    activity = make_activity(db, contract)
    return Tenant(client.id, contract.id, activity.id)


@pytest.fixture
def mine(db: Session) -> Tenant:
    return _tenant(db, "Mine SA")


@pytest.fixture
def theirs(db: Session) -> Tenant:
    return _tenant(db, "Theirs SAS")


# 401: no key, unknown key, revoked key, another scheme


def test_request_without_authorization_is_a_401_problem(client: TestClient) -> None:
    response = client.get("/v1/clients")
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM


def test_request_without_authorization_asks_for_bearer(client: TestClient) -> None:
    response = client.get("/v1/clients")
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_unknown_key_is_a_401_problem_asking_for_bearer(client: TestClient) -> None:
    response = client.get("/v1/clients", headers=_headers("plk_not-a-key-this-service-issued"))
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_valid_key_is_accepted(client: TestClient, db: Session) -> None:
    """The contrast for the 401 cases: the same request with a live key succeeds."""
    issued = issue_key(db, Role.ADMIN)
    assert client.get("/v1/clients", headers=_headers(issued.secret)).status_code == 200


def test_revoked_key_is_401(client: TestClient, db: Session) -> None:
    issued = issue_key(db, Role.ADMIN)
    assert client.get("/v1/clients", headers=_headers(issued.secret)).status_code == 200
    assert revoke_key(db, issued.id)
    response = client.get("/v1/clients", headers=_headers(issued.secret))
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM


def test_valid_secret_under_another_scheme_is_401(client: TestClient, db: Session) -> None:
    issued = issue_key(db, Role.ADMIN)
    response = client.get("/v1/clients", headers={"Authorization": f"Basic {issued.secret}"})
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM


def test_bearer_scheme_is_case_insensitive(client: TestClient, db: Session) -> None:
    """RFC 9110 §11.1: auth schemes are case-insensitive."""
    issued = issue_key(db, Role.ADMIN)
    response = client.get("/v1/clients", headers={"Authorization": f"bearer {issued.secret}"})
    assert response.status_code == 200


def test_bare_secret_without_scheme_is_401(client: TestClient, db: Session) -> None:
    issued = issue_key(db, Role.ADMIN)
    response = client.get("/v1/clients", headers={"Authorization": issued.secret})
    assert response.status_code == 401


def test_unauthenticated_write_creates_nothing(client: TestClient, db: Session) -> None:
    before = db.scalar(select(func.count()).select_from(Client))
    response = client.post("/v1/clients", json={"name": "Intruder"})
    assert response.status_code == 401
    assert db.scalar(select(func.count()).select_from(Client)) == before


# 403: a valid key of another role on an admin-only write


def _admin_writes(t: Tenant) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("POST", "/v1/clients", {"name": "New client"}),
        (
            "POST",
            "/v1/contracts",
            {"client_id": t.client_id, "reference": "R-2", "starts_on": "2026-01-01"},
        ),
        ("PATCH", f"/v1/contracts/{t.contract_id}", {"trigger_ratio": "0.80"}),
        (
            "POST",
            f"/v1/contracts/{t.contract_id}/activities",
            {"name": "Chat", "channel": "chat", "interval_minutes": 15, "billing_unit": "contact"},
        ),
        ("PATCH", f"/v1/activities/{t.activity_id}", {"name": "Renamed"}),
        (
            "POST",
            f"/v1/activities/{t.activity_id}/prices",
            {"effective_from": "2027-01-01", "unit_price": "1.30"},
        ),
    ]


ADMIN_WRITES = [
    "POST /v1/clients",
    "POST /v1/contracts",
    "PATCH /v1/contracts/{id}",
    "POST /v1/contracts/{id}/activities",
    "PATCH /v1/activities/{id}",
    "POST /v1/activities/{id}/prices",
]


def _key_of(db: Session, role: Role, tenant: Tenant) -> dict[str, str]:
    return bearer(db, role, tenant.client_id if role == Role.CLIENT else None)


@pytest.mark.parametrize("write", range(len(ADMIN_WRITES)), ids=ADMIN_WRITES)
@pytest.mark.parametrize("role", [Role.OPS, Role.BILLING, Role.CLIENT])
def test_non_admin_key_on_admin_write_is_403(
    client: TestClient, db: Session, mine: Tenant, role: Role, write: int
) -> None:
    """A client key is bound to `mine`, so the 403 is about the role, not about scoping."""
    method, path, body = _admin_writes(mine)[write]
    response = client.request(method, path, json=body, headers=_key_of(db, role, mine))
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize("write", range(len(ADMIN_WRITES)), ids=ADMIN_WRITES)
def test_admin_key_on_admin_write_succeeds(
    client: TestClient, db: Session, mine: Tenant, write: int
) -> None:
    """The contrast for the 403s: the very same requests pass with an admin key."""
    method, path, body = _admin_writes(mine)[write]
    response = client.request(method, path, json=body, headers=bearer(db, Role.ADMIN))
    assert response.status_code in (200, 201), response.text


def test_forbidden_write_names_the_missing_role(client: TestClient, db: Session) -> None:
    response = client.post("/v1/clients", json={"name": "X"}, headers=bearer(db, Role.OPS))
    assert "admin" in response.json()["detail"]


def test_forbidden_write_creates_nothing(client: TestClient, db: Session) -> None:
    before = db.scalar(select(func.count()).select_from(Client))
    response = client.post("/v1/clients", json={"name": "X"}, headers=bearer(db, Role.OPS))
    assert response.status_code == 403
    assert db.scalar(select(func.count()).select_from(Client)) == before


# 404: a client key never learns that another client's object exists

SCOPED_READS = [
    ("/v1/clients/{id}", "client_id", "cli"),
    ("/v1/contracts/{id}", "contract_id", "ctr"),
    ("/v1/activities/{id}", "activity_id", "act"),
    ("/v1/activities/{id}/prices", "activity_id", "act"),
    ("/v1/contracts/{id}/activities", "contract_id", "ctr"),
]
SCOPED_IDS = [path for path, _, _ in SCOPED_READS]
MISSING_SUFFIX = "_00000000000000000000000000"


@pytest.mark.parametrize(("path", "attribute", "prefix"), SCOPED_READS, ids=SCOPED_IDS)
def test_another_clients_object_looks_exactly_like_a_missing_one(
    client: TestClient,
    db: Session,
    mine: Tenant,
    theirs: Tenant,
    path: str,
    attribute: str,
    prefix: str,
) -> None:
    headers = _key_of(db, Role.CLIENT, mine)
    other_id = getattr(theirs, attribute)
    missing_id = prefix + MISSING_SUFFIX
    other = client.get(path.format(id=other_id), headers=headers)
    missing = client.get(path.format(id=missing_id), headers=headers)
    assert missing.status_code == other.status_code == 404
    assert other.headers["content-type"] == missing.headers["content-type"] == PROBLEM
    assert other.text.replace(other_id, "ID") == missing.text.replace(missing_id, "ID")


@pytest.mark.parametrize(("path", "attribute", "prefix"), SCOPED_READS, ids=SCOPED_IDS)
def test_client_key_reads_its_own_objects(
    client: TestClient,
    db: Session,
    mine: Tenant,
    theirs: Tenant,
    path: str,
    attribute: str,
    prefix: str,
) -> None:
    own_id = getattr(mine, attribute)
    response = client.get(path.format(id=own_id), headers=_key_of(db, Role.CLIENT, mine))
    assert response.status_code == 200


@pytest.mark.parametrize(("path", "attribute", "prefix"), SCOPED_READS, ids=SCOPED_IDS)
@pytest.mark.parametrize("role", [Role.OPS, Role.BILLING])
def test_unscoped_role_reads_any_clients_object(
    client: TestClient,
    db: Session,
    mine: Tenant,
    theirs: Tenant,
    role: Role,
    path: str,
    attribute: str,
    prefix: str,
) -> None:
    response = client.get(path.format(id=getattr(theirs, attribute)), headers=bearer(db, role))
    assert response.status_code == 200


def _ids(response: Any) -> set[str]:
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


def test_client_key_lists_only_its_own_client(
    client: TestClient, db: Session, mine: Tenant, theirs: Tenant
) -> None:
    response = client.get("/v1/clients", headers=_key_of(db, Role.CLIENT, mine))
    assert _ids(response) == {mine.client_id}


def test_client_key_lists_only_its_own_contracts(
    client: TestClient, db: Session, mine: Tenant, theirs: Tenant
) -> None:
    response = client.get("/v1/contracts", headers=_key_of(db, Role.CLIENT, mine))
    assert _ids(response) == {mine.contract_id}


def test_client_key_filtering_contracts_by_another_client_gets_none(
    client: TestClient, db: Session, mine: Tenant, theirs: Tenant
) -> None:
    response = client.get(
        "/v1/contracts",
        params={"client_id": theirs.client_id},
        headers=_key_of(db, Role.CLIENT, mine),
    )
    assert _ids(response) == set()


@pytest.mark.parametrize("role", [Role.OPS, Role.BILLING])
def test_unscoped_role_lists_every_client(
    client: TestClient, db: Session, mine: Tenant, theirs: Tenant, role: Role
) -> None:
    response = client.get("/v1/clients", headers=bearer(db, role))
    assert {mine.client_id, theirs.client_id} <= _ids(response)


@pytest.mark.parametrize("role", [Role.OPS, Role.BILLING])
def test_unscoped_role_lists_every_contract(
    client: TestClient, db: Session, mine: Tenant, theirs: Tenant, role: Role
) -> None:
    response = client.get("/v1/contracts", headers=bearer(db, role))
    assert {mine.contract_id, theirs.contract_id} <= _ids(response)


# Keys at rest


def test_key_secret_is_stored_in_no_column(db: Session) -> None:
    issued = issue_key(db, Role.ADMIN, label="ci")
    row = db.execute(text("SELECT * FROM api_keys WHERE id = :id"), {"id": issued.id}).one()
    assert all(issued.secret not in str(value) for value in row)


def test_key_secret_is_stored_as_its_sha256(db: Session) -> None:
    issued = issue_key(db, Role.ADMIN)
    stored = db.execute(
        text("SELECT key_hash FROM api_keys WHERE id = :id"), {"id": issued.id}
    ).scalar_one()
    assert stored == hashlib.sha256(issued.secret.encode()).hexdigest()
