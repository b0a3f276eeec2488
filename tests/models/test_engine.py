"""The engine the service calls: calendars, levels, history cut, special days, bad requests."""

from __future__ import annotations

import dataclasses
import pickle
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from models import (
    MODELS,
    ActivitySeries,
    ForecastInputError,
    ForecastRequest,
    ForecastResult,
    InsufficientHistory,
    SpecialDay,
    forecast,
)
from models.backtest import N_ORIGINS
from models.synthetic import generate_intervals
from models.validation import MAX_HORIZON_DAYS

from .conftest import PARIS, VOICE, activity

CUT = date(2025, 1, 6)  # a Monday
MAY_DAY = date(2025, 5, 1)  # Labour Day, a Thursday: the voice activity is closed


def _local_days(frame: pd.DataFrame) -> pd.Series:
    return frame["period_start"].dt.tz_convert(PARIS).dt.date


def _request(granularity: str = "day", start: date = CUT, end: date | None = None, **kw):  # type: ignore[no-untyped-def]
    return ForecastRequest(
        granularity,  # type: ignore[arg-type]
        start,
        end or start + timedelta(days=27),
        method=kw.pop("method", "ets"),
        history_end=kw.pop("history_end", CUT),
        **kw,
    )


@pytest.fixture(scope="module")
def series(voice_year: pd.DataFrame) -> ActivitySeries:
    return activity(voice_year)


@pytest.fixture(scope="module")
def auto_days(series: ActivitySeries) -> ForecastResult:
    return forecast(series, _request(method="auto"))


@pytest.fixture(scope="module")
def ets_days(series: ActivitySeries) -> ForecastResult:
    return forecast(series, _request("day", CUT, date(2025, 3, 31)))


@pytest.fixture(scope="module")
def ets_months(series: ActivitySeries) -> ForecastResult:
    return forecast(series, _request("month", CUT, date(2025, 3, 15)))


@pytest.fixture(scope="module")
def ets_intervals(series: ActivitySeries) -> ForecastResult:
    return forecast(series, _request("interval", CUT, CUT + timedelta(days=6)))


# Points contract


def test_day_points_have_the_contract_columns(ets_days: ForecastResult) -> None:
    assert list(ets_days.points.columns) == [
        "period_start", "mean", "lo-80", "hi-80", "lo-95", "hi-95", "aht_seconds",
    ]  # fmt: skip


def test_day_periods_start_at_local_midnight_in_utc(ets_days: ForecastResult) -> None:
    starts = ets_days.points["period_start"]
    assert str(starts.dt.tz) == "UTC"
    local = starts.dt.tz_convert(PARIS)
    assert (local.dt.hour == 0).all() and (local.dt.minute == 0).all()
    assert local.iloc[0].date() == CUT


def test_bounds_are_nested_non_negative_counts(ets_days: ForecastResult) -> None:
    p = ets_days.points
    assert (p["lo-95"] >= 0).all()
    assert (p["lo-95"] <= p["lo-80"]).all() and (p["lo-80"] <= p["mean"]).all()
    assert (p["mean"] <= p["hi-80"]).all() and (p["hi-80"] <= p["hi-95"]).all()
    bounds = p[["lo-80", "hi-80", "lo-95", "hi-95"]].to_numpy()
    np.testing.assert_array_equal(bounds, np.round(bounds))


def test_requested_levels_name_the_bound_columns(series: ActivitySeries) -> None:
    result = forecast(series, _request(end=CUT + timedelta(days=6), levels=(50, 90)))
    assert [c for c in result.points.columns if c.startswith(("lo-", "hi-"))] == [
        "lo-50", "hi-50", "lo-90", "hi-90",
    ]  # fmt: skip


def test_aht_is_forecast_near_the_activity_aht_on_open_days(ets_days: ForecastResult) -> None:
    p = ets_days.points
    open_days = p[p["mean"] > 0]
    assert open_days["aht_seconds"].between(0.8 * VOICE.aht_seconds, 1.3 * VOICE.aht_seconds).all()


# Calendars


def test_a_weekday_never_worked_forecasts_zero(ets_days: ForecastResult) -> None:
    p = ets_days.points
    sundays = p[pd.to_datetime(_local_days(p)).dt.day_of_week == 6]
    assert not sundays.empty
    assert (sundays[["mean", "hi-95"]] == 0).all().all()


def test_a_public_holiday_closed_in_history_forecasts_zero(series: ActivitySeries) -> None:
    result = forecast(series, _request(start=date(2025, 4, 28), end=date(2025, 5, 3)))
    may_day = result.points[_local_days(result.points) == MAY_DAY]
    assert may_day["mean"].item() == 0 and may_day["hi-95"].item() == 0
    assert (result.points.loc[_local_days(result.points) == date(2025, 5, 2), "mean"] > 0).all()


