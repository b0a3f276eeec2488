"""The one interface every forecasting model implements (sktime-like template method).

Public `fit` / `update` / `predict` validate and convert the input once, then call the model's
`_fit` / `_update` / `_predict`. A model sees a regular series of counts: a `pd.Series` whose
`DatetimeIndex` carries its frequency (a `CustomBusinessDay` of the activity's open weekdays, or
any pandas frequency), plus optional exogenous columns on the same index.

Every model works on ``z = log1p(y)``: contact volumes are multiplicative (a Monday is "+18 %",
a holiday catch-up "+12 %"), their noise grows with the level, and back-transforming keeps the
forecasts non-negative. A model returns a Gaussian predictive distribution of z per step (mean
and standard deviation); the base class turns it into the statsforecast contract frame
(`mean`, `lo-80`, `hi-80`, ...), and `Predictive` samples correlated paths from it for totals.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.stats import norm

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

DEFAULT_LEVELS: tuple[int, ...] = (80, 95)
MEAN_COLUMN = "mean"
"""The point forecast's column in the contract frame (statsforecast's names)."""

CORE_LEVEL = 80
"""With backtest scores, the point's correction takes the noise that their central `CORE_LEVEL`
percent imply, were they Gaussian: a few large misses (a holiday, an outage) widen the fitted
noise, and its exp(sd**2 / 2) put a real station's point 5 % above its median (WAPE 0.070
where the median scored 0.027); the central errors say how skewed a typical day is."""

MEAN_NOISE_CAP = 0.5
"""The largest calibrated day noise (log sd) the point's log-normal mean correction uses: at
most +13 % over the median. Beyond it the correction is the Gaussian tail's, not the data's: on
a real station whose weekends fell from 1 000 boardings to 60, noise of 1.5 tripled every
forecast. The bounds still use the whole spread."""


def lower_column(level: int) -> str:
    """The contract frame's column of the lower bound at `level` percent: ``lo-80``."""
    return f"lo-{level}"


def upper_column(level: int) -> str:
    """The contract frame's column of the upper bound at `level` percent: ``hi-80``."""
    return f"hi-{level}"


class NotEnoughHistory(ValueError):
    """The series is too short for this model; the message says how short and what it needs."""


