"""Interval forecasts: the profile approach, the direct model, or their average.

The two ways to forecast intervals are compared on the origins of the daily backtest, at the
activity's interval level:
  * ``profile``: the chosen daily model's backtest forecast of each day, spread by the intraday
    profile learned from the history before that origin;
  * ``direct``: `SlotSmoothing` fitted on the history before that origin.
Both are scored on the intervals of the normal open days of each window (WAPE ranks them, MASE
against the in-sample weekly naive of the intervals is reported), and chosen by the daily
models' rule (`selection`): two within noise of each other (and never more than `NEVER_TIE`
apart) are averaged; one that is clearly better over the windows is used alone, unless the
average of the two backtests better still. On real half-hourly demand, picking the lower of
two WAPEs within noise chose wrong about half the time, and the average beat either one
(taylor 0.0175 against 0.0192 for the profiles and 0.0161 for the direct model, elecdemand
0.0439 against 0.0477 for both). Errors of the two approaches that lean opposite ways cancel in
the average even when one is clearly the better: kept where its backtest says so, the average
took the real intervals from 0.957 to 0.944 of MSTL (taylor-weekdays 0.0248 -> 0.0235), with
the synthetic profiles unchanged.

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
from models.intraday import (
    PROFILE_HALF_LIFE_DAYS,
    IntervalGrid,
    ProfileHistory,
    covering_overdispersion,
    overdispersion,
    spread,
)
from models.registry import DIRECT
from models.selection import Selection, select

SEASON_DAYS = 7


PROFILE = "profile"
COMBINED = "combined"
NEVER_TIE = 0.10
"""Two approaches more than 10 % apart are never averaged, however noisy the windows: on a
synthetic line whose direct model was 23 % worse but within noise of three windows, the
average was 5 % worse than the profiles alone."""


PROFILE_HALF_LIVES = (7.0, 14.0, 28.0, 56.0, 112.0)
"""Recencies of the intraday profile tried, in days: from the last weeks' shape (where it moves
with the season or the weather) to half a year's (where a small activity's intervals are mostly
counting noise). The backtest keeps the one whose shape erred least out of sample. On real
half-hourly demand the day's shape moves with the weather and the daylight: spread by a
profile of 14 days' half-life, the actual day totals of the next five days erred 0.027 where a
56-day profile erred 0.035 (elecdemand); on taylor 0.0090 against 0.0096."""

RECENCY_TIE = 0.01
"""A longer memory is kept unless a shorter one's shape errs more than 1 % less: the steadier
profile, where the shapes fit alike."""


@dataclass(frozen=True)
class ProfileRecency:
    """The profile's half-life, chosen on the shape errors the backtest measured."""

    half_life: float
    shape_wape: dict[float, float]
    """Per half-life tried: the error of the actual day totals spread by that profile, over
    the actual volume of the windows."""

    def describe(self) -> str:
        if not self.shape_wape:
            return (
                f"intraday profile of half-life {self.half_life:g} days: the default, with no "
                "backtest window to choose on"
            )
        tried = ", ".join(f"{h:g} days {w:.4f}" for h, w in self.shape_wape.items())
        return (
            f"intraday profile of half-life {self.half_life:g} days: the recency whose shape "
            f"erred least in the backtest (actual day totals spread by the profile, WAPE: "
            f"{tried})"
        )


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
    recency: ProfileRecency
    """Of the profile: the half-life whose shape erred least."""

    @property
    def approach(self) -> str:
        """``profile``, ``direct`` or ``combined``: the average of the two when they are
        within noise of each other, or when it backtests better than the better one alone."""
        if self.selection.combined:
            return COMBINED
        best = self.selection.best
        return COMBINED if self.scores[COMBINED].wape < self.scores[best].wape else best


@dataclass(frozen=True)
class _Window:
    grid: IntervalGrid
    actual: FloatArray
    profile: FloatArray
    direct: FloatArray
    shared: FloatArray  # the actual day total spread by the profile
    shaped: FloatArray  # the direct forecast scaled to the actual day total


