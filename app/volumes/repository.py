"""All SQL of the volumes domain, including the two bulk-upsert paths.

Bulk writes bypass the ORM: a million rows as ORM objects would cost gigabytes and minutes.
PostgreSQL gets a binary `COPY`: straight into the table when none of the intervals is stored
yet, else into a temporary table and one `INSERT … ON CONFLICT DO UPDATE` from it; SQLite gets
the driver's `executemany` of the same upsert. Both run inside the request's transaction, so a
rejected request leaves nothing behind.
"""

import functools
import itertools
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from sqlalchemy import (
    Integer,
    Select,
    and_,
    bindparam,
    func,
    literal_column,
    select,
    union_all,
)

from app.core.repository import Repository, one_of_parameter
from app.core.statements import Prebuilt
from app.volumes.parsing import BoolArray, IntArray, ValidRows
from app.volumes.tables import IntervalActual

_UPSERT_COLUMNS = "activity_id, interval_start, offered, handled, aht_ms"
_ON_CONFLICT = (
    "ON CONFLICT (activity_id, interval_start) DO UPDATE SET offered = excluded.offered, "
    "handled = excluded.handled, aht_ms = excluded.aht_ms"
)


class VolumeRepository(Repository[IntervalActual]):
    model = IntervalActual

    def existing_starts(self, activity_id: str, starts_ns: IntArray) -> IntArray:
        """Which of `starts_ns` are already stored (to report inserted versus updated)."""
        if len(starts_ns) == 0:
            return starts_ns
        low, high = _instant(int(starts_ns.min())), _instant(int(starts_ns.max()))
        stored = self.session.scalars(
            select(IntervalActual.interval_start).where(
                IntervalActual.activity_id == activity_id,
                IntervalActual.interval_start >= low,
                IntervalActual.interval_start <= high,
            )
        ).all()
        stored_ns = pd.DatetimeIndex(stored).as_unit("ns").asi8 if stored else np.empty(0, np.int64)
        return starts_ns[np.isin(starts_ns, stored_ns)]

    def upsert(self, activity_id: str, rows: ValidRows, stored: int) -> None:
        """Write `rows`, replacing the intervals already stored, `stored` of them (as counted
        by `existing_starts`)."""
        if len(rows) == 0:
            return
        if self.session.get_bind().dialect.name != "postgresql":
            self._upsert_sqlite(activity_id, rows)
        elif stored == 0:
            self._insert_postgresql(activity_id, rows)
        else:
            self._upsert_postgresql(activity_id, rows)

    def _upsert_sqlite(self, activity_id: str, rows: ValidRows) -> None:
        """The driver's executemany of the upsert, its rows made one at a time as it asks for
        them: it takes an iterator where SQLAlchemy wants a list, and without a list of 25,000
        tuples per chunk it took 0.1 s less per 1,000,000 rows."""
        # Python ints, None where unknown: 0.8 ms per 25,000 rows, a comprehension took 1.7.
        aht = rows.aht_ms.astype(object)
        aht[~rows.aht_known] = None
        driver = self.session.connection().connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        driver.executemany(
            f"INSERT INTO interval_actuals ({_UPSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?) "
            + _ON_CONFLICT,
            zip(
                itertools.repeat(activity_id, len(rows)),
                _sqlite_instants(rows.starts_ns),
                rows.offered.tolist(),
                rows.handled.tolist(),
                aht.tolist(),
                strict=True,
            ),
        )

    def _insert_postgresql(self, activity_id: str, rows: ValidRows) -> None:
        """COPY straight into interval_actuals: none of the intervals is stored, so nothing is
        to be replaced, and the temporary table's second pass over the rows is skipped (the
        benchmark's 1,000,000 new rows: 7.7 s instead of 9.2 s through the temporary table).

        In a savepoint, so that an interval a concurrent request stored since
        `existing_starts` looked (the COPY then fails on the primary key) is upserted like
        any re-post instead of failing the request.
        """
        try:
            with self.session.begin_nested():
                self._copy(activity_id, rows, "interval_actuals")
        except psycopg.errors.UniqueViolation:
            self._upsert_postgresql(activity_id, rows)

    def _upsert_postgresql(self, activity_id: str, rows: ValidRows) -> None:
        with self._raw_cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS interval_actuals_load "
                "(LIKE interval_actuals) ON COMMIT DROP"
            )
            cursor.execute("TRUNCATE interval_actuals_load")
        self._copy(activity_id, rows, "interval_actuals_load")
        with self._raw_cursor() as cursor:
            cursor.execute(
                f"INSERT INTO interval_actuals ({_UPSERT_COLUMNS}) "
                f"SELECT {_UPSERT_COLUMNS} FROM interval_actuals_load " + _ON_CONFLICT
            )

    def _copy(self, activity_id: str, rows: ValidRows, table: str) -> None:
        with (
            self._raw_cursor() as cursor,
            cursor.copy(f"COPY {table} ({_UPSERT_COLUMNS}) FROM STDIN (FORMAT binary)") as copy,
        ):
            copy.write(_binary_copy(activity_id, rows))

    def _raw_cursor(self) -> psycopg.Cursor[tuple[Any, ...]]:
        """A psycopg cursor on the session's connection, inside the request's transaction."""
        raw = self.session.connection().connection.driver_connection
        assert isinstance(raw, psycopg.Connection)
        return raw.cursor()

    def read_range(self, activity_id: str, start: datetime, end: datetime) -> pd.DataFrame:
        """Intervals in [start, end) as a frame: interval_start (UTC), offered, handled, aht_ms."""
        result = self.session.execute(
            select(
                IntervalActual.interval_start,
                IntervalActual.offered,
                IntervalActual.handled,
                IntervalActual.aht_ms,
            )
            .where(
                IntervalActual.activity_id == activity_id,
                IntervalActual.interval_start >= start,
                IntervalActual.interval_start < end,
            )
            .order_by(IntervalActual.interval_start)
        ).all()
        frame = pd.DataFrame(result, columns=["interval_start", "offered", "handled", "aht_ms"])
        frame["interval_start"] = pd.to_datetime(frame["interval_start"], utc=True)
        return frame

    def period_sums(
        self, activity_id: str, start: datetime, end: datetime, starts: Sequence[datetime]
    ) -> list[tuple[int, int, int, int]]:
        """(k, Σ offered, Σ handled, Σ handled × aht_ms) of the intervals in [start, end) of each
        period k that has any, in order, a period k being [starts[k], starts[k + 1]): one
        query, summed exactly by the database in integers."""
        values: dict[str, str | datetime] = {"activity_id": activity_id}
        for k in range(len(starts)):
            values[f"lo_{k}"] = start if k == 0 else max(start, starts[k])
            values[f"hi_{k}"] = end if k == len(starts) - 1 else min(end, starts[k + 1])
        return [
            (int(k), int(offered), int(handled), int(ms))
            for k, offered, handled, ms in self.session.execute(
                _period_sums_statement(len(starts)), values
            )
        ]

    def period_totals(
        self, activity_ids: list[str], start: datetime, end: datetime
    ) -> dict[str, tuple[int, int, int]]:
        """(Σ offered, Σ handled, Σ handled × aht_ms) per activity over [start, end), summed
        exactly by the database in integers."""
        parameters = {"activity_ids": activity_ids, "start": start, "end": end}
        rows = self.rows(_PERIOD_TOTALS, parameters)
        totals = {
            activity_id: (int(offered), int(handled), int(handled_ms))
            for activity_id, offered, handled, handled_ms in rows
        }
        return totals

    def spans(
        self, activity_ids: Sequence[str], start: datetime | None, end: datetime | None
    ) -> list[tuple[str, int, datetime, datetime]]:
        """(activity, intervals, first start, last start) of the intervals in [start, end)."""
        statement = select(
            IntervalActual.activity_id,
            func.count(),
            func.min(IntervalActual.interval_start),
            func.max(IntervalActual.interval_start),
        ).where(IntervalActual.activity_id.in_(activity_ids))
        if start is not None:
            statement = statement.where(IntervalActual.interval_start >= start)
        if end is not None:
            statement = statement.where(IntervalActual.interval_start < end)
        rows = self.session.execute(statement.group_by(IntervalActual.activity_id)).all()
        return [(activity, int(count), first, last) for activity, count, first, last in rows]

    def read_page(
        self, activity_id: str, start: datetime, end: datetime, after: datetime | None, limit: int
    ) -> list[IntervalActual]:
        """One page of raw intervals, keyset-paged on the interval start."""
        statement = select(IntervalActual).where(
            IntervalActual.activity_id == activity_id,
            IntervalActual.interval_start >= start,
            IntervalActual.interval_start < end,
        )
        if after is not None:
            statement = statement.where(IntervalActual.interval_start > after)
        return list(
            self.session.scalars(statement.order_by(IntervalActual.interval_start).limit(limit))
        )


