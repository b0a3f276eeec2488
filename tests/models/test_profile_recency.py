"""The intraday profile's recency, chosen in the interval backtest on its own shape errors."""

from __future__ import annotations

import re
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from models import ActivitySeries, ForecastRequest, ForecastResult, forecast, interval_choice
from models.intraday import IntervalGrid

from .conftest import PARIS

HOUR = 60
WEEKS = 30


def _activity(volumes: np.ndarray) -> ActivitySeries:
    """Hourly intervals of consecutive days from Monday 2024-07-01, `volumes[day, slot]`."""
    days = pd.date_range("2024-07-01", periods=volumes.shape[0], freq="D")
    grid = IntervalGrid.of(days, PARIS, HOUR)
    row = np.searchsorted(days, grid.day)
    frame = pd.DataFrame(
        {
            "interval_start": grid.start,
            "offered": volumes[row, grid.slot],
            "handled": volumes[row, grid.slot],
            "aht_seconds": 300.0,
        }
    )
    return ActivitySeries(frame, PARIS, HOUR, "FR")


def _drifting_shape(rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """2 000 calls a day from 08:00 to 18:00, whose morning share (before noon) falls steadily
    from 60 % to 30 % over the weeks, as a season moves a day's peak; and the share the
    week after the history would have."""
    n = WEEKS * 7
    morning_share = np.linspace(0.6, 0.3, n + 7)
    volumes = np.zeros((n, 24))
    volumes[:, 8:12] = (2000 * morning_share[:n] / 4)[:, None]
    volumes[:, 12:18] = (2000 * (1 - morning_share[:n]) / 6)[:, None]
    return rng.poisson(volumes).astype(float), float(morning_share[n:].mean())


def _forecast(series: ActivitySeries, days: int) -> ForecastResult:
    cut = (pd.Timestamp("2024-07-01") + pd.Timedelta(days=days)).date()
    request = ForecastRequest("interval", cut, cut + timedelta(days=6), history_end=cut)
    return forecast(series, request)


def _half_life(result: ForecastResult) -> float:
    detail = next(s.detail for s in result.backtest if s.alias == "profile")
    assert detail is not None
    found = re.search(r"half-life (\d+) days", detail)
    assert found, detail
    return float(found.group(1))


def _morning_share(result: ForecastResult) -> float:
    hour = result.points["period_start"].dt.tz_convert(PARIS).dt.hour
    return float(result.points.loc[hour < 12, "mean"].sum() / result.points["mean"].sum())


def test_a_day_shape_that_drifts_is_followed_by_a_short_memory_profile() -> None:
    volumes, truth = _drifting_shape(np.random.default_rng(1))
    result = _forecast(_activity(volumes), volumes.shape[0])
    assert _half_life(result) <= 14
    assert abs(_morning_share(result) - truth) < 0.02
    with pytest.MonkeyPatch.context() as patch:  # the single recency the profile used to have
        patch.setattr(interval_choice, "PROFILE_HALF_LIVES", (56.0,))
        lagging = _forecast(_activity(volumes), volumes.shape[0])
    assert _profile_wape(lagging) > 1.2 * _profile_wape(result)


def _profile_wape(result: ForecastResult) -> float:
    wape = next(s.wape for s in result.backtest if s.alias == "profile")
    assert wape is not None
    return wape


def test_a_small_steady_activity_keeps_a_long_memory() -> None:
    """Thirty calls a day: one week's shares are mostly counting noise, which the backtest's
    shape errors show."""
    rng = np.random.default_rng(2)
    shape = np.zeros(24)
    shape[8:18] = rng.uniform(1, 3, size=10)
    volumes = rng.poisson(np.tile(30 * shape / shape.sum(), (WEEKS * 7, 1))).astype(float)
    result = _forecast(_activity(volumes), volumes.shape[0])
    assert _half_life(result) >= 56


def test_shapes_that_all_fit_equally_keep_the_longest_memory() -> None:
    shape = np.zeros(24)
    shape[8:18] = np.arange(1, 11) * 10.0
    volumes = np.tile(shape, (WEEKS * 7, 1))
    result = _forecast(_activity(volumes), volumes.shape[0])
    assert _half_life(result) == max(interval_choice.PROFILE_HALF_LIVES)
