"""Spreads calibrated on backtest errors cover what they claim, days and period totals alike.

The truth is known here: log volumes are the forecast plus a random-walk level error plus
independent day noise. Fitted on five backtest windows, as the engine does, the error model must
give 80 % and 95 % intervals that cover about 80 % and 95 % of fresh outcomes, both for single
days and for 20-day totals (what a month total and `probability_below_trigger` rest on).
"""

from __future__ import annotations

from dataclasses import replace

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


def _heavy_outcomes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Windows whose day noise is Student t with 3 degrees of freedom (a holiday missed, a
    weekday effect off): heavier tails than any Gaussian of the same spread."""
    level = np.cumsum(rng.normal(0, np.sqrt(LEVEL_VARIANCE_PER_STEP), (n, WINDOW)), axis=1)
    return np.expm1(MU + level + NOISE_SD * rng.standard_t(3, (n, WINDOW)))


def test_day_bounds_cover_their_level_when_errors_are_heavy_tailed() -> None:
    """Fitted on 10 windows of such errors, the day bounds are the errors' own (conformal)
    quantiles and cover 80 % and 95 % as stated; Gaussian bounds of the same fitted spread
    cover about 83 % at 80 % (what the check would see without the scores)."""
    rng = np.random.default_rng(4)
    forecast = Predictive(MU, np.full(WINDOW, 0.01))
    hits: dict[tuple[bool, int], list[float]] = {}
    for _ in range(150):
        fitted = fit_error_model(
            (forecast,) * 10, list(_heavy_outcomes(rng, 10)), [np.ones(WINDOW, dtype=bool)] * 10
        )
        assert fitted is not None and fitted.scores is not None
        truth = _heavy_outcomes(rng, 50)
        for conformal in (True, False):
            model = fitted if conformal else replace(fitted, scores=None)
            for level in (80, 95):
                lower, upper = model.apply(forecast).bounds(level)
                covered = float(((truth >= lower) & (truth <= upper)).mean())
                hits.setdefault((conformal, level), []).append(covered)
    coverage = {key: float(np.mean(found)) for key, found in hits.items()}
    assert coverage[True, 80] == pytest.approx(0.80, abs=0.015), coverage
    assert coverage[True, 95] == pytest.approx(0.95, abs=0.015), coverage
    assert coverage[False, 80] > 0.82, coverage


def test_conformal_bounds_are_the_scores_order_statistic() -> None:
    """The ceil((n + 1) level)-th smallest score; beyond what n scores can tell, no narrower
    than the Gaussian bound nor the largest score."""
    scores = np.sort(np.random.default_rng(5).uniform(0.0, 3.0, 99))
    mu, sd = np.log1p(np.full(1, 100.0)), np.full(1, 0.1)
    predictive = Predictive(mu, sd, scores=scores)
    for level, z in ((80, scores[79]), (95, scores[94]), (99.5, max(scores[-1], 2.807))):
        lower, upper = predictive.bounds(level)
        assert upper[0] == pytest.approx(np.expm1(mu[0] + z * 0.1), rel=1e-3)
        assert lower[0] == pytest.approx(np.expm1(mu[0] - z * 0.1), rel=1e-3)
    assert predictive.scaled(2.0).scores is scores  # calibration keeps the shape


def test_a_few_large_misses_do_not_lift_the_point_above_the_typical_day() -> None:
    """Typical days within 4 %, and one in seven far below (an outage, a holiday worked
    short): the fitted noise is several times the typical error, and exp(sd**2 / 2) would
    lift every point by it. The point's correction takes the noise of the errors' central
    part instead (`CORE_LEVEL`), and the outcomes' WAPE is lower for it."""
    rng = np.random.default_rng(6)
    forecast = Predictive(MU, np.full(WINDOW, 0.01))

    def outcomes(n: int) -> np.ndarray:
        missed = rng.random((n, WINDOW)) < 0.15
        far_below = -np.abs(rng.normal(0, 0.8, (n, WINDOW)))
        return np.expm1(MU + np.where(missed, far_below, rng.normal(0, 0.04, (n, WINDOW))))

    errors, gaussian_errors = 0.0, 0.0
    for _ in range(60):
        fitted = fit_error_model((forecast,) * 10, list(outcomes(10)), [np.ones(WINDOW, bool)] * 10)
        assert fitted is not None
        truth = outcomes(50)
        errors += float(np.abs(truth - fitted.apply(forecast).point).sum())
        gaussian = replace(fitted, scores=None).apply(forecast).point
        gaussian_errors += float(np.abs(truth - gaussian).sum())
    assert errors < 0.97 * gaussian_errors, (errors, gaussian_errors)
