"""The route class every `/v1` router uses: authentication first, one transaction per request,
idempotent creates.

Every `/v1` operation needs a key, and the key is checked before the body is read: a caller
without a valid key gets its 401 whatever it sent, and learns nothing from body errors.

FastAPI's dependency-with-yield would also commit, but its exit code may run after the response
has been sent, so a failed commit could follow a 201. Owning the transaction around the endpoint
means the response leaves only once its writes are durable, and lets the idempotency record be
written in the same transaction as the objects it reports.
"""

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from app.core import idempotency
from app.core.auth import principal_from_header
from app.core.db import Database
from app.core.tables import IdempotencyRecord

_READ_METHODS = {"GET", "HEAD", "OPTIONS"}


class TransactionalRoute(APIRoute):
    """Wrap the endpoint in a session that commits on success and rolls back otherwise."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        if "POST" in (self.methods or ()):  # every POST takes an Idempotency-Key: say so in OpenAPI
            extra = dict(self.openapi_extra or {})
            extra["parameters"] = [*extra.get("parameters", []), idempotency.PARAMETER]
            self.openapi_extra = extra

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint_handler = super().get_route_handler()

        async def handler(request: Request) -> Response:
            database: Database = request.app.state.database
            session = database.session(write=request.method not in _READ_METHODS)
            request.state.db = session
            try:
                return await _run(request, session, database, endpoint_handler)
            except BaseException:
                await run_in_threadpool(session.rollback)
                raise
            finally:
                await run_in_threadpool(session.close)

        return handler


async def _run(
    request: Request,
    session: Session,
    database: Database,
    endpoint_handler: Callable[[Request], Awaitable[Response]],
) -> Response:
    principal = await run_in_threadpool(
        principal_from_header, session, request.headers.get("authorization")
    )
    request.state.principal = principal
    key = idempotency.requested_key(request)
    api_key_id = principal.key_id
    if key is None or api_key_id is None:
        response = await endpoint_handler(request)
        await run_in_threadpool(_finish, session, response)
        return response

    request_fingerprint = idempotency.fingerprint(request, await request.body())
    retention_hours = request.app.state.settings.idempotency_retention_hours
    await run_in_threadpool(idempotency.forget_expired, session, api_key_id, key, retention_hours)
    stored = await run_in_threadpool(idempotency.find, session, api_key_id, key)
    if stored is not None:
        return idempotency.replay(stored, request_fingerprint)
    response = await endpoint_handler(request)
    if response.status_code >= 400:
        await run_in_threadpool(session.rollback)
        return response
    try:
        await run_in_threadpool(
            idempotency.remember, session, api_key_id, key, request, request_fingerprint, response
        )
        await run_in_threadpool(session.commit)
    except IntegrityError:
        # A concurrent request with the same key committed first: ours is rolled back whole
        # and the caller gets the winner's response, exactly as if it had come second.
        await run_in_threadpool(session.rollback)
        winner = await run_in_threadpool(_find_committed, database, api_key_id, key)
        if winner is None:
            raise
        return idempotency.replay(winner, request_fingerprint)
    return response


def _finish(session: Session, response: Response) -> None:
    if response.status_code < 400:
        session.commit()
    else:
        session.rollback()


def _find_committed(database: Database, api_key_id: str, key: str) -> IdempotencyRecord | None:
    with database.session(write=False) as fresh:
        return idempotency.find(fresh, api_key_id, key)
