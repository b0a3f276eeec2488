"""Predictive spreads calibrated on the chosen model's own backtest errors.

A model's stated spread ignores parameter and model uncertainty and the engine's imputation, and
its growth with the horizon is the model's assumption (a seasonal naive's random walk widens
without end, a regression's hardly at all). On real series both were wrong: month totals came
out far too wide on short histories (and their mean, `expm1(mu + sd**2 / 2)`, inflated with
them) and too narrow on long ones. So the spread is replaced by an error model measured on the
backtest, in log space, in two parts that `Predictive.sample` already draws separately:

  * day noise, independent from day to day: its size is read from the deviations of each
    backtest day's error from its window's mean error, by matching the 80 % and 90 % quantiles
    of their magnitude to the Gaussian ones (robust to the odd outlier day);
  * a level error shared by the days of one window, growing like a random walk (local level):
    its variance per step ahead is estimated by the method of moments from the windows' mean
    errors, whose variance is the day noise averaged over the window plus the level's.

The level part is what makes month totals right: it is estimated at the backtest's horizon and
extrapolated along the random walk beyond it. Bias of the model in the backtest counts as level
error, so a model that was off by 5 % gets intervals that allow for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy.stats import norm, t

from models.base import BoolArray, FloatArray, Predictive

MIN_ORIGINS = 2
MIN_ERRORS = 10
MAX_LOG_SD = 2.0
"""A spread past a factor e**2 (7x) either way says the model failed in its backtest; it is
capped so that means and totals stay finite (such a model is never chosen by `auto`)."""


@dataclass(frozen=True)
class ErrorModel:
    """Log-space forecast error: day noise plus a random-walk level (variance per step)."""

    noise_sd: float
    level_variance_per_step: float
    scores: FloatArray | None = field(default=None, compare=False)
    """The backtest errors' magnitudes in units of this model's spread, sorted: the day bounds
    are their conformal quantiles (`Predictive.bounds`)."""

    def apply(self, predictive: Predictive) -> Predictive:
        """The model's central forecast with this error model's spread.

        The day noise is never below the model's own one-step spread (its in-sample error): on
        a history of a few weeks the backtest windows are a day or two long, too short to
        measure the noise, and 80 % day bounds then covered a third of the days.
        """
        steps = np.arange(1, predictive.mu.size + 1, dtype=np.float64)
        one_step = float(predictive.sd[0]) if predictive.sd.size else 0.0
        noise = np.full(predictive.mu.size, max(self.noise_sd, one_step))
        sd = np.minimum(np.sqrt(noise**2 + self.level_variance_per_step * steps), MAX_LOG_SD)
        return Predictive(predictive.mu, sd, np.minimum(noise, sd), self.scores)


def _robust_sd(deviations: FloatArray) -> float:
    magnitude = np.abs(deviations)
    return max(
        float(np.quantile(magnitude, 0.8)) / float(norm.ppf(0.9)),
        float(np.quantile(magnitude, 0.9)) / float(norm.ppf(0.95)),
    )


def _walk_moments(steps: FloatArray) -> tuple[float, float]:
    """For a unit random walk observed at `steps`: the expected within-window variance around
    the window mean, and the variance of the window mean (mean of min(s, t) over pairs)."""
    of_mean = float(np.minimum.outer(steps, steps).mean())
    return float(steps.mean()) - of_mean, of_mean


def fit_error_model(
    forecasts: tuple[Predictive, ...],
    actuals: list[FloatArray],
    scored: list[BoolArray],
) -> ErrorModel | None:
    """The error model of a model's backtest forecasts; None when too few errors to tell.

    Method of moments on two statistics of the log errors: their spread around each window's
    mean (day noise, plus the level's drift inside the window) and the windows' mean errors
    (the level, plus day noise averaged over the window). The spread is measured robustly.
    """
    errors, steps = [], []
    for forecast, actual, mask in zip(forecasts, actuals, scored, strict=True):
        error = (np.log1p(actual) - forecast.mu)[mask]
        if error.size >= 2:
            errors.append(error)
            steps.append(np.arange(1, mask.size + 1, dtype=np.float64)[mask])
    if len(errors) < MIN_ORIGINS or sum(e.size for e in errors) < MIN_ERRORS:
        return None
    within = _robust_sd(np.concatenate([e - e.mean() for e in errors])) ** 2
    means = float(np.mean([e.mean() ** 2 for e in errors]))
    moments = np.array([_walk_moments(s) for s in steps]).mean(axis=0)
    inverse_n = float(np.mean([1.0 / e.size for e in errors]))
    # within = noise (1 - 1/n) + level W ;  means = noise / n + level M
    system = np.array([[1.0 - inverse_n, moments[0]], [inverse_n, moments[1]]])
    noise_var, level = np.linalg.solve(system, np.array([within, means]))
    if level < 0 or noise_var < 0:  # no level to see: all of the spread is day noise
        noise_var, level = within / (1.0 - inverse_n), 0.0
    fitted = ErrorModel(
        float(np.sqrt(noise_var)), float(level) * small_sample_widening(len(errors))
    )
    widened = replace(fitted, noise_sd=fitted.noise_sd * _tail_factor(fitted, errors, steps))
    return replace(widened, scores=np.sort(np.abs(_standardised(widened, errors, steps))))


def _standardised(
    model: ErrorModel, errors: list[FloatArray], steps: list[FloatArray]
) -> FloatArray:
    """The errors in units of the model's spread at their step."""
    return np.concatenate(
        [
            e / np.sqrt(model.noise_sd**2 + model.level_variance_per_step * s)
            for e, s in zip(errors, steps, strict=True)
        ]
    )


def _tail_factor(model: ErrorModel, errors: list[FloatArray], steps: list[FloatArray]) -> float:
    """How much wider the day noise must be for single days to be covered as stated.

    The moments above fit the variances; real day errors have heavier tails (a holiday the
    model got wrong, a weekday effect off for the whole window), and 80 % and 95 % day bounds
    covered 71 % and 83 % on real series. So the errors standardised by the fitted spread must
    have their 80 % and 90 % magnitude quantiles at the Gaussian ones; only the noise is
    widened, the level (what month totals rest on) is left as fitted.
    """
    return max(_robust_sd(_standardised(model, errors, steps)), 1.0)


def small_sample_widening(n_windows: int) -> float:
    """The level variance comes from a handful of window means: a Student t with that many
    degrees of freedom, not a Gaussian, is the honest predictive. Its variance is widened by
    the squared ratio of the two distributions' 90 % quantiles (1.33 for five windows): on real
    series the 95 % ratio (1.5) left month totals covered at 93 % for 80 % bounds."""
    return float((t.ppf(0.9, n_windows) / norm.ppf(0.9)) ** 2)


def calibration_factor(
    forecasts: tuple[Predictive, ...],
    actuals: list[FloatArray],
    scored: list[BoolArray],
) -> float:
    """How much to widen (or narrow) a model's stated spread to match its backtest errors, when
    there are too few errors for an error model: the 80 % and 90 % quantiles of the
    standardised errors (in log space) matched to the Gaussian ones, whichever needs more."""
    standardised = np.concatenate(
        [
            ((np.log1p(a) - f.mu) / f.sd)[m]
            for f, a, m in zip(forecasts, actuals, scored, strict=True)
        ]
    )
    if standardised.size < 5:
        return 1.0
    return float(np.clip(_robust_sd(standardised), 0.7, 5.0))