@dataclass(frozen=True)
class Predictive:
    """Gaussian marginals of ``z = log1p(volume)`` per step, with paths for period totals.

    The point forecast is a mean volume (see `point`), so that daily points add up to a
    period's point (a month's point is the sum of its days').
    """

    mu: FloatArray
    sd: FloatArray
    noise_sd: FloatArray | None = None
    """The part of `sd` that is independent day-to-day noise (the rest is a level shared by
    later steps); None: the first step's spread (see `sample`)."""
    scores: FloatArray | None = None
    """Sorted magnitudes of backtest errors in units of `sd`, when the spread was calibrated on
    enough of them: the bounds are then their conformal quantiles (see `bounds`)."""

    @property
    def point(self) -> FloatArray:
        """The mean volume at the central level: day noise averages out over a month but a
        level error does not, and adding the level's log-normal skew would push every total up
        by exp(var / 2) (8 % three months out on a short real history) for an error as likely
        down as up. The noise is `noise_sd`, or else the first step's spread (as in `sample`):
        with the whole spread, a seasonal naive's point rose by 30 % two weeks out on a real
        station with a few outage days, and lost every backtest it should have won. With
        backtest `scores`, the noise their central part implies (see `CORE_LEVEL`)."""
        noise = self.sd[:1] if self.noise_sd is None else self.noise_sd
        if self.scores is not None:
            noise = noise * self._quantile(CORE_LEVEL) / float(norm.ppf(0.5 + CORE_LEVEL / 200))
        spread = np.minimum(noise, MEAN_NOISE_CAP)
        return np.asarray(np.maximum(np.expm1(self.mu + spread**2 / 2), 0.0), dtype=np.float64)

    def scaled(self, factor: float) -> Predictive:
        """The same forecast with its uncertainty multiplied by `factor` (calibration)."""
        noise = None if self.noise_sd is None else self.noise_sd * factor
        return Predictive(self.mu, self.sd * factor, noise, self.scores)

    def bounds(self, level: float) -> tuple[FloatArray, FloatArray]:
        """Bounds of each step at `level` percent: `mu` -+ z `sd`, where z is the Gaussian
        quantile, or with `scores` the split-conformal one (their ceil((n + 1) level)-th
        value). Real day errors are heavier-tailed than Gaussian: a spread that covered 95 %
        of them as stated covered 87 % at 80 %, not 80 %; their own quantiles are right at
        every level the backtest is large enough for, and no narrower than Gaussian beyond."""
        z = float(norm.ppf(0.5 + level / 200.0)) if self.scores is None else self._quantile(level)
        lower = np.maximum(np.expm1(self.mu - z * self.sd), 0.0)
        upper = np.maximum(np.expm1(self.mu + z * self.sd), 0.0)
        return lower, upper

    def _quantile(self, level: float) -> float:
        """The split-conformal quantile of `scores` at `level` percent: their
        ceil((n + 1) level)-th value, or beyond what n scores tell, the largest of them and no
        less than the Gaussian quantile."""
        assert self.scores is not None
        rank = int(np.ceil((self.scores.size + 1) * level / 100.0))
        if rank <= self.scores.size:
            return float(self.scores[rank - 1])
        return max(float(norm.ppf(0.5 + level / 200.0)), float(self.scores[-1]))

    def sample(self, n_samples: int, rng: np.random.Generator) -> FloatArray:
        """Volume paths, shape ``(n_samples, horizon)``.

        Each step's variance is split into day noise (`noise_sd`, or else the first step's
        variance; drawn independently) and the rest (accumulated level uncertainty, drawn as a
        random walk shared by later steps). The steps of one path are then positively
        correlated as in a local-level model, so that the spread of a month total is not
        understated as it would be with independent days. Marginals are N(mu, sd**2) in z,
        with sd taken as its running maximum (uncertainty does not shrink with the horizon).
        Draws come in antithetic pairs, so that the mean of a few hundred paths is stable.
        """
        horizon = self.mu.size
        var = np.maximum.accumulate(self.sd**2)
        noise_var = var[:1] if self.noise_sd is None else np.minimum(self.noise_sd**2, var)
        level = np.maximum.accumulate(var - noise_var)
        increments = np.diff(level, prepend=0.0)
        shape = ((n_samples + 1) // 2, horizon)
        walk = np.cumsum(rng.standard_normal(shape) * np.sqrt(increments), axis=1)
        noise = rng.standard_normal(shape) * np.sqrt(noise_var)
        deviation = np.concatenate([walk + noise, -(walk + noise)])[:n_samples]  # antithetic
        return np.asarray(np.maximum(np.expm1(self.mu + deviation), 0.0), dtype=np.float64)


def check_levels(levels: tuple[int, ...]) -> tuple[int, ...]:
    if not levels or any(not 0 < level < 100 for level in levels):
        raise ValueError(f"levels must be percentages strictly between 0 and 100, got {levels}")
    return tuple(sorted(set(levels)))


class Forecaster(ABC):
    """Base class: fit a history of counts, predict a horizon with intervals.

    Subclasses declare `alias` (their name everywhere: registry, API, backtests, benchmarks),
    `uses_exog`, and implement `_fit`, `_predict` and `min_length`; they may override
    `_update` when they can refresh their state on a longer series without re-estimating.
    """

    alias: ClassVar[str]
    uses_exog: ClassVar[bool] = False

    # Fitted state, set by `fit`.
    index_: pd.DatetimeIndex
    exog_columns_: list[str] | None

    @abstractmethod
    def min_length(self) -> int:
        """The shortest series, in observations, this model can be fitted on."""

    @abstractmethod
    def _fit(self, z: FloatArray, X: FloatArray | None, index: pd.DatetimeIndex) -> None:
        """Estimate on ``z = log1p(y)``; `X` is aligned with `z` when the model uses exog."""

    @abstractmethod
    def _predict(self, horizon: int, X: FloatArray | None) -> tuple[FloatArray, FloatArray]:
        """Mean and standard deviation of z for the next `horizon` steps."""

    def _update(self, z: FloatArray, X: FloatArray | None, index: pd.DatetimeIndex) -> None:
        """Refresh on a longer series keeping the estimated parameters; default: refit."""
        self._fit(z, X, index)

    # ----------------------------------------------------------------------------------------
    # Hyperparameters (sktime convention: the constructor stores them unchanged).

    def get_params(self) -> dict[str, Any]:
        names = [
            p.name
            for p in inspect.signature(type(self).__init__).parameters.values()
            if p.name != "self" and p.kind is p.POSITIONAL_OR_KEYWORD
        ]
        return {name: getattr(self, name) for name in names}

    def clone(self) -> Self:
        """An unfitted copy with the same hyperparameters."""
        return type(self)(**self.get_params())

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        """Small, fast hyperparameter sets for the conformance suite."""
        return [{}]

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # ----------------------------------------------------------------------------------------
    # Template methods.

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "index_")

    def fit(self, y: pd.Series, X: pd.DataFrame | None = None) -> Self:
        """Fit on a regular series of non-negative counts; `y` and `X` are not modified."""
        index, z, exog = self._check_history(y, X)
        if z.size < self.min_length():
            raise NotEnoughHistory(
                f"{self.alias} needs at least {self.min_length()} observations, got {z.size}"
            )
        self._fit(z, exog, index)
        self.index_ = index
        self.exog_columns_ = None if X is None else list(X.columns)
        return self

    def update(self, y: pd.Series, X: pd.DataFrame | None = None) -> Self:
        """Extend the fitted model to a longer history that starts where the first one did.

        Parameters stay those of the last `fit` when the model supports it; backtests use this
        to evaluate later origins without re-estimating, which is both cheaper and leak-free
        (the parameters come from the earliest origin).
        """
        self._require_fitted()
        index, z, exog = self._check_history(y, X)
        if index[0] != self.index_[0] or index.size < self.index_.size:
            raise ValueError("update needs a longer series with the same start as the fitted one")
        self._update(z, exog, index)
        self.index_ = index
        return self

    def predict_distribution(self, horizon: int, X: pd.DataFrame | None = None) -> Predictive:
        """The predictive distribution of the next `horizon` steps (in log1p space)."""
        self._require_fitted()
        if horizon < 1:
            raise ValueError(f"horizon must be >= 1, got {horizon}")
        exog = self._check_future_exog(horizon, X)
        mu, sd = self._predict(horizon, exog)
        if mu.shape != (horizon,) or sd.shape != (horizon,):
            raise RuntimeError(f"{self.alias} returned a forecast of the wrong shape")
        return Predictive(np.asarray(mu, dtype=np.float64), np.maximum(sd, 1e-6))

    def predict(
        self,
        horizon: int,
        X: pd.DataFrame | None = None,
        levels: tuple[int, ...] = DEFAULT_LEVELS,
    ) -> pd.DataFrame:
        """Contract frame indexed by the next `horizon` timestamps of the series' frequency.

        Columns `mean` then `lo-<level>`, `hi-<level>` for each level, all >= 0.
        """
        levels = check_levels(levels)
        predictive = self.predict_distribution(horizon, X)
        frame = pd.DataFrame({MEAN_COLUMN: predictive.point}, index=self.future_index(horizon))
        for level in levels:
            frame[lower_column(level)], frame[upper_column(level)] = predictive.bounds(level)
        return frame

    def future_index(self, horizon: int) -> pd.DatetimeIndex:
        self._require_fitted()
        freq = self.index_.freq
        start = self.index_[-1] + freq
        return pd.date_range(start, periods=horizon, freq=freq, name=self.index_.name)

    # ----------------------------------------------------------------------------------------
    # Validation and conversion, done once here so that models can trust their input.

    def _require_fitted(self) -> None:
        if not self.is_fitted:
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit first")

    def _check_history(
        self, y: pd.Series, X: pd.DataFrame | None
    ) -> tuple[pd.DatetimeIndex, FloatArray, FloatArray | None]:
        if not isinstance(y, pd.Series) or not isinstance(y.index, pd.DatetimeIndex):
            raise TypeError("y must be a pandas Series with a DatetimeIndex")
        index = y.index
        if index.freq is None:
            inferred = pd.infer_freq(index) if index.size >= 3 else None
            if inferred is None:
                raise ValueError("y must be a regular series: its index needs a frequency")
            index = pd.DatetimeIndex(index, freq=inferred)
        values = y.to_numpy(dtype=np.float64, na_value=np.nan)
        if not np.all(np.isfinite(values)):
            raise ValueError("y must not contain missing or infinite values")
        if np.any(values < 0):
            raise ValueError("y must be counts: no negative values")
        return index, np.log1p(values), self._check_exog(X, index)

    def _check_exog(self, X: pd.DataFrame | None, index: pd.DatetimeIndex) -> FloatArray | None:
        if X is None:
            return None
        if not X.index.equals(index):
            raise ValueError("X must have the same index as y")
        return self._exog_values(X)

    def _check_future_exog(self, horizon: int, X: pd.DataFrame | None) -> FloatArray | None:
        if self.exog_columns_ is None:
            return None
        if X is None or len(X) != horizon:
            raise ValueError(f"{self.alias} was fitted with X: predict needs X for {horizon} steps")
        if list(X.columns) != self.exog_columns_:
            raise ValueError("X must have the columns the model was fitted with")
        return self._exog_values(X)

    @staticmethod
    def _exog_values(X: pd.DataFrame) -> FloatArray:
        values: FloatArray = X.to_numpy(dtype=np.float64, na_value=np.nan)
        if not np.all(np.isfinite(values)):
            raise ValueError("X must not contain missing or infinite values")
        return values