_PERIOD_TOTALS = Prebuilt(
    select(
        IntervalActual.activity_id,
        func.sum(IntervalActual.offered),
        func.sum(IntervalActual.handled),
        func.sum(IntervalActual.handled * func.coalesce(IntervalActual.aht_ms, 0)),
    )
    .where(
        one_of_parameter(IntervalActual.activity_id, "activity_ids"),
        IntervalActual.interval_start >= bindparam("start"),
        IntervalActual.interval_start < bindparam("end"),
    )
    .group_by(IntervalActual.activity_id)
)
"""`period_totals`' statement, built once (see `Repository.rows`)."""

_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # then no flags, no header extension
_COPY_TRAILER = b"\xff\xff"
_PG_EPOCH_US = 946_684_800_000_000
"""2000-01-01 UTC in Unix microseconds: the zero of PostgreSQL's binary timestamptz."""


def _binary_copy(activity_id: str, rows: ValidRows) -> bytes:
    """`rows` as PostgreSQL's binary COPY stream of the columns `_UPSERT_COLUMNS`.

    Built by numpy as fixed-size tuples, so no Python runs per row: 1 ms for a chunk of 25,000
    rows, where pandas' to_csv took 94 ms (half of the server's time in the benchmark, its
    timestamps formatted one by one) and PostgreSQL then parsed the text back. A NULL AHT
    shortens its tuple, so the rows with and without one are two blocks: the order of a
    COPY's rows means nothing here, one request holding each interval once.
    """
    key = activity_id.encode()
    return b"".join(
        [
            _COPY_SIGNATURE,
            _tuples(key, rows, rows.aht_known, with_aht=True),
            _tuples(key, rows, ~rows.aht_known, with_aht=False),
            _COPY_TRAILER,
        ]
    )


