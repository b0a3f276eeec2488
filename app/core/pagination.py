"""Cursor pagination: `?limit=&cursor=` in, `{"items": [...], "next_cursor": ...}` out.

Cursors are opaque (base64 of the last id seen) and keyset-based: a page is `id > last`, so
paging is stable while rows are added and costs the same on page 1 and page 1,000.
"""

import base64
import binascii
from datetime import datetime
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import AfterValidator, BaseModel

from app.core.errors import FieldError, ValidationFailed

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    next_cursor: str | None


class PageParams(BaseModel):
    limit: int
    after: str | None


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = base64.b64decode(padded.encode(), altchars=b"-_", validate=True).decode()
        if not decoded:
            raise ValueError("empty cursor")
        return decoded
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _not_ours() from None


def _not_ours() -> ValidationFailed:
    return ValidationFailed(
        "The cursor is not one this service returned.",
        errors=[FieldError("query", "cursor", "not a cursor returned by a previous page")],
    )


def _check_cursor(cursor: str) -> str:
    try:
        decode_cursor(cursor)
    except ValidationFailed:
        raise ValueError("not a cursor returned by a previous page") from None
    return cursor


Cursor = Annotated[
    str | None,
    AfterValidator(lambda cursor: cursor if cursor is None else _check_cursor(cursor)),
    Query(description="`next_cursor` of the previous page."),
]
"""A cursor checked by its type, so that a foreign cursor is named with the other bad query
parameters."""


async def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")] = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageParams:
    """Async: it does no I/O, and a sync dependency costs a thread hop."""
    return PageParams(limit=limit, after=decode_cursor(cursor) if cursor else None)


PageDep = Annotated[PageParams, Depends(page_params)]


def encode_instant_cursor(instant: datetime, object_id: str) -> str:
    """A cursor for lists ordered by an instant, then id (invoices by update, versions by
    receipt): the instant alone is not unique."""
    return encode_cursor(f"{instant.isoformat()}|{object_id}")


def split_instant_cursor(after: str) -> tuple[datetime, str]:
    """The (instant, id) of a decoded instant cursor."""
    instant, _, object_id = after.partition("|")
    try:
        return datetime.fromisoformat(instant), object_id
    except ValueError:
        raise _not_ours() from None
