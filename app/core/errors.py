"""One error hierarchy, rendered by one handler as RFC 9457 `application/problem+json`.

Domain code raises a `Problem` subclass that carries its HTTP status; anything else that escapes
a route is a bug and becomes a logged 500 that reveals nothing but the request id.
"""

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger("plancher.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:plancher:problem:"


@dataclass(frozen=True)
class FieldError:
    """One bad input: where it is (`body`, `query`, `path`, `header`, a CSV `row`), which field,
    and why."""

    location: str
    field: str
    reason: str
    row: int | None = None

    def as_dict(self) -> dict[str, Any]:
        item: dict[str, Any] = {"location": self.location, "field": self.field}
        if self.row is not None:
            item["row"] = self.row
        item["reason"] = self.reason
        return item


class Problem(Exception):
    """Base of every expected error; subclasses fix `status`, `slug` and `title`."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[FieldError] = (),
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors)
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = [error.as_dict() for error in self.errors]
        body.update(self.extra)
        return body


class BadRequest(Problem):
    """A request the service cannot act on as sent (400)."""


class MalformedBody(Problem):
    slug = "malformed-body"
    title = "Malformed request body"


class Unauthorized(Problem):
    status = 401
    slug = "unauthorized"
    title = "Missing or invalid API key"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(Problem):
    status = 403
    slug = "forbidden"
    title = "Not allowed for this API key"


class NotFound(Problem):
    status = 404
    slug = "not-found"
    title = "Not found"


class MethodNotAllowed(Problem):
    status = 405
    slug = "method-not-allowed"
    title = "Method not allowed"


class NotAcceptable(Problem):
    status = 406
    slug = "not-acceptable"
    title = "Not acceptable"


class Conflict(Problem):
    status = 409
    slug = "conflict"
    title = "Conflict"


class IdempotencyConflict(Conflict):
    slug = "idempotency-key-reused"
    title = "Idempotency key reused with a different request"


class PayloadTooLarge(Problem):
    status = 413
    slug = "payload-too-large"
    title = "Request body too large"


class UnsupportedMediaType(Problem):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


class ValidationFailed(Problem):
    status = 422
    slug = "validation-error"
    title = "Invalid request"


class InternalError(Problem):
    status = 500
    slug = "internal-error"
    title = "Internal error"


class ServiceUnavailable(Problem):
    status = 503
    slug = "service-unavailable"
    title = "Service unavailable"


class FieldErrorDetails(BaseModel):
    """One entry of a problem's `errors`: a `FieldError` as sent."""

    location: str = Field(description="`body`, `query`, `path`, `header` or `csv`.")
    field: str = Field(description="Dotted path of the field (`lines.2.period`), or a CSV column.")
    row: int | None = Field(default=None, description="CSV line number (the header is line 1).")
    reason: str


class ProblemDetails(BaseModel):
    """The error body (RFC 9457), declared on every error response of the OpenAPI document."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldErrorDetails] | None = Field(
        default=None, description="Every bad input at once (422), in the order found."
    )


def problem_response(problem: Problem, request: Request) -> JSONResponse:
    headers = dict(problem.headers)
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        headers["X-Request-ID"] = request_id
    return JSONResponse(
        problem.body(instance=request.url.path),
        status_code=problem.status,
        headers=headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


def _field_path(loc: Sequence[int | str]) -> tuple[str, str]:
    location = str(loc[0]) if loc else "body"
    return location, ".".join(str(part) for part in loc[1:]) or location


def field_errors_from(errors: Sequence[Any], location: str | None = None) -> list[FieldError]:
    """pydantic errors as `FieldError`s; `location` prefixes errors of a model validated by hand."""
    field_errors = []
    for error in errors:
        loc = tuple(error.get("loc", ()))
        where, field = _field_path((location, *loc) if location else loc)
        reason = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        field_errors.append(FieldError(location=where, field=field, reason=reason))
    return field_errors


def failed(field_errors: Sequence[FieldError]) -> ValidationFailed:
    """One 422 naming every field, each error once (a check may find what the schema found)."""
    unique = list(dict.fromkeys(field_errors))
    names = ", ".join(dict.fromkeys(error.field for error in unique))
    return ValidationFailed(f"Invalid fields: {names}.", errors=unique)


def validation_problem(exc: RequestValidationError) -> Problem:
    """Every pydantic error becomes one named `FieldError`; a body that is not JSON is a 400."""
    errors = exc.errors()
    if any(error.get("type") == "json_invalid" for error in errors):
        reason = next(e for e in errors if e.get("type") == "json_invalid")
        position = reason.get("loc", ("body",))[-1]
        return MalformedBody(f"The request body is not valid JSON (near character {position}).")
    return failed(field_errors_from(errors))


_STATUS_PROBLEMS: dict[int, type[Problem]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    406: NotAcceptable,
    409: Conflict,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    422: ValidationFailed,
    503: ServiceUnavailable,
}


def _http_problem(exc: StarletteHTTPException) -> Problem:
    problem_class = _STATUS_PROBLEMS.get(exc.status_code)
    detail = str(exc.detail) if exc.detail else "No further detail."
    if problem_class is None:
        problem = Problem(detail)
        problem.status = exc.status_code
        problem.title = "HTTP error"
        problem.slug = "http-error"
        return problem
    if problem_class is NotFound and exc.detail == "Not Found":
        return NotFound("No resource at this path.")
    if problem_class is MethodNotAllowed:
        return MethodNotAllowed(
            "This path does not accept this method.", headers=dict(exc.headers or {})
        )
    return problem_class(detail)


def _allowed_methods(request: Request) -> list[str]:
    """Every method the path accepts (RFC 9110 §15.5.6), from the OpenAPI paths: Starlette's
    own 405 names only the methods of the first route that matched the path."""
    app = request.app
    table: list[tuple[re.Pattern[str], list[str]]] | None = getattr(app.state, "allow_table", None)
    if table is None:
        table = [
            (
                re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", path) + "$"),
                sorted(method.upper() for method in operations),
            )
            for path, operations in app.openapi()["paths"].items()
        ]
        app.state.allow_table = table
    path = request.url.path
    return sorted(
        {method for pattern, methods in table if pattern.match(path) for method in methods}
    )


def install_error_handlers(app: FastAPI) -> None:
    """Route every error — domain, validation, routing and unexpected — to problem+json."""

    @app.exception_handler(Problem)
    async def handle_problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def handle_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(validation_problem(exc), request)

    @app.exception_handler(StarletteHTTPException)
    async def handle_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        problem = _http_problem(exc)
        if isinstance(problem, MethodNotAllowed):
            problem.headers["Allow"] = ", ".join(_allowed_methods(request))
        return problem_response(problem, request)

    @app.exception_handler(Exception)
    async def handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
        request_id = getattr(request.state, "request_id", "-")
        logger.exception(
            "unhandled error in %s %s [request_id=%s]", request.method, request.url.path, request_id
        )
        problem = InternalError(
            f"An unexpected error occurred. Quote request id {request_id} to the operator."
        )
        return problem_response(problem, request)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries declaring that these statuses answer with a problem; the
    document's generator (`openapi.problem_document`) gives each its `ProblemDetails` schema
    under `application/problem+json`."""
    return {status: {"description": _STATUS_PROBLEMS[status].title} for status in statuses}


READ_ERRORS = problem_responses(401, 403, 404, 503)
WRITE_ERRORS = problem_responses(401, 403, 404, 409, 422, 503)
"""503: the database is out of reach for the moment (`core.outage`), with `Retry-After`."""
