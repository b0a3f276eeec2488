"""ASGI middleware: request ids, the body-size limit, and Prometheus request metrics.

Written as plain ASGI (not `BaseHTTPMiddleware`) so that streaming bodies stay streaming and
the request id is set before anything else runs, including the 500 handler.
"""

import json
import re
import time
import uuid

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
    would explode the metric's cardinality)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        set_request_id(request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = _route_template(scope)
            REQUESTS.labels(scope["method"], route, str(status)).inc()
            LATENCY.labels(scope["method"], route).observe(time.perf_counter() - started)


def _route_template(scope: Scope) -> str:
    """`/v1/clients/{client_id}` for `/v1/clients/cli_…`: the matched path with each path
    parameter put back as its name (nested routers only know their own relative path)."""
    if scope.get("route") is None:
        return "unmatched"
    names = {str(value): f"{{{name}}}" for name, value in scope.get("path_params", {}).items()}
    return "/".join(names.get(segment, segment) for segment in scope["path"].split("/"))


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
