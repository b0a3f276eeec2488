"""API keys, roles and client scoping.

A key is `plk_<random>`; the database keeps only its SHA-256. Roles, from `api.md`:
`admin` (everything), `client` (bound to one client: its own data only), `billing` (invoices),
`ops` (read-only, all clients). Routes declare who may call them with the typed dependencies at
the bottom (`AdminKey`, `ReaderKey`, …); object-level scoping is `Principal.ensure_can_see`.
"""

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.db import SessionDep
from app.core.errors import Forbidden, NotFound, Unauthorized
from app.core.orm import utc_now
from app.core.tables import ApiKey

KEY_PREFIX = "plk_"


class Role(StrEnum):
    ADMIN = "admin"
    CLIENT = "client"
    BILLING = "billing"
    OPS = "ops"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id, its role and, for `client` keys, the one client it serves."""

    key_id: str | None
    role: str
    client_id: str | None = None

    def ensure_can_see(self, client_id: str, what: str, object_id: str) -> None:
        """A client key asking for another client's object gets the same 404 as a missing one,
        so that ids cannot be probed."""
        if self.role == Role.CLIENT and self.client_id != client_id:
            raise NotFound(f"No {what} with id {object_id}.")

    @property
    def scoped_client_id(self) -> str | None:
        """The client a listing must be restricted to, or None for all clients."""
        return self.client_id if self.role == Role.CLIENT else None


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
    if (role == Role.CLIENT) != (client_id is not None):
        raise ValueError("a client key needs --client-id, and only client keys take one")
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
    return True


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


_bearer = HTTPBearer(
    auto_error=False, description="An API key created with `plancher keys create`."
)


def principal_from_header(session: Session, authorization: str | None) -> Principal:
    """The caller behind an `Authorization` header, or a 401 problem."""
    scheme, _, secret = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("Send an API key as `Authorization: Bearer <key>`.")
    key = find_active_key(session, secret.strip())
    if key is None:
        raise Unauthorized("The API key is unknown or has been revoked.")
    return principal_of(key)


def authenticate(
    request: Request,
    session: SessionDep,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller. The `/v1` route class has already authenticated it before reading the body
    (`routing`), so that a caller without a valid key learns nothing from body errors; a route
    outside that class is authenticated here. `_credentials` declares the scheme in OpenAPI."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        principal = principal_from_header(session, request.headers.get("authorization"))
        request.state.principal = principal
    return principal


def require(*roles: Role) -> Any:
    """A dependency admitting only `roles`; any other valid key gets a 403."""
    allowed = {role.value for role in roles}

    def check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(
                f"This operation needs one of the roles {', '.join(sorted(allowed))}; "
                f"the key has role {principal.role}."
            )
        return principal

    return Depends(check)


AnyKey = Annotated[Principal, Depends(authenticate)]
AdminKey = Annotated[Principal, require(Role.ADMIN)]
ReaderKey = Annotated[Principal, require(Role.ADMIN, Role.OPS, Role.BILLING, Role.CLIENT)]
