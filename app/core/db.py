"""Engine and session plumbing shared by every domain.

A request owns its transaction: `app.core.routing.TransactionalRoute` opens the session before
the endpoint runs, commits after it succeeds and rolls back on any error. Endpoints and services
only `flush()`. `SessionDep` hands that session to a route.
"""

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import Annotated, Any

import orjson
from fastapi import Depends, Request
from sqlalchemy import URL, Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import SingletonThreadPool

POOL_SIZE = 20
"""Connections kept open: enough for the requests that hold one at once under steady load
(each holds it for one thread hop), so that load does not open and close an overflow
connection per request (a new SQLite connection re-runs its pragmas; a PostgreSQL one forks a
backend)."""

MAX_OVERFLOW = 20
"""Connections opened beyond `POOL_SIZE` when a burst needs them, closed once returned."""


def decode_json(text: str | bytes) -> Any:
    """A JSON column's value, decoded by orjson, about three times faster than the standard
    decoder on the invoices' lines and computations (which a page of 50 invoices decodes a
    hundred of: a sixth of its time with the standard decoder).

    The standard decoder takes over for the text orjson refuses (a lone UTF-16 surrogate
    escape, which `json.dumps` writes for a lone surrogate in a string), so every stored value
    still reads. One difference remains: an integer beyond 64 bits reads as a float; the
    service stores none (its integers are counts, days and milliseconds)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


class EncodedJSON:
    """A JSON column's value encoded once by orjson before the insert (`EncodedJSON.of`): a
    bulk insert of thousands of invoices writes two documents each, and the standard encoder
    took a fifth of that insert. `encode_json` hands its text to the column as it is.

    The text differs from `json.dumps` only in spacing and in keeping non-ASCII characters as
    they are: the value read back is the same. What orjson refuses or would encode otherwise
    than `json.dumps` (a lone surrogate, an integer beyond 64 bits, a key that is not a
    string, an instant or a dataclass) is left to the standard encoder, so only plain JSON
    values take this path."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    @classmethod
    def of(cls, value: Any) -> "EncodedJSON | Any":
        """`value` encoded, or `value` itself when orjson refuses it."""
        try:
            return cls(orjson.dumps(value, option=_PLAIN_JSON_ONLY).decode())
        except TypeError:
            return value


_PLAIN_JSON_ONLY = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def encode_json(value: Any) -> str:
    """A JSON column's value as text: an `EncodedJSON`'s own, else by the standard encoder
    (as SQLAlchemy does by default)."""
    if type(value) is EncodedJSON:
        return value.text
    return json.dumps(value)


def create_db_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for `url`, with SQLite made transactional and foreign-key enforcing, and
    JSON columns read by `decode_json` and written by `encode_json`."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url, echo=echo, pool_size=POOL_SIZE, max_overflow=MAX_OVERFLOW)
    return _postgresql_engine(url, echo=echo, pool_size=POOL_SIZE, max_overflow=MAX_OVERFLOW)


def _postgresql_engine(url: str | URL, *, echo: bool, **options: Any) -> Engine:
    engine = create_engine(
        url, echo=echo, json_deserializer=decode_json, json_serializer=encode_json, **options
    )
    _ping_after_idle(engine)
    return engine


LOOP_POOL_SIZE = 4
"""Connections kept open for the quick reads on PostgreSQL. A quick read holds its connection
while it runs on the loop, without giving the loop up, so one is nearly always enough."""

BOUNDED_NETWORK_WAITS = {
    "connect_timeout": 2,
    "tcp_user_timeout": 1000,
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 1,
    "keepalives_count": 3,
}
"""libpq's bounds on the waits of a quick read's connection, which would stall the event loop:
a server that does not answer the connection within 2 s (libpq's least), data of ours left
unacknowledged for 1 s (a server or a network gone), or an idle connection whose keep-alives go
unanswered for 8 s all fail the read, which then answers the outage's 503."""


PING_AFTER_IDLE_SECONDS = 1.0
"""A pooled connection idle for longer is pinged before use (see `_ping_after_idle`)."""

_RETURNED_AT = "plancher_returned_at"


