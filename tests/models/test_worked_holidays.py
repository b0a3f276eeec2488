"""Prophet's edge is an effect per named public holiday: `auto` tries it only where the
activity works public holidays."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from models import ActivitySeries, ForecastRequest, ForecastResult, forecast
from models.calendar import ANNUAL_MIN_HISTORY_DAYS
from models.choice import NO_WORKED_HOLIDAY_REASON
from models.synthetic import BENCHMARK_PROFILES, DEMO_PROFILES, generate_intervals

START = date(2023, 1, 2)
END = START + timedelta(days=ANNUAL_MIN_HISTORY_DAYS + 35)  # long enough for every candidate


def _auto_days(closed_on_public_holidays: bool) -> ForecastResult:
    base = DEMO_PROFILES[0] if closed_on_public_holidays else BENCHMARK_PROFILES[-2]
    assert base.closed_on_public_holidays is closed_on_public_holidays
    profile = dataclasses.replace(base, interval_minutes=60)
    frame = generate_intervals(profile, START, END - timedelta(days=1), seed=2)
    series = ActivitySeries(frame, "Europe/Paris", 60, profile.country)
    return forecast(series, ForecastRequest("day", END, END + timedelta(days=6), history_end=END))


@pytest.mark.parametrize("closed", [True, False])
def test_prophet_is_a_candidate_only_where_public_holidays_are_worked(closed: bool) -> None:
    prophet = next(s for s in _auto_days(closed).backtest if s.alias == "prophet")
    if closed:
        assert prophet.wape is None
        assert prophet.skipped_reason == NO_WORKED_HOLIDAY_REASON
    else:
        assert prophet.wape is not None and prophet.skipped_reason is None
