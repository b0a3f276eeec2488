"""HTTP layer of actual volumes: bulk upload (JSON or CSV) and local-time reading."""

import tempfile
from datetime import date
from typing import Annotated

from fastapi import Query, Request
from pydantic import AfterValidator
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams

from app.core import media, openapi
from app.core.auth import VolumeReaderKey, VolumeWriterKey
from app.core.db import Database, SessionDep
from app.core.domain_router import DomainRouter
from app.core.errors import READ_ERRORS, WRITE_ERRORS, problem_responses
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Cursor
from app.core.routing import quick_read_when
from app.volumes import schemas, service
from app.volumes.aggregation import Granularity

router = DomainRouter(tags=["actual volumes"])

Bound = Annotated[str, AfterValidator(service.check_bound)]

QUICK_RANGE_DAYS = 31
"""The longest range summed on the event loop (`core.routing.quick_read`): a month of
half-hours is about 1,500 rows, under a millisecond of SQL; a year is twelve times that."""

_SPOOL_IN_MEMORY_BYTES = 8 * 1024 * 1024
_CSV_EXAMPLE = "interval_start,offered,handled,aht_seconds\n2026-10-01T08:00:00+02:00,42,40,312.5\n"


@router.post(
    "/activities/{activity_id}/volumes",
    response_model=schemas.IngestResult,
    responses={**WRITE_ERRORS, **problem_responses(400, 413, 415)},
    openapi_extra=media.upload_body(openapi.body_schema(schemas.VolumeUpload), _CSV_EXAMPLE),
)
async def upload_volumes(
    activity_id: str, request: Request, session: SessionDep, actor: VolumeWriterKey
) -> schemas.IngestResult:
    """Upsert interval actuals, all or nothing: one bad row rejects the request, every bad row
    is listed, and nothing is written."""
    if media.media_type(request) == media.CSV:
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY_BYTES) as spool:
            async for piece in request.stream():
                spool.write(piece)
            spool.seek(0)
            summary = await run_in_threadpool(
                service.ingest_csv,
                session,
                actor,
                activity_id,
                spool,
            )
    else:  # JSON: the route class refused every other media type
        body = await media.json_body(request)
        summary = await run_in_threadpool(service.ingest_json, session, actor, activity_id, body)
    return schemas.IngestResult(
        inserted=summary.inserted, updated=summary.updated, total=summary.total
    )


def _quick(request: Request) -> bool:
    """A page of intervals; or sums over at most `QUICK_RANGE_DAYS` days where the database
    works in this process (SQLite), since its work would hold the loop no longer in a thread
    than on the loop. A PostgreSQL server sums them on its own core, and a thread lets the loop
    serve other requests meanwhile: on the loop, a month by day went from 560 to 381 req/s on
    PostgreSQL (and from 509 to 835 on SQLite)."""
    query = request.query_params
    if query.get("granularity") == Granularity.INTERVAL:
        return True
    database: Database = request.app.state.database
    return database.in_process and _spans_at_most(query, QUICK_RANGE_DAYS)


def _spans_at_most(query: QueryParams, days: int) -> bool:
    """Whether the bounds' dates are at most `days` apart. The bounds are only glanced at:
    what is not a date is not quick, and goes to a thread, where the endpoint names what is
    wrong with it."""
    try:
        start, end = (date.fromisoformat(query[name][:10]) for name in ("start", "end"))
    except (KeyError, ValueError):
        return False
    return (end - start).days <= days


@router.get(
    "/activities/{activity_id}/volumes",
    response_model=schemas.VolumePage,
    responses={**READ_ERRORS, **problem_responses(422)},
)
@quick_read_when(_quick)
def read_volumes(
    activity_id: str,
    session: SessionDep,
    actor: VolumeReaderKey,
    start: Annotated[Bound, Query(description="Local date YYYY-MM-DD or instant (inclusive).")],
    end: Annotated[Bound, Query(description="Local date YYYY-MM-DD or instant (exclusive).")],
    granularity: Granularity = Granularity.DAY,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size (interval)")] = (
        DEFAULT_LIMIT
    ),
    cursor: Cursor = None,
) -> object:
    """Actuals per interval (paged) or per local day, ISO week or month; AHT handled-weighted."""
    rows, next_cursor = service.read_volumes(
        session, actor, activity_id, start, end, granularity, limit, cursor
    )
    return {"items": rows, "next_cursor": next_cursor}
