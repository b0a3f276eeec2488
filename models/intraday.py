"""Intraday profiles: how a day's volume and AHT spread over its intervals, per weekday.

Interval forecasts are daily forecasts spread by these profiles. A profile is learned per
weekday and local wall-clock slot from recent open days, weighted by recency (half-life
`PROFILE_HALF_LIFE_DAYS`) as ratios of weighted sums, which is robust on small intervals where
one day's share is mostly noise. The opening hours of a weekday are learned as the span of
slots that carried volume on that weekday over the last `OPENING_LOOKBACK_DAYS`; a slot
outside it forecasts zero.

Days are laid out in LOCAL time like the ACD exports: from local midnight to the next in steps
of the interval, so a 25-hour DST day has two 02:00 slots (both get that slot's share) and a
23-hour day none; shares are renormalised per day so that intervals always sum to the day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from models.base import BoolArray, FloatArray, IntArray
from models.calendar import OPENING_LOOKBACK_DAYS, local_midnights

PROFILE_HALF_LIFE_DAYS = 56.0
PROFILE_LOOKBACK_DAYS = 364
AHT_HALF_LIFE_DAYS = 28.0
_MINUTES_PER_DAY = 24 * 60


def recency_weights(ages_days: FloatArray, half_life: float) -> FloatArray:
    return np.asarray(0.5 ** (ages_days / half_life), dtype=np.float64)


@dataclass(frozen=True)
class IntervalGrid:
    """The intervals of some local days: one row per interval, in time order."""

    day: pd.DatetimeIndex  # naive local date of each interval
    start: pd.DatetimeIndex  # tz-aware UTC start of each interval
    slot: IntArray  # local wall-clock slot (minute of day // interval minutes)

    @classmethod
    def of(cls, days: pd.DatetimeIndex, tz: str, interval_minutes: int) -> IntervalGrid:
        midnights = local_midnights(days, tz)
        ends = local_midnights(days + pd.Timedelta(days=1), tz)
        step = pd.Timedelta(minutes=interval_minutes)
        counts = ((ends - midnights) // step).to_numpy(dtype=np.int64)
        day_of = np.repeat(np.arange(days.size), counts)
        offset = np.arange(day_of.size) - np.repeat(np.cumsum(counts) - counts, counts)
        start = midnights[day_of] + offset * step
        local = start.tz_convert(tz)
        minutes = local.hour.to_numpy() * 60 + local.minute.to_numpy()
        return cls(days[day_of], start, (minutes // interval_minutes).astype(np.int64))


@dataclass(frozen=True)
class IntradayProfile:
    """Per weekday and wall-clock slot: volume share, AHT ratio to the day's AHT, opening."""

    share: FloatArray  # (7, slots_per_day); zero outside opening hours
    aht_ratio: FloatArray  # (7, slots_per_day)
    daily_aht: FloatArray  # (7,) handled-weighted recent AHT per weekday
    overdispersion: float
    """Interval counts vary as ``mean + overdispersion * mean**2`` around the profile."""

    def spread(self, grid: IntervalGrid) -> FloatArray:
        """Each interval's share of its day (sums to 1 over each day's open slots)."""
        return spread(self.share, grid, pd.factorize(grid.day)[0])

    def interval_aht(self, grid: IntervalGrid) -> FloatArray:
        weekday = grid.day.day_of_week
        return np.asarray(self.daily_aht[weekday] * self.aht_ratio[weekday, grid.slot])


def spread(share: FloatArray, grid: IntervalGrid, codes: IntArray) -> FloatArray:
    """Each interval's share of its day by the weekday-and-slot `share` table, renormalised
    over the day's slots (`codes`: the day of each interval, numbered)."""
    raw = share[grid.day.day_of_week, grid.slot]
    totals = np.bincount(codes, weights=raw)
    return np.where(totals[codes] > 0, raw / np.where(totals[codes] > 0, totals[codes], 1), 0.0)