def _ping_after_idle(engine: Engine) -> None:
    """Ping a pooled connection before its use only when it has been idle for
    `PING_AFTER_IDLE_SECONDS`, and on a failed ping (a server restarted, a connection dropped)
    replace every pooled connection, as SQLAlchemy's `pool_pre_ping` does.

    `pool_pre_ping` pings at every checkout: a round trip per request, a sixth of a single
    read on PostgreSQL (contract 690 -> 800 req/s without it). Under load a connection comes
    back to the pool and goes out again within milliseconds, where a ping learns nothing; a
    connection that sat idle is the one a restart or an idle timeout may have dropped. One
    dropped during its last second of use fails its request with the outage's 503, and
    SQLAlchemy then replaces the pool's connections all the same."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get(_RETURNED_AT)
        if returned is None or time.monotonic() - returned < PING_AFTER_IDLE_SECONDS:
            return  # a new connection, or one just used
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise InvalidatePoolError() from error  # the pool retries on a new connection
            raise


def _sqlite_engine(url: str | URL, *, echo: bool, **pool: Any) -> Engine:
    engine = create_engine(
        url,
        echo=echo,
        connect_args={"check_same_thread": False, "timeout": 30},
        json_deserializer=decode_json,
        json_serializer=encode_json,
        **pool,
    )
    _make_sqlite_transactional(engine)
    return engine


def _make_sqlite_transactional(engine: Engine) -> None:
    """pysqlite's own transaction handling breaks SAVEPOINT and defers BEGIN; take it over.

    This is SQLAlchemy's documented recipe: the driver is put in autocommit mode and we emit
    BEGIN ourselves, so nested transactions (tests, partial rollbacks) behave as on PostgreSQL.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        # The sorts and temporary indexes of aggregations stay in memory. (A larger page cache
        # and a memory-mapped file were tried: the reads gained little, and one ingestion of
        # 1,000,000 rows peaked 17 MB higher in resident memory, over its 300 MB budget.)
        cursor.execute("PRAGMA temp_store = MEMORY")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # On the driver's connection: through `exec_driver_sql` this one statement went the
        # whole execution path (context, cursor, result, events), a tenth of a one-row read.
        immediate = connection.get_execution_options().get("plancher_write", False)
        connection.connection.driver_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _reading(engine: Engine) -> Engine:
    """The engine reads run on: on PostgreSQL, in autocommit.

    A read in a transaction paid two round trips more than its statements, `BEGIN` and
    `COMMIT` (a contract read of two statements: 954 -> 1,099 req/s without them). Under READ
    COMMITTED, PostgreSQL's default, each statement of a transaction sees what was committed
    when the statement began, as it does in autocommit: a read sees the same data either way.
    What a read queues (the month forecasts a comparison lacks) is queued in a transaction of
    its own (`queue.ProcrastinateQueue.defer`). SQLite's reads keep their transaction: it is
    what gives a read of several statements one snapshot of the file, under a concurrent
    writer."""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine


def dialect_insert(session: Session) -> Any:
    """The `insert` construct of the session's dialect, for `ON CONFLICT` clauses (SQLAlchemy
    has them per dialect only)."""
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


class Database:
    """The engine and the session factories a request chooses from.

    Writes on SQLite take the write lock when their transaction begins (`BEGIN IMMEDIATE`):
    a deferred transaction that reads and then writes can otherwise fail at once with
    "database is locked" when another writer got there first, instead of waiting its turn.
    Reads stay deferred so that a long ingestion does not block dashboards.

    A quick read runs on the event loop (`core.routing.quick_read`), in a session of
    `loop_reader`, an engine of its own, so that it never waits on the main pool, whose
    connections the worker threads' writes may all hold. On a SQLite file, that engine has one
    connection per thread (the loop's own): a read there never waits on a writer (WAL) nor on
    a network. An in-memory SQLite database is private to its connection, so its reads stay
    in threads.

    On PostgreSQL, the loop's engine reads in autocommit, opens a connection beyond its pool
    rather than wait for one, and bounds its network waits (`BOUNDED_NETWORK_WAITS`). A read
    still waits on the server while it runs, and the loop with it: this is what a thread hop
    cost more than (contract read 1,057 -> 1,358 req/s, comparison 216 -> 316, on the loop).
    So the route reads on the loop only while the database answers: during an outage, reads
    go back to threads (`core.routing`), where a wait stalls only themselves. What the bounds
    leave is a server that accepts and acknowledges but never answers (stopped, not gone):
    the loop then waits with it, and the liveness probe stops answering, which is what gets
    such a process restarted.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.reader = sessionmaker(bind=_reading(engine), expire_on_commit=False)
        self.writer = sessionmaker(
            bind=engine.execution_options(plancher_write=True), expire_on_commit=False
        )
        dialect = engine.dialect.name
        in_memory = engine.url.database in (None, "", ":memory:")
        self.reads_on_the_loop = dialect == "postgresql" or (dialect == "sqlite" and not in_memory)
        self.in_process = dialect == "sqlite"
        """Whether the database's own work runs in this process (SQLite), rather than on a
        server's own core while this process waits (PostgreSQL)."""

    def session(self, *, write: bool, on_the_loop: bool = False) -> Session:
        """A session for a write or a read; `on_the_loop` for a quick read that runs on the
        event loop, which the route asks for only where `reads_on_the_loop`."""
        if on_the_loop:
            return self.loop_reader()
        return (self.writer if write else self.reader)()

    @cached_property
    def loop_reader(self) -> sessionmaker[Session]:
        """Sessions of the loop's own engine (see the class's docstring), made when a quick
        read first needs one (most databases of the CLI and the tasks never serve one)."""
        url, echo = self.engine.url, bool(self.engine.echo)
        if self.engine.dialect.name == "postgresql":
            engine = _postgresql_engine(
                url,
                echo=echo,
                pool_size=LOOP_POOL_SIZE,
                max_overflow=-1,  # never wait on the loop for a connection
                isolation_level="AUTOCOMMIT",  # as every read on PostgreSQL (`_reading`)
                connect_args=BOUNDED_NETWORK_WAITS,
            )
        else:
            engine = _sqlite_engine(url, echo=echo, poolclass=SingletonThreadPool)
        return sessionmaker(bind=engine, expire_on_commit=False)

    def dispose(self) -> None:
        """Close the pooled connections of the engine and of the loop's, if a read made it."""
        self.engine.dispose()
        if "loop_reader" in vars(self):
            loop_engine: Engine = self.loop_reader.kw["bind"]
            loop_engine.dispose()


@contextmanager
def session_scope(database: Database) -> Iterator[Session]:
    """A unit of work outside HTTP (CLI, jobs): commit on success, roll back on error."""
    session = database.session(write=True)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


async def get_session(request: Request) -> Session:
    """The session the route's transaction wrapper opened for this request (async: it does no
    I/O, and a sync dependency costs a thread hop)."""
    session: Session = request.state.db
    return session


SessionDep = Annotated[Session, Depends(get_session)]
