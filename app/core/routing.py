"""The route class every `/v1` router uses: authentication first, then the body's media type
(`media`), one transaction per request, idempotent creates, and schema errors completed by the
route's checks (`checks`).

Every `/v1` operation needs a key, and the key is checked before the body is read: a caller
without a valid key gets its 401 whatever it sent, and learns nothing from body errors.

FastAPI's dependency-with-yield would also commit, but its exit code may run after the response
has been sent, so a failed commit could follow a 201. Owning the transaction around the endpoint
means the response leaves only once its writes are durable, and lets the idempotency record be
written in the same transaction as the objects it reports.

Each blocking step of a request costs a hop to a worker thread and back, and under load the
hops, not the queries, were most of a read's time. So a request makes as few as it can: the
key comes from the in-process cache on the event loop (`auth.KEY_CACHE`; a thread only on a
miss), the dependencies are async, and a sync endpoint runs in one thread together with the end
of a read's transaction (commit and close), its response then validated and encoded on the
loop. A read is one hop; a write is two (the endpoint, then commit and close).

A quick read (`quick_read`) on a SQLite file makes none: it runs on the loop. Its work is a
few indexed rows, well under the interpreter's switch interval (5 ms), so in a thread it would
have held the GIL, and kept the loop waiting, just as long; the hop only added its own cost,
which was more than the read's. Measured with wrk on 2 cores: a bare one-row ORM read answered
twice as many requests per second on the loop as in a thread, the contract read 43 % more
(server CPU per request 1.75 -> 1.15 ms: the threads' GIL hand-offs across cores were a quarter
of it, in system time). With the other core busy, the hand-offs are cheap and the thread was
12 % faster; the loop's figure is the same in both cases.

On PostgreSQL too, a quick read runs on the loop, while the database answers: the read then
waits on the server with the loop, but the hop and its hand-offs cost more (`core.db.Database`
says how the waits are bounded). Once a request failed to reach the database (`core.outage`),
reads go back to threads until one reaches it again, on both databases: during an outage, a
wait stalls only its own request.
"""

import functools
import inspect
from collections.abc import Awaitable, Callable, Coroutine
from contextvars import ContextVar
from typing import Any, TypeVar, cast

from fastapi.routing import APIRoute
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from app.core import checks, idempotency, media
from app.core.auth import cached_principal, principal_from_header
from app.core.db import Database, SessionDep
from app.core.outage import Outage
from app.core.snapshots import mark_read_only
from app.core.tables import IdempotencyRecord

T = TypeVar("T")

_READ_METHODS = {"GET", "HEAD", "OPTIONS"}
_QUICK_READ = "plancher_quick_read"

EndpointT = TypeVar("EndpointT", bound=Callable[..., Any])
RequestTest = Callable[[Request], bool]


def quick_read(endpoint: EndpointT) -> EndpointT:
    """Mark a read endpoint quick: it answers from a few indexed rows (one object, a page of at
    most 500, or one contract's figures for one period: its shortfall, its comparison, about a
    millisecond of reads with the statements built once), so it runs on the event loop, with no
    thread hop (see the module's docstring). Whatever may take longer (aggregations over a
    caller's range, documents rendered) stays in a thread, where the database's own work runs
    without the GIL and the interpreter's switch interval lets other requests through."""
    return quick_read_when(_always)(endpoint)


def quick_read_when(test: RequestTest) -> Callable[[EndpointT], EndpointT]:
    """Mark a read endpoint quick for the requests that pass `test`: a page of raw rows, say,
    where another granularity of the same endpoint aggregates a range of the caller's."""

    def mark(endpoint: EndpointT) -> EndpointT:
        setattr(endpoint, _QUICK_READ, test)
        return endpoint

    return mark


def _always(_request: Request) -> bool:
    return True


def _quick_read_test(endpoint: Callable[..., Any]) -> RequestTest | None:
    test: RequestTest | None = getattr(endpoint, _QUICK_READ, None)
    return test


class _Transaction:
    """The request's session, whether it runs on the event loop, and whether its transaction
    has been ended already."""

    def __init__(self, session: Session, read: bool, on_the_loop: bool) -> None:
        self.session = session
        self.read = read
        self.on_the_loop = on_the_loop
        self.ended = False

    def end(self, commit: bool) -> None:
        """Commit (or roll back) and close, in the calling thread: one hop for both."""
        try:
            if commit:
                self.session.commit()
            else:
                self.session.rollback()
        finally:
            self.ended = True
            self.session.close()

    async def blocking(self, work: Callable[..., T], *args: Any) -> T:
        """`work(*args)`, a blocking step on the session: on the loop for a quick read, else
        in a worker thread."""
        if self.on_the_loop:
            return work(*args)
        return await run_in_threadpool(work, *args)


_CURRENT: ContextVar[_Transaction | None] = ContextVar("plancher_transaction", default=None)
"""The request's transaction, for a sync endpoint's thread (anyio copies the context)."""


