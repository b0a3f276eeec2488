"""Forecast accuracy: `auto` against anchor methods, rolling origin, in the same run.

For each activity (the synthetic `BENCHMARK_PROFILES`, plus any CSV of interval actuals given on
the command line) and each origin, every method forecasts from the history strictly before the
origin, and is scored on what followed:
  * level `day`: daily totals of the next 20 business days (open weekdays of the activity);
  * level `interval`: the activity's intervals over the next 5 business days;
  * level `month` (only when asked with ``--levels month``: no anchor, calibration only): the
    totals of the 1st to 12th full local months after the origin, what the commitment
    comparison reads; coverage is printed per lead, and split at the longest backtest window
    (66 open days), beyond which the engine's calibration is extrapolated.

Methods. `auto` is `models.forecast(..., method="auto")`, given the past outlier days as special
days (what the service does with the days a planner flagged). Anchors see the plain calendar
daily series (zeros on closed days) or the regular interval series (zeros outside opening
hours), nothing else:
  * day: `snaive` (same weekday last week), `hw` (statsmodels Holt-Winters, damped additive
    trend, multiplicative weekly season, fitted on volume + 1 because of the closed-day zeros),
    `prophet` (default settings), `sf-autoets` and `sf-autoarima` (statsforecast, season 7);
  * interval: `snaive` (same interval last week), `sf-mstl` (statsforecast MSTL with daily and
    weekly seasons on the last 12 weeks: on two years of 15-minute data it takes minutes).
Outlier days (known for the synthetic activities) of the test windows are not scored: nobody
can forecast an outage. Closed days are scored (actual 0), which penalises a method that does
not know the calendar, as it would in production.

Reference (not an anchor): `oracle`, for the synthetic activities at level day, forecasts the
generator's expected daily volume (no noise, no outliers): the noise floor. A ratio auto / best
anchor below oracle / best anchor would be luck, not skill.

Printed: WAPE per method and level (pooled over activities and origins, and per activity),
the bias (signed error over actual) per family, for each series above 1.05 x its best anchor
in how many windows auto erred more and its ratio without its worst window,
the ratio auto / best anchor, and the empirical coverage of the 80 % and 95 % intervals.

Run from the repository root:  ``.venv/bin/python benchmarks/forecast_accuracy.py [CSV ...]``.
Options: ``--quick`` (3 activities, 3 origins), ``--workers N`` (default 2), and to iterate on
part of it: ``--profiles NAME[,NAME...]`` (synthetic activities whose name contains one of
these), ``--levels day|interval|month`` (default day and interval), ``--origins N`` (the first
N origins), ``--anchor-cache DIR`` (keep the anchors' fits between runs, keyed by a hash of the
history they saw), ``--dump FILE`` (pickle every scored window, to analyse them). Not a test.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # small matrices: BLAS threads only contend
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import dataclasses
import functools
import hashlib
import logging
import multiprocessing
import pickle
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from real_series import RealSeries, real_series

from models import ActivitySeries, ForecastRequest, SpecialDay, forecast
from models.choice import BACKTEST_MAX_HORIZON
from models.synthetic import (
    BENCHMARK_PROFILES,
    ActivityProfile,
    generate_intervals,
    known_outlier_days,
)

DAY_HORIZON = 20  # business days
INTERVAL_HORIZON = 5
ORIGIN_SPACING = timedelta(weeks=8)
N_ORIGINS = 7
HISTORY_START = date(2023, 1, 2)
FIRST_ORIGIN = date(2025, 1, 6)
MSTL_WEEKS = 12
LEVELS = (80, 95)
MONTH_LEADS = 12  # synthetic; set by `main` from --month-leads
WINKLER_LEVEL = 80
RELIABILITY_RATIOS = (0.85, 0.9, 0.95, 1.0, 1.05, 1.1)
"""Thresholds x = ratio x the point forecast of a month total at which the benchmark checks
P(total < x): the shape of `probability_below_trigger`, whose trigger sits near the forecast."""


@dataclass(frozen=True)
class Activity:
    name: str
    series: ActivitySeries
    outliers: frozenset[date]
    origins: tuple[date, ...]
    expected: pd.Series | None = None  # daily volume without noise (synthetic activities)
    history_days: int | None = None  # history each origin sees (None: all of it)


@dataclass(frozen=True)
class Scored:
    """Absolute errors and actual totals of one method on one window, plus coverage counts."""

    activity: str
    level: str
    method: str
    abs_error: float
    actual: float
    error: float  # signed: sum of (forecast - actual), what the bias line reads
    covered: dict[int, int]
    n_covered: int
    chosen: str = ""  # for `auto`: the method it used
    lead: int = 0  # level month: 1 for the first full month after the origin, ...
    beyond_backtest: bool = False  # level month: ends more than BACKTEST_MAX_HORIZON open days out
    winkler: float = 0.0  # sum of the WINKLER_LEVEL interval scores over the covered points
    reliability: tuple[tuple[float, bool], ...] = ()  # level month: (P(total < x), total < x)


# --------------------------------------------------------------------------------------------
# Data.


def synthetic_activities(
    quick: bool, names: tuple[str, ...] = (), n_origins: int | None = None
) -> list[Activity]:
    profiles = BENCHMARK_PROFILES[::3] if quick else BENCHMARK_PROFILES
    if names:
        profiles = tuple(p for p in profiles if any(n in p.name for n in names))
    n_origins = n_origins or (3 if quick else N_ORIGINS)
    origins = tuple(FIRST_ORIGIN + k * ORIGIN_SPACING for k in range(n_origins))
    end = origins[-1] + timedelta(days=31 * (MONTH_LEADS + 1) if "month" in LEVELS_RUN else 60)
    activities = []
    for profile in profiles:
        frame = generate_intervals(profile, HISTORY_START, end, seed=1)
        outliers = frozenset(known_outlier_days(profile, HISTORY_START, end, seed=1))
        series = ActivitySeries(frame, "Europe/Paris", profile.interval_minutes, profile.country)
        expected = expected_daily(profile, origins[0], end)
        activities.append(Activity(profile.name, series, outliers, origins, expected))
    return activities


ORACLE_SCALE = 1000.0


def expected_daily(profile: ActivityProfile, first: date, last: date) -> pd.Series:
    """The generator's expected daily volume: no day-level noise, no outliers, and counting
    noise made negligible by scaling the volume up (and the totals back down)."""
    quiet = dataclasses.replace(
        profile,
        mean_daily_volume=profile.mean_daily_volume * ORACLE_SCALE,
        daily_noise_cv=0.0,
        outlier_rate=0.0,
        overdispersion=0.0,
    )
    frame = generate_intervals(quiet, first, last, seed=1)
    day = frame["interval_start"].dt.tz_convert("Europe/Paris").dt.tz_localize(None)
    daily = frame.groupby(day.dt.normalize())["offered"].sum() / ORACLE_SCALE
    days = pd.date_range(pd.Timestamp(first), pd.Timestamp(last), freq="D")
    return daily.reindex(days, fill_value=0.0).astype(float)


def csv_activity(path: Path, timezone: str, country: str) -> Activity:
    frame = pd.read_csv(path)
    frame["interval_start"] = pd.to_datetime(frame["interval_start"], utc=True)
    frame = frame.sort_values("interval_start").reset_index(drop=True)
    steps = frame["interval_start"].diff().dropna().dt.total_seconds() // 60
    interval_minutes = int(steps[steps > 0].mode().iloc[0])
    last = frame["interval_start"].dt.tz_convert(timezone).max().date()
    latest = last - timedelta(days=35)
    latest -= timedelta(days=latest.weekday())
    origins = tuple(latest - k * ORIGIN_SPACING for k in range(N_ORIGINS - 1, -1, -1))
    series = ActivitySeries(frame, timezone, interval_minutes, country)
    return Activity(path.stem, series, frozenset(), origins)


def real_activity(real: RealSeries) -> Activity:
    return Activity(
        real.name, real.series, frozenset(), real.origins, history_days=real.history_days
    )


def seen_from(activity: Activity, origin: date) -> Activity:
    """The activity as the service holds it at `origin`: only `history_days` of history (the
    later rows stay: they are the actuals the forecast is scored on)."""
    if activity.history_days is None:
        return activity
    series = activity.series
    first = pd.Timestamp(origin - timedelta(days=activity.history_days)).tz_localize(
        series.timezone
    )
    frame = series.intervals[series.intervals["interval_start"] >= first.tz_convert("UTC")]
    cut = dataclasses.replace(series, intervals=frame.reset_index(drop=True))
    return dataclasses.replace(activity, series=cut)


def local_frame(activity: Activity) -> pd.DataFrame:
    frame = activity.series.intervals
    local = frame["interval_start"].dt.tz_convert(activity.series.timezone)
    return frame.assign(day=local.dt.tz_localize(None).dt.normalize())


def daily_actuals(frame: pd.DataFrame, first: date, last: date) -> pd.Series:
    days = pd.date_range(pd.Timestamp(first), pd.Timestamp(last), freq="D")
    return frame.groupby("day")["offered"].sum().reindex(days, fill_value=0).astype(float)


def interval_actuals(activity: Activity, first: date, last: date) -> pd.Series:
    """Offered per interval on the full UTC grid of the days (zeros outside opening hours)."""
    tz = activity.series.timezone
    step = pd.Timedelta(minutes=activity.series.interval_minutes)
    start = pd.Timestamp(first).tz_localize(tz).tz_convert("UTC")
    stop = pd.Timestamp(last + timedelta(days=1)).tz_localize(tz).tz_convert("UTC")
    grid = pd.date_range(start, stop - step, freq=step)
    frame = activity.series.intervals.set_index("interval_start")["offered"]
    return frame.reindex(grid, fill_value=0).astype(float)


def business_window(daily: pd.Series, origin: date, n_days: int) -> date:
    """The last day of the next `n_days` open weekdays (weekdays with volume in the history)."""
    recent = daily[daily.index < pd.Timestamp(origin)].iloc[-91:]
    open_weekdays = {
        wd for wd, v in recent.groupby(recent.index.day_of_week).sum().items() if v > 0
    }
    day, counted = origin, 0
    while True:
        if day.weekday() in open_weekdays:
            counted += 1
            if counted == n_days:
                return day
        day += timedelta(days=1)


# --------------------------------------------------------------------------------------------
# Anchors.


def _statsforecast(model: object, y: np.ndarray, h: int) -> dict[str, np.ndarray]:
    result = model.forecast(y=y, h=h, level=list(LEVELS))  # type: ignore[attr-defined]
    return {k: np.maximum(np.asarray(v, dtype=float), 0.0) for k, v in result.items()}


def day_anchors(history: pd.Series, h: int) -> dict[str, dict[str, np.ndarray]]:
    from prophet import Prophet
    from statsforecast.models import AutoARIMA, AutoETS
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    y = history.to_numpy()
    out: dict[str, dict[str, np.ndarray]] = {}
    out["snaive"] = {"mean": np.resize(y[-7:], h)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hw = ExponentialSmoothing(
            y + 1.0, trend="add", damped_trend=True, seasonal="mul", seasonal_periods=7
        ).fit()
        out["hw"] = {"mean": np.maximum(hw.forecast(h) - 1.0, 0.0)}
        prophet = Prophet().fit(pd.DataFrame({"ds": history.index, "y": y}))
        future = prophet.make_future_dataframe(h, include_history=False)
        out["prophet"] = {"mean": np.maximum(prophet.predict(future)["yhat"].to_numpy(), 0.0)}
        out["sf-autoets"] = _statsforecast(AutoETS(season_length=7), y, h)
        out["sf-autoarima"] = _statsforecast(AutoARIMA(season_length=7), y, h)
    return out


def interval_anchors(
    history: pd.Series, h: int, slots_per_day: int
) -> dict[str, dict[str, np.ndarray]]:
    from statsforecast.models import MSTL

    y = history.to_numpy()
    week = 7 * slots_per_day
    out = {"snaive": {"mean": np.resize(y[-week:], h)}}
    recent = y[-MSTL_WEEKS * week :]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out["sf-mstl"] = _statsforecast(MSTL(season_length=[slots_per_day, week]), recent, h)
    return out


# --------------------------------------------------------------------------------------------
# Evaluation.


def _bounds(result: dict[str, np.ndarray], level: int) -> tuple[np.ndarray, np.ndarray] | None:
    lower = next((v for k, v in result.items() if k.endswith(f"lo-{level}")), None)
    upper = next((v for k, v in result.items() if k.endswith(f"hi-{level}")), None)
    return None if lower is None or upper is None else (lower, upper)


def _score(
    activity: str,
    level: str,
    method: str,
    actual: np.ndarray,
    mean: np.ndarray,
    bounds: dict[int, tuple[np.ndarray, np.ndarray]],
    scored: np.ndarray,
    for_coverage: np.ndarray,
) -> Scored:
    covered = {
        lvl: int(np.sum(((actual >= lo) & (actual <= hi))[for_coverage]))
        for lvl, (lo, hi) in bounds.items()
    }
    return Scored(
        activity,
        level,
        method,
        float(np.abs(actual - mean)[scored].sum()),
        float(actual[scored].sum()),
        float((mean - actual)[scored].sum()),
        covered,
        int(for_coverage.sum()) if bounds else 0,
        winkler=winkler(actual, bounds[WINKLER_LEVEL], for_coverage) if bounds else 0.0,
    )


def winkler(actual: np.ndarray, bound: tuple[np.ndarray, np.ndarray], mask: np.ndarray) -> float:
    """Sum of Winkler interval scores: the width, plus 2/alpha times any miss."""
    lower, upper = bound
    alpha = 1 - WINKLER_LEVEL / 100
    score = (
        (upper - lower)
        + 2 / alpha * np.maximum(lower - actual, 0.0)
        + 2 / alpha * np.maximum(actual - upper, 0.0)
    )
    return float(score[mask].sum())


LEVELS_RUN: tuple[str, ...] = ("day", "interval")  # set by `main` before the pool forks
ANCHOR_CACHE: Path | None = None  # set by `main` from --anchor-cache


def cached_anchors(
    kind: str, history: pd.Series, fit: Callable[[], dict[str, dict[str, np.ndarray]]], *key: int
) -> dict[str, dict[str, np.ndarray]]:
    """The anchors' forecasts, from `ANCHOR_CACHE` when they were fitted on exactly this history
    before (the key hashes its timestamps and values): iterating on `auto` then costs only its
    own fits. Anchors are deterministic, so a cached result is the result."""
    if ANCHOR_CACHE is None:
        return fit()
    digest = hashlib.sha256(repr((kind, key)).encode())
    digest.update(history.index.asi8.tobytes())
    digest.update(history.to_numpy(dtype=np.float64).tobytes())
    path = ANCHOR_CACHE / f"{kind}-{digest.hexdigest()[:32]}.pickle"
    if path.exists():
        cached: dict[str, dict[str, np.ndarray]] = pickle.loads(path.read_bytes())
        return cached
    result = fit()
    partial = path.with_suffix(f".{os.getpid()}.partial")
    partial.write_bytes(pickle.dumps(result))
    partial.replace(path)  # atomic: a run in parallel never reads half a file
    return result


def evaluate(whole: Activity) -> tuple[list[Scored], dict[str, float]]:
    results: list[Scored] = []
    seconds: dict[str, float] = defaultdict(float)
    for origin in whole.origins:
        activity = seen_from(whole, origin)
        frame = local_frame(activity)
        last_day = frame["day"].max().date()
        all_daily = daily_actuals(frame, frame["day"].min().date(), last_day)
        history_daily = all_daily[all_daily.index < pd.Timestamp(origin)]
        specials = tuple(SpecialDay(d, "outlier") for d in sorted(activity.outliers) if d < origin)
        day_end = business_window(all_daily, origin, DAY_HORIZON)
        months = scored_months(all_daily, origin) if "month" in LEVELS_RUN else None
        last = max(day_end, months[-1].end_time.date()) if months is not None else day_end
        anchors = DayAnchors(history_daily, (last - origin).days + 1, seconds)
        if "day" in LEVELS_RUN and day_end <= last_day:
            results += _evaluate_day(activity, all_daily, anchors, origin, specials, seconds)
        if "interval" in LEVELS_RUN and activity.series.interval_minutes < 60:
            results += _evaluate_interval(activity, all_daily, origin, specials, seconds)
        if months is not None:
            results += _evaluate_month(
                activity, all_daily, anchors, months, origin, specials, seconds
            )
    return results, dict(seconds)


class DayAnchors:
    """The day anchors of one origin, fitted once over the longest horizon any level needs
    (day and month levels slice the same fits; a forecast does not depend on the horizon)."""

    def __init__(self, history: pd.Series, horizon: int, seconds: dict[str, float]) -> None:
        self.history, self.horizon, self.seconds = history, horizon, seconds
        self._fitted: dict[str, dict[str, np.ndarray]] | None = None

    def first(self, h: int) -> dict[str, dict[str, np.ndarray]]:
        if self._fitted is None:
            started = time.perf_counter()
            self._fitted = cached_anchors(
                "day", self.history, lambda: day_anchors(self.history, self.horizon), self.horizon
            )
            self.seconds["anchors day and month"] += time.perf_counter() - started
        return {
            name: {key: values[:h] for key, values in result.items()}
            for name, result in self._fitted.items()
        }


def scored_months(all_daily: pd.Series, origin: date) -> pd.PeriodIndex | None:
    """The full months after `origin` (up to MONTH_LEADS) that the data covers."""
    first = (pd.Timestamp(origin) + pd.offsets.MonthBegin(1)).date()
    months = pd.period_range(first, periods=MONTH_LEADS, freq="M")
    months = months[months.end_time.normalize() <= all_daily.index[-1]]
    return None if months.empty else months


def _evaluate_day(
    activity: Activity,
    all_daily: pd.Series,
    day_anchors: DayAnchors,
    origin: date,
    specials: tuple[SpecialDay, ...],
    seconds: dict[str, float],
) -> list[Scored]:
    results: list[Scored] = []
    end = business_window(all_daily, origin, DAY_HORIZON)
    actual = all_daily[pd.Timestamp(origin) : pd.Timestamp(end)].to_numpy()
    window = pd.date_range(pd.Timestamp(origin), pd.Timestamp(end), freq="D")
    scored = ~np.isin(window.date, list(activity.outliers))
    started = time.perf_counter()
    auto = forecast(
        activity.series,
        ForecastRequest("day", origin, end, history_end=origin, special_days=specials),
    )
    seconds["auto day"] += time.perf_counter() - started
    points = auto.points
    bounds = {
        lvl: (points[f"lo-{lvl}"].to_numpy(), points[f"hi-{lvl}"].to_numpy()) for lvl in LEVELS
    }
    open_scored = scored & (actual > 0)
    auto_score = _score(
        activity.name,
        "day",
        "auto",
        actual,
        points["mean"].to_numpy(),
        bounds,
        scored,
        open_scored,
    )
    results.append(dataclasses.replace(auto_score, chosen=auto.method))
    if activity.expected is not None:
        oracle = activity.expected.reindex(window, fill_value=0.0).to_numpy()
        results.append(
            _score(activity.name, "day", "oracle", actual, oracle, {}, scored, open_scored)
        )
    for name, result in day_anchors.first(len(window)).items():
        anchor_bounds = {lvl: b for lvl in LEVELS if (b := _bounds(result, lvl)) is not None}
        results.append(
            _score(
                activity.name,
                "day",
                name,
                actual,
                result["mean"],
                anchor_bounds,
                scored,
                open_scored,
            )
        )

    return results


def _evaluate_interval(
    activity: Activity,
    all_daily: pd.Series,
    origin: date,
    specials: tuple[SpecialDay, ...],
    seconds: dict[str, float],
) -> list[Scored]:
    results: list[Scored] = []
    end = business_window(all_daily, origin, INTERVAL_HORIZON)
    actual_intervals = interval_actuals(activity, origin, end)
    grid_days = actual_intervals.index.tz_convert(activity.series.timezone).tz_localize(None)
    scored = ~np.isin(grid_days.normalize().date, list(activity.outliers))
    started = time.perf_counter()
    auto = forecast(
        activity.series,
        ForecastRequest("interval", origin, end, history_end=origin, special_days=specials),
    )
    seconds["auto interval"] += time.perf_counter() - started
    points = auto.points
    if not points["period_start"].reset_index(drop=True).equals(pd.Series(actual_intervals.index)):
        raise RuntimeError("interval grid of the forecast differs from the actuals' grid")
    values = actual_intervals.to_numpy()
    mean = points["mean"].to_numpy()
    bounds = {
        lvl: (points[f"lo-{lvl}"].to_numpy(), points[f"hi-{lvl}"].to_numpy()) for lvl in LEVELS
    }
    busy = scored & ((values > 0) | (mean > 0))
    auto_score = _score(activity.name, "interval", "auto", values, mean, bounds, scored, busy)
    results.append(dataclasses.replace(auto_score, chosen=auto.method))
    start_utc = pd.Timestamp(origin).tz_localize(activity.series.timezone).tz_convert("UTC")
    step = pd.Timedelta(minutes=activity.series.interval_minutes)
    first_utc = activity.series.intervals["interval_start"].min()
    history_grid = pd.date_range(first_utc, start_utc - step, freq=step)
    history = (
        activity.series.intervals.set_index("interval_start")["offered"]
        .reindex(history_grid, fill_value=0)
        .astype(float)
    )
    started = time.perf_counter()
    slots_per_day = 24 * 60 // activity.series.interval_minutes
    anchors = cached_anchors(
        "interval",
        history,
        lambda: interval_anchors(history, len(values), slots_per_day),
        len(values),
        slots_per_day,
    )
    seconds["anchors interval"] += time.perf_counter() - started
    for name, result in anchors.items():
        anchor_bounds = {lvl: b for lvl in LEVELS if (b := _bounds(result, lvl)) is not None}
        results.append(
            _score(
                activity.name,
                "interval",
                name,
                values,
                result["mean"],
                anchor_bounds,
                scored,
                busy,
            )
        )
    return results


def _evaluate_month(
    activity: Activity,
    all_daily: pd.Series,
    day_anchors: DayAnchors,
    months: pd.PeriodIndex,
    origin: date,
    specials: tuple[SpecialDay, ...],
    seconds: dict[str, float],
) -> list[Scored]:
    first = months[0].start_time.date()
    last = months[-1].end_time.date()
    started = time.perf_counter()
    auto = forecast(
        activity.series,
        ForecastRequest("month", first, last, history_end=origin, special_days=specials),
    )
    seconds["auto month"] += time.perf_counter() - started
    backtest_end = business_window(all_daily, origin, BACKTEST_MAX_HORIZON)
    totals = all_daily.groupby(all_daily.index.to_period("M")).sum()
    actual = np.array([totals[month] for month in months])
    assert auto.samples is not None
    results = []
    rows = (row for _, row in auto.points.iterrows())
    for lead, (month, point) in enumerate(zip(months, rows, strict=True), 1):
        bounds = {
            lvl: (np.array([point[f"lo-{lvl}"]]), np.array([point[f"hi-{lvl}"]])) for lvl in LEVELS
        }
        everything = np.array([True])
        one = actual[lead - 1 : lead]
        scored = _score(
            activity.name, "month", "auto", one, np.array([point["mean"]]), bounds,
            everything, everything,
        )  # fmt: skip
        samples = auto.samples[lead - 1]
        thresholds = [ratio * point["mean"] for ratio in RELIABILITY_RATIOS]
        reliability = tuple((float((samples < x).mean()), bool(one[0] < x)) for x in thresholds)
        results.append(
            dataclasses.replace(
                scored,
                chosen=auto.method,
                lead=lead,
                beyond_backtest=month.end_time.date() > backtest_end,
                reliability=reliability,
            )
        )
    # Anchors: their daily forecasts from the origin summed over each month.
    horizon_days = pd.date_range(pd.Timestamp(origin), pd.Timestamp(last), freq="D")
    month_of_day = horizon_days.to_period("M")
    for name, result in day_anchors.first(len(horizon_days)).items():
        by_month = pd.Series(result["mean"], index=month_of_day).groupby(level=0).sum()
        mean = by_month.reindex(months).to_numpy()
        for lead in range(1, len(months) + 1):
            one = slice(lead - 1, lead)
            everything = np.array([True])
            scored = _score(
                activity.name, "month", name, actual[one], mean[one], {}, everything, everything
            )
            results.append(dataclasses.replace(scored, lead=lead))
    return results


# --------------------------------------------------------------------------------------------
# Report.


def report_months(results: list[Scored]) -> None:
    """Coverage of the month totals per lead and either side of the backtest, and the
    reliability of P(total < x) as `probability_below_trigger` reads it."""
    months = [r for r in results if r.level == "month" and r.method == "auto"]
    if not months:
        return
    print(f"\n=== level month: auto, totals of months 1 to {MONTH_LEADS} after the origin ===")

    def line(label: str, rows: list[Scored]) -> None:
        if not rows:
            return
        wape = sum(r.abs_error for r in rows) / max(sum(r.actual for r in rows), 1e-9)
        cover = "  ".join(
            f"{lvl}%: {sum(r.covered[lvl] for r in rows) / sum(r.n_covered for r in rows):.3f}"
            for lvl in LEVELS
        )
        print(f"  {label:44s} n={len(rows):3d}  WAPE {wape:.4f}  coverage {cover}")

    for lead in range(1, MONTH_LEADS + 1):
        line(f"lead {lead}", [r for r in months if r.lead == lead])
    line("within the longest backtest window", [r for r in months if not r.beyond_backtest])
    line("beyond it (extrapolated calibration)", [r for r in months if r.beyond_backtest])
    line("all", months)
    pairs = [pair for r in months for pair in r.reliability]
    if not pairs:
        return
    print(
        "reliability of P(month total < x), x = "
        + "/".join(f"{ratio:g}" for ratio in RELIABILITY_RATIOS)
        + " x the point forecast:"
    )
    print(f"  {'predicted':>12s} {'mean':>7s} {'observed':>9s} {'n':>5s}")
    edges = np.linspace(0.0, 1.0, 11)
    predicted = np.array([p for p, _ in pairs])
    observed = np.array([o for _, o in pairs], dtype=float)
    bins = np.clip(np.digitize(predicted, edges) - 1, 0, 9)
    for b in range(10):
        inside = bins == b
        if inside.any():
            print(
                f"  {edges[b]:5.1f}-{edges[b + 1]:<5.1f} {predicted[inside].mean():7.3f}"
                f" {observed[inside].mean():9.3f} {int(inside.sum()):5d}"
            )
    brier = float(np.mean((predicted - observed) ** 2))
    print(f"  Brier score {brier:.4f} (climatology {float(np.var(observed)):.4f})")
    _reliability_by_ratio(months)


def _reliability_by_ratio(months: list[Scored]) -> None:
    """P(total < x) per threshold: the mean predicted probability against the observed share,
    per family. A trigger sits below the forecast, so the ratios under 1 are the ones
    `probability_below_trigger` is read at; the bins above pool every threshold."""
    print("mean P(month total < x) predicted / observed, by x / point forecast:")
    print(f"  {'family':24s}" + "".join(f"{ratio:>12g}" for ratio in RELIABILITY_RATIOS))
    for name in [*sorted({family(r.activity) for r in months}), "ALL"]:
        rows = [
            r.reliability for r in months if r.reliability and name in ("ALL", family(r.activity))
        ]
        if not rows:
            continue
        cells = [
            f"{np.mean([row[k][0] for row in rows]):.2f}/{np.mean([row[k][1] for row in rows]):.2f}"
            for k in range(len(RELIABILITY_RATIOS))
        ]
        print(f"  {name:24s}" + "".join(f"{cell:>12s}" for cell in cells))


def family(activity: str) -> str:
    """`chicago-weekdays/Austin` -> `chicago-weekdays`: the variant pooled over its series."""
    return activity.split("/")[0]


def report(results: list[Scored]) -> None:
    table: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    coverage: dict[tuple[str, str], dict[int, list[int]]] = defaultdict(
        lambda: {lvl: [0, 0] for lvl in LEVELS}
    )
    for r in results:
        keys = {"ALL", r.activity, family(r.activity)}
        for key in keys:
            row = table[(r.level, r.method, key)]
            row[0] += r.abs_error
            row[1] += r.actual
            row[2] += r.winkler
            row[3] += r.error
        for lvl, n in r.covered.items():
            coverage[(r.level, r.method)][lvl][0] += n
            coverage[(r.level, r.method)][lvl][1] += r.n_covered

    def wape(level: str, method: str, activity: str) -> float:
        error, actual, _, _ = table[(level, method, activity)]
        return error / actual if actual else float("nan")

    horizons = {
        "day": f"{DAY_HORIZON} business days ahead",
        "interval": f"intervals of {INTERVAL_HORIZON} business days ahead",
        "month": f"totals of months 1 to {MONTH_LEADS} after the origin",
    }
    for level in [lvl for lvl in ("day", "interval", "month") if lvl in {r.level for r in results}]:
        rows = [r for r in results if r.level == level]
        methods = sorted({r.method for r in rows}, key=lambda m: (m != "auto", m))
        anchors = [m for m in methods if m not in ("auto", "oracle")]
        if not anchors:
            continue
        activities = sorted({r.activity for r in rows})
        families = sorted({family(a) for a in activities} - set(activities))
        print(f"\n=== level {level}: {horizons[level]}, WAPE ===")
        floors = ["oracle"] if "oracle" in methods else []  # the noise floor, for reference
        header = f"{'activity':34s}" + "".join(f"{m:>13s}" for m in methods) + f"{'auto/best':>11s}"
        print(header + "".join(f"{m + '/best':>13s}" for m in floors))
        ratios: dict[str, float] = {}
        for activity in [*activities, *families, "ALL"]:
            values = [wape(level, m, activity) for m in methods]
            best = min(wape(level, m, activity) for m in anchors)
            ratio = [wape(level, m, activity) / best for m in ["auto", *floors]]
            if activity in activities:
                ratios[activity] = ratio[0]
            label = activity if activity in activities else f"[{activity}]"
            print(
                f"{label:34s}"
                + "".join(f"{v:13.4f}" for v in values)
                + f"{ratio[0]:11.3f}"
                + "".join(f"{v:13.3f}" for v in ratio[1:])
            )
        best_anchor = min(anchors, key=lambda m: wape(level, m, "ALL"))
        pooled = wape(level, "auto", "ALL") / wape(level, best_anchor, "ALL")
        over = {a: r for a, r in ratios.items() if r > 1.05}
        worst = max(ratios, key=lambda a: ratios[a])
        print(f"pooled: auto / best anchor ({best_anchor}) = {pooled:.3f}  (target <= 0.90)")

        mean_wape = {m: float(np.mean([wape(level, m, a) for a in activities])) for m in methods}
        equal = min(anchors, key=mean_wape.__getitem__)
        print(
            f"equal weights (mean of the series' WAPE, not weighed by volume): auto / best "
            f"anchor ({equal}) = {mean_wape['auto'] / mean_wape[equal]:.3f}"
        )
        print(
            f"series above 1.05 x their best anchor: {len(over)} of {len(ratios)}"
            f"; worst {worst} {ratios[worst]:.3f}"
        )
        _print_misses(rows, over, anchors)
        _print_references(
            anchors,
            activities,
            sorted({family(a) for a in activities}),
            functools.partial(wape, level),
            {a: table[(level, "auto", a)][1] for a in [*activities, *families]},
        )
        chosen = Counter(r.chosen for r in rows if r.method == "auto" and r.lead <= 1)
        print("methods auto used: " + ", ".join(f"{m} {n}" for m, n in chosen.most_common()))
        print(f"{'bias: (forecast - actual)/actual':34s}" + "".join(f"{m:>13s}" for m in methods))
        for name in [*sorted({family(a) for a in activities}), "ALL"]:
            cells = "".join(
                f"{table[(level, m, name)][3] / table[(level, m, name)][1]:+13.4f}" for m in methods
            )
            print(f"  {name:32s}{cells}")
        print("coverage of intervals (share of scored actuals inside), Winkler 80 % / actual:")
        for method in methods:
            cov = coverage[(level, method)]
            if cov[LEVELS[0]][1]:
                text = "  ".join(f"{lvl}%: {cov[lvl][0] / cov[lvl][1]:.3f}" for lvl in LEVELS)
                _, actual, score, _ = table[(level, method, "ALL")]
                print(f"  {method:14s} {text}  Winkler {score / actual:.4f}")


def _print_misses(rows: list[Scored], over: dict[str, float], anchors: list[str]) -> None:
    """Why each series above 1.05 is: against its best anchor in hindsight, in how many of its
    windows auto erred more, and its ratio without the window where auto lost most. A miss that
    one window carries, on a series of two windows, is that window's luck, not a pattern."""
    for activity in sorted(over, key=over.__getitem__, reverse=True):
        windows = {
            m: [(r.abs_error, r.actual) for r in rows if r.activity == activity and r.method == m]
            for m in ["auto", *anchors]
        }
        best = min(anchors, key=lambda m: sum(e for e, _ in windows[m]))
        pairs = list(zip(windows["auto"], windows[best], strict=True))
        lost = sum(a[0] > b[0] for a, b in pairs)
        worst = max(range(len(pairs)), key=lambda k: pairs[k][0][0] - pairs[k][1][0])
        rest = [pair for k, pair in enumerate(pairs) if k != worst]
        without = (
            f"{sum(a[0] for a, _ in rest) / sum(b[0] for _, b in rest):.3f}"
            if rest and sum(b[0] for _, b in rest) > 0
            else "-"
        )
        print(
            f"  {activity:34s} {over[activity]:.3f} vs {best}: auto erred more in {lost} of "
            f"{len(pairs)} windows; {without} without its worst window"
        )


