"""Weekly seasonal naive: each open weekday repeats its value of the last week.

The benchmark every other model must beat, and the fallback when history is too short for
anything else (it needs one week).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from models.base import FloatArray, Forecaster


class SeasonalNaive(Forecaster):
    """``z[t + k] = z[t + k - m]``; the error grows with the number of weeks ahead.

    The spread is that of the weekly differences of z, times the square root of the number of
    weeks ahead (a seasonal random walk).
    """

    alias: ClassVar[str] = "snaive"

    def __init__(self, season_length: int = 7) -> None:
        self.season_length = season_length

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"season_length": 7}, {"season_length": 5}]

    def min_length(self) -> int:
        return self.season_length

    def _fit(self, z: FloatArray, X: FloatArray | None, index: pd.DatetimeIndex) -> None:
        m = self.season_length
        self.last_season_ = z[-m:].copy()
        differences = z[m:] - z[:-m]
        self.sigma_ = float(np.sqrt(np.mean(differences**2))) if differences.size else 0.1

    def _predict(self, horizon: int, X: FloatArray | None) -> tuple[FloatArray, FloatArray]:
        m = self.season_length
        steps = np.arange(horizon)
        weeks_ahead = steps // m + 1
        return self.last_season_[steps % m], self.sigma_ * np.sqrt(weeks_ahead.astype(float))
