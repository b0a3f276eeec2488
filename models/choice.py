"""Which model forecasts: the candidates of the registry backtested, and the choice among them.

`choose` backtests the candidates over rolling origins (`models.backtest`), picks by WAPE with
the noise-aware rule of `models.selection` (an ensemble of tied candidates included), and
calibrates the winner's spread on its backtest errors (`models.calibration`). For interval
forecasts, `interval_approach` then weighs the direct interval model against the daily forecast
spread by the intraday profiles, on the same origins (`models.interval_choice`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from models.backtest import (
    N_ORIGINS,
    Backtest,
    BacktestPlan,
    Scores,
    naive_scale,
    run_backtest,
    score,
)
from models.base import BoolArray, FloatArray, Forecaster, Predictive
from models.calendar import ANNUAL_MIN_HISTORY_DAYS, WORKED_HOLIDAY_COLUMN
from models.calibration import ErrorModel, calibration_factor, fit_error_model
from models.contract import ActivitySeries, CandidateScore, InsufficientHistory, SpecialDay
from models.direct import SlotMatrix, SlotSmoothing, fit_slot_smoothing
from models.ensemble import Ensemble, combine
from models.history import MIN_OPEN_WEEKS, History, OpenDaySeries
from models.interval_choice import COMBINED, PROFILE, backtest_intervals
from models.intraday import PROFILE_HALF_LIFE_DAYS
from models.registry import DIRECT, MODELS, ActivitySetting, build, candidates
from models.selection import SHORT_HISTORY_CLAUSE, Selection, select

TREND_MIN_HISTORY_DAYS = ANNUAL_MIN_HISTORY_DAYS
"""Trend terms only with a year of history and more: below, a season looks like a trend."""
BACKTEST_MAX_HORIZON = 66
"""Backtest windows match the request's horizon up to about a quarter of open days: longer
windows would leave too little training before the earliest origin of a two-year history."""
NO_WORKED_HOLIDAY_REASON = (
    "left out: the history has no public holiday worked, and an effect per named holiday is "
    "what it adds to the other candidates (on real series where holidays are worked it gains "
    "1 to 2 % WAPE, for four times the fitting time of all the others)"
)
FALLBACK = "snaive"
"""The cheapest candidate: what `auto` uses when nothing could be backtested, and the daily
side of a direct interval forecast (which needs only the calendar from it, and a daily
backtest to score the profile approach against)."""


@dataclass
class Choice:
    """What the engine forecasts with: the chosen model, every candidate's score, and the spread
    calibrated on the chosen model's backtest (its forecasts at each origin are kept for the
    interval-level choice)."""

    alias: str
    model: Forecaster
    scores: list[CandidateScore] = field(default_factory=list)
    error_model: ErrorModel | None = None
    calibration: float = 1.0  # used when the backtest is too small for an error model
    plan: BacktestPlan | None = None
    backtest: tuple[Predictive, ...] = ()  # the chosen model's forecasts at each origin
    selection: Selection | None = None

    def calibrated(self, predictive: Predictive) -> Predictive:
        if self.error_model is not None:
            return self.error_model.apply(predictive)
        return predictive.scaled(self.calibration)


def _plan(
    n: int, horizon: int, season_length: int, models: dict[str, Forecaster]
) -> BacktestPlan | None:
    """Backtest windows that leave every candidate enough training at the first origin (a short
    history gets shorter windows rather than fewer candidates); else the windows the shortest
    ones allow."""
    horizon = min(horizon, BACKTEST_MAX_HORIZON)
    floor = MIN_OPEN_WEEKS * season_length
    every = max([floor, *(m.min_length() for m in models.values())])
    return BacktestPlan.for_series(n, horizon, every) or BacktestPlan.for_series(n, horizon, floor)


def choose(
    method: str,
    series: OpenDaySeries,
    X: pd.DataFrame | None,
    horizon: int,
    season_length: int,
    country: str,
    trend: bool,
    totals: bool = False,
) -> Choice:
    """Backtest what `method` stands for (every candidate for `auto` and `ensemble`, else that
    model alone), then choose: `auto` follows the selection rule, the others are what they
    name. `totals`: the forecast is read as totals over the horizon (month totals), which the
    short-history clause leaves alone (`SHORT_HISTORY_CLAUSE`). A model the history is too
    short for raises `InsufficientHistory`."""
    y = series.y
    values = y.to_numpy()
    pool = candidates() if method in ("auto", "ensemble") else (method,)
    left_out = {} if method not in ("auto", "ensemble") else _skips(pool, trend, X)
    activity = ActivitySetting(season_length, country, trend)
    models = {a: build(a, activity) for a in pool if a not in left_out}
    plan = _plan(values.size, horizon, season_length, models)
    runs = {a: Backtest(a, skipped_reason=left_out[a]) for a in pool if a in left_out}
    if plan is None:
        runs |= {a: Backtest(a, skipped_reason="history too short for a backtest") for a in models}
    else:
        runs |= {alias: run_backtest(alias, m, y, X, plan) for alias, m in models.items()}
    runs = {alias: runs[alias] for alias in pool}  # the candidates' order, whatever was run

    scored_runs: dict[str, Backtest] = {a: r for a, r in runs.items() if r.forecasts}
    selection = None
    if method in ("auto", "ensemble") and plan is not None and scored_runs:
        selection = select(
            {a: _per_origin_wape(r, series, plan) for a, r in scored_runs.items()},
            {a: _score(r, series, plan, 1).wape for a, r in scored_runs.items()},
            plan.effective_windows,
        )
        members = selection.members if selection.combined else _ranked(selection)[:2]
        if len(members) >= 2:
            stacked = zip(*(scored_runs[a].forecasts for a in members), strict=True)
            runs["ensemble"] = Backtest("ensemble", tuple(combine(list(f)) for f in stacked))
            scored_runs["ensemble"] = runs["ensemble"]
            models["ensemble"] = Ensemble(members=tuple(models[a] for a in members))
            ensemble_wape = _score(runs["ensemble"], series, plan, 1).wape
            short = not trend and not totals
            if selection.combined and short and ensemble_wape >= selection.best_wape:
                selection = selection.alone(SHORT_HISTORY_CLAUSE)
        else:
            runs["ensemble"] = Backtest("ensemble", skipped_reason="fewer than 2 candidates")

    scores = []
    for alias, run in runs.items():
        if run.forecasts and plan is not None:
            result = _score(run, series, plan, season_length)
            scores.append(CandidateScore(alias, result.wape, _finite(result.mase)))
        else:
            scores.append(CandidateScore(alias, None, None, run.skipped_reason))

    if method == "auto":
        if selection is None:
            alias = FALLBACK
            models.setdefault(FALLBACK, build(FALLBACK, activity))
        else:
            alias = "ensemble" if selection.combined else selection.best
    elif method == "ensemble" and "ensemble" not in models:
        # Two candidates must survive a backtest of at least one step per origin.
        second_shortest = sorted(m.min_length() for m in models.values())[1]
        raise InsufficientHistory(second_shortest + N_ORIGINS, values.size, "an ensemble")
    else:
        alias = method
    model = models[alias]
    if values.size < model.min_length():
        raise InsufficientHistory(model.min_length(), values.size, f"method {alias}")
    if alias in scored_runs and plan is not None:
        run = scored_runs[alias]
        actuals, calibrated = plan.windows(series.observed), plan.windows(series.calibrated)
        error_model = fit_error_model(
            run.forecasts, actuals, _disjoint(calibrated, plan.disjoint_lengths())
        )
        return Choice(
            alias,
            model,
            scores,
            error_model,
            calibration_factor(run.forecasts, actuals, calibrated) if error_model is None else 1.0,
            plan,
            run.forecasts,
            selection,
        )
    return Choice(alias, model, scores, selection=selection)


def _disjoint(masks: list[BoolArray], lengths: tuple[int, ...]) -> list[BoolArray]:
    """The error model is fitted on disjoint stretches of the windows: errors of overlapping
    windows are the same errors counted again, and the level's spread read from a window and a
    second, overlapping one looks as certain as from two separate windows. On short real
    histories that halved the month bounds."""
    out = []
    for mask, length in zip(masks, lengths, strict=True):
        kept = mask.copy()
        kept[length:] = False
        out.append(kept)
    return out


def _ranked(selection: Selection) -> list[str]:
    return [margin.alias for margin in selection.margins]


def _per_origin_wape(run: Backtest, series: OpenDaySeries, plan: BacktestPlan) -> FloatArray:
    values = series.y.to_numpy()
    out = []
    for forecast, actual, mask in zip(
        run.forecasts, plan.windows(values), plan.windows(series.usable), strict=True
    ):
        total = float(actual[mask].sum())
        out.append(float(np.abs(actual - forecast.point)[mask].sum()) / max(total, 1e-9))
    return np.asarray(out, dtype=np.float64)


def _score(run: Backtest, series: OpenDaySeries, plan: BacktestPlan, season_length: int) -> Scores:
    values = series.y.to_numpy()
    scale = naive_scale(values[: plan.cuts[0]], season_length)
    return score(run.forecasts, plan.windows(values), plan.windows(series.usable), scale)


def _finite(value: float) -> float | None:
    return value if bool(np.isfinite(value)) else None


@dataclass(frozen=True)
class DirectIntervals:
    """The direct interval model, kept because it backtested better than the profiles (used
    alone) or within noise of them (`combined`: averaged with them)."""

    model: SlotSmoothing
    overdispersion: float
    """Of the day's shape it gives, out of sample: the day's level error comes from the daily
    paths."""
    combined: bool = False


@dataclass(frozen=True)
class IntervalApproach:
    """How intervals are forecast: the direct model when it won or tied (else the profiles
    alone), the approaches' scores, and what the backtest measured of the profile."""

    direct: DirectIntervals | None
    scores: list[CandidateScore]
    profile_overdispersion: float | None = None
    """Of the profile's shape out of sample (None without a backtest)."""
    profile_half_life: float = PROFILE_HALF_LIFE_DAYS
    """The recency of the profile that erred least in the backtest."""


