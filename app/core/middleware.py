"""ASGI middleware: request ids, the body-size limit, and Prometheus request metrics.

Written as plain ASGI (not `BaseHTTPMiddleware`) so that streaming bodies stay streaming and
the request id is set before anything else runs, including the 500 handler.
"""

import json
import re
import secrets
import time
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.context import set_request_id
from app.core.errors import PROBLEM_MEDIA_TYPE, PayloadTooLarge

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

REQUESTS = Counter(
    "plancher_http_requests_total", "HTTP requests handled.", ["method", "route", "status"]
)
LATENCY = Histogram(
    "plancher_http_request_duration_seconds", "Time to answer an HTTP request.", ["method", "route"]
)


class RequestContextMiddleware:
    """Give every request an id (the caller's `X-Request-ID` if sane), echo it on the response,
    and count and time the request under its route template (never the raw path, whose ids
    would explode the metric's cardinality).

    It runs on every request, so it does the least it can there: the request id is 128 random
    bits in hex (the format of `uuid4().hex`, for a quarter of its cost), and the metrics'
    labelled children are kept per label values (`_Metrics`), where `labels()` would look
    them up under a lock twice per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.metrics = _Metrics()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id").decode("latin-1")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else secrets.token_hex(16)
        scope.setdefault("state", {})["request_id"] = request_id
        set_request_id(request_id)
        echoed = (b"x-request-id", request_id.encode())
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [pair for pair in message.get("headers", ()) if pair[0] != echoed[0]]
                headers.append(echoed)
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self.metrics.observe(
                scope["method"], _route_template(scope), status, time.perf_counter() - started
            )


def _header(scope: Scope, name: bytes) -> bytes:
    """The first value of the request header `name` (lower-case), or b"" without one."""
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return b""


class _Metrics:
    """`REQUESTS` and `LATENCY`, their children kept per label values. The routes are a fixed
    set of templates (`_route_template`), so the children are a few hundred at most."""

    def __init__(self) -> None:
        self._counted: dict[tuple[str, str, int], Any] = {}
        self._timed: dict[tuple[str, str], Any] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        counted = self._counted.get((method, route, status))
        if counted is None:
            counted = self._counted[method, route, status] = REQUESTS.labels(
                method, route, str(status)
            )
        timed = self._timed.get((method, route))
        if timed is None:
            timed = self._timed[method, route] = LATENCY.labels(method, route)
        counted.inc()
        timed.observe(seconds)


def _route_template(scope: Scope) -> str:
    """`/v1/clients/{client_id}` for `/v1/clients/cli_…`: the template of the route that
    matched (`path_format`, its convertors left out), or `unmatched`."""
    route = scope.get("route")
    if route is None:
        return "unmatched"
    template: str | None = getattr(route, "path_format", None)
    return template if template is not None else "unmatched"


class BodySizeLimitMiddleware:
    """Refuse bodies over the configured size with a 413 problem, whether the client declared
    the size (`Content-Length`) or streams it, without buffering the body."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # An HTTPException, because FastAPI turns any other error raised while
                    # it reads the body into a 400; the error handler renders it as a problem.
                    raise HTTPException(413, self._detail())
            return message

        await self.app(scope, counting_receive, send)

    def _detail(self) -> str:
        return f"The request body exceeds the limit of {self.max_bytes} bytes."

    async def _refuse(self, scope: Scope, send: Send) -> None:
        problem = PayloadTooLarge(self._detail())
        body = json.dumps(problem.body(instance=scope.get("path"))).encode()
        await send(
            {
                "type": "http.response.start",
                "status": problem.status,
                "headers": [
                    (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
