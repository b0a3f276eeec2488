"""Interval counts are as dispersed as their forecast errors, out of sample.

The truth is known here: Gamma-Poisson counts around known means. The covering estimate must
find the overdispersion that covers what the bounds state, also where the quiet intervals are
more dispersed than the busy ones (what the moments' estimate, set by the busy ones, misses).
"""

from __future__ import annotations

import numpy as np
import pytest

from models.intraday import covering_overdispersion, overdispersion, sample_counts


def _covered(actual: np.ndarray, mean: np.ndarray, od: float, level: int, rng) -> float:
    """The share of `actual` inside the `level` % bounds of Gamma-Poisson draws around `mean`."""
    draws = sample_counts(np.broadcast_to(mean, (2000, mean.size)), od, rng)
    low, high = np.quantile(draws, [0.5 - level / 200, 0.5 + level / 200], axis=0)
    return float(((actual >= low) & (actual <= high)).mean())


def test_a_constant_overdispersion_is_recovered() -> None:
    rng = np.random.default_rng(1)
    mean = rng.uniform(5, 400, 4000)
    actual = sample_counts(mean, 0.04, rng)
    assert covering_overdispersion(actual, mean) == pytest.approx(0.04, rel=0.25)
    assert overdispersion(actual, mean) == pytest.approx(0.04, rel=0.25)


def test_quiet_intervals_more_dispersed_are_covered_as_stated() -> None:
    """Busy intervals at 0.01, quiet ones at 0.2: the moments give about the busy ones' value,
    whose 90 % bounds cover far less than 90 % of them all; the covering value covers 90 %.
    (One overdispersion cannot be right at every level for two such populations at once.)"""
    rng = np.random.default_rng(2)
    mean = np.concatenate([rng.uniform(500, 1000, 1000), rng.uniform(10, 40, 1000)])
    dispersion = np.where(mean > 100, 0.01, 0.2)

    def outcomes() -> np.ndarray:
        shape = 1 / dispersion
        return rng.poisson(rng.gamma(shape, mean / shape)).astype(np.float64)

    backtest, fresh = outcomes(), outcomes()
    moments, covering = overdispersion(backtest, mean), covering_overdispersion(backtest, mean)
    assert _covered(fresh, mean, moments, 90, rng) < 0.85
    assert _covered(fresh, mean, covering, 90, rng) == pytest.approx(0.90, abs=0.02)


def test_poisson_counts_need_no_overdispersion() -> None:
    rng = np.random.default_rng(3)
    mean = rng.uniform(20, 200, 3000)
    assert covering_overdispersion(rng.poisson(mean).astype(np.float64), mean) < 0.003


def test_too_few_intervals_tell_nothing() -> None:
    mean = np.full(10, 50.0)
    assert covering_overdispersion(mean * 2, mean) == 0.0