def interval_approach(
    history: History,
    series: ActivitySeries,
    open_days: OpenDaySeries,
    special: dict[date, SpecialDay],
    choice: Choice,
    season_length: int,
    required: bool,
) -> IntervalApproach:
    """Backtest the profile approach against the direct model at interval level (see
    `interval_choice`): the direct model when it wins (alone) or ties (averaged with the
    profiles) or is `required`, with the scores and the profile's recency and out-of-sample
    overdispersion.

    Past multiplier days are left out of both the direct model and the scoring: their
    intervals carry the multiplier that the daily series had divided out.
    """
    if choice.plan is None or not choice.backtest:
        if required:  # its spread comes from its backtest errors
            minimum = MIN_OPEN_WEEKS * season_length + N_ORIGINS
            raise InsufficientHistory(minimum, open_days.y.size, f"method {DIRECT}")
        reason = "no backtest of the daily model to spread (history too short)"
        unscored = [
            CandidateScore(name, None, None, reason, level="interval")
            for name in (PROFILE, DIRECT, COMBINED)
        ]
        return IntervalApproach(None, unscored)
    slots = open_days.y.index
    multiplied = [pd.Timestamp(d) for d, marked in special.items() if marked.kind == "multiplier"]
    usable = open_days.usable & ~slots.isin(multiplied)
    tz, minutes = series.timezone, series.interval_minutes
    matrix = SlotMatrix.of(history.intervals, tz, minutes, slots[usable])
    result = backtest_intervals(
        history.intervals, tz, minutes, slots, usable, choice.plan, choice.backtest, matrix
    )
    scores = [
        CandidateScore(
            name,
            scored.wape,
            _finite(scored.mase),
            level="interval",
            detail=result.recency.describe() if name == PROFILE else None,
        )
        for name, scored in result.scores.items()
    ]
    approach = DIRECT if required else result.approach
    direct = (
        None
        if approach == PROFILE
        else DirectIntervals(
            fit_slot_smoothing(matrix), result.overdispersion[approach], approach == COMBINED
        )
    )
    return IntervalApproach(
        direct, scores, result.overdispersion[PROFILE], result.recency.half_life
    )


def _skips(pool: tuple[str, ...], trend: bool, X: pd.DataFrame | None) -> dict[str, str]:
    """The candidates `auto` does not consider here, with the reason each gives: below
    TREND_MIN_HISTORY_DAYS those without `short_history`; and those whose edge is an effect
    per named public holiday, when the activity never worked a public holiday."""
    worked_holidays = X is not None and WORKED_HOLIDAY_COLUMN in X.columns
    skips = {}
    for alias in pool:
        spec = MODELS[alias]
        if not trend and spec.short_history_reason is not None:
            skips[alias] = spec.short_history_reason
        elif not worked_holidays and "holidays" in spec.capabilities:
            skips[alias] = NO_WORKED_HOLIDAY_REASON
    return skips
