"""Use cases of actual volumes: all-or-nothing bulk ingestion and local-time reading."""

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from prometheus_client import Counter
from sqlalchemy.orm import Session

from app.contracts import dependents
from app.contracts import service as contracts
from app.core import audit
from app.core.auth import Principal
from app.core.errors import FieldError, ValidationFailed, failed
from app.core.fields import canonical_decimal
from app.core.pagination import decode_cursor, encode_cursor
from app.core.wording import counted
from app.volumes import parsing
from app.volumes.aggregation import Granularity, period_starts, weighted_aht_seconds
from app.volumes.repository import VolumeRepository

MAX_LISTED_ERRORS = 1_000

INGESTED_ROWS = Counter(
    "plancher_ingested_rows_total", "Interval rows of actual volumes written.", ["outcome"]
)

Chunks = Iterable[tuple[parsing.Columns, parsing.IntArray]]


@dataclass(frozen=True)
class IngestSummary:
    inserted: int
    updated: int

    @property
    def total(self) -> int:
        return self.inserted + self.updated


def ingest_csv(
    session: Session,
    actor: Principal,
    activity_id: str,
    stream: IO[bytes],
    progress: Callable[[int], None] | None = None,
) -> IngestSummary:
    """Upsert the intervals of a CSV stream (header line 1, then one interval per line)."""
    try:
        chunks: Chunks = parsing.csv_chunks(stream)
        return _ingest(session, actor, activity_id, chunks, "csv", progress)
    except parsing.HeaderError as exc:
        raise ValidationFailed(
            "The CSV header is not interval_start,offered,handled,aht_seconds.",
            errors=[FieldError("csv", "header", str(exc), row=1)],
        ) from None
    except pd.errors.ParserError as exc:
        raise ValidationFailed(
            "The CSV cannot be read.", errors=[FieldError("csv", "file", str(exc).strip())]
        ) from None


def ingest_json(session: Session, actor: Principal, activity_id: str, body: Any) -> IngestSummary:
    """Upsert the intervals of a `{"records": [...]}` body."""
    records = body.get("records") if isinstance(body, dict) else None
    if not isinstance(records, list):
        raise ValidationFailed(
            "The body must be an object with a `records` array.",
            errors=[FieldError("body", "records", "required: an array of interval records")],
        )
    columns, rows, shape_errors = parsing.json_chunk(records)
    return _ingest(session, actor, activity_id, [(columns, rows)], "body", None, shape_errors)


def _ingest(
    session: Session,
    actor: Principal,
    activity_id: str,
    chunks: Chunks,
    location: str,
    progress: Callable[[int], None] | None,
    shape_errors: list[parsing.RowError] | None = None,
) -> IngestSummary:
    """Validate every chunk, write while all is well, and fail the whole request otherwise.

    Writing happens chunk by chunk inside the request's transaction, so memory stays bounded;
    a bad row anywhere raises, and the transaction rolls every earlier chunk back.
    """
    activity, contract = contracts.get_activity_and_contract(session, actor, activity_id)
    grid = parsing.Grid(ZoneInfo(contract.timezone), activity.interval_minutes, time.time_ns())
    repository = VolumeRepository(session)
    errors = list(shape_errors or [])
    error_count = len(errors)
    seen_starts: list[parsing.IntArray] = []
    seen_rows: list[parsing.IntArray] = []
    inserted = updated = 0
    for columns, rows in chunks:
        result = parsing.validate_chunk(columns, rows, grid, MAX_LISTED_ERRORS - len(errors))
        errors += result.errors
        error_count += result.error_count
        seen_starts.append(result.valid.starts_ns)
        seen_rows.append(result.valid.rows)
        if error_count == 0:
            existing = len(repository.existing_starts(activity.id, result.valid.starts_ns))
            repository.upsert(activity.id, result.valid, existing)
            updated += existing
            inserted += len(result.valid) - existing
        if progress is not None:
            progress(len(rows))
    if len(seen_starts) > 1:
        repeated, repeated_count = parsing.cross_chunk_duplicates(
            np.concatenate(seen_starts), np.concatenate(seen_rows), MAX_LISTED_ERRORS
        )
        errors += repeated
        error_count += repeated_count
    if error_count:
        raise _rejected(errors[:MAX_LISTED_ERRORS], error_count, location)
    summary = IngestSummary(inserted=inserted, updated=updated)
    INGESTED_ROWS.labels("inserted").inc(inserted)
    INGESTED_ROWS.labels("updated").inc(updated)
    audit.record(
        session,
        actor,
        "volumes.ingested",
        "activity",
        activity.id,
        {"inserted": summary.inserted, "updated": summary.updated},
    )
    return summary


def _rejected(errors: list[parsing.RowError], total: int, location: str) -> ValidationFailed:
    listed = sorted(errors, key=lambda error: error.row)
    field_errors = [
        FieldError(
            location,
            f"records.{error.row}.{error.field}" if location == "body" else error.field,
            error.reason,
            row=error.row,
        )
        for error in listed
    ]
    more = f" (the first {len(listed)} are listed)" if total > len(listed) else ""
    problem = ValidationFailed(
        f"{counted(total, 'invalid value')}; nothing was written{more}.", errors=field_errors
    )
    problem.extra["error_count"] = total
    return problem


