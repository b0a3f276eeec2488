"""Prophet on log volumes, with the contract's public holidays and the calendar regressors.

Prophet brings what the other families lack: a piecewise-linear trend that can bend where the
history did, and one effect per named public holiday of the contract's country (from the
`holidays` package, through the engine's cached calendar: Prophet's own
`add_country_holidays` rebuilds the calendar on every regressor it adds, which cost more than
the fit), useful for activities that stay open on holidays. The annual
season comes in through the engine's Fourier regressors, like for the other families, so
Prophet's own yearly component is off by default. Fitting costs a cmdstan run (~0.3 s), which
is why the engine gives it a reduced backtest.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from prophet import Prophet as ProphetEstimator

from models.base import FloatArray, Forecaster
from models.calendar import public_holidays

_HOLIDAY_YEARS_AHEAD = 2  # the engine forecasts at most 400 days ahead
_STAN_SEED = 1234

# cmdstanpy and prophet log every fit at INFO; a batch of a hundred activities drowns in it.
# cmdstanpy installs its own INFO handler unless the logger already has one.
for _name in ("cmdstanpy", "prophet"):
    logging.getLogger(_name).addHandler(logging.NullHandler())
    logging.getLogger(_name).setLevel(logging.WARNING)


class Prophet(Forecaster):
    alias: ClassVar[str] = "prophet"
    uses_exog: ClassVar[bool] = True

    def __init__(
        self,
        country: str | None = "FR",
        yearly_seasonality: bool = False,
        changepoint_prior_scale: float = 0.05,
    ) -> None:
        self.country = country
        self.yearly_seasonality = yearly_seasonality
        self.changepoint_prior_scale = changepoint_prior_scale

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"country": "FR"}, {"country": None, "changepoint_prior_scale": 0.5}]

    def min_length(self) -> int:
        return 14

    def _frame(self, index: pd.DatetimeIndex, X: FloatArray | None) -> pd.DataFrame:
        frame = pd.DataFrame({"ds": index.tz_localize(None)})
        if X is not None:
            for j in range(X.shape[1]):
                frame[f"x{j}"] = X[:, j]
        return frame

    def _holidays(self, index: pd.DatetimeIndex) -> pd.DataFrame | None:
        if self.country is None:
            return None
        years = tuple(range(index[0].year, index[-1].year + _HOLIDAY_YEARS_AHEAD + 1))
        named = public_holidays(self.country, years)
        return pd.DataFrame(
            {"holiday": list(named.values()), "ds": pd.to_datetime(list(named.keys()))}
        )

    def _estimator(self, index: pd.DatetimeIndex) -> ProphetEstimator:
        return ProphetEstimator(
            yearly_seasonality=self.yearly_seasonality,
            weekly_seasonality=True,
            daily_seasonality=False,
            holidays=self._holidays(index),
            changepoint_prior_scale=self.changepoint_prior_scale,
            uncertainty_samples=0,  # sampled with the global numpy RNG: see `_predict`
        )

    def _fit_estimator(
        self,
        z: FloatArray,
        X: FloatArray | None,
        index: pd.DatetimeIndex,
        init: dict[str, Any] | None,
    ) -> None:
        estimator = self._estimator(index)
        frame = self._frame(index, X).assign(y=z)
        for column in frame.columns.drop(["ds", "y"]):
            estimator.add_regressor(column)
        options: dict[str, Any] = {"seed": _STAN_SEED}  # same data, same fit
        if init:
            options["init"] = init
        estimator.fit(frame, **options)
        self.estimator_ = estimator

    def _fit(self, z: FloatArray, X: FloatArray | None, index: pd.DatetimeIndex) -> None:
        self._fit_estimator(z, X, index, None)

    def _update(self, z: FloatArray, X: FloatArray | None, index: pd.DatetimeIndex) -> None:
        # Prophet cannot refilter with fixed parameters; a warm start makes the refit cheap.
        params = self.estimator_.params
        init = {
            "k": float(params["k"][0][0]),
            "m": float(params["m"][0][0]),
            "sigma_obs": float(params["sigma_obs"][0][0]),
            "delta": params["delta"][0],
            "beta": params["beta"][0],
        }
        self._fit_estimator(z, X, index, init)

    def _predict(self, horizon: int, X: FloatArray | None) -> tuple[FloatArray, FloatArray]:
        """Prophet's mean, and its predictive spread computed in closed form.

        Prophet simulates future trend changes with the global numpy RNG, which would make the
        same request give different intervals. The simulated process is simple enough to take
        its variance directly: at each step the slope changes with probability `p` (the
        historical changepoint rate) by a Laplace(0, b) amount (b: mean absolute historical
        change), so the trend after `k` steps of length `dt` has variance
        ``p * 2 b**2 * dt**2 * sum(r**2, r = 1..k)``; observation noise adds ``sigma**2``.
        """
        estimator = self.estimator_
        future = self._frame(self.future_index(horizon), X)
        mean = estimator.predict(future)["yhat"].to_numpy(dtype=np.float64)
        params: dict[str, Any] = estimator.params
        history: pd.DataFrame = estimator.history
        dt = float(np.diff(history["t"].to_numpy(dtype=np.float64)).mean())
        rate = np.size(np.asarray(estimator.changepoints_t)) * dt
        scale = float(np.mean(np.abs(params["delta"][0]))) + 1e-8
        steps = np.arange(1, horizon + 1, dtype=np.float64)
        trend_var = rate * 2 * scale**2 * dt**2 * np.cumsum(steps**2)
        sigma = float(params["sigma_obs"][0][0])
        y_scale = float(estimator.y_scale or 1.0)  # set by fit
        return mean, np.sqrt(sigma**2 + trend_var) * y_scale
