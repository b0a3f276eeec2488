"""The direct interval model, and the interval-level choice between it and the profiles."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from models import (
    ForecastInputError,
    ForecastRequest,
    ForecastResult,
    InsufficientHistory,
    SpecialDay,
    forecast,
    interval_choice,
)
from models.backtest import Scores
from models.base import Predictive
from models.calendar import learn_calendar
from models.choice import DirectIntervals
from models.contract import ActivitySeries
from models.direct import SlotMatrix, fit_slot_smoothing
from models.intraday import IntervalGrid, learn_profile
from models.rendering import daily_forecast, interval_points
from models.selection import select

from .conftest import PARIS, activity

HOUR = 60


def _intervals(days: pd.DatetimeIndex, volume_of: np.ndarray, minutes: int = HOUR) -> pd.DataFrame:
    """Intervals of `days` (local) whose volumes are `volume_of[day_index, slot]`."""
    grid = IntervalGrid.of(days, PARIS, minutes)
    row = np.searchsorted(days, grid.day)
    return pd.DataFrame(
        {
            "interval_start": grid.start,
            "offered": volume_of[row, grid.slot],
            "handled": volume_of[row, grid.slot],
            "aht_seconds": 300.0,
        }
    )


def _matrix(volume_of: np.ndarray, start: str = "2025-01-06") -> SlotMatrix:
    days = pd.date_range(start, periods=volume_of.shape[0], freq="D")
    return SlotMatrix.of(_intervals(days, volume_of), PARIS, HOUR, days)


def test_a_steady_weekly_pattern_is_learned_cell_by_cell() -> None:
    rng = np.random.default_rng(1)
    pattern = rng.uniform(5, 50, size=(7, 24))
    volumes = np.tile(pattern, (20, 1))  # 20 weeks, Monday first
    model = fit_slot_smoothing(_matrix(volumes))
    np.testing.assert_allclose(model.level, pattern)


def test_a_shift_in_the_day_s_shape_is_followed_by_a_large_smoothing_constant() -> None:
    before = np.zeros((7, 24))
    before[:, 9:12] = 100.0  # mornings
    after = np.zeros((7, 24))
    after[:, 14:17] = 100.0  # the same volume, in the afternoon
    volumes = np.vstack([np.tile(before, (30, 1)), np.tile(after, (4, 1))])
    model = fit_slot_smoothing(_matrix(volumes))
    assert model.alpha >= 0.5
    assert model.level[:, 14:17].min() > 90 and model.level[:, 9:12].max() < 10


def test_unusable_days_do_not_teach_the_model() -> None:
    volumes = np.full((10 * 7, 24), 10.0)
    volumes[7 * 9 + 2] = 1000.0  # an outage-recovery Wednesday in the last week
    days = pd.date_range("2025-01-06", periods=volumes.shape[0], freq="D")
    usable = days[days != days[7 * 9 + 2]]
    matrix = SlotMatrix.of(_intervals(days, volumes), PARIS, HOUR, usable)
    np.testing.assert_allclose(fit_slot_smoothing(matrix).level, 10.0)


def test_a_weekday_never_usable_has_no_level_and_forecasts_zero() -> None:
    volumes = np.full((8 * 7, 24), 10.0)
    days = pd.date_range("2025-01-06", periods=volumes.shape[0], freq="D")
    matrix = SlotMatrix.of(_intervals(days, volumes), PARIS, HOUR, days[days.day_of_week != 6])
    model = fit_slot_smoothing(matrix)
    assert np.isnan(model.level[6]).all()
    sunday = pd.DatetimeIndex([pd.Timestamp("2025-03-09")])
    assert (model.means(IntervalGrid.of(sunday, PARIS, HOUR)) == 0).all()


def test_the_repeated_autumn_hour_counts_as_two_observations_of_its_slot() -> None:
    days = pd.DatetimeIndex([pd.Timestamp("2025-10-26")])  # 25 hours in Paris
    grid = IntervalGrid.of(days, PARIS, HOUR)
    frame = pd.DataFrame(
        {
            "interval_start": grid.start,
            "offered": np.where(grid.slot == 2, 10.0 + 20.0 * np.cumsum(grid.slot == 2), 1.0),
            "handled": 1.0,
            "aht_seconds": 300.0,
        }
    )
    matrix = SlotMatrix.of(frame, PARIS, HOUR, days)
    assert matrix.values.shape == (1, 24)
    assert matrix.values[0, 2] == pytest.approx((30.0 + 50.0) / 2)


# The engine's choice


CUT = date(2025, 3, 3)  # a Monday
SHIFT = CUT - timedelta(weeks=8)


def _shifted_series(voice_year: pd.DataFrame) -> pd.DataFrame:
    """The voice activity whose calls move from before noon to the afternoon eight weeks
    before the cut, the day's total unchanged: the long profile weighting lags there."""
    local = voice_year["interval_start"].dt.tz_convert(PARIS)
    morning = (local.dt.hour < 12).to_numpy()
    shifted = (local.dt.tz_localize(None) >= pd.Timestamp(SHIFT)).to_numpy()
    day = local.dt.date.to_numpy()
    frame = voice_year.copy()
    moved = frame["offered"].where(morning & shifted, 0.0).groupby(day).transform("sum")
    afternoon_total = frame["offered"].where(~morning & shifted, 0.0).groupby(day).transform("sum")
    gain = np.divide(
        afternoon_total + moved,
        afternoon_total,
        out=np.ones(len(frame)),
        where=afternoon_total.to_numpy() > 0,
    )
    offered = np.where(
        morning & shifted, 0.0, np.where(shifted, frame["offered"] * gain, frame["offered"])
    )
    frame["offered"] = np.round(offered)
    frame["handled"] = frame["offered"]
    return frame


