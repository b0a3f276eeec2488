"""`Idempotency-Key` for every create, implemented once for all routes.

The first successful response to (API key, Idempotency-Key) is stored in the same transaction as
the writes it reports, so a replay can never describe something that was rolled back. The same
key with the same request replays that response; with another request it is a 409.

A key is remembered for the retention period (`PLANCHER_IDEMPOTENCY_RETENTION_HOURS`, 24 h by
default, as payment APIs do): long enough for any client's retries, short enough that the
records do not pile up. An expired record is deleted when its key comes back, and `purge`
(run at start-up and by `plancher idempotency purge`) deletes all expired ones.
"""

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from app.core.db import Database, session_scope
from app.core.errors import BadRequest, IdempotencyConflict
from app.core.orm import utc_now
from app.core.tables import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255


def requested_key(request: Request) -> str | None:
    """The key of a POST that carries one; keys are only meaningful on creates."""
    if request.method != "POST":
        return None
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise BadRequest(f"{HEADER} must be 1 to {MAX_KEY_LENGTH} visible characters.")
    return key


def fingerprint(request: Request, body: bytes) -> str:
    """What makes two requests "the same": method, path, query, content type and body."""
    digest = hashlib.sha256()
    for part in (
        request.method,
        request.url.path,
        request.url.query,
        request.headers.get("content-type", ""),
    ):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(body)
    return digest.hexdigest()


PARAMETER = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    "description": (
        "Makes a retry safe: the same key with the same request, from the same API key, replays "
        f"the first successful response (marked `{REPLAY_HEADER}: true`) instead of acting "
        "twice; the same key with another request is a 409. Keys are remembered for "
        "`PLANCHER_IDEMPOTENCY_RETENTION_HOURS` (24 h by default)."
    ),
}
"""The header as the OpenAPI document of every POST operation describes it."""


def cutoff(retention_hours: int) -> datetime:
    """Records created before this instant have expired."""
    return utc_now() - timedelta(hours=retention_hours)


def forget_expired(session: Session, api_key_id: str, key: str, retention_hours: int) -> None:
    """Delete this key's record if it has expired, so that the key acts afresh and its new
    response can be remembered under the same unique pair."""
    session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.api_key_id == api_key_id,
            IdempotencyRecord.idempotency_key == key,
            IdempotencyRecord.created_at < cutoff(retention_hours),
        )
    )


def find(session: Session, api_key_id: str, key: str) -> IdempotencyRecord | None:
    return session.scalars(
        select(IdempotencyRecord).where(
            IdempotencyRecord.api_key_id == api_key_id, IdempotencyRecord.idempotency_key == key
        )
    ).first()


def purge(database: Database, retention_hours: int) -> int:
    """Delete every expired record; returns how many."""
    with session_scope(database) as session:
        return purge_in(session, retention_hours)


def purge_in(session: Session, retention_hours: int) -> int:
    """`purge` in the caller's transaction (the schedule's)."""
    result = session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff(retention_hours))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def replay(record: IdempotencyRecord, request_fingerprint: str) -> Response:
    if record.fingerprint != request_fingerprint:
        raise IdempotencyConflict(
            f"{HEADER} was already used by this API key for a different request "
            f"({record.method} {record.path}); use a new key for a new request."
        )
    return Response(
        content=record.response_body,
        status_code=record.status_code,
        media_type=record.media_type,
        headers={REPLAY_HEADER: "true"},
    )


def remember(
    session: Session,
    api_key_id: str,
    key: str,
    request: Request,
    request_fingerprint: str,
    response: Response,
) -> None:
    session.add(
        IdempotencyRecord(
            api_key_id=api_key_id,
            idempotency_key=key,
            fingerprint=request_fingerprint,
            method=request.method,
            path=request.url.path,
            status_code=response.status_code,
            media_type=response.media_type or "application/json",
            response_body=bytes(response.body).decode(),
        )
    )
    session.flush()
