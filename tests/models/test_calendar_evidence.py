"""No closure without evidence: a holiday the history never saw is forecast open and listed.

A Monday-to-Friday centre in France closed on the three public holidays of its history
(Christmas, New Year's Day, Easter Monday). 1 May has never been seen: by analogy it "should"
close, but nothing in the history says so, and forecasting an open day at zero is the costliest
mistake a calendar can make. It is forecast open and reported as an unconfirmed holiday; a year
of history showing 1 May closed makes it closed; a planner's special day overrides both.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from models import ActivitySeries, ForecastRequest, ForecastResult, SpecialDay, forecast

PARIS = "Europe/Paris"
HISTORY_END = date(2025, 4, 28)  # a Monday
MAY_DAY = date(2025, 5, 1)  # Labour Day ("Labor Day" in `holidays`), a Thursday


def _weekday_centre(first: date, closed: set[date]) -> ActivitySeries:
    """Hourly intervals 9:00-17:00, Monday to Friday, zero on `closed` days (no rows)."""
    rng = np.random.default_rng(7)
    days = [
        first + timedelta(days=k)
        for k in range((HISTORY_END - first).days)
        if (first + timedelta(days=k)).weekday() < 5 and first + timedelta(days=k) not in closed
    ]
    local = pd.DatetimeIndex(
        [pd.Timestamp(day) + pd.Timedelta(hours=h) for day in days for h in range(9, 17)]
    ).tz_localize(PARIS)
    offered = rng.poisson(60, local.size)
    frame = pd.DataFrame(
        {
            "interval_start": local.tz_convert("UTC"),
            "offered": offered,
            "handled": offered,
            "aht_seconds": np.full(local.size, 240.0),
        }
    )
    return ActivitySeries(frame, PARIS, 60, "FR")


SHORT_CLOSED = {date(2024, 12, 25), date(2025, 1, 1), date(2025, 4, 21)}
"""The weekday public holidays from 2024-11-18 to HISTORY_END: Christmas, New Year, Easter
Monday. 1 May, 8 May and Ascension are not among them."""
YEAR_CLOSED = SHORT_CLOSED | {
    date(2024, 5, 1), date(2024, 5, 8), date(2024, 5, 9), date(2024, 5, 20), date(2024, 8, 15),
    date(2024, 11, 1), date(2024, 11, 11),
}  # fmt: skip


def _forecast(series: ActivitySeries, *special: SpecialDay) -> ForecastResult:
    request = ForecastRequest(
        "day",
        HISTORY_END,
        date(2025, 5, 9),
        method="snaive",
        history_end=HISTORY_END,
        special_days=special,
    )
    return forecast(series, request)


def _volume(result: ForecastResult, day: date) -> float:
    local = result.points["period_start"].dt.tz_convert(PARIS).dt.date
    return float(result.points.loc[local == day, "mean"].item())


def _assumption(result: ForecastResult, day: date):  # type: ignore[no-untyped-def]
    return next((a for a in result.assumptions if a.day == day), None)


@pytest.fixture(scope="module")
def short_history() -> ActivitySeries:
    return _weekday_centre(date(2024, 11, 18), SHORT_CLOSED)


@pytest.fixture(scope="module")
def year_history() -> ActivitySeries:
    return _weekday_centre(date(2024, 4, 22), YEAR_CLOSED)


def test_a_holiday_never_seen_is_forecast_open_and_listed_unconfirmed(
    short_history: ActivitySeries,
) -> None:
    result = _forecast(short_history)
    assert _volume(result, MAY_DAY) > 400  # a normal Thursday: 8 hours of about 60 contacts
    listed = _assumption(result, MAY_DAY)
    assert listed is not None
    assert (listed.closed, listed.reason, listed.holiday) == (
        False,
        "unconfirmed_holiday",
        "Labor Day",
    )
    assert "not in the history" in listed.detail


def test_every_day_forecast_closed_is_listed_with_its_reason(short_history: ActivitySeries) -> None:
    result = _forecast(short_history)
    local = result.points["period_start"].dt.tz_convert(PARIS).dt.date
    closed_days = set(local[result.points["mean"] == 0])
    listed = {a.day for a in result.assumptions if a.closed}
    assert closed_days == listed == {date(2025, 5, 3), date(2025, 5, 4)}
    assert {a.reason for a in result.assumptions if a.closed} == {"closed_weekday"}
    assert (
        _assumption(result, date(2025, 5, 4)).detail == "no volume on Sundays in the last 91 days"
    )


def test_the_same_holiday_seen_closed_a_year_earlier_is_forecast_closed(
    year_history: ActivitySeries,
) -> None:
    result = _forecast(year_history)
    assert _volume(result, MAY_DAY) == 0
    listed = _assumption(result, MAY_DAY)
    assert listed is not None
    assert (listed.closed, listed.reason) == (True, "closed_holiday")
    assert listed.detail == "Labor Day was closed on 1 of its 1 past occurrences"


def test_a_special_day_closes_an_unconfirmed_holiday(short_history: ActivitySeries) -> None:
    result = _forecast(short_history, SpecialDay(MAY_DAY, "closed"))
    assert _volume(result, MAY_DAY) == 0
    assert _assumption(result, MAY_DAY).reason == "closed_special_day"


def test_a_special_day_opens_a_holiday_closed_by_evidence(year_history: ActivitySeries) -> None:
    result = _forecast(year_history, SpecialDay(MAY_DAY, "open"))
    assert _volume(result, MAY_DAY) > 400
    assert _assumption(result, MAY_DAY) is None


def test_interval_forecasts_follow_the_same_evidence(short_history: ActivitySeries) -> None:
    request = ForecastRequest(
        "interval", MAY_DAY, MAY_DAY, method="snaive", history_end=HISTORY_END
    )
    result = forecast(short_history, request)
    assert result.points["mean"].sum() > 400
    assert [a.reason for a in result.assumptions if a.day == MAY_DAY] == ["unconfirmed_holiday"]