@contextmanager
def _lagging_profiles() -> Iterator[None]:
    """The intraday profile held to its longest recency, as before it was chosen in the
    backtest: there it lags a shape that moved, and the direct model backtests better."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(interval_choice, "PROFILE_HALF_LIVES", (56.0,))
        yield


def _forecast_intervals(frame: pd.DataFrame, method: str = "auto", **kw: object) -> ForecastResult:
    request = ForecastRequest(
        "interval",
        CUT,
        CUT + timedelta(days=6),
        method=method,  # type: ignore[arg-type]
        history_end=CUT,
        **kw,  # type: ignore[arg-type]
    )
    return forecast(activity(frame), request)


@pytest.fixture(scope="module")
def shifted(voice_year: pd.DataFrame) -> ForecastResult:
    with _lagging_profiles():
        return _forecast_intervals(_shifted_series(voice_year))


def _interval_scores(result: ForecastResult) -> dict[str, float | None]:
    return {s.alias: s.wape for s in result.backtest if s.level == "interval"}


def test_auto_uses_the_direct_model_where_it_backtests_better(shifted: ForecastResult) -> None:
    scores = _interval_scores(shifted)
    assert scores["direct"] is not None and scores["profile"] is not None
    assert scores["direct"] < scores["profile"]
    assert shifted.method == "direct"
    local = shifted.points["period_start"].dt.tz_convert(PARIS)
    weekday_mornings = (local.dt.hour < 12) & (local.dt.day_of_week < 5)
    weekday_afternoons = (local.dt.hour >= 12) & (local.dt.day_of_week < 5)
    assert shifted.points.loc[weekday_mornings, "mean"].sum() < 0.2 * (
        shifted.points.loc[weekday_afternoons, "mean"].sum()
    )


def test_direct_intervals_keep_the_calendar_and_have_nested_count_bounds(
    shifted: ForecastResult,
) -> None:
    points = shifted.points
    sunday = points["period_start"].dt.tz_convert(PARIS).dt.day_of_week == 6
    assert (points.loc[sunday, ["mean", "hi-95"]] == 0).all().all()
    assert (points["lo-95"] <= points["lo-80"]).all()
    assert (points["lo-80"] <= points["mean"]).all()
    assert (points["mean"] <= points["hi-80"]).all()
    assert (points["hi-80"] <= points["hi-95"]).all()
    busy = points["mean"] > 20
    assert (points.loc[busy, "hi-95"] > points.loc[busy, "lo-95"]).all()


def test_a_future_closure_is_zero_with_the_direct_model_too(voice_year: pd.DataFrame) -> None:
    wednesday = CUT + timedelta(days=2)
    with _lagging_profiles():
        result = _forecast_intervals(
            _shifted_series(voice_year), special_days=(SpecialDay(wednesday, "closed"),)
        )
    assert result.method == "direct"
    day = result.points["period_start"].dt.tz_convert(PARIS).dt.date
    assert (result.points.loc[day == wednesday, "mean"] == 0).all()


def test_a_stable_day_shape_keeps_the_profiles(voice_year: pd.DataFrame) -> None:
    result = _forecast_intervals(voice_year)
    scores = _interval_scores(result)
    assert scores["profile"] is not None and scores["direct"] is not None
    assert scores["profile"] <= scores["direct"]
    assert result.method != "direct"


def test_a_requested_daily_method_spreads_its_days_without_the_interval_backtest(
    voice_year: pd.DataFrame,
) -> None:
    request = ForecastRequest(
        "interval", CUT, CUT + timedelta(days=6), method="ets", history_end=CUT
    )
    result = forecast(activity(_shifted_series(voice_year)), request)
    assert result.method == "ets"
    assert all(score.level == "day" for score in result.backtest)


def test_too_short_a_history_keeps_the_profiles_and_says_why(voice_year: pd.DataFrame) -> None:
    days = voice_year["interval_start"].dt.tz_convert(PARIS).dt.date
    recent = voice_year[(days >= CUT - timedelta(weeks=2)).to_numpy()]
    result = _forecast_intervals(recent)
    skipped = {s.alias: s.skipped_reason for s in result.backtest if s.level == "interval"}
    assert result.method != "direct"
    assert set(skipped) == {"profile", "direct", "combined"}
    assert all("too short" in (reason or "") for reason in skipped.values())


def test_data_after_history_end_cannot_change_the_direct_intervals(
    voice_year: pd.DataFrame, shifted: ForecastResult
) -> None:
    frame = _shifted_series(voice_year)
    after = (frame["interval_start"] >= pd.Timestamp(CUT, tz=PARIS)).to_numpy()
    frame.loc[after, ["offered", "handled"]] *= 50
    with _lagging_profiles():
        dirty = _forecast_intervals(frame)
    assert dirty.method == shifted.method == "direct"
    pd.testing.assert_frame_equal(dirty.points, shifted.points)
    assert dirty.backtest == shifted.backtest


def test_the_direct_model_can_be_asked_for(voice_year: pd.DataFrame) -> None:
    result = _forecast_intervals(voice_year, method="direct")
    assert result.method == "direct"
    assert {s.alias for s in result.backtest if s.level == "interval"} == {
        "profile",
        "direct",
        "combined",
    }
    assert (result.points["mean"] >= 0).all() and result.points["mean"].sum() > 0


def test_the_direct_model_is_refused_for_days_and_months(voice_year: pd.DataFrame) -> None:
    for granularity in ("day", "month"):
        request = ForecastRequest(granularity, CUT, CUT + timedelta(days=6), method="direct")  # type: ignore[arg-type]
        with pytest.raises(ForecastInputError, match="forecasts intervals") as error:
            forecast(activity(voice_year), request)
        assert error.value.field == "method"


def test_a_direct_forecast_without_a_backtest_states_the_history_it_needs(
    voice_year: pd.DataFrame,
) -> None:
    days = voice_year["interval_start"].dt.tz_convert(PARIS).dt.date
    recent = voice_year[(days >= CUT - timedelta(weeks=2)).to_numpy()]
    with pytest.raises(InsufficientHistory, match="method direct needs at least"):
        _forecast_intervals(recent, method="direct")


def test_direct_interval_bounds_carry_the_daily_models_uncertainty() -> None:
    """The direct model's counts are drawn around the daily model's paths, relative to the
    day's point: a daily forecast four times as uncertain widens the bounds, the point stays."""
    rng = np.random.default_rng(4)
    pattern = np.zeros((7, 24))
    pattern[:, 8:18] = rng.uniform(2000, 6000, size=(7, 10))  # Poisson noise is small
    days = pd.date_range("2025-01-06", periods=20 * 7, freq="D")
    history = _intervals(days, np.tile(pattern, (20, 1)))
    series = ActivitySeries(history, PARIS, HOUR, "FR")
    calendar = learn_calendar(
        history.groupby(history["interval_start"].dt.tz_convert(PARIS).dt.date)["offered"]
        .sum()
        .pipe(lambda s: s.set_axis(pd.DatetimeIndex(s.index))),
        "FR",
    )
    first = (days[-1] + timedelta(days=1)).date()
    slots = calendar.open_weekday_index(days[-1].date(), first + timedelta(days=6))
    profile = learn_profile(history, PARIS, HOUR, days)
    direct = DirectIntervals(fit_slot_smoothing(_matrix(np.tile(pattern, (20, 1)))), 0.0)
    widths, points = [], []
    for sd in (0.05, 0.2):
        mu = np.log1p(np.full(slots.size, pattern.sum() / 7))
        daily = daily_forecast(
            Predictive(mu, np.full(slots.size, sd), np.full(slots.size, sd)),
            slots,
            calendar,
            days[-1].date(),
            first + timedelta(days=6),
            {},
        )
        frame = interval_points(
            daily, first, (80,), profile, series, direct, np.random.default_rng(5)
        )
        busy = frame["mean"] > 0
        widths.append(float((frame["hi-80"] - frame["lo-80"])[busy].mean()))
        points.append(frame["mean"].to_numpy())
    np.testing.assert_allclose(points[0], points[1])
    assert widths[1] > 3 * widths[0], widths


