"""ETS / Holt-Winters (statsmodels `ETSModel`) on log volumes, calendar effects removed first.

Additive errors, additive (optionally damped) trend and additive weekly season on
``z = log1p(y)`` amount to a multiplicative Holt-Winters on volumes whose forecasts stay
positive. Calendar regressors (school holidays, catch-up days, annual season) are estimated by
`CalendarRegression`, removed before smoothing and added back to the forecast: exponential
smoothing alone would read a holiday week as a level change.
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from statsmodels.tsa.exponential_smoothing.ets import ETSModel, ETSResults

from models.base import FloatArray, Forecaster
from models.regression import CalendarRegression


class ETS(Forecaster):
    alias: ClassVar[str] = "ets"
    uses_exog: ClassVar[bool] = True

    def __init__(
        self, season_length: int = 7, damped_trend: bool = True, trend: bool = True
    ) -> None:
        self.season_length = season_length
        self.damped_trend = damped_trend
        self.trend = trend

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [
            {"season_length": 7},
            {"season_length": 5, "damped_trend": False},
            {"season_length": 7, "trend": False},
        ]

    def min_length(self) -> int:
        # statsmodels needs two full seasons to initialise; four give a usable trend.
        return max(4 * self.season_length, 14)

    def _model(self, adjusted: FloatArray) -> ETSModel:
        return ETSModel(
            pd.Series(adjusted),  # statsmodels 0.15 prediction needs an indexed endog
            error="add",
            trend="add" if self.trend else None,
            damped_trend=self.damped_trend and self.trend,
            seasonal="add" if self.season_length > 1 else None,
            seasonal_periods=self.season_length if self.season_length > 1 else None,
        )

    def _adjusted(self, z: FloatArray, X: FloatArray | None) -> FloatArray:
        return z - self.regression_.calendar_effect(X, z.size)

    def _fit(self, z: FloatArray, X: FloatArray | None, index: pd.DatetimeIndex) -> None:
        self.regression_ = CalendarRegression.fit(z, X, self.season_length, self.trend)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.results_: ETSResults = self._model(self._adjusted(z, X)).fit(disp=False)
        self.n_ = z.size

    def _update(self, z: FloatArray, X: FloatArray | None, index: pd.DatetimeIndex) -> None:
        self.results_ = self._model(self._adjusted(z, X)).smooth(self.results_.params)
        self.n_ = z.size

    def _predict(self, horizon: int, X: FloatArray | None) -> tuple[FloatArray, FloatArray]:
        prediction = self.results_.get_prediction(start=self.n_, end=self.n_ + horizon - 1)
        mean = np.asarray(prediction.predicted_mean, dtype=np.float64)
        variance = np.asarray(prediction.var_pred_mean, dtype=np.float64)
        mean = mean + self.regression_.calendar_effect(X, horizon)
        return mean, np.sqrt(variance)
