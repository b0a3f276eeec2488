"""Forecast speed: `auto` per activity and level, and a 100-activity job, in the same run.

Measures on this machine, with two years of 30-minute history per activity:
  * seconds per activity for `models.forecast(method="auto")` at each level: `day` (20
    business days ahead), `interval` (5 business days ahead), `month` (the next 12 months),
    median of `--repeat` runs after one warm-up;
  * beside it, one default Prophet fit (+ predict) on the same daily series: the cost of the
    one model people usually reach for;
  * a job of `--activities` activities (default 100: the benchmark profiles with different
    seeds), each forecast at `day` and `interval` level, on a multiprocessing pool of
    `--workers` worker processes (default 2), as the service's batch worker would run it.

Targets: an auto daily forecast <= 3 s, the 100-activity job <= 5 minutes.

Run from the repository root:  ``.venv/bin/python benchmarks/forecast_speed.py [--help]``.
Not part of the test suite.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # small matrices: BLAS threads only contend
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import dataclasses
import logging
import multiprocessing
import statistics
import time
from datetime import date, timedelta

import pandas as pd

from models import ActivitySeries, ForecastRequest, forecast
from models.synthetic import BENCHMARK_PROFILES, DEMO_PROFILES, generate_intervals

HISTORY_START = date(2023, 1, 2)
HISTORY_END = date(2025, 1, 6)  # exclusive: two years, a Monday
REQUESTS = {
    "day": ForecastRequest("day", HISTORY_END, HISTORY_END + timedelta(days=27)),
    "interval": ForecastRequest("interval", HISTORY_END, HISTORY_END + timedelta(days=6)),
    "month": ForecastRequest("month", HISTORY_END, date(2025, 12, 31)),
}


def series_for(index: int) -> ActivitySeries:
    """Activity `index` of the job: a benchmark profile at 30 minutes, its own seed."""
    base = BENCHMARK_PROFILES[index % len(BENCHMARK_PROFILES)]
    profile = dataclasses.replace(base, name=f"{base.name}-{index}", interval_minutes=30)
    frame = generate_intervals(profile, HISTORY_START, HISTORY_END - timedelta(days=1), seed=index)
    return ActivitySeries(frame, "Europe/Paris", 30, profile.country)


def job_task(index: int) -> tuple[int, float]:
    """One activity of the batch: plain data in, plain data out (as the service's task)."""
    started = time.perf_counter()
    series = series_for(index)
    for granularity in ("day", "interval"):
        forecast(series, REQUESTS[granularity])
    return index, time.perf_counter() - started


def timed(function: object, repeat: int) -> float:
    function()  # type: ignore[operator]  # warm-up: imports, caches
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()  # type: ignore[operator]
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def prophet_default(series: ActivitySeries) -> None:
    from prophet import Prophet

    local = series.intervals["interval_start"].dt.tz_convert(series.timezone)
    daily = series.intervals.groupby(local.dt.tz_localize(None).dt.normalize())["offered"].sum()
    model = Prophet().fit(pd.DataFrame({"ds": daily.index, "y": daily.to_numpy()}))
    model.predict(model.make_future_dataframe(28, include_history=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    logging.getLogger("cmdstanpy").setLevel(logging.WARNING)

    voice = DEMO_PROFILES[0]
    frame = generate_intervals(voice, HISTORY_START, HISTORY_END - timedelta(days=1), seed=0)
    series = ActivitySeries(frame, "Europe/Paris", voice.interval_minutes, voice.country)
    print(f"one activity: {voice.name!r}, {len(frame)} intervals of 30 minutes over 2 years")
    for granularity, request in REQUESTS.items():
        seconds = timed(lambda r=request: forecast(series, r), args.repeat)
        print(f"  auto {granularity:9s} {seconds:6.2f} s")
    prophet_seconds = timed(lambda: prophet_default(series), args.repeat)
    print(f"  prophet default fit + predict (daily) {prophet_seconds:6.2f} s")

    if args.activities == 0:  # the per-activity figures only
        return
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(args.workers) as pool:
        per_activity = [s for _, s in pool.imap_unordered(job_task, range(args.activities))]
    elapsed = time.perf_counter() - started
    print(
        f"job: {args.activities} activities x (day + interval), {args.workers} workers: "
        f"{elapsed:.1f} s wall ({elapsed / 60:.2f} min), "
        f"{statistics.mean(per_activity):.2f} s per activity in a worker (incl. generation)"
    )
    print(f"targets: auto day <= 3 s; job <= 300 s -> {'met' if elapsed <= 300 else 'NOT met'}")


if __name__ == "__main__":
    main()