def test_the_day_level_follows_days_that_moved_together_since_the_cells_last_did() -> None:
    """The cells move once a week: four days all 20 % up after twenty steady weeks are the
    day level's to follow; on the steady weeks alone it stays at 1."""
    rng = np.random.default_rng(2)
    pattern = rng.uniform(20, 60, size=(7, 24))
    steady = np.tile(pattern, (20, 1)) * rng.normal(1.0, 0.01, size=(140, 1))
    assert abs(fit_slot_smoothing(_matrix(steady)).day_level) < 0.01
    moved = np.vstack([steady, pattern[:4] * 1.2])  # Monday to Thursday of week 21
    model = fit_slot_smoothing(_matrix(moved))
    assert model.day_alpha > 0
    assert 1.1 < np.exp(model.day_level) < 1.25


def _moved_shape_history() -> tuple[pd.DatetimeIndex, pd.DataFrame, float]:
    """Twenty weeks whose day shape moved two hours later in the last four (the profiles and
    the direct model then disagree), and the new shape's mean daily volume."""
    rng = np.random.default_rng(6)
    old, new = np.zeros((7, 24)), np.zeros((7, 24))
    old[:, 8:18] = rng.uniform(20, 60, size=(7, 10))
    new[:, 10:20] = old[:, 8:18]
    volumes = np.vstack([np.tile(old, (16, 1)), np.tile(new, (4, 1))])
    days = pd.date_range("2025-01-06", periods=volumes.shape[0], freq="D")
    return days, _intervals(days, volumes), float(new.sum() / 7)


