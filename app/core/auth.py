"""API keys, roles and client scoping.

A key is `plk_<random>`; the database keeps only its SHA-256. Roles, from `api.md`:
`admin` (everything), `client` (bound to one client: its own data only), `billing` (invoices),
`ops` (read-only, all clients), `feed` (an ACD or telephony platform: posts and reads actual
volumes and nothing else, optionally bound to one client). Routes declare who may call them
with the typed dependencies at the bottom (`AdminKey`, `ReaderKey`, …); object-level scoping
is `Principal.ensure_can_see`.
"""

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.core.errors import Forbidden, NotFound, Unauthorized
from app.core.keycache import ExpiringCache
from app.core.orm import utc_now
from app.core.tables import ApiKey

KEY_PREFIX = "plk_"


class Role(StrEnum):
    ADMIN = "admin"
    CLIENT = "client"
    BILLING = "billing"
    OPS = "ops"
    FEED = "feed"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id, its role and, for `client` keys (and `feed` keys bound to
    one), the one client it serves."""

    key_id: str | None
    role: str
    client_id: str | None = None

    def ensure_can_see(self, client_id: str, what: str, object_id: str) -> None:
        """A client key asking for another client's object gets the same 404 as a missing one,
        so that ids cannot be probed."""
        if self.client_id is not None and self.client_id != client_id:
            raise NotFound(f"No {what} with id {object_id}.")

    @property
    def scoped_client_id(self) -> str | None:
        """The client a listing must be restricted to, or None for all clients."""
        return self.client_id


SYSTEM = Principal(key_id=None, role="system")
"""The actor for work started from the command line rather than through an API key."""


@dataclass(frozen=True)
class IssuedKey:
    id: str
    secret: str
    role: str
    client_id: str | None


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_key(
    session: Session, role: Role, client_id: str | None = None, label: str | None = None
) -> IssuedKey:
    """Create a key and return its secret, which is never stored and cannot be shown again."""
    if role == Role.CLIENT and client_id is None:
        raise ValueError("a client key needs --client-id")
    if role not in (Role.CLIENT, Role.FEED) and client_id is not None:
        raise ValueError("only client and feed keys take --client-id")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        key_hash=hash_key(secret),
        prefix=secret[:12],
        role=role.value,
        client_id=client_id,
        label=label,
    )
    session.add(row)
    session.flush()
    return IssuedKey(id=row.id, secret=secret, role=row.role, client_id=client_id)


def revoke_key(session: Session, key_id: str) -> bool:
    """Revoke a key; False when no such active key exists."""
    row = session.get(ApiKey, key_id)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utc_now()
    session.flush()
    _forget_now_and_on_commit(session, row.key_hash)
    return True


KEY_CACHE: ExpiringCache[Principal] = ExpiringCache(seconds=5)
"""Principals of active keys by key hash (`app.core.keycache` says how revocation propagates);
`create_app` sets its lifetime from the settings."""


def _forget_now_and_on_commit(session: Session, key_hash: str) -> None:
    """Forget the key now, and again once the revocation commits: a request of this process
    that read the key before the commit may have cached it meanwhile."""
    KEY_CACHE.forget(key_hash)
    event.listen(session, "after_commit", lambda _session: KEY_CACHE.forget(key_hash), once=True)


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def find_active_key(session: Session, secret: str) -> ApiKey | None:
    return session.scalars(
        select(ApiKey).where(ApiKey.key_hash == hash_key(secret), ApiKey.revoked_at.is_(None))
    ).first()


def active_key_by_id(session: Session, key_id: str) -> ApiKey | None:
    """The key with this id unless it was revoked (dashboard sessions are bound to a key)."""
    key = session.get(ApiKey, key_id)
    return key if key is not None and key.revoked_at is None else None


def principal_of(key: ApiKey) -> Principal:
    return Principal(key_id=key.id, role=key.role, client_id=key.client_id)


def _bearer_secret(authorization: str | None) -> str:
    scheme, _, secret = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("Send an API key as `Authorization: Bearer <key>`.")
    return secret.strip()


def cached_principal(authorization: str | None) -> Principal | None:
    """The caller behind an `Authorization` header if its key is in `KEY_CACHE` (no query, so
    the event loop may call it), None when the database must be asked; a 401 problem for a
    header that names no bearer key."""
    return KEY_CACHE.get(hash_key(_bearer_secret(authorization)))


def principal_from_header(session: Session, authorization: str | None) -> Principal:
    """The caller behind an `Authorization` header, or a 401 problem."""
    secret = _bearer_secret(authorization)
    principal = KEY_CACHE.get(hash_key(secret))
    if principal is None:
        key = find_active_key(session, secret)
        if key is None:
            raise Unauthorized("The API key is unknown or has been revoked.")
        principal = principal_of(key)
        KEY_CACHE.put(key.key_hash, principal)
    return principal


class RoleCheck(SecurityBase):
    """The dependency behind `AdminKey`, `ReaderKey`…: the caller, admitted only with one of
    its roles (any other valid key gets a 403).

    The `/v1` route class has already authenticated the caller before reading the body
    (`routing`), so that a caller without a valid key learns nothing from body errors; this
    reads what it found. Being a `SecurityBase`, the same one dependency declares the bearer
    scheme in OpenAPI: a role check that depended on an authenticating dependency, itself on
    the session and on FastAPI's `HTTPBearer`, cost the dependency solver four levels per
    request (a twelfth of a single read) to hand over a principal already known. Async, like
    every dependency that does no I/O of its own: a sync one costs a thread hop."""

    def __init__(self, roles: tuple[Role, ...]) -> None:
        self.model = HTTPBearerModel(description="An API key created with `plancher keys create`.")
        self.scheme_name = "HTTPBearer"
        self.allowed = frozenset(role.value for role in roles)

    async def __call__(self, request: Request) -> Principal:
        principal: Principal | None = getattr(request.state, "principal", None)
        if principal is None:
            raise RuntimeError("a role check runs only in a route of `routing.TransactionalRoute`")
        if principal.role not in self.allowed:
            raise Forbidden(
                f"This operation needs one of the roles {', '.join(sorted(self.allowed))}; "
                f"the key has role {principal.role}."
            )
        return principal


def require(*roles: Role) -> Any:
    """A dependency admitting only `roles` (`RoleCheck`)."""
    return Depends(RoleCheck(roles))


AdminKey = Annotated[Principal, require(Role.ADMIN)]
ReaderKey = Annotated[Principal, require(Role.ADMIN, Role.OPS, Role.BILLING, Role.CLIENT)]
VolumeWriterKey = Annotated[Principal, require(Role.ADMIN, Role.FEED)]
VolumeReaderKey = Annotated[
    Principal, require(Role.ADMIN, Role.OPS, Role.BILLING, Role.CLIENT, Role.FEED)
]
PERSON_ROLES = frozenset({Role.ADMIN, Role.OPS, Role.BILLING, Role.CLIENT})
"""The roles of people (the dashboard, the staffing calculator); a `feed` key is a machine's."""
