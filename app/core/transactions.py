"""Short transactions for a use case that must not hold one open while it waits.

Fitting a forecast takes seconds to minutes in a worker process. Holding a transaction (and its
connection, and on SQLite the write lock) that long would block every other writer, so the
forecast use case reads in one short transaction, fits with none open, and writes in another.
It asks a `Transactions` for each step:

- `RequestTransactions` works in the request's own session: a read ends with a commit, which
  closes the request's transaction and releases its connection; the write opens a new one, which
  the route commits with the idempotency record as for any request.
- `DatabaseTransactions` opens a session per step, for work outside a request (tasks, the CLI).
"""

import asyncio
from collections.abc import Callable
from typing import Protocol, TypeVar

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.core.db import Database, session_scope

T = TypeVar("T")


class Transactions(Protocol):
    async def read(self, work: Callable[[Session], T]) -> T:
        """`work(session)` in a transaction that is over when this returns."""
        ...

    async def write(self, work: Callable[[Session], T]) -> T:
        """`work(session)` in a transaction that commits its writes."""
        ...


class RequestTransactions:
    """The steps of a use case run inside one request, in the request's session.

    Several use cases of one request may run concurrently (their fits in parallel); the lock
    makes their steps take turns, as a session may never be used by two threads at once.
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        self._turn = asyncio.Lock()

    async def read(self, work: Callable[[Session], T]) -> T:
        async with self._turn:
            return await run_in_threadpool(self._read, work)

    def _read(self, work: Callable[[Session], T]) -> T:
        result = work(self._session)
        self._session.commit()
        return result

    async def write(self, work: Callable[[Session], T]) -> T:
        async with self._turn:
            return await run_in_threadpool(work, self._session)


class DatabaseTransactions:
    """Each step in a session of its own, committed (writes) or discarded (reads) at its end.

    With a `turn`, the steps of every use case sharing it run one at a time (the embedded
    task runner on SQLite, whose writers queue on one lock anyway).
    """

    def __init__(self, database: Database, turn: asyncio.Lock | None = None) -> None:
        self._database = database
        self._turn = turn

    async def read(self, work: Callable[[Session], T]) -> T:
        return await self._step(self._read, work)

    def _read(self, work: Callable[[Session], T]) -> T:
        with self._database.session(write=False) as session:
            return work(session)

    async def write(self, work: Callable[[Session], T]) -> T:
        return await self._step(self._write, work)

    def _write(self, work: Callable[[Session], T]) -> T:
        with session_scope(self._database) as session:
            return work(session)

    async def _step(
        self, step: Callable[[Callable[[Session], T]], T], work: Callable[[Session], T]
    ) -> T:
        if self._turn is None:
            return await run_in_threadpool(step, work)
        async with self._turn:
            return await run_in_threadpool(step, work)
