"""Which `Content-Type`s a route accepts, and the 415 for any other.

A route's accepted types are read from what it declares: the media types of an explicit
`requestBody` in its OpenAPI extra (the JSON-or-CSV uploads), else JSON when it has a body
model. A body of another type is refused before anything parses it, with a problem listing the
accepted types (and `Accept-Post`/`Accept-Patch`, RFC 9110 §15.5.16), rather than a validation
error about a "dictionary" the caller never meant to send.
"""

import json
from typing import Any

from starlette.requests import Request

from app.core.errors import MalformedBody, UnsupportedMediaType

JSON = "application/json"
CSV = "text/csv"


def media_type(request: Request) -> str:
    """The request's media type, lower case, without parameters (`charset=`)."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def declared(openapi_extra: dict[str, Any] | None, has_body_model: bool) -> tuple[str, ...]:
    """The media types a route declares it accepts; empty when it takes no body."""
    content = ((openapi_extra or {}).get("requestBody") or {}).get("content")
    if content:
        return tuple(content)
    return (JSON,) if has_body_model else ()


def _is_json(name: str) -> bool:
    return name == JSON or (name.startswith("application/") and name.endswith("+json"))


def ensure_accepted(request: Request, accepted: tuple[str, ...]) -> None:
    """Refuse a body whose `Content-Type` the route does not accept. A request without a body
    passes (a POST whose body is optional); `application/*+json` counts as JSON."""
    if not accepted:
        return
    has_body = request.headers.get("content-length", "0") != "0" or (
        "transfer-encoding" in request.headers
    )
    sent = media_type(request)
    if not has_body and not sent:
        return
    if sent in accepted or (JSON in accepted and _is_json(sent)):
        return
    listed = ", ".join(accepted)
    header = "Accept-Patch" if request.method == "PATCH" else "Accept-Post"
    raise UnsupportedMediaType(
        f"This operation accepts {listed}, not {sent or 'a body without Content-Type'}.",
        headers={header: listed},
        extra={"accepted": list(accepted)},
    )


async def json_body(request: Request) -> Any:
    """The parsed JSON body of a route that reads its body itself (JSON or CSV)."""
    try:
        return json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedBody(f"The request body is not valid JSON: {exc}.") from None


async def csv_text(request: Request) -> str:
    """The text of a CSV body (UTF-8, with or without the byte-order mark spreadsheets add)."""
    try:
        return (await request.body()).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedBody(f"The CSV is not UTF-8 text: {exc}.") from None


def upload_body(json_schema: dict[str, Any], csv_example: str) -> dict[str, Any]:
    """The OpenAPI `requestBody` of a route that takes JSON or CSV."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                JSON: {"schema": json_schema},
                CSV: {"schema": {"type": "string"}, "example": csv_example},
            },
        }
    }
