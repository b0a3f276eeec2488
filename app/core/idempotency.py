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
import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

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
    """What makes two requests "the same": method, path, query, media type and body, a JSON
    body compared as the value it parses to (whitespace and key order do not matter)."""
    digest = hashlib.sha256()
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    for part in (request.method, request.url.path, request.url.query, media_type):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(_canonical_body(body, media_type))
    return digest.hexdigest()


CANONICAL_JSON_MAX_BYTES = 8 * 1024 * 1024
"""Larger JSON bodies (bulk volume uploads) are compared as bytes: parsing one twice would
double the memory of the largest requests, and a client retrying a bulk upload resends the
same bytes anyway."""


def _canonical_body(body: bytes, media_type: str) -> bytes:
    is_json = media_type == "application/json" or media_type.endswith("+json")
    if not is_json or len(body) > CANONICAL_JSON_MAX_BYTES:
        return body
    try:
        value = json.loads(body, parse_float=Decimal, parse_int=Decimal)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return body
    return canonical_json(value).encode()


def canonical_json(value: Any) -> str:
    """One text per JSON value: keys sorted, no whitespace, numbers as normalised decimals
    (`1.10` and `1.1` are the same number). Written here rather than taken from an RFC 8785
    library because those read numbers as binary floats, which would make two amounts that
    differ beyond 17 digits the "same" request and replay the wrong response."""
    if isinstance(value, dict):
        items = sorted(value.items())
        return "{" + ",".join(f"{json.dumps(k)}:{canonical_json(v)}" for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(canonical_json(item) for item in value) + "]"
    if isinstance(value, Decimal):
        return str(value.normalize()) if value else "0"
    return json.dumps(value, ensure_ascii=False)


PARAMETER = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    "description": (
        "Makes a retry safe: the same key with the same request, from the same API key, replays "
        f"the first successful response (marked `{REPLAY_HEADER}: true`) instead of acting "
        "twice; the same key with another request is a 409. A JSON body is compared as the "
        "value it parses to (whitespace, key order and `1.10` against `1.1` do not matter; "
        "bodies over 8 MiB are compared as bytes). Keys are remembered for "
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