def _rendered(direct: DirectIntervals | None) -> np.ndarray:
    """A week of interval points after `_moved_shape_history`."""
    days, history, day_volume = _moved_shape_history()
    series = ActivitySeries(history, PARIS, HOUR, "FR")
    daily_totals = history.groupby(history["interval_start"].dt.tz_convert(PARIS).dt.date)
    calendar = learn_calendar(
        daily_totals["offered"].sum().pipe(lambda s: s.set_axis(pd.DatetimeIndex(s.index))), "FR"
    )
    first = (days[-1] + timedelta(days=1)).date()
    slots = calendar.open_weekday_index(days[-1].date(), first + timedelta(days=6))
    mu = np.log1p(np.full(slots.size, day_volume))
    daily = daily_forecast(
        Predictive(mu, np.full(slots.size, 0.05), np.full(slots.size, 0.05)),
        slots,
        calendar,
        days[-1].date(),
        first + timedelta(days=6),
        {},
    )
    profile = learn_profile(history, PARIS, HOUR, days)
    frame = interval_points(daily, first, (80,), profile, series, direct, np.random.default_rng(5))
    return frame["mean"].to_numpy()


def test_two_approaches_within_noise_are_averaged() -> None:
    days, history, _ = _moved_shape_history()
    model = fit_slot_smoothing(SlotMatrix.of(history, PARIS, HOUR, days))
    profile_only = _rendered(None)
    direct_only = _rendered(DirectIntervals(model, 0.0))
    averaged = _rendered(DirectIntervals(model, 0.0, combined=True))
    assert np.abs(profile_only - direct_only).sum() > 0.1 * direct_only.sum()
    np.testing.assert_allclose(averaged, (profile_only + direct_only) / 2)