def learn_profile(
    intervals: pd.DataFrame,
    tz: str,
    interval_minutes: int,
    usable_days: pd.DatetimeIndex,
    half_life: float = PROFILE_HALF_LIFE_DAYS,
) -> IntradayProfile:
    """Learn from interval actuals (the engine's columns) restricted to `usable_days`.

    `usable_days` are the open, normal days of the history (no outliers, no closures).
    """
    return ProfileHistory.of(intervals, tz, interval_minutes).rows(usable_days).profile(half_life)


@dataclass(frozen=True)
class ProfileHistory:
    """Interval actuals laid out once by local day, weekday and slot, to learn profiles from
    any part of them with any recency: the interval backtest learns one per origin and
    half-life from the same rows."""

    day: pd.Series  # naive local day of each row
    weekday: IntArray
    cells: IntArray  # weekday * slots_per_day + slot
    slots_per_day: int
    offered: FloatArray
    handled: FloatArray
    workload: FloatArray  # handled x AHT

    @classmethod
    def of(cls, intervals: pd.DataFrame, tz: str, interval_minutes: int) -> ProfileHistory:
        slots_per_day = _MINUTES_PER_DAY // interval_minutes
        local = intervals["interval_start"].dt.tz_convert(tz)
        day = local.dt.tz_localize(None).dt.normalize().reset_index(drop=True)
        slot = (local.dt.hour * 60 + local.dt.minute).to_numpy() // interval_minutes
        weekday = day.dt.day_of_week.to_numpy()
        handled = intervals["handled"].to_numpy(dtype=np.float64)
        return cls(
            day,
            weekday,
            weekday * slots_per_day + slot,
            slots_per_day,
            intervals["offered"].to_numpy(dtype=np.float64),
            handled,
            handled * intervals["aht_seconds"].to_numpy(dtype=np.float64),
        )

    def rows(
        self, usable_days: pd.DatetimeIndex, before: pd.Timestamp | None = None
    ) -> ProfileRows:
        """The rows a profile of the `usable_days` before `before` is learned from, and its
        opening hours: what every recency shares."""
        kept = np.ones(self.day.size, dtype=bool) if before is None else self.day < before
        kept = np.asarray(kept, dtype=bool)
        day = self.day[kept]
        cells, offered = self.cells[kept], self.offered[kept]
        age = (day.max() - day).dt.days.to_numpy(dtype=np.float64)
        usable = day.isin(usable_days).to_numpy() & (age < PROFILE_LOOKBACK_DAYS)
        recent = usable & (age < OPENING_LOOKBACK_DAYS)
        size = 7 * self.slots_per_day
        seen = np.bincount(cells[recent], weights=offered[recent], minlength=size) > 0
        seen = seen.reshape(7, -1)
        slot_index = np.arange(self.slots_per_day)
        opening = np.zeros_like(seen)
        for wd in range(7):
            if seen[wd].any():
                open_slots = slot_index[seen[wd]]
                opening[wd] = (slot_index >= open_slots.min()) & (slot_index <= open_slots.max())
        return ProfileRows(
            day[usable],
            self.weekday[kept][usable],
            cells[usable],
            offered[usable],
            self.handled[kept][usable],
            self.workload[kept][usable],
            age[usable],
            recent[usable],
            opening,
        )


