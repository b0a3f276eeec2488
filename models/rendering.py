"""Rendering of the result: from the open-weekday forecast to calendar days, then to the
requested level, in the models' contract frame.

`daily_forecast` maps the model's forecast of the open-weekday slots to calendar days (closed
days and future closures forecast 0, multipliers applied). From there: days (`day_points`),
local calendar months (`month_points`: totals of simulated daily paths, the running month's
actuals included), or intervals (`interval_points`: the daily forecast spread by the intraday
profiles, or the direct interval model). Every level ends in `frame`: `period_start`, `mean`,
`lo-<level>` / `hi-<level>` (whole counts) and `aht_seconds`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from models.base import MEAN_COLUMN, BoolArray, FloatArray, Predictive, lower_column, upper_column
from models.calendar import ActivityCalendar, local_midnights
from models.choice import DirectIntervals
from models.contract import ActivitySeries, SpecialDay
from models.history import History
from models.intraday import IntervalGrid, IntradayProfile, sample_counts

N_SAMPLES = 1000
INTERVAL_SAMPLES = 400


@dataclass(frozen=True)
class DailyForecast:
    """Per calendar day from `history_end` to the last forecast day."""

    days: pd.DatetimeIndex
    point: FloatArray
    predictive: Predictive  # on the open-weekday slots among `days`
    slot_of_day: FloatArray  # position of each day in the slots, NaN when closed
    factor: FloatArray  # 0 on closed days, the multiplier on multiplier days, else 1

    def bounds(self, level: int) -> tuple[FloatArray, FloatArray]:
        lower, upper = self.predictive.bounds(level)
        return self._on_days(lower), self._on_days(upper)

    def paths(self, n_samples: int, rng: np.random.Generator) -> FloatArray:
        slot_paths = self.predictive.sample(n_samples, rng)
        open_slot = ~np.isnan(self.slot_of_day)
        days = np.zeros((n_samples, self.days.size))
        days[:, open_slot] = slot_paths[:, self.slot_of_day[open_slot].astype(np.int64)]
        return np.asarray(days * self.factor)

    def _on_days(self, per_slot: FloatArray) -> FloatArray:
        open_slot = ~np.isnan(self.slot_of_day)
        values = np.zeros(self.days.size)
        values[open_slot] = per_slot[self.slot_of_day[open_slot].astype(np.int64)]
        return np.asarray(values * self.factor)


def daily_forecast(
    predictive: Predictive,
    slots: pd.DatetimeIndex,
    calendar: ActivityCalendar,
    first: date,
    last: date,
    special: dict[date, SpecialDay],
) -> DailyForecast:
    days = pd.date_range(pd.Timestamp(first), pd.Timestamp(last), freq="D")
    position = pd.Series(np.arange(slots.size, dtype=np.float64), index=slots)
    slot_of_day = position.reindex(days).to_numpy()
    factor = calendar.is_open(days).astype(np.float64)
    for i, day in enumerate(days.date):
        marked = special.get(day)
        if marked is not None and marked.kind == "closed":
            factor[i] = 0.0
        elif marked is not None and marked.kind == "open" and not np.isnan(slot_of_day[i]):
            factor[i] = 1.0  # a worked holiday; a weekday never worked has no slot to forecast
        elif marked is not None and marked.kind == "multiplier" and marked.multiplier:
            factor[i] *= marked.multiplier
    point = np.zeros(days.size)
    open_slot = ~np.isnan(slot_of_day)
    point[open_slot] = predictive.point[slot_of_day[open_slot].astype(np.int64)]
    return DailyForecast(days, point * factor, predictive, slot_of_day, factor)


def _frame(
    starts: pd.DatetimeIndex,
    volume: FloatArray,
    bounds: dict[int, tuple[FloatArray, FloatArray]],
    aht: FloatArray,
) -> pd.DataFrame:
    """The contract frame; bounds are counts: lower rounded down, upper rounded up."""
    frame = pd.DataFrame({"period_start": starts, MEAN_COLUMN: volume})
    for level, (lower, upper) in bounds.items():
        frame[lower_column(level)] = np.floor(np.minimum(lower, volume) + 1e-9)
        frame[upper_column(level)] = np.ceil(np.maximum(upper, volume) - 1e-9) + 0.0  # no -0.0
    frame["aht_seconds"] = np.where(volume > 0, aht, 0.0)
    return frame


def _quantile_bounds(
    samples: FloatArray, levels: tuple[int, ...]
) -> dict[int, tuple[FloatArray, FloatArray]]:
    """Bounds per level from samples of shape ``(n_samples, n_periods)``."""
    return {
        level: (
            np.quantile(samples, 0.5 - level / 200, axis=0),
            np.quantile(samples, 0.5 + level / 200, axis=0),
        )
        for level in levels
    }


def day_points(
    daily: DailyForecast,
    first: date,
    levels: tuple[int, ...],
    profile: IntradayProfile,
    tz: str,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, FloatArray]:
    out = daily.days >= pd.Timestamp(first)
    bounds = {level: _select(daily.bounds(level), out) for level in levels}
    days = daily.days[out]
    aht = profile.daily_aht[days.day_of_week]
    frame = _frame(local_midnights(days, tz), daily.point[out], bounds, aht)
    samples = daily.paths(N_SAMPLES, rng)[:, out]
    return frame, samples.T


def _select(pair: tuple[FloatArray, FloatArray], mask: BoolArray) -> tuple[FloatArray, FloatArray]:
    return pair[0][mask], pair[1][mask]


def month_points(
    daily: DailyForecast,
    history: History,
    first: date,
    levels: tuple[int, ...],
    profile: IntradayProfile,
    tz: str,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, FloatArray]:
    """Month totals from `first` (a month start) on; the month running at `history_end`
    counts its actuals so far plus the forecast of its remaining days."""
    out = daily.days >= pd.Timestamp(first)
    days = daily.days[out]
    point = daily.point[out]
    codes, months = pd.factorize(days.to_period("M"))
    indicator = np.zeros((days.size, months.size))
    indicator[np.arange(days.size), codes] = 1.0
    known = history.daily["offered"]
    actual = np.zeros(months.size)
    actual[0] = float(known[known.index >= pd.Timestamp(first)].sum())
    totals = daily.paths(N_SAMPLES, rng)[:, out] @ indicator + actual
    volume = point @ indicator + actual
    aht_weighted = (profile.daily_aht[days.day_of_week] * point) @ indicator
    forecast_volume = point @ indicator
    aht = np.divide(
        aht_weighted, forecast_volume, out=np.zeros(months.size), where=forecast_volume > 0
    )
    starts = local_midnights(pd.DatetimeIndex([m.start_time for m in months]), tz)
    return _frame(starts, volume, _quantile_bounds(totals, levels), aht), totals.T


def interval_points(
    daily: DailyForecast,
    first: date,
    levels: tuple[int, ...],
    profile: IntradayProfile,
    series: ActivitySeries,
    direct: DirectIntervals | None,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Intervals from the daily forecast spread by the profiles (they add up to it), from the
    direct model times the day's calendar factor, or the average of the two; bounds from
    simulated counts around the daily paths (relative to the day's point, for the direct
    model) spread by the shape."""
    out = daily.days >= pd.Timestamp(first)
    days = daily.days[out]
    grid = IntervalGrid.of(days, series.timezone, series.interval_minutes)
    day_position = np.searchsorted(days, grid.day)
    day_paths = daily.paths(INTERVAL_SAMPLES, rng)[:, out]
    approaches = []  # (volume, paths) of each approach used, averaged
    if direct is None or direct.combined:
        share = profile.spread(grid)
        approaches.append(
            (daily.point[out][day_position] * share, day_paths[:, day_position] * share)
        )
    if direct is not None:
        opening = profile.share[grid.day.day_of_week, grid.slot] > 0
        modelled = direct.model.means(grid) * opening * daily.factor[out][day_position]
        point = daily.point[out]
        relative = np.divide(day_paths, point, out=np.ones_like(day_paths), where=point > 0)
        approaches.append((modelled, modelled * relative[:, day_position]))
    volume = np.mean([v for v, _ in approaches], axis=0)
    paths = np.mean([p for _, p in approaches], axis=0)
    overdispersion = profile.overdispersion if direct is None else direct.overdispersion
    counts = sample_counts(paths, overdispersion, rng)
    return _frame(grid.start, volume, _quantile_bounds(counts, levels), profile.interval_aht(grid))
