"""Abnormal days: outages are left out of the fits and the backtests, level shifts are not."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from models.anomalies import find_anomalies
from models.contract import Method
from models.engine import ActivitySeries, ForecastRequest, forecast

WEEK = 5
PATTERN = np.array([1.2, 1.05, 1.0, 0.95, 0.8])


def _weekdays(n_weeks: int, seed: int = 11, noise: float = 0.03) -> np.ndarray:
    """Monday-to-Friday daily volumes around 2 000 with 3 % noise."""
    rng = np.random.default_rng(seed)
    level = 2000.0 * np.tile(PATTERN, n_weeks)
    return level * np.exp(rng.normal(0.0, noise, level.size))


def _flag(values: np.ndarray, testable: np.ndarray | None = None) -> set[int]:
    allowed = np.ones(values.size, dtype=bool) if testable is None else testable
    return set(np.flatnonzero(find_anomalies(values, allowed, WEEK).abnormal).tolist())


def test_an_outage_day_and_an_outage_week_are_abnormal_and_nothing_else() -> None:
    values = _weekdays(30)
    values[52] *= 0.4  # a feed that lost most of a day
    values[100:105] *= 0.5  # a week at half level
    assert _flag(values) == {52, 100, 101, 102, 103, 104}


def test_a_spike_is_abnormal_too() -> None:
    values = _weekdays(30)
    values[77] *= 2.0
    assert _flag(values) == {77}


def test_a_lasting_level_shift_is_not_abnormal() -> None:
    """The new level differs from the weeks before it, not from the weeks after: it is data."""
    values = _weekdays(30)
    values[75:] *= 1.5
    values[40:] *= 1.0
    assert _flag(values) == set()


def test_days_the_calendar_explains_are_not_tested() -> None:
    values = _weekdays(30)
    values[52] *= 0.4  # say, a quiet public holiday: its regressor explains it
    testable = np.ones(values.size, dtype=bool)
    testable[52] = False
    assert _flag(values, testable) == set()


def test_a_last_week_that_moved_together_is_a_new_level() -> None:
    """At the end of the history only the weeks before are known: a whole week that moved
    together may be the start of a new level, and stays data."""
    values = _weekdays(30)
    values[-5:] *= 0.6
    assert _flag(values) == set()


def test_two_days_of_the_last_week_far_below_the_rest_of_it_are_an_outage() -> None:
    values = _weekdays(30)
    values[-2:] *= 0.35  # Thursday and Friday of the last week
    assert _flag(values) == {148, 149}


SLIDE = np.array([0.85, 0.85, 0.85, 0.6, 0.35])
"""A last week 15 % low that ends 40 % and 65 % low: the shape of a real station's transient.
On a 1 % noise series (threshold 0.2 in log) the rest of the week moved by 0.16: more than
half the threshold, less than all of it."""


def test_a_last_week_that_slid_partly_is_limited_at_the_threshold() -> None:
    """The rest of the week moved, but less than the threshold: the days beyond it are
    neither outages nor a new level; the models see them at the threshold."""
    values = _weekdays(30, noise=0.01)
    values[-5:] *= SLIDE
    anomalies = find_anomalies(values, np.ones(values.size, dtype=bool), WEEK)
    limited = np.flatnonzero(np.isfinite(anomalies.limited)).tolist()
    assert limited == [148, 149]
    assert set(np.flatnonzero(anomalies.abnormal).tolist()) == set(limited)
    for day in limited:
        weeks_before = np.median(values[day - 4 * WEEK : day : WEEK])
        assert values[day] < anomalies.limited[day] < weeks_before
    # one threshold below the weeks before, whatever the day's own depth
    depth = np.log1p(anomalies.limited[limited]) - np.array(
        [np.median(np.log1p(values[d - 4 * WEEK : d : WEEK])) for d in limited]
    )
    assert np.allclose(depth, depth[0])


def test_a_transient_slide_at_the_end_does_not_drag_the_forecast_down() -> None:
    """The slid week is seen at the threshold: the month ahead follows the week's moderate days
    (15 % low), not its last ones (at their raw volumes, exponential smoothing carried the
    65 % drop forward: the month came out at a third of the clean history's)."""
    clean = _weekdays(30, noise=0.01)
    slid = clean.copy()
    slid[-5:] *= SLIDE
    first = date(2024, 1, 1)
    end = first + timedelta(weeks=30)
    request = ForecastRequest("day", end, end + timedelta(days=27), method="ets", history_end=end)
    ratio = (
        forecast(_centre(slid, first), request).points["mean"].sum()
        / forecast(_centre(clean, first), request).points["mean"].sum()
    )
    assert 0.75 < ratio < 1.0


def test_excluded_days_are_neither_flagged_nor_neighbours() -> None:
    values = _weekdays(30)
    values[[60, 62]] = np.nan  # closed holidays, outside the series
    values[65] *= 0.4
    assert _flag(values) == {65}


def test_ordinary_noise_is_never_abnormal() -> None:
    """Thirty weeks of a noisy (12 %) series: the threshold scales with the series' noise."""
    rng = np.random.default_rng(5)
    values = 500.0 * np.tile(PATTERN, 30) * np.exp(rng.normal(0.0, 0.12, 150))
    assert _flag(values) == set()


def _centre(values: np.ndarray, first: date) -> ActivitySeries:
    days = [first + timedelta(days=k) for k in range(7 * (values.size // WEEK) + 7)]
    open_days = [d for d in days if d.weekday() < 5][: values.size]
    local = pd.DatetimeIndex([pd.Timestamp(d) + pd.Timedelta(hours=12) for d in open_days])
    offered = np.round(values).astype(np.int64)
    frame = pd.DataFrame(
        {
            "interval_start": local.tz_localize("America/Chicago").tz_convert("UTC"),
            "offered": offered,
            "handled": offered,
            "aht_seconds": np.full(offered.size, 180.0),
        }
    )
    return ActivitySeries(frame, "America/Chicago", 60, "US")


@pytest.mark.parametrize("method", ["snaive", "ets"])
def test_outage_weeks_neither_score_the_backtest_nor_bend_the_forecast(method: Method) -> None:
    """Two outage weeks inside the backtest windows: the backtest scores the candidates on the
    normal days only, and the forecast is that of the clean history."""
    clean = _weekdays(40)
    broken = clean.copy()
    broken[150:155] *= 0.5
    broken[170:175] *= 0.45
    first = date(2024, 1, 1)
    end = first + timedelta(weeks=40)
    request = ForecastRequest("day", end, end + timedelta(days=25), method=method, history_end=end)
    with_outages = forecast(_centre(broken, first), request)
    without = forecast(_centre(clean, first), request)
    score = next(s for s in with_outages.backtest if s.alias == method)
    clean_score = next(s for s in without.backtest if s.alias == method)
    assert score.wape is not None and clean_score.wape is not None
    assert score.wape < 1.5 * clean_score.wape
    ratio = with_outages.points["mean"].sum() / without.points["mean"].sum()
    assert abs(ratio - 1.0) < 0.02