def _in_one_hop(endpoint: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """The sync `endpoint` as a coroutine that runs it in a worker thread and, for a read,
    ends the transaction in the same thread. FastAPI reads the parameters through
    `__wrapped__`, and validates the response of a coroutine on the loop, without a hop."""

    @functools.wraps(endpoint)
    async def endpoint_in_a_thread(*args: Any, **kwargs: Any) -> Any:
        transaction = _CURRENT.get()
        if transaction is not None and transaction.on_the_loop:
            return _call(endpoint, args, kwargs)
        return await run_in_threadpool(_call, endpoint, args, kwargs)

    return endpoint_in_a_thread


def _given_the_session(endpoint: EndpointT) -> EndpointT:
    """`endpoint` with its `SessionDep` parameters filled from the request's transaction, out
    of FastAPI's sight: as a dependency, the session cost FastAPI's solver a level of its own
    on every request, to hand over what the route class opened (8 us of the solver's 38 for a
    contract read, in-process). What else asks for `SessionDep` (a dependency of the
    endpoint's) still gets it from FastAPI, and it is the same session."""
    signature = inspect.signature(endpoint, eval_str=True)
    parameters = signature.parameters
    names = [name for name, parameter in parameters.items() if parameter.annotation == SessionDep]
    if not names:
        return endpoint
    if inspect.iscoroutinefunction(endpoint):

        @functools.wraps(endpoint)
        async def given(*args: Any, **kwargs: Any) -> Any:
            return await endpoint(*args, **kwargs, **_sessions(names))

    else:

        @functools.wraps(endpoint)
        def given(*args: Any, **kwargs: Any) -> Any:
            return endpoint(*args, **kwargs, **_sessions(names))

    kept = [parameter for name, parameter in parameters.items() if name not in names]
    given.__signature__ = signature.replace(parameters=kept)  # type: ignore[attr-defined]
    return cast(EndpointT, given)


def _sessions(names: list[str]) -> dict[str, Session]:
    transaction = _CURRENT.get()
    if transaction is None:
        raise RuntimeError("an endpoint that takes a session runs in a TransactionalRoute")
    return dict.fromkeys(names, transaction.session)


def _call(endpoint: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    result = endpoint(*args, **kwargs)
    transaction = _CURRENT.get()
    if transaction is not None and transaction.read:
        transaction.end(commit=not (isinstance(result, Response) and result.status_code >= 400))
    return result


class TransactionalRoute(APIRoute):
    """Wrap the endpoint in a session that commits on success and rolls back otherwise."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        endpoint = _given_the_session(endpoint)
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _in_one_hop(endpoint)
        super().__init__(path, endpoint, **kwargs)
        if "POST" in (self.methods or ()):  # every POST takes an Idempotency-Key: say so in OpenAPI
            extra = dict(self.openapi_extra or {})
            extra["parameters"] = [*extra.get("parameters", []), idempotency.PARAMETER]
            self.openapi_extra = extra

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint_handler: Callable[[Request], Awaitable[Response]] = super().get_route_handler()
        check = checks.check_of(self.endpoint)
        if check is not None:
            endpoint_handler = checks.completing(endpoint_handler, check)
        accepted = media.declared(self.openapi_extra, self.body_field is not None)
        quick = _quick_read_test(self.endpoint)  # `functools.wraps` carried the mark over

        async def handler(request: Request) -> Response:
            database: Database = request.app.state.database
            read = request.method in _READ_METHODS
            outage: Outage = request.app.state.outage
            on_the_loop = (
                read
                and quick is not None
                and database.reads_on_the_loop
                and not outage.is_down
                and quick(request)
            )
            session = database.session(write=not read, on_the_loop=on_the_loop)
            if read:
                mark_read_only(session)
            transaction = _Transaction(session, read, on_the_loop)
            request.state.db = transaction.session
            token = _CURRENT.set(transaction)
            try:
                response = await _run(request, transaction, database, endpoint_handler, accepted)
            except BaseException:
                if not transaction.ended:
                    await transaction.blocking(transaction.end, False)
                raise
            finally:
                _CURRENT.reset(token)
                if not transaction.ended:
                    await transaction.blocking(transaction.session.close)
            outage.succeeded()  # the database answered (`core.outage`)
            return response

        return handler


async def _run(
    request: Request,
    transaction: _Transaction,
    database: Database,
    endpoint_handler: Callable[[Request], Awaitable[Response]],
    accepted: tuple[str, ...],
) -> Response:
    session = transaction.session
    authorization = request.headers.get("authorization")
    principal = cached_principal(authorization)
    if principal is None:
        principal = await transaction.blocking(principal_from_header, session, authorization)
    request.state.principal = principal
    media.ensure_accepted(request, accepted)
    key = idempotency.requested_key(request)
    api_key_id = principal.key_id
    if key is None or api_key_id is None:
        response = await endpoint_handler(request)
        if not transaction.ended:
            await transaction.blocking(transaction.end, response.status_code < 400)
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


def _find_committed(database: Database, api_key_id: str, key: str) -> IdempotencyRecord | None:
    with database.session(write=False) as fresh:
        return idempotency.find(fresh, api_key_id, key)