@dataclass(frozen=True)
class ProfileRows:
    """The usable rows a profile is learned from (within `PROFILE_LOOKBACK_DAYS`), with their
    age in days, and the opening hours of each weekday (True where a slot is open)."""

    day: pd.Series
    weekday: IntArray
    cells: IntArray
    offered: FloatArray
    handled: FloatArray
    workload: FloatArray
    age: FloatArray
    recent: BoolArray  # within `OPENING_LOOKBACK_DAYS`: what the overdispersion is measured on
    opening: BoolArray  # (7, slots_per_day)

    def _table(self, values: FloatArray) -> FloatArray:
        counts = np.bincount(self.cells, weights=values, minlength=self.opening.size)
        return np.asarray(counts, dtype=np.float64).reshape(self.opening.shape)

    def share(self, half_life: float) -> FloatArray:
        """Each weekday's volume share per slot, the days weighted by recency (zero outside
        opening hours)."""
        volume = self._table(recency_weights(self.age, half_life) * self.offered)
        volume = np.where(self.opening, volume, 0.0)
        totals = volume.sum(axis=1, keepdims=True)
        share: FloatArray = np.divide(volume, totals, out=np.zeros_like(volume), where=totals > 0)
        return share

    def profile(self, half_life: float) -> IntradayProfile:
        share = self.share(half_life)
        aht_weight = recency_weights(self.age, AHT_HALF_LIFE_DAYS)
        handled_by_wd = np.bincount(self.weekday, weights=aht_weight * self.handled, minlength=7)
        work_by_wd = np.bincount(self.weekday, weights=aht_weight * self.workload, minlength=7)
        overall = work_by_wd.sum() / max(handled_by_wd.sum(), 1.0)
        daily_aht = np.where(
            handled_by_wd > 0, work_by_wd / np.maximum(handled_by_wd, 1e-9), overall
        )
        weight = recency_weights(self.age, half_life)
        slot_handled = self._table(weight * self.handled)
        slot_work = self._table(weight * self.workload)
        slot_aht = np.divide(
            slot_work, slot_handled, out=np.zeros_like(slot_work), where=slot_handled > 0
        )
        weekday_aht = (slot_work.sum(axis=1) / np.maximum(slot_handled.sum(axis=1), 1e-9))[:, None]
        aht_ratio = np.where(
            slot_handled > 0, slot_aht / np.where(weekday_aht > 0, weekday_aht, 1), 1.0
        )
        return IntradayProfile(
            share=share,
            aht_ratio=aht_ratio,
            daily_aht=daily_aht,
            overdispersion=_overdispersion(
                self.offered, self.day, self.cells, share.ravel(), self.recent
            ),
        )


def _overdispersion(
    offered: FloatArray, day: pd.Series, cells: IntArray, share: FloatArray, mask: BoolArray
) -> float:
    """Method-of-moments excess variance of interval counts around day total x share."""
    if not mask.any():
        return 0.0
    codes = pd.factorize(day[mask])[0]
    totals = np.bincount(codes, weights=offered[mask])[codes]
    return overdispersion(offered[mask], totals * share[cells[mask]])


def overdispersion(actual: FloatArray, mean: FloatArray) -> float:
    """Method-of-moments overdispersion of `actual` counts around `mean`: the excess of their
    variance over Poisson, as `variance = mean + overdispersion * mean**2`."""
    excess = np.sum((actual - mean) ** 2 - mean)
    return float(max(excess / max(float(np.sum(mean**2)), 1e-9), 0.0))


def covering_overdispersion(actual: FloatArray, mean: FloatArray, level: float = 90.0) -> float:
    """The smallest overdispersion whose Gaussian-approximated `level` % bounds,
    ``mean -+ z sqrt(mean + overdispersion * mean**2)``, cover `level` % of `actual`.

    The moments' estimate (`overdispersion`) weighs each interval by its mean squared, so the
    busy midday intervals set it; coverage counts every interval alike, and with the moments'
    value 95 % bounds covered 89 % of real half-hours. Matching the coverage itself, at a level
    between the two usually asked for, weighs them alike.
    """
    busy = mean > 0
    if busy.sum() < 20:
        return 0.0
    z = float(norm.ppf(0.5 + level / 200.0))
    # the overdispersion at which each interval's error is exactly z of its spread
    needed = (((actual - mean) / z) ** 2 - mean)[busy] / mean[busy] ** 2
    return float(max(np.quantile(needed, level / 100.0), 0.0))


def sample_counts(means: FloatArray, overdispersion: float, rng: np.random.Generator) -> FloatArray:
    """Gamma-Poisson draws with the given means (any shape); Poisson when not overdispersed."""
    if overdispersion > 1e-6:
        shape = 1.0 / overdispersion
        means = rng.gamma(shape, np.maximum(means, 0.0) / shape)
    return rng.poisson(np.maximum(means, 0.0)).astype(np.float64)
