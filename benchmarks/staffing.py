"""Staffing throughput: a month of 30-minute intervals for 100 activities, sized in one run.

Measures, in the same run and on the same machine:
  * ``size_erlang_c`` over every interval of the month (~144,000 by default);
  * ``size_erlang_a`` over an evenly spaced sample of those intervals;
  * a naive textbook baseline (``A**n / n!`` power sums with ``math.factorial``, agents searched
    from 1) against ``size_erlang_c`` on the same subset of intervals, the small-load ones the
    baseline can handle at all (floats overflow once ``n`` passes ~170), and checks that both
    give the same agent counts.

Run from the repository root:  ``.venv/bin/python benchmarks/staffing.py [--help]``.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import itertools
import math
import time
from dataclasses import dataclass

import numpy as np

from app.staffing.erlang import size_erlang_a, size_erlang_c

SERVICE_GOALS = [(0.8, 20.0), (0.8, 30.0), (0.9, 15.0), (0.7, 60.0), (0.85, 20.0)]


@dataclass(frozen=True)
class Interval:
    volume: int
    aht_seconds: float
    target: float
    answer_time: float
    max_occupancy: float
    shrinkage: float
    patience: float

    @property
    def load(self) -> float:
        return self.volume * self.aht_seconds / 1800.0


def generate_month(activities: int, days: int, seed: int) -> list[Interval]:
    """Realistic, varied traffic: per-activity daily volumes spread over two decades, opening
    hours, a two-humped intraday curve, quieter weekends, Poisson noise, drifting AHTs."""
    rng = np.random.default_rng(seed)
    slots = np.arange(48) / 2.0  # hour of day at the start of each interval
    intervals: list[Interval] = []
    for _ in range(activities):
        daily = rng.lognormal(mean=math.log(2500.0), sigma=1.0)
        aht = float(rng.uniform(120.0, 600.0))
        target, answer_time = SERVICE_GOALS[int(rng.integers(len(SERVICE_GOALS)))]
        max_occupancy = float(rng.choice([0.85, 0.9, 1.0]))
        shrinkage = float(rng.uniform(0.2, 0.4))
        patience = float(rng.uniform(30.0, 240.0))
        always_open = rng.random() < 0.2
        opens, closes = (0.0, 24.0) if always_open else (8.0, float(rng.choice([18.0, 20.0, 22.0])))
        curve = (
            np.exp(-0.5 * ((slots - 10.5) / 1.8) ** 2)
            + 0.8 * np.exp(-0.5 * ((slots - 15.0) / 2.2) ** 2)
            + 0.05
        )
        curve = np.where((slots >= opens) & (slots < closes), curve, 0.0)
        curve /= curve.sum()
        for day in range(days):
            weekday_factor = 0.45 if day % 7 in (5, 6) else 1.0
            expected = daily * weekday_factor * rng.uniform(0.85, 1.15) * curve
            volumes = rng.poisson(expected)
            ahts = aht * rng.lognormal(0.0, 0.08, size=48)
            for volume, interval_aht in zip(volumes.tolist(), ahts.tolist(), strict=True):
                intervals.append(
                    Interval(
                        volume,
                        interval_aht,
                        target,
                        answer_time,
                        max_occupancy,
                        shrinkage,
                        patience,
                    )
                )
    return intervals


def naive_erlang_c(agents: int, load: float) -> float:
    """The textbook formula: every term rebuilt from a power and a factorial."""
    queue_term = load**agents / math.factorial(agents) * agents / (agents - load)
    no_queue = sum(load**k / math.factorial(k) for k in range(agents))
    return queue_term / (no_queue + queue_term)


def naive_size(interval: Interval) -> int:
    """Textbook sizing: try n = 1, 2, ... and recompute Erlang C from scratch each time."""
    load = interval.load
    if load == 0.0:
        return 0
    agents = 1
    while True:
        if agents > load and agents >= load / interval.max_occupancy:
            wait = naive_erlang_c(agents, load)
            level = 1.0 - wait * math.exp(
                -(agents - load) * interval.answer_time / interval.aht_seconds
            )
            if level >= interval.target:
                return agents
        agents += 1


def fast_size(interval: Interval) -> int:
    return size_erlang_c(
        interval.volume,
        30,
        interval.aht_seconds,
        interval.target,
        interval.answer_time,
        interval.max_occupancy,
        interval.shrinkage,
    ).agents


def fast_size_a(interval: Interval) -> int:
    return size_erlang_a(
        interval.volume,
        30,
        interval.aht_seconds,
        interval.target,
        interval.answer_time,
        interval.patience,
        interval.max_occupancy,
        interval.shrinkage,
    ).agents


def timed(label: str, sizer: object, intervals: list[Interval]) -> tuple[float, list[int]]:
    assert callable(sizer)
    start = time.perf_counter()
    agents = [sizer(interval) for interval in intervals]
    elapsed = time.perf_counter() - start
    rate = len(intervals) / elapsed
    print(f"{label:<52} {len(intervals):>8,} intervals {elapsed:8.2f} s {rate:>12,.0f} /s")
    return rate, agents


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--activities", type=int, default=100)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--erlang-a-sample", type=int, default=10_000)
    parser.add_argument("--baseline-sample", type=int, default=2_000)
    parser.add_argument(
        "--baseline-max-load",
        type=float,
        default=100.0,
        help="largest load (erlangs) given to the naive baseline; beyond ~120 it overflows",
    )
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()

    intervals = generate_month(args.activities, args.days, args.seed)
    loads = np.array([interval.load for interval in intervals])
    print(
        f"{len(intervals):,} intervals ({args.activities} activities x {args.days} days x 48); "
        f"load: mean {loads.mean():.1f}, p95 {np.percentile(loads, 95):.1f}, "
        f"max {loads.max():.1f} erlangs; {np.mean(loads == 0):.0%} closed/empty"
    )

    erlang_c_rate, _ = timed("size_erlang_c, full month", fast_size, intervals)
    open_intervals = [interval for interval in intervals if interval.volume > 0]
    open_rate, _ = timed("size_erlang_c, non-empty intervals only", fast_size, open_intervals)

    step = max(1, len(open_intervals) // args.erlang_a_sample)
    erlang_a_rate, _ = timed(
        "size_erlang_a, sample of non-empty intervals", fast_size_a, open_intervals[::step]
    )

    # The baseline only survives small loads, and its cost grows with the load, so it is
    # compared band by band on identical intervals.
    rng = np.random.default_rng(args.seed + 1)
    edges = [0.0, 20.0, 60.0, args.baseline_max_load]
    per_band = max(1, args.baseline_sample // (len(edges) - 1))
    naive_total = fast_total = 0.0
    disagreements = compared = 0
    for low, high in itertools.pairwise(edges):
        eligible = [i for i in open_intervals if low < i.load <= high]
        if not eligible:
            continue
        picks = rng.choice(len(eligible), size=min(per_band, len(eligible)), replace=False)
        subset = [eligible[int(k)] for k in picks]
        band = f"load in ({low:g}, {high:g}]"
        naive_rate, naive_agents = timed(f"naive textbook baseline, {band}", naive_size, subset)
        fast_rate, fast_agents = timed(f"size_erlang_c, same intervals, {band}", fast_size, subset)
        print(f"{'':<52} speed-up x{fast_rate / naive_rate:,.1f}")
        naive_total += len(subset) / naive_rate
        fast_total += len(subset) / fast_rate
        compared += len(subset)
        disagreements += sum(a != b for a, b in zip(naive_agents, fast_agents, strict=True))

    print()
    print(
        f"Erlang C throughput, full month:       {erlang_c_rate:,.0f} intervals/s (target 10,000)"
    )
    print(f"Erlang C throughput, non-empty only:   {open_rate:,.0f} intervals/s")
    print(f"Erlang A throughput, non-empty sample: {erlang_a_rate:,.0f} intervals/s")
    print(
        f"speed-up over the naive baseline on its {compared:,} intervals: "
        f"x{naive_total / fast_total:,.1f} (naive {compared / naive_total:,.0f}/s, "
        f"ours {compared / fast_total:,.0f}/s); the baseline cannot size the "
        f"{sum(i.load > args.baseline_max_load for i in intervals):,} intervals above "
        f"{args.baseline_max_load:g} erlangs at all"
    )
    print(f"agent counts differing from the baseline: {disagreements} of {compared:,}")


if __name__ == "__main__":
    main()
