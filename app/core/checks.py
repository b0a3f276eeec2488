"""Checks against stored data that run even when the schema refused part of a request, so
that one response names every problem.

FastAPI validates the whole body and query before the endpoint runs, so a schema error
(`volume: "abc"`) used to hide what the service checks against the contract (a period outside
it, a period given twice, a missing AHT for an hourly activity). A route names such a check with
`@checked_by(check)`. The service calls the same check on valid input; when the schema failed,
the route class calls it on the raw request (path, query and body) and reports both in one 422.
A check reads the raw request tolerantly: `salvage` gives it the fields of a raw object that are
valid on their own, and it checks only those.
"""

import dataclasses
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from app.core.auth import Principal
from app.core.errors import FieldError, Problem, failed, validation_problem


@dataclass(frozen=True)
class RawRequest:
    """What a check may read: the path and query parameters as sent, the body as parsed JSON
    (None when there is none or it is not JSON)."""

    path: Mapping[str, str]
    body: Any = None
    query: Mapping[str, str] = dataclasses.field(default_factory=dict)


Check = Callable[[Session, Principal, RawRequest], list[FieldError]]
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])

_ATTRIBUTE = "__plancher_check__"


def checked_by(check: Check) -> Callable[[Endpoint], Endpoint]:
    """Mark an endpoint whose schema errors should be completed by `check`."""

    def mark(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, _ATTRIBUTE, check)
        return endpoint

    return mark


def check_of(endpoint: Callable[..., Any]) -> Check | None:
    check: Check | None = getattr(endpoint, _ATTRIBUTE, None)
    return check


@cache
def _adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    field = model.model_fields[name]
    return TypeAdapter(field.rebuild_annotation())


def salvage(model: type[BaseModel], raw: Any) -> dict[str, Any]:
    """The fields of `raw` (a JSON object) that `model` accepts one by one, validated; invalid,
    missing and unknown fields are left out (the schema names them)."""
    if not isinstance(raw, dict):
        return {}
    valid: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        key = field.alias or name
        if key in raw:
            try:
                valid[name] = _adapter(model, name).validate_python(raw[key])
            except ValidationError:
                continue
    return valid


def completing(
    handler: Callable[[Request], Awaitable[Response]], check: Check
) -> Callable[[Request], Awaitable[Response]]:
    """`handler` with its schema errors completed by `check` (see the module)."""

    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except RequestValidationError as exc:
            problem = validation_problem(exc)
            if problem.status != 422:
                raise  # not JSON at all: nothing to check further
            raw = RawRequest(
                path=dict(request.path_params),
                body=_json_or_none(await request.body()),
                query=dict(request.query_params),
            )
            session: Session = request.state.db
            principal: Principal = request.state.principal
            try:
                more = await run_in_threadpool(check, session, principal, raw)
            except Problem:
                raise problem from None  # e.g. an unknown id: the schema errors still stand
            raise failed([*problem.errors, *more]) from None

    return run


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
