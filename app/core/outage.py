"""The database out of reach: every request answers 503 with `Retry-After`, logged once.

While PostgreSQL restarts, fails over or is cut off, each request's first query fails with a
connection error. That is not a bug of the request, so it must not be a 500 with a stack trace
per request: the client gets a 503 problem telling it when to try again, and the log gets one
line when the outage starts and one when a request succeeds again. The engine's pool
(`pool_pre_ping`) reconnects by itself once the database is back: no restart is needed.
"""

import logging
import threading
import time

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.core.errors import ServiceUnavailable, problem_response

log = logging.getLogger("plancher.database")

RETRY_AFTER_SECONDS = 5


UNAVAILABLE: tuple[type[Exception], ...] = (OperationalError, InterfaceError, PoolTimeout)
"""Failures to reach the database (connection refused or lost, pool exhausted, SQLite file
locked past its timeout), as opposed to bad statements or constraint violations."""


class Outage:
    """The state of one app's database: up, or down since an instant."""

    def __init__(self) -> None:
        self._down_since: float | None = None
        self._lock = threading.Lock()

    def failed(self, error: BaseException) -> ServiceUnavailable:
        """Record a failed request; the problem to answer it with."""
        with self._lock:
            if self._down_since is None:
                self._down_since = time.monotonic()
                log.error(
                    "database unavailable (%s: %s); answering 503 until it is back",
                    type(error).__name__,
                    str(error).splitlines()[0] if str(error) else "",
                )
        problem = ServiceUnavailable(
            "The database is unavailable for the moment; nothing was changed. "
            f"Try again in {RETRY_AFTER_SECONDS} s."
        )
        problem.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return problem

    @property
    def is_down(self) -> bool:
        """Whether the last request that tried the database failed to reach it."""
        return self._down_since is not None

    def succeeded(self) -> None:
        """Record a request that reached the database (cheap when it was up already)."""
        if self._down_since is None:
            return
        with self._lock:
            if self._down_since is not None:
                log.warning(
                    "database available again after %.0f s", time.monotonic() - self._down_since
                )
                self._down_since = None


def install_outage_handlers(app: FastAPI) -> None:
    """Answer the `UNAVAILABLE` errors with the app's `Outage` (in `app.state.outage`)."""

    async def handle(request: Request, exc: Exception) -> JSONResponse:
        outage: Outage = request.app.state.outage
        return problem_response(outage.failed(exc), request)

    for error in UNAVAILABLE:
        app.add_exception_handler(error, handle)
