"""Spreads calibrated on backtest errors cover what they claim, days and period totals alike.

The truth is known here: log volumes are the forecast plus a random-walk level error plus
independent day noise. Fitted on five backtest windows, as the engine does, the error model must
give 80 % and 95 % intervals that cover about 80 % and 95 % of fresh outcomes, both for single
days and for 20-day totals (what a month total and `probability_below_trigger` rest on).
"""

from __future__ import annotations

import numpy as np
import pytest

from models.base import MEAN_NOISE_CAP, Predictive
from models.calibration import ErrorModel, fit_error_model, small_sample_widening

NOISE_SD = 0.08
LEVEL_VARIANCE_PER_STEP = 0.0004  # level error sd 0.09 after 20 steps
WINDOW = 20
ORIGINS = 5
MU = np.log1p(np.tile([1200.0, 1100.0, 1050.0, 1000.0, 800.0], WINDOW // 5))


def _outcomes(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` windows of true volumes, shape (n, WINDOW)."""
    level = np.cumsum(rng.normal(0, np.sqrt(LEVEL_VARIANCE_PER_STEP), (n, WINDOW)), axis=1)
    noise = rng.normal(0, NOISE_SD, (n, WINDOW))
    return np.expm1(MU + level + noise)


def _fit(rng: np.random.Generator) -> ErrorModel:
    forecasts = tuple(Predictive(MU, np.full(WINDOW, 0.01)) for _ in range(ORIGINS))
    actuals = list(_outcomes(rng, ORIGINS))
    scored = [np.ones(WINDOW, dtype=bool)] * ORIGINS
    model = fit_error_model(forecasts, actuals, scored)
    assert model is not None
    return model


def test_the_error_model_recovers_noise_and_level_on_average() -> None:
    rng = np.random.default_rng(1)
    fits = [_fit(rng) for _ in range(300)]
    assert np.mean([f.noise_sd for f in fits]) == pytest.approx(NOISE_SD, rel=0.1)
    level = np.mean([f.level_variance_per_step for f in fits]) / small_sample_widening(ORIGINS)
    assert level == pytest.approx(LEVEL_VARIANCE_PER_STEP, rel=0.2)


@pytest.mark.parametrize("level", [80, 95])
def test_day_and_total_intervals_cover_their_level(level: int) -> None:
    rng = np.random.default_rng(2)
    day_hits, total_hits, n = 0.0, 0.0, 0
    for _ in range(200):
        predictive = _fit(rng).apply(Predictive(MU, np.full(WINDOW, 0.01)))
        lower, upper = predictive.bounds(level)
        totals = predictive.sample(1000, rng).sum(axis=1)
        low, high = np.quantile(totals, [0.5 - level / 200, 0.5 + level / 200])
        truth = _outcomes(rng, 50)
        day_hits += float(((truth >= lower) & (truth <= upper)).mean())
        total_hits += float(((truth.sum(axis=1) >= low) & (truth.sum(axis=1) <= high)).mean())
        n += 1
    assert day_hits / n == pytest.approx(level / 100, abs=0.04)
    assert total_hits / n == pytest.approx(level / 100, abs=0.05)


def test_the_model_stated_spread_alone_is_far_too_narrow_here() -> None:
    """The check above can fail: the uncalibrated spread covers almost nothing."""
    rng = np.random.default_rng(3)
    lower, upper = Predictive(MU, np.full(WINDOW, 0.01)).bounds(80)
    truth = _outcomes(rng, 500)
    assert float(((truth >= lower) & (truth <= upper)).mean()) < 0.3


def test_too_few_errors_give_no_error_model() -> None:
    forecasts = (Predictive(MU[:3], np.full(3, 0.1)),)
    assert fit_error_model(forecasts, [np.expm1(MU[:3])], [np.ones(3, dtype=bool)]) is None


def test_a_huge_calibrated_noise_does_not_inflate_the_point() -> None:
    """A bimodal weekday (weekends of 1 000 then of 60) gives a log noise of 1.5: the point
    stays within the capped correction of the median, the bounds keep the whole spread."""
    mu = np.log1p(np.full(5, 1000.0))
    noisy = Predictive(mu, np.full(5, 1.5), np.full(5, 1.5))
    assert np.all(noisy.point <= np.expm1(mu + MEAN_NOISE_CAP**2 / 2) + 1e-9)
    assert np.all(noisy.point < 1.2 * 1000)
    lower, upper = noisy.bounds(80)
    assert np.all(upper > 6 * 1000) and np.all(lower < 1000 / 6)
