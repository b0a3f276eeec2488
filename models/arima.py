"""Regression with ARMA errors (statsmodels `ARIMA`) on log volumes.

The deterministic part (level, trend, weekly pattern, calendar regressors) is a
`CalendarRegression`; the residual day-to-day dependence (a busy day is followed by a busy
day) is an ARMA process that fades back to the regression over the horizon. Estimated in two
steps rather than jointly in a SARIMAX with some twenty regressors, which took seconds.
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from statsmodels.tsa.arima.model import ARIMA as StatsmodelsARIMA
from statsmodels.tsa.arima.model import ARIMAResults

from models.base import FloatArray, Forecaster
from models.regression import CalendarRegression


class ARIMA(Forecaster):
    alias: ClassVar[str] = "arima"
    uses_exog: ClassVar[bool] = True

    def __init__(
        self, season_length: int = 7, order: tuple[int, int, int] = (1, 0, 1), trend: bool = True
    ) -> None:
        self.season_length = season_length
        self.order = order
        self.trend = trend

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [
            {"season_length": 7},
            {"season_length": 5, "order": (1, 1, 1)},
            {"season_length": 7, "trend": False},
        ]

    def min_length(self) -> int:
        return max(4 * self.season_length, 20)

    def _residuals(self, z: FloatArray, X: FloatArray | None) -> FloatArray:
        return z - self.regression_.fitted(0, X, z.size)

    def _fit(self, z: FloatArray, X: FloatArray | None, index: pd.DatetimeIndex) -> None:
        self.regression_ = CalendarRegression.fit(z, X, self.season_length, self.trend)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", UserWarning)  # non-invertible starting MA
            model = StatsmodelsARIMA(self._residuals(z, X), order=self.order, trend="n")
            self.results_: ARIMAResults = model.fit()
        self.n_ = z.size

    def _update(self, z: FloatArray, X: FloatArray | None, index: pd.DatetimeIndex) -> None:
        self.results_ = self.results_.apply(self._residuals(z, X))
        self.n_ = z.size

    def _predict(self, horizon: int, X: FloatArray | None) -> tuple[FloatArray, FloatArray]:
        forecast = self.results_.get_forecast(horizon)
        mean = np.asarray(forecast.predicted_mean, dtype=np.float64)
        variance = np.asarray(forecast.var_pred_mean, dtype=np.float64)
        return mean + self.regression_.fitted(self.n_, X, horizon), np.sqrt(variance)