def test_a_public_holiday_worked_in_history_is_forecast() -> None:
    open_on_holidays = dataclasses.replace(VOICE, closed_on_public_holidays=False)
    worked = activity(generate_intervals(open_on_holidays, date(2024, 1, 1), CUT, seed=5))
    result = forecast(worked, _request(start=date(2025, 4, 28), end=date(2025, 5, 3)))
    assert result.points.loc[_local_days(result.points) == MAY_DAY, "mean"].item() > 0


# History cut


def test_data_after_history_end_cannot_change_the_forecast(voice_year: pd.DataFrame) -> None:
    after = voice_year["interval_start"] >= pd.Timestamp(CUT, tz=PARIS)
    tampered = voice_year.copy()
    tampered.loc[after, ["offered", "handled"]] *= 50
    tampered.loc[after, "aht_seconds"] *= 3
    request = _request(method="auto", end=CUT + timedelta(days=13))
    clean = forecast(activity(voice_year), request)
    dirty = forecast(activity(tampered), request)
    pd.testing.assert_frame_equal(clean.points, dirty.points)
    assert clean.backtest == dirty.backtest


def test_default_history_end_is_the_day_after_the_last_data(voice_year: pd.DataFrame) -> None:
    cut = voice_year[voice_year["interval_start"] < pd.Timestamp(CUT, tz=PARIS)]
    implicit = forecast(activity(cut), dataclasses.replace(_request(), history_end=None))
    explicit = forecast(activity(voice_year), _request())
    pd.testing.assert_frame_equal(implicit.points, explicit.points)


# Model choice


def test_auto_reports_a_backtest_score_for_every_candidate(auto_days: ForecastResult) -> None:
    aliases = [score.alias for score in auto_days.backtest]
    assert aliases == ["snaive", "ets", "arima", "prophet", "ensemble"]
    # A year and five days of history, short of TREND_MIN_HISTORY_DAYS: Prophet sits out.
    scored = [s for s in auto_days.backtest if s.alias != "prophet"]
    assert all(s.wape is not None and s.mase is not None for s in scored)
    prophet = auto_days.backtest[3]
    assert prophet.wape is None and prophet.skipped_reason == MODELS["prophet"].short_history_reason


def test_auto_follows_its_selection_and_says_why(auto_days: ForecastResult) -> None:
    selection = auto_days.selection
    assert selection is not None
    assert auto_days.method == ("ensemble" if selection.combined else selection.best)
    scored = {s.alias: s.wape for s in auto_days.backtest if s.alias != "ensemble" and s.wape}
    assert {m.alias: m.wape for m in selection.margins} == scored
    assert selection.best == min(scored, key=lambda alias: scored[alias] or 0.0)
    assert "ties" in selection.rule


def test_a_candidate_short_of_history_is_skipped_with_a_reason(voice_year: pd.DataFrame) -> None:
    # Four weeks (22 open days): even one-day windows leave ETS too little training.
    short = activity(
        voice_year[voice_year["interval_start"] >= pd.Timestamp("2024-12-09", tz=PARIS)]
    )
    result = forecast(short, _request(method="auto"))
    skipped = {s.alias: s.skipped_reason for s in result.backtest if s.skipped_reason}
    assert "ets" in skipped
    assert f"needs 24 open days before the first of {N_ORIGINS} backtest origins" in skipped["ets"]


def test_a_direct_method_reports_its_own_backtest(ets_days: ForecastResult) -> None:
    assert ets_days.method == "ets"
    assert [s.alias for s in ets_days.backtest] == ["ets"]


# Levels


def test_month_volume_is_the_sum_of_the_daily_volumes(
    ets_days: ForecastResult, ets_months: ForecastResult
) -> None:
    # CUT is not a month start: January's total adds the actuals of January 1-5.
    days = ets_days.points.assign(month=pd.to_datetime(_local_days(ets_days.points)).dt.month)
    daily_sums = days.groupby("month")["mean"].sum()
    months = ets_months.points["mean"].to_numpy()
    np.testing.assert_allclose(months[1:], daily_sums.loc[[2, 3]].to_numpy(), rtol=1e-9)


def test_first_month_total_adds_the_actuals_before_history_end(
    voice_year: pd.DataFrame, ets_days: ForecastResult, ets_months: ForecastResult
) -> None:
    local = voice_year["interval_start"].dt.tz_convert(PARIS)
    known = voice_year.loc[(local.dt.year == 2025) & (local.dt.day < 6) & (local.dt.month == 1)]
    january = ets_days.points[pd.to_datetime(_local_days(ets_days.points)).dt.month == 1]
    expected = known["offered"].sum() + january["mean"].sum()
    np.testing.assert_allclose(ets_months.points["mean"].iloc[0], expected, rtol=1e-9)