def test_auto_averages_the_two_approaches_when_they_backtest_within_noise() -> None:
    """A fixed day shape on a wandering day level: the profiles and the direct model forecast
    it equally well, so neither is picked on a lucky margin; the response names both."""
    rng = np.random.default_rng(3)
    pattern = np.zeros((7, 24))
    pattern[:, 8:20] = rng.uniform(200, 600, size=(7, 12))
    days = pd.date_range("2024-07-01", periods=30 * 7, freq="D")
    level = np.exp(np.cumsum(rng.normal(0, 0.03, days.size)))
    volumes = rng.poisson(np.tile(pattern, (30, 1)) * level[:, None]).astype(float)
    cut = (days[-1] + timedelta(days=1)).date()
    result = forecast(
        ActivitySeries(_intervals(days, volumes), PARIS, HOUR, "FR"),
        ForecastRequest("interval", cut, cut + timedelta(days=6), history_end=cut),
    )
    scores = _interval_scores(result)
    assert scores["profile"] is not None and scores["direct"] is not None
    assert abs(scores["profile"] - scores["direct"]) < 0.05 * scores["profile"]
    assert result.method.endswith("+direct")
    assert scores["combined"] is not None


def _interval_backtest(
    profile: list[float], direct: list[float], combined: float
) -> interval_choice.IntervalBacktest:
    """An interval backtest whose approaches scored these per-window WAPEs (pooled: their
    mean), the average of the two scoring `combined`."""
    per_window = {"profile": np.array(profile), "direct": np.array(direct)}
    pooled = {name: float(np.mean(wapes)) for name, wapes in per_window.items()}
    scores = {name: Scores(wape, 1.0) for name, wape in pooled.items()}
    scores["combined"] = Scores(combined, 1.0)
    return interval_choice.IntervalBacktest(
        scores,
        dict.fromkeys(scores, 0.0),
        select(per_window, pooled, never_tie=interval_choice.NEVER_TIE),
        interval_choice.ProfileRecency(56.0, {56.0: 0.01}),
    )


def test_a_clearly_better_approach_is_averaged_only_when_the_average_backtests_better() -> None:
    """The profiles beat the direct model on every window by far more than noise: alone, unless
    their errors leaned opposite ways and the average of the two scored lower still."""
    profile, direct = [0.020, 0.021, 0.019, 0.020, 0.022], [0.030, 0.032, 0.029, 0.031, 0.030]
    assert _interval_backtest(profile, direct, combined=0.023).approach == "profile"
    assert _interval_backtest(profile, direct, combined=0.018).approach == "combined"
