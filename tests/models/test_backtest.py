"""Backtest windows: at the lead time the forecast is for, overlapping on a short history."""

from __future__ import annotations

import numpy as np
import pytest

from models.backtest import N_ORIGINS, BacktestPlan
from models.selection import select


def test_a_long_history_gets_the_last_non_overlapping_windows_of_the_horizon() -> None:
    plan = BacktestPlan.for_series(500, 20, 28)
    assert plan is not None
    assert plan.horizon == 20
    assert plan.cuts == (400, 420, 440, 460, 480)
    assert plan.effective_windows == N_ORIGINS


@pytest.mark.parametrize(("n", "horizon"), [(63, 20), (40, 20), (130, 66), (200, 66)])
def test_a_short_history_keeps_the_horizon_and_overlaps_its_windows(n: int, horizon: int) -> None:
    min_train = 28
    plan = BacktestPlan.for_series(n, horizon, min_train)
    assert plan is not None
    room = n - min_train
    assert plan.horizon == min(horizon, room - (N_ORIGINS - 1))
    assert plan.cuts[0] >= min_train
    assert plan.cuts[-1] + plan.horizon == n  # the last window ends with the history
    assert len(set(plan.cuts)) == N_ORIGINS and list(plan.cuts) == sorted(plan.cuts)
    assert np.all(np.diff(plan.cuts) < plan.horizon)  # they overlap
    span = plan.cuts[-1] + plan.horizon - plan.cuts[0]
    assert plan.effective_windows == pytest.approx(span / plan.horizon)
    assert 1.0 <= plan.effective_windows < N_ORIGINS


def test_no_plan_without_room_for_distinct_origins() -> None:
    assert BacktestPlan.for_series(28 + N_ORIGINS - 1, 20, 28) is None
    assert BacktestPlan.for_series(28 + N_ORIGINS, 20, 28) == BacktestPlan((28, 29, 30, 31, 32), 1)


def test_overlapping_origins_make_a_margin_a_tie_that_independent_ones_would_not() -> None:
    # "fast" is 8 % better on four origins of five: clear when they are independent windows,
    # within noise when they overlap so much that they are worth about one and a half.
    fast = np.array([0.092, 0.094, 0.091, 0.095, 0.093])
    per_origin = {"slow": fast + np.array([0.012, -0.002, 0.015, 0.001, 0.010]), "fast": fast}
    pooled = {alias: float(values.mean()) for alias, values in per_origin.items()}
    assert select(per_origin, pooled).members == ("fast",)
    assert set(select(per_origin, pooled, effective_origins=1.5).members) == {"fast", "slow"}


def test_the_disjoint_stretches_cover_each_backtest_day_once() -> None:
    long = BacktestPlan.for_series(500, 20, 28)
    assert long is not None and long.disjoint_lengths() == (20,) * N_ORIGINS
    short = BacktestPlan.for_series(130, 66, 28)
    assert short is not None
    lengths = short.disjoint_lengths()
    steps = np.diff(short.cuts)
    assert lengths == (*steps, short.horizon)
    assert sum(lengths) == short.cuts[-1] + short.horizon - short.cuts[0]