def test_months_start_at_local_month_starts(ets_months: ForecastResult) -> None:
    local = ets_months.points["period_start"].dt.tz_convert(PARIS)
    assert list(local.dt.date) == [date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)]
    assert (local.dt.hour == 0).all()


def test_months_after_a_gap_cover_only_the_requested_months(series: ActivitySeries) -> None:
    result = forecast(series, _request("month", date(2025, 3, 10), date(2025, 4, 2)))
    local = result.points["period_start"].dt.tz_convert(PARIS)
    assert list(local.dt.date) == [date(2025, 3, 1), date(2025, 4, 1)]


def test_month_bounds_are_those_of_the_total_not_sums_of_daily_bounds(
    ets_days: ForecastResult, ets_months: ForecastResult
) -> None:
    february = ets_days.points[pd.to_datetime(_local_days(ets_days.points)).dt.month == 2]
    month = ets_months.points.iloc[1]
    assert month["hi-95"] < february["hi-95"].sum()
    assert month["lo-95"] > february["lo-95"].sum()


def test_month_samples_are_totals_per_month(ets_months: ForecastResult) -> None:
    assert ets_months.samples is not None
    assert ets_months.samples.shape[0] == len(ets_months.points)
    mean = ets_months.samples.mean(axis=1)
    np.testing.assert_allclose(mean, ets_months.points["mean"], rtol=0.01)


def test_interval_forecasts_sum_to_the_daily_forecast(
    series: ActivitySeries, ets_intervals: ForecastResult
) -> None:
    days = forecast(series, _request("day", CUT, CUT + timedelta(days=6)))
    intervals = ets_intervals.points.assign(day=_local_days(ets_intervals.points))
    per_day = intervals.groupby("day")["mean"].sum().to_numpy()
    np.testing.assert_allclose(per_day, days.points["mean"].to_numpy(), rtol=1e-9)


def test_interval_forecasts_are_zero_outside_learned_opening_hours(
    ets_intervals: ForecastResult,
) -> None:
    local = ets_intervals.points["period_start"].dt.tz_convert(PARIS)
    minutes = local.dt.hour * 60 + local.dt.minute
    weekday = local.dt.day_of_week
    closed = (
        ((weekday < 5) & ((minutes < 8 * 60) | (minutes >= 20 * 60)))
        | ((weekday == 5) & ((minutes < 9 * 60) | (minutes >= 13 * 60)))
        | (weekday == 6)
    )
    opened = ~closed
    assert (ets_intervals.points.loc[closed, ["mean", "hi-95"]] == 0).all().all()
    assert (ets_intervals.points.loc[opened, "mean"] > 0).all()


def test_interval_grid_covers_every_interval_of_each_day(ets_intervals: ForecastResult) -> None:
    assert len(ets_intervals.points) == 7 * 48
    assert ets_intervals.samples is None


def test_an_autumn_dst_day_has_fifty_half_hours() -> None:
    history = generate_intervals(VOICE, date(2025, 8, 4), date(2025, 10, 19), seed=5)
    result = forecast(
        activity(history),
        _request("interval", date(2025, 10, 25), date(2025, 10, 27), history_end=None),
    )
    per_day = result.points.groupby(_local_days(result.points)).size()
    assert list(per_day) == [48, 50, 48]


# Special days


def test_a_past_outlier_day_does_not_reach_the_fit(voice_year: pd.DataFrame) -> None:
    outlier = date(2024, 12, 18)
    local_day = voice_year["interval_start"].dt.tz_convert(PARIS).dt.date
    spiked = voice_year.copy()
    spiked.loc[local_day == outlier, ["offered", "handled"]] *= 10
    request = _request(special_days=(SpecialDay(outlier, "outlier"),))
    marked = forecast(activity(spiked), request)
    plain = forecast(activity(voice_year), request)
    pd.testing.assert_frame_equal(marked.points, plain.points)


def test_a_future_day_marked_closed_forecasts_zero(series: ActivitySeries) -> None:
    closed = CUT + timedelta(days=2)
    result = forecast(series, _request(special_days=(SpecialDay(closed, "closed"),)))
    row = result.points[_local_days(result.points) == closed]
    assert row["mean"].item() == 0 and row["hi-95"].item() == 0


