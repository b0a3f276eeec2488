"""Direct interval model: every (weekday, wall-clock slot) cell forecast from its own weeks.

The default interval forecast spreads a daily forecast by intraday profiles (`intraday`): the
daily models carry the trend, the annual season and the holidays, and the profile only the
shape of the day. Where the shape itself moves (a lunchtime peak growing faster than the day, a
new evening campaign, opening hours drifting), the profile's long recency weighting lags, and
the cells' own recent weeks forecast better. This model smooths each cell exponentially over
the weeks (simple exponential smoothing on the weekly series of that cell), with one smoothing
constant for the activity, chosen on the in-sample one-week-ahead absolute errors.

Each cell moves once a week, so the cells alone miss where the whole day stands now: on real
half-hourly demand the last days' level (weather) carried most of the next week's error. So the
model also smooths, day by day, the log ratio of each day's volume to what the cells forecast
for it (simple exponential smoothing again, its constant chosen on the one-day-ahead squared
errors in sample), and the forecast is the cells times that ratio: a multiplicative level on
the weekly shape, as MSTL's local level on its deseasonalised series. On an activity whose days
do not stray from the cells together the chosen constant is near 0 and the ratio near 1.

It has no trend and no annual season of its own, so the engine only keeps it where an
interval-level backtest against the profile approach says it is better (`interval_choice`).

Days are laid out in local time as in `intraday`: on a 25-hour day the two 02:00 intervals
give their mean as the day's value of that slot; on a 23-hour day the missing slot is no
observation (NaN), not a zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.base import BoolArray, FloatArray
from models.intraday import IntervalGrid

ALPHAS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7)
"""Smoothing constants tried: from about a year's memory to mostly the last two weeks."""
LOOKBACK_WEEKS = 52
LEVEL_ALPHAS = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)
"""Smoothing constants of the day level tried, from none (the cells alone) to the last day."""
INITIAL_WEEKS = 4
"""The starting level of a cell is its mean over the first weeks of the lookback: starting from
one noisy week would favour large constants that forget it quickly."""
_MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class SlotMatrix:
    """Offered volume per consecutive local day (rows) and wall-clock slot (columns)."""

    days: pd.DatetimeIndex  # naive local days, consecutive
    values: FloatArray  # (days, slots_per_day); NaN for a slot a DST day does not have
    usable: BoolArray  # (days,) normal open days: the only ones that teach the model

    @classmethod
    def of(
        cls,
        intervals: pd.DataFrame,
        tz: str,
        interval_minutes: int,
        usable_days: pd.DatetimeIndex,
    ) -> SlotMatrix:
        slots_per_day = _MINUTES_PER_DAY // interval_minutes
        local = intervals["interval_start"].dt.tz_convert(tz)
        day = local.dt.tz_localize(None).dt.normalize()
        days = pd.date_range(day.min(), day.max(), freq="D")
        row = (day - days[0]).dt.days.to_numpy()
        slot = (local.dt.hour * 60 + local.dt.minute).to_numpy() // interval_minutes
        cell = row * slots_per_day + slot
        size = days.size * slots_per_day
        total = np.bincount(cell, weights=intervals["offered"].to_numpy(np.float64), minlength=size)
        count = np.bincount(cell, minlength=size)
        values = np.divide(total, count, out=np.zeros(size), where=count > 0)
        grid = IntervalGrid.of(days, tz, interval_minutes)
        exists = np.zeros(size, dtype=bool)
        exists[(grid.day - days[0]).days.to_numpy() * slots_per_day + grid.slot] = True
        values[~exists] = np.nan
        return cls(days, values.reshape(days.size, slots_per_day), days.isin(usable_days))

    def before(self, day: pd.Timestamp) -> SlotMatrix:
        """The rows strictly before `day` (a backtest origin)."""
        keep = self.days < day
        return SlotMatrix(self.days[keep], self.values[keep], self.usable[keep])

    def weekly(self, weeks: int) -> tuple[FloatArray, BoolArray]:
        """The last `weeks` weeks as ``(weeks, 7, slots)`` values and flags of the cells that
        are observations (usable day, existing slot), Monday first."""
        lead = int(self.days[0].day_of_week) if self.days.size else 0
        total_days = lead + self.days.size
        n_weeks = -(-total_days // 7)
        trail = n_weeks * 7 - total_days
        values = np.pad(self.values, ((lead, trail), (0, 0)))
        usable = np.pad(self.usable, (lead, trail))[:, None] & ~np.isnan(values)
        shape = (n_weeks, 7, self.values.shape[1])
        return np.nan_to_num(values).reshape(shape)[-weeks:], usable.reshape(shape)[-weeks:]


@dataclass(frozen=True)
class SlotSmoothing:
    """The fitted model: one level per weekday and slot (NaN for a weekday never seen), and
    the day level: the smoothed log ratio of the latest days' volumes to the cells'."""

    level: FloatArray  # (7, slots_per_day)
    alpha: float
    day_level: float = 0.0
    day_alpha: float = 0.0

    def means(self, grid: IntervalGrid) -> FloatArray:
        """Expected volume of each interval of the grid (before the day's calendar factor)."""
        level = np.nan_to_num(self.level, nan=0.0)
        return np.asarray(level[grid.day.day_of_week, grid.slot] * np.exp(self.day_level))


def fit_slot_smoothing(matrix: SlotMatrix, alphas: tuple[float, ...] = ALPHAS) -> SlotSmoothing:
    """Fit every cell over the last `LOOKBACK_WEEKS` (plus the initial weeks), choosing the
    smoothing constant with the smallest sum of one-week-ahead absolute errors; then the day
    level on the days' ratios to those one-week-ahead forecasts."""
    values, observed = matrix.weekly(LOOKBACK_WEEKS + INITIAL_WEEKS)
    initial = min(INITIAL_WEEKS, max(values.shape[0] - 1, 1))
    seen = observed[:initial].sum(axis=0)
    start = np.divide(
        (values[:initial] * observed[:initial]).sum(axis=0),
        seen,
        out=np.full(values.shape[1:], np.nan),
        where=seen > 0,
    )
    fits = [_smooth(start, values[initial:], observed[initial:], alpha) for alpha in alphas]
    best = min(range(len(alphas)), key=lambda k: fits[k].abs_error)
    ratios = _day_ratios(values[initial:], observed[initial:], fits[best].forecasts)
    day_level, day_alpha = _smooth_day_level(ratios)
    return SlotSmoothing(fits[best].level, alphas[best], day_level, day_alpha)


@dataclass(frozen=True)
class _CellFit:
    level: FloatArray  # the final levels
    abs_error: float  # of the one-week-ahead forecasts of the observed cells
    forecasts: FloatArray  # (weeks, 7, slots): each week's one-week-ahead forecast, NaN if none


def _smooth(start: FloatArray, values: FloatArray, observed: BoolArray, alpha: float) -> _CellFit:
    """Run the smoothing over the weeks (a cell with no level yet starts at its first
    observation, unscored)."""
    level = start.copy()
    abs_error = 0.0
    forecasts = np.full(values.shape, np.nan)
    for week, (week_values, week_observed) in enumerate(zip(values, observed, strict=True)):
        forecasts[week] = level
        known = week_observed & ~np.isnan(level)
        error = np.where(known, week_values - np.nan_to_num(level), 0.0)
        abs_error += float(np.abs(error).sum())
        level = np.where(known, level + alpha * error, level)
        level = np.where(week_observed & ~known, week_values, level)
    return _CellFit(level, abs_error, forecasts)


def _day_ratios(values: FloatArray, observed: BoolArray, forecasts: FloatArray) -> FloatArray:
    """Log ratio of each day's observed volume to its cells' one-week-ahead forecast, in day
    order, for the days where both are positive."""
    known = observed & ~np.isnan(forecasts)
    actual = np.where(known, values, 0.0).sum(axis=2).ravel()
    expected = np.where(known, np.nan_to_num(forecasts), 0.0).sum(axis=2).ravel()
    kept = (actual > 0) & (expected > 0)
    return np.asarray(np.log(actual[kept] / expected[kept]), dtype=np.float64)


def _smooth_day_level(ratios: FloatArray) -> tuple[float, float]:
    """The final smoothed day level and its constant, the one of `LEVEL_ALPHAS` with the
    smallest sum of squared one-day-ahead errors (ties to the smaller constant)."""
    best_level, best_alpha, best_error = 0.0, 0.0, np.inf
    for alpha in LEVEL_ALPHAS:
        level, squared = 0.0, 0.0
        for ratio in ratios.tolist():
            squared += (ratio - level) ** 2
            level += alpha * (ratio - level)
        if squared < best_error:
            best_level, best_alpha, best_error = level, alpha, squared
    return best_level, best_alpha
