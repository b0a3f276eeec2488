"""`Idempotency-Key` for every create, implemented once for all routes.

The first successful response to (API key, Idempotency-Key) is stored in the same transaction as
the writes it reports, so a replay can never describe something that was rolled back. The same
key with the same request replays that response; with another request it is a 409.
"""

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from app.core.errors import BadRequest, IdempotencyConflict
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


def find(session: Session, api_key_id: str, key: str) -> IdempotencyRecord | None:
    return session.scalars(
        select(IdempotencyRecord).where(
            IdempotencyRecord.api_key_id == api_key_id, IdempotencyRecord.idempotency_key == key
        )
    ).first()


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