# Reading


@dataclass(frozen=True)
class VolumeRow:
    period_start: datetime
    offered: int
    handled: int
    aht_seconds: Decimal | None


def resolve_bound(value: str, timezone: ZoneInfo, name: str) -> datetime:
    """A query bound: a local date (its midnight in the contract's zone) or an instant."""
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=timezone)
        instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        instant = None
    if instant is None or instant.tzinfo is None:
        raise ValidationFailed(
            f"Invalid query parameter {name}.",
            errors=[FieldError("query", name, BOUND_REASON)],
        )
    return instant


BOUND_REASON = "a date YYYY-MM-DD or an instant with offset"


def check_bound(value: str) -> str:
    """`value` if it reads as a bound in any zone, for the query's type: a bad bound is then
    named with every other bad parameter, before the contract's zone is known."""
    try:
        resolve_bound(value, ZoneInfo("UTC"), "bound")
    except ValidationFailed:
        raise ValueError(BOUND_REASON) from None
    return value


def _interval_cursor(cursor: str) -> datetime:
    """The last instant of the previous page of intervals. Another list's cursor decodes too
    (every cursor is base64), but is not an instant: it is named like any foreign cursor."""
    try:
        return datetime.fromisoformat(decode_cursor(cursor))
    except ValueError:
        raise failed(
            [FieldError("query", "cursor", "not a cursor returned by a previous page")]
        ) from None


def read_volumes(
    session: Session,
    actor: Principal,
    activity_id: str,
    start: str,
    end: str,
    granularity: Granularity,
    limit: int,
    cursor: str | None,
) -> tuple[list[VolumeRow], str | None]:
    activity, contract = contracts.get_activity_and_contract(session, actor, activity_id)
    timezone = ZoneInfo(contract.timezone)
    low, high = resolve_bound(start, timezone, "start"), resolve_bound(end, timezone, "end")
    if high <= low:
        raise ValidationFailed(
            "end must be after start.", errors=[FieldError("query", "end", "must be after start")]
        )
    repository = VolumeRepository(session)
    if granularity is Granularity.INTERVAL:
        after = _interval_cursor(cursor) if cursor else None
        page = repository.read_page(activity.id, low, high, after, limit + 1)
        rows = [
            VolumeRow(
                period_start=row.interval_start.astimezone(timezone),
                offered=row.offered,
                handled=row.handled,
                aht_seconds=_ms_to_seconds(row.aht_ms),
            )
            for row in page[:limit]
        ]
        more = len(page) > limit
        return rows, encode_cursor(page[limit - 1].interval_start.isoformat()) if more else None
    starts = period_starts(low, high, timezone, granularity)
    return [
        VolumeRow(
            period_start=starts[k],
            offered=offered,
            handled=handled,
            aht_seconds=weighted_aht_seconds(handled, handled_ms),
        )
        for k, offered, handled, handled_ms in repository.period_sums(
            activity.id, low, high, starts
        )
    ], None


def _ms_to_seconds(aht_ms: int | None) -> Decimal | None:
    return None if aht_ms is None else canonical_decimal(Decimal(aht_ms) / 1000)


@dataclass(frozen=True)
class PeriodActuals:
    """What the charter reads of a period's actuals: sums of offered and handled contacts and
    of handled seconds (Σ handled × AHT), exact."""

    offered: int
    handled: int
    handled_seconds: Decimal


NO_ACTUALS = PeriodActuals(0, 0, Decimal(0))


def period_actuals(
    session: Session, activity_ids: list[str], start: datetime, end: datetime
) -> dict[str, PeriodActuals]:
    """Totals over [start, end) per activity; activities without any interval are absent."""
    totals = VolumeRepository(session).period_totals(activity_ids, start, end)
    return {
        activity_id: PeriodActuals(offered, handled, Decimal(handled_ms) / 1000)
        for activity_id, (offered, handled, handled_ms) in totals.items()
    }


def history_frame(
    session: Session, activity_id: str, start: datetime, end: datetime
) -> pd.DataFrame:
    """Raw intervals in [start, end) for the forecasting library: interval_start (UTC),
    offered, handled, and aht_seconds as floats (the statistics libraries work in floats;
    nothing billed is derived from a forecast)."""
    frame = VolumeRepository(session).read_range(activity_id, start, end)
    frame["aht_seconds"] = frame.pop("aht_ms").astype("float64").fillna(0.0) / 1000
    return frame


def recorded_in(session: Session, scope: dependents.Scope) -> list[str]:
    """The recorded intervals a contract change must not strand or move off the grid."""
    if not scope.activity_ids:
        return []
    start, end = scope.instants()
    return [
        f"{count} volume intervals of activity {activity_id} from {first.isoformat()} "
        f"to {last.isoformat()}"
        for activity_id, count, first, last in VolumeRepository(session).spans(
            scope.activity_ids, start, end
        )
    ]
