"""The OpenAPI document as the service really answers: every error is a problem.

FastAPI declares error bodies under `application/json` and adds its own 422
(`HTTPValidationError`) to every operation with parameters, while the error handlers send
`application/problem+json` bodies of one shape (`errors.ProblemDetails`). Rewriting the
generated document once, here, keeps each route's `responses=` to the statuses it may answer
and makes the document say what goes over the wire.
"""

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from app.core.errors import PROBLEM_MEDIA_TYPE, ProblemDetails, UnsupportedMediaType

_SCHEMA_REF = "#/components/schemas/{model}"
_FASTAPI_ERROR_SCHEMAS = ("HTTPValidationError", "ValidationError")
_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}
_BODY_MODELS: dict[str, type[BaseModel]] = {}


def body_schema(model: type[BaseModel]) -> dict[str, str]:
    """A `$ref` to `model` for a route that declares its `requestBody` itself (JSON or CSV);
    the document then carries the model's schema."""
    _BODY_MODELS[model.__name__] = model
    return {"$ref": _SCHEMA_REF.format(model=model.__name__)}


def problem_document(document: dict[str, Any]) -> dict[str, Any]:
    """`document` with every 4xx/5xx response declared as a `ProblemDetails` problem, a 415 on
    every operation that takes a body, and FastAPI's own validation schemas gone."""
    problem = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": _SCHEMA_REF.format(model="ProblemDetails")}}}
    for path_item in document.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            if "requestBody" in operation:
                responses.setdefault("415", {"description": UnsupportedMediaType.title})
            for status, response in responses.items():
                if status[0] in "45":
                    response["content"] = problem
                    if response.get("description") == "Validation Error":
                        response["description"] = "Invalid request"
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in _FASTAPI_ERROR_SCHEMAS:
        schemas.pop(name, None)
    models: dict[str, type[BaseModel]] = {**_BODY_MODELS, "ProblemDetails": ProblemDetails}
    for name, model in sorted(models.items()):
        if name not in schemas:
            schema = model.model_json_schema(ref_template=_SCHEMA_REF)
            for nested, definition in schema.pop("$defs", {}).items():
                schemas.setdefault(nested, definition)
            schemas[name] = schema
    return document


def install(app: FastAPI) -> None:
    """Serve (and cache) the rewritten document as the app's `openapi()`."""

    def generate() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problem_document(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = generate  # type: ignore[method-assign]