def test_a_future_multiplier_scales_that_day(
    series: ActivitySeries, ets_days: ForecastResult
) -> None:
    day = CUT + timedelta(days=3)
    result = forecast(
        series,
        _request("day", CUT, date(2025, 3, 31), special_days=(SpecialDay(day, "multiplier", 1.5),)),
    )
    scaled = result.points.set_index(_local_days(result.points))["mean"]
    base = ets_days.points.set_index(_local_days(ets_days.points))["mean"]
    np.testing.assert_allclose(scaled.loc[day], 1.5 * base.loc[day], rtol=1e-9)
    np.testing.assert_allclose(scaled.drop(day), base.drop(day), rtol=1e-9)


# Bad requests


def test_end_before_start_is_rejected(series: ActivitySeries) -> None:
    with pytest.raises(ForecastInputError, match="end 2025-01-05 is before start 2025-01-06") as e:
        forecast(series, _request(end=CUT - timedelta(days=1)))
    assert e.value.field == "end"


def test_an_unknown_method_is_rejected(series: ActivitySeries) -> None:
    with pytest.raises(ForecastInputError, match="unknown method 'lstm'") as e:
        forecast(series, _request(method="lstm"))
    assert e.value.field == "method"


def test_an_unknown_volume_is_rejected(series: ActivitySeries) -> None:
    with pytest.raises(ForecastInputError, match="unknown volume 'answered'") as e:
        forecast(series, _request(volume="answered"))
    assert e.value.field == "volume"


def test_handled_contacts_are_forecast_from_the_handled_history(
    series: ActivitySeries, voice_year: pd.DataFrame, ets_months: ForecastResult
) -> None:
    handled = forecast(series, _request("month", CUT, date(2025, 3, 15), volume="handled"))
    days = voice_year["interval_start"].dt.tz_convert(PARIS).dt.date
    recent = voice_year[((days >= CUT - timedelta(weeks=8)) & (days < CUT)).to_numpy()]
    share = recent["handled"].sum() / recent["offered"].sum()
    ratio = handled.points["mean"].sum() / ets_months.points["mean"].sum()
    assert share < 0.99  # the synthetic activity abandons a few calls
    assert ratio == pytest.approx(share, abs=0.01)


@pytest.mark.parametrize("granularity", ["day", "month", "interval"])
def test_a_horizon_beyond_the_maximum_is_rejected(series: ActivitySeries, granularity: str) -> None:
    limit = MAX_HORIZON_DAYS[granularity]
    too_far = CUT + timedelta(days=limit + 40)
    with pytest.raises(
        ForecastInputError, match=f"the maximum for {granularity} is {limit} days"
    ) as e:
        forecast(series, _request(granularity, CUT, too_far))
    assert e.value.field == "end"


def test_a_day_forecast_starting_inside_the_history_is_rejected(series: ActivitySeries) -> None:
    with pytest.raises(ForecastInputError, match="before history_end") as e:
        forecast(series, _request(start=CUT - timedelta(days=3)))
    assert e.value.field == "start"


def test_levels_outside_zero_to_hundred_are_rejected(series: ActivitySeries) -> None:
    with pytest.raises(ForecastInputError, match="strictly between 0 and 100") as e:
        forecast(series, _request(levels=(80, 100)))
    assert e.value.field == "levels"


def test_a_multiplier_day_without_multiplier_is_rejected(series: ActivitySeries) -> None:
    with pytest.raises(ForecastInputError, match="positive multiplier") as e:
        forecast(series, _request(special_days=(SpecialDay(CUT, "multiplier"),)))
    assert e.value.field == "special_days"


def test_no_history_at_all_raises_insufficient_history(voice_year: pd.DataFrame) -> None:
    with pytest.raises(InsufficientHistory, match="the history has 0") as e:
        forecast(activity(voice_year.iloc[:0]), _request())
    assert e.value.available_open_days == 0


def test_less_than_two_weeks_of_open_days_states_the_minimum(voice_year: pd.DataFrame) -> None:
    week = voice_year[
        voice_year["interval_start"].between(
            pd.Timestamp("2024-12-23", tz=PARIS), pd.Timestamp(CUT, tz=PARIS)
        )
    ]
    with pytest.raises(InsufficientHistory, match="at least 12 open days") as e:
        forecast(activity(week), _request(method="auto"))
    assert (e.value.minimum_open_days, e.value.available_open_days) == (12, 10)


@pytest.mark.parametrize(
    "error",
    [InsufficientHistory(12, 10), InsufficientHistory(24, 20, "method ets"),
     ForecastInputError("end", "end 2025-01-05 is before start 2025-01-06")],
    ids=str,
)  # fmt: skip
def test_errors_keep_their_fields_through_pickling(error: ValueError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and str(copy) == str(error)
    assert vars(copy) == vars(error)
