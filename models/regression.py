"""The deterministic part shared by the `ets` and `arima` families: a ridge regression of
``z = log1p(y)`` on level, trend, the weekly pattern and the calendar regressors.

`ets` removes only the calendar part (school holidays, catch-up days, annual season) and lets
exponential smoothing track level, trend and weekly pattern; `arima` removes everything and
models what is left as ARMA errors (regression with ARMA errors, estimated in two steps so
that a fit stays well under a second). A light ridge penalty keeps the many annual harmonics
from chasing the noise of a two-year history.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.base import FloatArray

RIDGE_PENALTY = 1.0
_STEPS_PER_YEAR = 365.25


@dataclass(frozen=True)
class CalendarRegression:
    """Coefficients of ``z ~ 1 + t + weekly dummies + X``, by position in the series."""

    season_length: int
    coef: FloatArray
    n_exog: int
    trend: bool = True

    @staticmethod
    def design(
        season_length: int, start: int, n: int, X: FloatArray | None, trend: bool = True
    ) -> FloatArray:
        """Design rows for positions ``start .. start + n - 1`` of the series."""
        t = np.arange(start, start + n, dtype=np.float64)
        position = np.arange(start, start + n) % season_length
        dummies = (position[:, None] == np.arange(1, season_length)[None, :]).astype(np.float64)
        exog = np.zeros((n, 0)) if X is None else X
        slope = t[:, None] / _STEPS_PER_YEAR if trend else np.zeros((n, 0))
        return np.column_stack([np.ones(n), slope, dummies, exog])

    @classmethod
    def fit(
        cls, z: FloatArray, X: FloatArray | None, season_length: int, trend: bool = True
    ) -> CalendarRegression:
        """Least squares with a light ridge on everything but the level (and the trend)."""
        design = cls.design(season_length, 0, z.size, X, trend)
        penalty = np.full(design.shape[1], RIDGE_PENALTY)
        penalty[: 1 + trend] = 0.0
        gram = design.T @ design + np.diag(penalty)
        coef = np.asarray(np.linalg.solve(gram, design.T @ z), dtype=np.float64)
        return cls(season_length, coef, 0 if X is None else X.shape[1], trend)

    def fitted(self, start: int, X: FloatArray | None, n: int) -> FloatArray:
        """The whole deterministic part at positions ``start .. start + n - 1``."""
        return self.design(self.season_length, start, n, X, self.trend) @ self.coef

    def calendar_effect(self, X: FloatArray | None, n: int) -> FloatArray:
        """Only the part due to the calendar regressors `X` (zero without them)."""
        if X is None or self.n_exog == 0:
            return np.zeros(n)
        return X @ self.coef[-self.n_exog :]
