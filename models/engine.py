"""The forecasting engine the service calls: one activity's interval actuals in, a forecast out.

Pipeline (`forecast`), each step in its own module:
  1. Validate the request (`validation`: a `ForecastInputError` naming the field).
  2. Prepare the history (`history`): cut at `history_end` FIRST, so that no future data can
     leak into fitting, calendars, profiles or AHT; learn the calendar (open weekdays, holiday
     closures) and the intraday profiles from it; build the series of open weekdays the models
     see, and their calendar regressors.
  3. Choose the model (`choice`): backtest the registry's candidates over rolling origins, pick
     by WAPE (ensemble of the best ones included), refit the winner on the whole history,
     calibrate its spread on its backtest errors; for intervals with `auto` (or `method`
     `direct`), weigh the direct interval model against the profiles (the better one, or
     their average when they are within noise).
  4. Render the result (`rendering`): calendar days (closed days and future closures forecast
     0, multipliers applied), then the requested level: days, intervals, or local calendar
     months (totals of simulated daily paths), in the models' contract frame.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from models.base import Predictive
from models.calendar import learn_calendar
from models.choice import (
    FALLBACK,
    TREND_MIN_HISTORY_DAYS,
    IntervalApproach,
    choose,
    interval_approach,
)
from models.contract import ActivitySeries, ForecastRequest, ForecastResult, InsufficientHistory
from models.history import UNKNOWN_CALENDAR_MINIMUM, cut_history, open_day_series, regressors
from models.intraday import learn_profile
from models.registry import DIRECT
from models.rendering import daily_forecast, day_points, interval_points, month_points
from models.validation import check_horizon, forecast_days, validate

_SEED = 20250101  # forecasts are reproducible: same input, same output


def forecast(series: ActivitySeries, request: ForecastRequest) -> ForecastResult:
    """Forecast one activity; see the module docstring for the pipeline."""
    levels = validate(series, request)
    if request.volume == "handled":  # every step below then models handled contacts
        series = replace(
            series, intervals=series.intervals.assign(offered=series.intervals["handled"])
        )
    history = cut_history(series, request.history_end)
    check_horizon(request, history.end)
    special = {s.day: s for s in request.special_days}

    calendar = learn_calendar(history.daily["offered"], series.holiday_country)
    if calendar.season_length == 0:
        raise InsufficientHistory(UNKNOWN_CALENDAR_MINIMUM, 0)
    open_days = open_day_series(history, calendar, special)
    first_out, last_out = forecast_days(request)
    future_slots = calendar.open_weekday_index(history.end, last_out)
    history_days = (history.end - history.daily.index[0].date()).days
    X, X_future = regressors(calendar, open_days, future_slots, history_days)

    choice = choose(
        FALLBACK if request.method == DIRECT else request.method,
        open_days,
        X,
        max(future_slots.size, 1),
        calendar.season_length,
        series.holiday_country,
        trend=history_days >= TREND_MIN_HISTORY_DAYS,
        totals=request.granularity == "month",
    )
    model = choice.model.clone().fit(open_days.y, X)
    if future_slots.size:
        predictive = model.predict_distribution(future_slots.size, X_future)
    else:
        predictive = Predictive(np.zeros(0), np.zeros(0))
    predictive = choice.calibrated(predictive)

    daily = daily_forecast(predictive, future_slots, calendar, history.end, last_out, special)
    usable_days = open_days.y.index[open_days.usable]
    approach = (  # before the profile: for intervals, the backtest chooses its recency
        interval_approach(
            history,
            series,
            open_days,
            special,
            choice,
            calendar.season_length,
            required=request.method == DIRECT,
        )
        if request.granularity == "interval" and request.method in ("auto", DIRECT)
        else IntervalApproach(None, [])
    )
    profile = learn_profile(
        history.intervals,
        series.timezone,
        series.interval_minutes,
        usable_days,
        approach.profile_half_life,
    )
    rng = np.random.default_rng(_SEED)
    samples: np.ndarray | None
    if request.granularity == "day":
        points, samples = day_points(daily, first_out, levels, profile, series.timezone, rng)
    elif request.granularity == "month":
        points, samples = month_points(
            daily, history, first_out, levels, profile, series.timezone, rng
        )
    else:
        if approach.profile_overdispersion is not None:  # out of sample, when it is larger
            profile = replace(
                profile,
                overdispersion=max(profile.overdispersion, approach.profile_overdispersion),
            )
        direct = approach.direct
        points = interval_points(daily, first_out, levels, profile, series, direct, rng)
        samples = None
        choice.scores += approach.scores
        if direct is not None:
            choice.alias = f"{choice.alias}+{DIRECT}" if direct.combined else DIRECT
    forecast_out = daily.days[daily.days >= pd.Timestamp(first_out)]
    planned = {day: marked.kind for day, marked in special.items()}
    assumptions = calendar.assumptions(forecast_out, planned)
    return ForecastResult(
        choice.alias, tuple(choice.scores), points, samples, tuple(assumptions), choice.selection
    )
