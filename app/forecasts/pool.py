"""The process pool that runs model fitting off the event loop.

Fitting is CPU-bound (statsmodels, Stan): in the API process it would stall every request. The
pool is created with the app and shut down with it. A request that outlives the configured time
limit gets a problem response while its worker finishes in the background and its result is
dropped: the pool stays usable. A worker that dies (out of memory, killed) breaks a
`ProcessPoolExecutor` for good, so the pool is then replaced.
"""

import asyncio
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

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
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            # One BLAS/OpenMP thread per worker: the workers already use every core, and
            # oversubscribed BLAS threads make statsmodels fits several times slower. Spawned
            # workers inherit the environment as it is when they start.
            for variable in _SINGLE_THREAD_VARIABLES:
                os.environ.setdefault(variable, "1")
            # "spawn": a forked copy of a threaded web server can deadlock on inherited locks.
            context = multiprocessing.get_context("spawn")
            self._executor = ProcessPoolExecutor(self.workers, mp_context=context)
        return self._executor

    def submit(self, task: Callable[[Any], Any], payload: Any) -> "Future[Any]":
        try:
            return self._pool().submit(task, payload)
        except BrokenProcessPool:
            self._executor = None
            return self._pool().submit(task, payload)

    async def run(self, task: Callable[[Any], Any], payload: Any) -> Any:
        """Run `task(payload)` in a worker; a problem response once the time limit passes."""
        future = asyncio.wrap_future(self.submit(task, payload))
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.timeout_seconds)
        except TimeoutError:
            raise ForecastTimeout(
                f"The forecast did not finish within {self.timeout_seconds:g} s. Shorten the "
                "horizon, choose a faster method, or use /v1/forecast-jobs for large requests."
            ) from None
        except BrokenProcessPool:
            self._executor = None
            raise

    def warm_up(self) -> list["Future[Any]"]:
        """Start every worker and load the statistics stack now, not on the first request;
        the futures tell when it is done."""
        return [self.submit(_load_models, None) for _ in range(self.workers)]

    def shutdown(self) -> None:
        """Cancel what has not started and wait for the running fits (seconds), so that no
        worker outlives the service."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


def _load_models(_: None) -> None:
    import models  # noqa: F401
