"""The process pool that runs model fitting off the event loop.

Fitting is CPU-bound (statsmodels, Stan): in the API process it would stall every request. The
pool is created with the app and shut down with it. It is a `pebble.ProcessPool` rather than the
standard `ProcessPoolExecutor` because a fit nobody wants any more must stop: the standard pool
cannot stop a running call, so a cancelled job or a request past its time limit would keep a
core busy until its fit ended. Here, when the caller of `run` gives up (its task cancelled: a
job aborted, a worker shutting down; or the time limit passed), the process fitting for it is
stopped and the pool starts another in its place, which loads the models before it takes work.
A worker that dies on its own (out of memory, killed) is replaced the same way.
"""

import asyncio
import multiprocessing
import os
from collections.abc import Callable
from typing import Any

from pebble import ProcessFuture, ProcessPool

from app.core.errors import Problem

_SINGLE_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


class ForecastTimeout(Problem):
    status = 503
    slug = "forecast-timeout"
    title = "Forecast took too long"


class ForecastPool:
    def __init__(self, workers: int, timeout_seconds: float) -> None:
        self.workers = workers
        self.timeout_seconds = timeout_seconds
        self._processes: ProcessPool | None = None

    def _pool(self) -> ProcessPool:
        if self._processes is not None and not self._processes.active:
            # pebble gives up on a pool whose workers all died with nothing to run (killed
            # while idle, say): start afresh.
            self._processes.stop()  # type: ignore[no-untyped-call]
            self._processes = None
        if self._processes is None:
            # One BLAS/OpenMP thread per worker: the workers already use every core, and
            # oversubscribed BLAS threads make statsmodels fits several times slower. Spawned
            # workers inherit the environment as it is when they start.
            for variable in _SINGLE_THREAD_VARIABLES:
                os.environ.setdefault(variable, "1")
            # "spawn": a forked copy of a threaded web server can deadlock on inherited locks
            # (and would share its signal wake-up descriptor, so stopping a worker could
            # signal the server).
            self._processes = ProcessPool(
                self.workers,
                initializer=_load_models,
                context=multiprocessing.get_context("spawn"),
            )
        return self._processes

    def submit(self, task: Callable[[Any], Any], payload: Any) -> "ProcessFuture[Any]":
        """`task(payload)` in a worker; cancelling the future stops the worker running it."""
        return self._pool().submit(task, None, payload)

    async def run(self, task: Callable[[Any], Any], payload: Any) -> Any:
        """Run `task(payload)` in a worker; a problem response once the time limit passes.
        Either way, a caller that stops waiting (cancelled, timed out) stops the fit too."""
        future = self.submit(task, payload)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout_seconds)
        except TimeoutError:
            raise ForecastTimeout(
                f"The forecast did not finish within {self.timeout_seconds:g} s. Shorten the "
                "horizon, choose a faster method, or use /v1/forecast-jobs for large requests."
            ) from None
        finally:
            # Nothing once it is done; else its worker is stopped and replaced.
            future.cancel()  # type: ignore[no-untyped-call]

    def warm_up(self) -> list["ProcessFuture[Any]"]:
        """Start every worker and load the statistics stack now, not on the first request;
        the futures tell when it is done."""
        return [self.submit(_load_models, None) for _ in range(self.workers)]

    def shutdown(self) -> None:
        """Wait for the fits still running (the callers have drained theirs by now), so that
        no worker outlives the service."""
        if self._processes is not None:
            self._processes.close()  # type: ignore[no-untyped-call]
            self._processes.join()
            self._processes = None


def _load_models(_: None = None) -> None:
    import models  # noqa: F401