@dataclass(frozen=True)
class _Shapes:
    """One window's actuals, the direct model's forecast and, per profile half-life, the
    profile's share of each interval in its day."""

    grid: IntervalGrid
    actual: FloatArray
    day_point: FloatArray  # the daily model's forecast of each interval's day
    day_total: FloatArray  # the actual total of each interval's day
    direct: FloatArray
    shares: dict[float, FloatArray]

    def shape_error(self, half_life: float) -> float:
        """Absolute error of the actual day totals spread by that profile."""
        return float(np.abs(self.actual - self.day_total * self.shares[half_life]).sum())

    def window(self, half_life: float) -> _Window:
        codes = pd.factorize(self.grid.day)[0]
        direct_total = np.bincount(codes, weights=self.direct)[codes]
        to_actual = np.divide(
            self.day_total, direct_total, out=np.ones_like(self.direct), where=direct_total > 0
        )
        share = self.shares[half_life]
        return _Window(
            self.grid,
            self.actual,
            self.day_point * share,
            self.direct,
            self.day_total * share,
            self.direct * to_actual,
        )


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
    """Score both approaches on the windows of `plan` over the open-weekday `slots`, the
    profile with the half-life of `PROFILE_HALF_LIVES` whose shape erred least.

    `daily_forecasts` are the chosen daily model's backtest forecasts, one per cut of `plan`;
    `usable` flags the slots that are normal open days; `matrix` is the whole history.
    """
    history = ProfileHistory.of(intervals, tz, interval_minutes)
    offered = intervals.set_index("interval_start")["offered"].astype(np.float64)
    shapes = []
    for cut, daily in zip(plan.cuts, daily_forecasts, strict=True):
        origin = slots[cut]
        scored = usable[cut : cut + plan.horizon]
        days = slots[cut : cut + plan.horizon][scored]
        if days.empty:
            continue
        grid = IntervalGrid.of(days, tz, interval_minutes)
        rows = history.rows(slots[:cut][usable[:cut]], before=origin)
        shares = {h: rows.share(h) for h in PROFILE_HALF_LIVES}
        opening = shares[PROFILE_HALF_LIFE_DAYS][grid.day.day_of_week, grid.slot] > 0
        actual = offered.reindex(grid.start, fill_value=0.0).to_numpy()
        codes = pd.factorize(grid.day)[0]
        shapes.append(
            _Shapes(
                grid,
                actual,
                daily.point[scored][np.searchsorted(days, grid.day)],
                np.bincount(codes, weights=actual)[codes],
                fit_slot_smoothing(matrix.before(origin)).means(grid) * opening,
                {h: spread(share, grid, codes) for h, share in shares.items()},
            )
        )
    recency = _least_shape_error(shapes)
    return _scored(
        [shape.window(recency.half_life) for shape in shapes],
        recency,
        matrix.before(slots[plan.cuts[0]]),
        plan,
    )


def _least_shape_error(shapes: list[_Shapes]) -> ProfileRecency:
    """The half-life whose profile spread the windows' actual day totals closest to their
    intervals (a longer one within `RECENCY_TIE`); the default without a window."""
    if not shapes:
        return ProfileRecency(PROFILE_HALF_LIFE_DAYS, {})
    actual = max(sum(float(shape.actual.sum()) for shape in shapes), 1e-9)
    shape_wape = {h: sum(s.shape_error(h) for s in shapes) / actual for h in PROFILE_HALF_LIVES}
    least = min(shape_wape.values())
    kept = [h for h, wape in shape_wape.items() if wape <= least * (1 + RECENCY_TIE) + 1e-9]
    return ProfileRecency(max(kept), shape_wape)


def _scored(
    windows: list[_Window], recency: ProfileRecency, first_training: SlotMatrix, plan: BacktestPlan
) -> IntervalBacktest:
    """Both approaches scored on the windows (the profile's of the chosen recency), and
    chosen."""
    scale = _naive_scale(first_training)

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
        recency,
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
