"""Equal-weight combination of several models, in log space.

Combining a smoothing model, a regression with ARMA errors and Prophet cancels part of their
separate errors (the forecasting-competition lesson that simple averages are hard to beat).
The engine builds it from the best candidates of its backtest and scores it from their
backtest forecasts without refitting (`combine`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from models.base import FloatArray, Forecaster, Predictive
from models.ets import ETS
from models.snaive import SeasonalNaive


def combine(predictives: list[Predictive]) -> Predictive:
    """Mean of the members' log forecasts; mean of their spreads.

    Averaging the standard deviations (not the variances of an average) treats the members'
    errors as fully correlated: conservative, and the engine calibrates the spread anyway.
    """
    mu = np.mean([p.mu for p in predictives], axis=0)
    sd = np.mean([p.sd for p in predictives], axis=0)
    return Predictive(mu, sd)


class Ensemble(Forecaster):
    alias: ClassVar[str] = "ensemble"
    uses_exog: ClassVar[bool] = True

    def __init__(self, members: tuple[Forecaster, ...] = (SeasonalNaive(), ETS())) -> None:
        self.members = members

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"members": (SeasonalNaive(season_length=7), ETS(season_length=7))}]

    def min_length(self) -> int:
        return max(member.min_length() for member in self.members)

    def _frames(
        self, z: FloatArray, X: FloatArray | None, index: pd.DatetimeIndex
    ) -> tuple[pd.Series, pd.DataFrame | None]:
        y = pd.Series(np.expm1(z), index=index)
        exog = None if X is None else pd.DataFrame(X, index=index)
        return y, exog

    def _fit(self, z: FloatArray, X: FloatArray | None, index: pd.DatetimeIndex) -> None:
        y, exog = self._frames(z, X, index)
        self.members_ = [member.clone().fit(y, exog) for member in self.members]

    def _update(self, z: FloatArray, X: FloatArray | None, index: pd.DatetimeIndex) -> None:
        y, exog = self._frames(z, X, index)
        for member in self.members_:
            member.update(y, exog)

    def _predict(self, horizon: int, X: FloatArray | None) -> tuple[FloatArray, FloatArray]:
        exog = None if X is None else pd.DataFrame(X, index=self.future_index(horizon))
        combined = combine([m.predict_distribution(horizon, exog) for m in self.members_])
        return combined.mu, combined.sd
