"""Each model family on a series whose answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.arima import ARIMA
from models.base import Forecaster
from models.ensemble import Ensemble
from models.ets import ETS
from models.prophet import Prophet
from models.snaive import SeasonalNaive

from .conftest import business_days

PATTERN = np.array([300.0, 420.0, 380.0, 350.0, 250.0])


def _trend(n: int) -> pd.Series:
    """1000 contacts a day growing by 4 a day, with a mild weekly pattern."""
    rng = np.random.default_rng(11)
    t = np.arange(n)
    level = (1000 + 4 * t) * np.tile([1.05, 1.0, 1.0, 1.0, 0.95], n // 5 + 1)[:n]
    return pd.Series(level * np.exp(rng.normal(0, 0.01, n)), index=business_days(n))


def test_snaive_repeats_a_pure_weekly_pattern() -> None:
    y = pd.Series(np.tile(PATTERN, 4), index=business_days(20))
    mean = SeasonalNaive(season_length=5).fit(y).predict(10)["mean"].to_numpy()
    np.testing.assert_allclose(mean, np.tile(PATTERN, 2))


def test_snaive_intervals_widen_week_after_week() -> None:
    rng = np.random.default_rng(0)
    y = pd.Series(rng.poisson(np.tile(PATTERN, 6)).astype(float), index=business_days(30))
    frame = SeasonalNaive(season_length=5).fit(y).predict(10)
    width = (frame["hi-95"] / frame["mean"]).to_numpy()
    assert width[5] > width[0]


@pytest.mark.parametrize("model", [ETS(season_length=5), ARIMA(season_length=5)], ids=str)
def test_trend_models_extrapolate_a_linear_trend(model: Forecaster) -> None:
    y = _trend(120)
    mean = model.fit(y).predict(10)["mean"].to_numpy()
    expected = (1000 + 4 * np.arange(120, 130)) * np.tile([1.05, 1.0, 1.0, 1.0, 0.95], 2)
    np.testing.assert_allclose(mean, expected, rtol=0.03)


def test_prophet_follows_a_linear_trend_on_a_short_history() -> None:
    y = _trend(60)
    mean = Prophet(country=None).fit(y).predict(5)["mean"].to_numpy()
    assert mean.mean() > y.iloc[-5:].mean()
    np.testing.assert_allclose(mean.mean(), 1000 + 4 * 62, rtol=0.03)


def test_ets_applies_a_calendar_effect_seen_in_history() -> None:
    n = 100
    rebound = np.zeros(n + 5)
    rebound[[*range(2, n, 12), n + 2]] = 1.0  # 9 catch-up days seen, one ahead
    volume = np.tile(PATTERN, n // 5 + 1)[: n + 5] * 3 * (1 + 0.3 * rebound)
    index = business_days(n + 5)
    X = pd.DataFrame({"rebound": rebound}, index=index)
    model = ETS(season_length=5).fit(pd.Series(volume[:n], index=index[:n]), X.iloc[:n])
    mean = model.predict(5, X.iloc[n:])["mean"].to_numpy()
    np.testing.assert_allclose(mean[2] / (PATTERN[2] * 3), 1.3, rtol=0.05)


def test_ensemble_lies_between_its_members() -> None:
    y = _trend(60)
    members = (SeasonalNaive(season_length=5), ETS(season_length=5))
    ensemble = Ensemble(members=members).fit(y).predict(5)["mean"].to_numpy()
    single = [m.clone().fit(y).predict(5)["mean"].to_numpy() for m in members]
    assert np.all(ensemble >= np.minimum(*single) - 1e-6)
    assert np.all(ensemble <= np.maximum(*single) + 1e-6)