def _tuples(key: bytes, rows: ValidRows, selected: BoolArray, with_aht: bool) -> bytes:
    """The selected rows' binary COPY tuples: a field count, then each field as its byte
    length and its big-endian value (a length of -1 is a NULL, without a value)."""
    fields: dict[str, tuple[str, Any] | None] = {
        "activity_id": (f"S{len(key)}", key),
        "interval_start": (">i8", rows.starts_ns[selected] // 1000 - _PG_EPOCH_US),
        "offered": (">i8", rows.offered[selected]),
        "handled": (">i8", rows.handled[selected]),
        "aht_ms": (">i4", rows.aht_ms[selected]) if with_aht else None,
    }
    layout = [("fields", ">i2")]
    for name, typed in fields.items():
        layout.append((f"{name}_size", ">i4"))
        if typed is not None:
            layout.append((name, typed[0]))
    block = np.empty(int(selected.sum()), dtype=layout)
    block["fields"] = len(fields)
    for name, typed in fields.items():
        block[f"{name}_size"] = -1 if typed is None else np.dtype(typed[0]).itemsize
        if typed is not None:
            block[name] = typed[1]
    return block.tobytes()


_SQLITE_INSTANT = "0000-00-00 00:00:00.000000"
"""SQLAlchemy's SQLite text of an instant (naive UTC, to the microsecond), as `UTCDateTime`
stores it: read back, compared and ordered as that text."""
_SQLITE_FIELDS = ((0, 4), (5, 2), (8, 2), (11, 2), (14, 2), (17, 2), (20, 6))
"""Where each field of `_SQLITE_INSTANT` starts, and its digits."""


def _sqlite_instants(starts_ns: IntArray) -> list[str]:
    """Instants (UTC nanoseconds, whole microseconds) in SQLAlchemy's SQLite text.

    numpy writes the digits of the civil date and time (H. Hinnant's `civil_from_days`) into
    the code points of fixed-width strings: 0.15 s per 1,000,000 instants, where
    `np.datetime_as_string` and overwriting its 'T' took 0.23 s (the same text: tested).
    """
    days, microseconds = np.divmod(starts_ns // 1000, 86_400_000_000)
    shifted = days + 719_468
    era = shifted // 146_097
    day_of_era = shifted - era * 146_097
    year_of_era = (
        day_of_era - day_of_era // 1460 + day_of_era // 36_524 - day_of_era // 146_096
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    month_from_march = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * month_from_march + 2) // 5 + 1
    month = np.where(month_from_march < 10, month_from_march + 3, month_from_march - 9)
    year = year_of_era + era * 400 + (month <= 2)
    seconds, microseconds = np.divmod(microseconds, 1_000_000)
    fields = [year, month, day, seconds // 3600, seconds // 60 % 60, seconds % 60, microseconds]
    text = np.tile(
        np.array([ord(char) for char in _SQLITE_INSTANT], dtype=np.uint32), (len(days), 1)
    )
    for value, (start, digits) in zip(fields, _SQLITE_FIELDS, strict=True):
        for position in range(start + digits - 1, start - 1, -1):
            value, digit = np.divmod(value, 10)
            text[:, position] = digit + ord("0")
    instants: list[str] = text.view(f"U{len(_SQLITE_INSTANT)}").ravel().tolist()
    return instants


def _instant(ns: int) -> datetime:
    instant: datetime = pd.Timestamp(ns, tz="UTC").to_pydatetime()
    return instant


@functools.lru_cache(maxsize=64)
def _period_sums_statement(periods: int) -> Select[int, int, int, int]:
    """`period_sums`' query for `periods` periods, built once per count with its values as
    named parameters (the few counts in use are kept: a month's days, a year's months...):
    built per request, a month's 30 periods cost as much as running the query (SQLAlchemy
    constructs, then keys its cache on, every element).

    The periods are the rows of a table of bounds, which the intervals join on their primary
    key: one index range per period. A CASE of the bounds compared every interval with them
    one by one instead, which was most of the query (a month by day on SQLite, 1,440 half-hours:
    1.27 ms of SQL with the CASE, 0.43 ms with the join)."""
    instant = IntervalActual.interval_start.type
    rows = [
        select(
            literal_column(str(k), Integer).label("k"),
            bindparam(f"lo_{k}", type_=instant).label("lo"),
            bindparam(f"hi_{k}", type_=instant).label("hi"),
        )
        for k in range(periods)
    ]
    bounds = (union_all(*rows) if periods > 1 else rows[0]).cte("periods")
    return (
        select(
            bounds.c.k,
            func.sum(IntervalActual.offered),
            func.sum(IntervalActual.handled),
            func.sum(IntervalActual.handled * func.coalesce(IntervalActual.aht_ms, 0)),
        )
        .join_from(
            bounds,
            IntervalActual,
            and_(
                IntervalActual.activity_id == bindparam("activity_id"),
                IntervalActual.interval_start >= bounds.c.lo,
                IntervalActual.interval_start < bounds.c.hi,
            ),
        )
        .group_by(bounds.c.k)
        .order_by(bounds.c.k)
    )
