"""Interval forecasts: the profile approach, the direct model, or their average.

The two ways to forecast intervals are compared on the origins of the daily backtest, at the
activity's interval level:
  * ``profile``: the chosen daily model's backtest forecast of each day, spread by the intraday
    profile learned from the history before that origin;
  * ``direct``: `SlotSmoothing` fitted on the history before that origin.
Both are scored on the intervals of the normal open days of each window (WAPE ranks them, MASE
against the in-sample weekly naive of the intervals is reported), and chosen by the daily
models' rule (`selection`): one that is clearly better over the windows is used alone; two
within noise of each other (and never more than `NEVER_TIE` apart) are averaged. On real
half-hourly demand, picking the lower of two WAPEs within noise chose wrong about half the
time, and the average beat either one (taylor 0.0175 against 0.0192 for the profiles and
0.0161 for the direct model, elecdemand 0.0439 against 0.0477 for both).

Either approach's spread is the daily model's paths (its calibrated day noise and level
error) times the error of the intraday shape: interval counts are Gamma-Poisson (variance
``mean + overdispersion * mean**2``) around the day's path spread by the shape. The shape's
overdispersion is measured here, out of sample: each window's actual day totals spread by the
profile learned before its origin, or the direct forecast scaled to them. Measured in sample,
the profile's left out its drift from one month to the next; measured on the direct forecast
as it was, the direct model's took the level error of its backtest as constant with the
horizon, and its 80 % bounds covered 56 % of the half-hours of a real series whose level fell
after the backtest (95 % bounds of either covered 83 to 89 % of real half-hours).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.backtest import BacktestPlan, Scores
from models.base import BoolArray, FloatArray, Predictive
from models.direct import SlotMatrix, fit_slot_smoothing
from models.intraday import IntervalGrid, covering_overdispersion, learn_profile, overdispersion
from models.registry import DIRECT
from models.selection import Selection, select

SEASON_DAYS = 7


PROFILE = "profile"
COMBINED = "combined"
NEVER_TIE = 0.10
"""Two approaches more than 10 % apart are never averaged, however noisy the windows: on a
synthetic line whose direct model was 23 % worse but within noise of three windows, the
average was 5 % worse than the profiles alone."""


@dataclass(frozen=True)
class IntervalBacktest:
    scores: dict[str, Scores]
    """Per approach: ``profile``, ``direct`` and ``combined`` (the average of the two)."""
    overdispersion: dict[str, float]
    """Per approach, of the intervals around their actual day's total spread by the shape
    learned before the origin: the shape's own out-of-sample error, which the daily paths do
    not carry."""
    selection: Selection
    """Between ``profile`` and ``direct``: one alone, or both (averaged)."""

    @property
    def approach(self) -> str:
        """``profile``, ``direct`` or ``combined`` (the two within noise: their average)."""
        return COMBINED if self.selection.combined else self.selection.best


@dataclass(frozen=True)
class _Window:
    grid: IntervalGrid
    actual: FloatArray
    profile: FloatArray
    direct: FloatArray
    shared: FloatArray  # the actual day total spread by the profile
    shaped: FloatArray  # the direct forecast scaled to the actual day total


def backtest_intervals(
    intervals: pd.DataFrame,
    tz: str,
    interval_minutes: int,
    slots: pd.DatetimeIndex,
    usable: BoolArray,
    plan: BacktestPlan,
    daily_forecasts: tuple[Predictive, ...],
    matrix: SlotMatrix,
) -> IntervalBacktest:
    """Score both approaches on the windows of `plan` over the open-weekday `slots`.

    `daily_forecasts` are the chosen daily model's backtest forecasts, one per cut of `plan`;
    `usable` flags the slots that are normal open days; `matrix` is the whole history.
    """
    local_day = intervals["interval_start"].dt.tz_convert(tz).dt.tz_localize(None).dt.normalize()
    offered = intervals.set_index("interval_start")["offered"].astype(np.float64)
    windows = []
    for cut, daily in zip(plan.cuts, daily_forecasts, strict=True):
        origin = slots[cut]
        scored = usable[cut : cut + plan.horizon]
        days = slots[cut : cut + plan.horizon][scored]
        if days.empty:
            continue
        grid = IntervalGrid.of(days, tz, interval_minutes)
        before = (local_day < origin).to_numpy()
        learned = learn_profile(
            intervals.loc[before], tz, interval_minutes, slots[:cut][usable[:cut]]
        )
        opening = learned.share[grid.day.day_of_week, grid.slot] > 0
        day_point = daily.point[scored][np.searchsorted(days, grid.day)]
        smoothing = fit_slot_smoothing(matrix.before(origin))
        actual = offered.reindex(grid.start, fill_value=0.0).to_numpy()
        codes = pd.factorize(grid.day)[0]
        day_total = np.bincount(codes, weights=actual)[codes]
        share = learned.spread(grid)
        direct = smoothing.means(grid) * opening
        direct_total = np.bincount(codes, weights=direct)[codes]
        to_actual = np.divide(
            day_total, direct_total, out=np.ones_like(direct), where=direct_total > 0
        )
        windows.append(
            _Window(grid, actual, day_point * share, direct, day_total * share, direct * to_actual)
        )
    scale = _naive_scale(matrix.before(slots[plan.cuts[0]]))

    def joined(part: str) -> FloatArray:
        return np.concatenate([getattr(w, part) for w in windows]) if windows else np.zeros(0)

    actual = joined("actual")
    profile, direct = joined("profile"), joined("direct")
    shared, shaped = joined("shared"), joined("shaped")
    scores = {
        PROFILE: _scores(actual, profile, scale),
        DIRECT: _scores(actual, direct, scale),
        COMBINED: _scores(actual, (profile + direct) / 2, scale),
    }
    selection = select(
        {
            PROFILE: np.array([_wape(w.actual, w.profile) for w in windows]),
            DIRECT: np.array([_wape(w.actual, w.direct) for w in windows]),
        },
        {name: scores[name].wape for name in (PROFILE, DIRECT)},
        plan.effective_windows,
        never_tie=NEVER_TIE,
    )
    return IntervalBacktest(
        scores,
        {
            PROFILE: _backtested_overdispersion(actual, shared),
            DIRECT: _backtested_overdispersion(actual, shaped),
            COMBINED: _backtested_overdispersion(actual, (shared + shaped) / 2),
        },
        selection,
    )


def _backtested_overdispersion(actual: FloatArray, forecast: FloatArray) -> float:
    """The moments' overdispersion, or more where it leaves 90 % bounds short of covering
    90 % of the backtest's intervals."""
    return max(overdispersion(actual, forecast), covering_overdispersion(actual, forecast))


def _wape(actual: FloatArray, forecast: FloatArray) -> float:
    if not actual.size:
        return float("inf")
    return float(np.abs(actual - forecast).sum() / max(float(actual.sum()), 1e-9))


def _scores(actual: FloatArray, forecast: FloatArray, scale: float) -> Scores:
    errors = np.abs(actual - forecast)
    mase = float(errors.mean() / scale) if errors.size and scale > 0 else float("nan")
    return Scores(_wape(actual, forecast), mase)


def _naive_scale(matrix: SlotMatrix) -> float:
    """Mean absolute error, per interval, of 'same interval one week earlier' in sample."""
    pairs = matrix.usable[SEASON_DAYS:] & matrix.usable[:-SEASON_DAYS]
    errors = np.abs(matrix.values[SEASON_DAYS:] - matrix.values[:-SEASON_DAYS])[pairs]
    errors = errors[~np.isnan(errors)]  # slots a DST day does not have
    return float(errors.mean()) if errors.size else float("nan")
