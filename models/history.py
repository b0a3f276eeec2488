"""History preparation: what the models are fitted on, learned only from before `history_end`.

The history is cut at `history_end` FIRST (`cut_history`): every later step only ever sees the
cut frame, so no future data can leak into fitting, calendars, profiles or AHT. From its local
daily totals comes the series of open weekdays the models see (`open_day_series`), with the days
that must not teach them (closed holidays, outliers, closures, unexplained zero days, abnormal
days found by `anomalies`) filled from the neighbouring weeks, the days `anomalies` limits
seen at their limit, and multiplier days divided by their multiplier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from models.anomalies import find_anomalies
from models.base import BoolArray, FloatArray
from models.calendar import ActivityCalendar, features, varying_columns
from models.contract import ActivitySeries, InsufficientHistory, SpecialDay

MIN_OPEN_WEEKS = 2
"""Below two weeks of open days no method has a weekly pattern to go on."""
UNKNOWN_CALENDAR_MINIMUM = MIN_OPEN_WEEKS * 5  # stated when no open day is seen at all


@dataclass(frozen=True)
class History:
    """Everything learned from the history strictly before `end`."""

    intervals: pd.DataFrame
    daily: pd.DataFrame  # offered per local day, every day from the first to end - 1
    end: date


def cut_history(series: ActivitySeries, history_end: date | None) -> History:
    frame = series.intervals
    local_day = frame["interval_start"].dt.tz_convert(series.timezone).dt.tz_localize(None)
    local_day = local_day.dt.normalize()
    if history_end is None:
        if frame.empty:
            raise InsufficientHistory(UNKNOWN_CALENDAR_MINIMUM, 0)
        history_end = local_day.max().date() + timedelta(days=1)
    keep = (local_day < pd.Timestamp(history_end)).to_numpy()
    intervals = frame.loc[keep, ["interval_start", "offered", "handled", "aht_seconds"]]
    days = local_day[keep]
    if intervals.empty:
        raise InsufficientHistory(UNKNOWN_CALENDAR_MINIMUM, 0)
    span = pd.date_range(days.min(), pd.Timestamp(history_end) - pd.Timedelta(days=1), freq="D")
    daily = (
        intervals.groupby(days.to_numpy())["offered"]
        .sum()
        .astype(np.float64)
        .reindex(span, fill_value=0.0)
    )
    return History(intervals, daily.to_frame("offered"), history_end)


def fill_gaps(values: FloatArray, season_length: int) -> FloatArray:
    """Replace NaN by the mean of the same weekday in the nearest weeks that have a value."""
    filled = values.copy()
    for weeks in range(1, 9):
        missing = np.isnan(filled)
        if not missing.any():
            break
        lag = weeks * season_length
        before = np.full_like(values, np.nan)
        after = np.full_like(values, np.nan)
        before[lag:] = values[:-lag] if lag < values.size else before[lag:]
        after[:-lag] = values[lag:] if lag < values.size else after[:-lag]
        neighbours = np.vstack([before, after])
        has = ~np.isnan(neighbours)
        mean = np.divide(
            np.nansum(neighbours, axis=0),
            has.sum(axis=0),
            out=np.full_like(values, np.nan),
            where=has.any(axis=0),
        )
        filled = np.where(missing, mean, filled)
    return np.where(np.isnan(filled), np.nanmedian(values), filled)


@dataclass(frozen=True)
class OpenDaySeries:
    """The open-weekday series the models see, and which of its days really count."""

    y: pd.Series
    usable: BoolArray  # observed normal open days (scored in backtests, used by profiles)
    abnormal: BoolArray  # observed but abnormal or limited (`anomalies`): left out of scores
    observed: FloatArray
    """`y` with the abnormal days' own volumes: what the spread is calibrated on (an outage
    cannot be forecast, but it will happen again, and intervals must allow for it)."""

    @property
    def calibrated(self) -> BoolArray:
        """The days the spread is calibrated on: the normal days and the abnormal ones."""
        return self.usable | self.abnormal


def open_day_series(
    history: History, calendar: ActivityCalendar, special: dict[date, SpecialDay]
) -> OpenDaySeries:
    daily = history.daily["offered"]
    slots = calendar.open_weekday_index(daily.index[0].date(), history.end - timedelta(days=1))
    values = daily.reindex(slots).to_numpy(dtype=np.float64)
    excluded = calendar.closed_holidays(slots) | (values <= 0)
    for position, day in enumerate(slots.date):
        marked = special.get(day)
        if marked is None:
            continue
        if marked.kind == "multiplier" and marked.multiplier:
            values[position] /= marked.multiplier
        elif marked.kind != "open":
            excluded[position] = True
    anomalies = find_anomalies(
        np.where(excluded, np.nan, values), calendar.regular_days(slots), calendar.season_length
    )
    abnormal = anomalies.abnormal
    observed = values.copy()
    excluded |= abnormal
    available = int((~excluded).sum())
    minimum = MIN_OPEN_WEEKS * calendar.season_length
    if available < minimum:
        raise InsufficientHistory(minimum, available)
    first = int(np.argmax(~excluded))  # start on the first real open day
    values = np.where(excluded, np.nan, values)[first:]
    limited = anomalies.limited[first:]
    filled = fill_gaps(values, calendar.season_length)
    y = pd.Series(np.where(np.isnan(limited), filled, limited), index=slots[first:])
    observed = np.where(abnormal[first:], observed[first:], y.to_numpy())
    return OpenDaySeries(y, ~excluded[first:], abnormal[first:], observed)


def regressors(
    calendar: ActivityCalendar,
    open_days: OpenDaySeries,
    future_slots: pd.DatetimeIndex,
    history_days: int,
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The calendar regressors of the history's slots and of the future ones (None when no
    column varies over the history: a constant teaches nothing)."""
    all_slots = open_days.y.index.append(future_slots)
    n = open_days.y.size
    frame = features(calendar, all_slots, history_days)
    frame = frame[varying_columns(frame, n)]
    X = frame.iloc[:n] if frame.shape[1] else None
    X_future = frame.iloc[n:] if frame.shape[1] else None
    return X, X_future