def _print_references(
    anchors: list[str],
    activities: list[str],
    families: list[str],
    wape: Callable[[str, str], float],
    actual: dict[str, float],
) -> None:
    """What the two headline figures weigh, to read them by.

    The per-series target compares auto with the best of several anchors on few windows: each
    anchor in turn is held to it against the best of the others, which tells how much of a
    series' ratio is the luck of a minimum over noisy scores. The pooled ratio weighs each
    window by its volume: the share of each family in the actuals says whose errors it is.
    """
    held = []
    for anchor in anchors:
        others = [m for m in anchors if m != anchor]
        if others:
            over = sum(wape(anchor, a) > 1.05 * min(wape(m, a) for m in others) for a in activities)
            held.append(f"{anchor} {over}")
    if held:
        print(
            "for reference, each anchor above 1.05 x the best of the other anchors, in "
            f"series of {len(activities)}: " + ", ".join(held)
        )
    if len(families) > 1:
        total = sum(actual[f] for f in families)
        shares = sorted(((actual[f] / total, f) for f in families), reverse=True)
        print(
            "share of the actuals (what the pooled ratio weighs): "
            + ", ".join(f"{g} {share:.0%}" for share, g in shares)
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="*", type=Path, help="interval actuals CSV files")
    parser.add_argument("--data", choices=("synthetic", "real"), default="synthetic")
    parser.add_argument("--timezone", default="Europe/Paris")
    parser.add_argument("--country", default="FR")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--profiles", default="", help="comma-separated name parts")
    parser.add_argument("--levels", choices=("day", "interval", "month"), nargs="+")
    parser.add_argument("--origins", type=int, help="only the first N origins")
    parser.add_argument("--month-leads", type=int, help="months scored after each origin")
    parser.add_argument(
        "--anchor-cache", type=Path, help="directory keeping the anchors' fits between runs"
    )
    parser.add_argument("--dump", type=Path, help="pickle every scored window to this file")
    args = parser.parse_args()
    global LEVELS_RUN, MONTH_LEADS, ANCHOR_CACHE
    if args.anchor_cache:
        args.anchor_cache.mkdir(parents=True, exist_ok=True)
        ANCHOR_CACHE = args.anchor_cache
    real = args.data == "real"
    if args.levels:
        LEVELS_RUN = tuple(args.levels)
    elif real:
        LEVELS_RUN = ("day", "interval", "month")
    MONTH_LEADS = args.month_leads or (3 if real else MONTH_LEADS)
    logging.getLogger("cmdstanpy").setLevel(logging.WARNING)

    names = tuple(n for n in args.profiles.split(",") if n)
    if real:
        activities = [
            real_activity(s) for s in real_series() if not names or any(n in s.name for n in names)
        ]
        if args.quick:  # one series per family
            activities = list({family(a.name): a for a in reversed(activities)}.values())
        if args.origins:
            activities = [
                dataclasses.replace(a, origins=a.origins[: args.origins]) for a in activities
            ]
    elif args.csv and args.quick:
        activities = []
    else:
        activities = synthetic_activities(args.quick, names, args.origins)
    activities += [csv_activity(p, args.timezone, args.country) for p in args.csv]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(args.workers) as pool:
        outputs = pool.map(evaluate, activities, chunksize=1)
    results = [r for scored, _ in outputs for r in scored]
    seconds: dict[str, float] = defaultdict(float)
    for _, timing in outputs:
        for key, value in timing.items():
            seconds[key] += value
    n_windows = sum(len(a.origins) for a in activities)
    print(
        f"{len(activities)} activities x origins = {n_windows} windows per level; "
        f"wall time {time.perf_counter() - started:.0f} s"
    )
    for key, value in sorted(seconds.items()):
        print(f"  mean seconds per window, {key}: {value / n_windows:.2f}")
    if args.dump:
        args.dump.write_bytes(pickle.dumps(results))
    report(results)
    report_months(results)


if __name__ == "__main__":
    main()
