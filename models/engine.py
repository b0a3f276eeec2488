"""The forecasting engine the service calls: one activity's interval actuals in, a forecast out.

Pipeline (`forecast`):
  1. Validate the request (`ForecastInputError`, naming the field).
  2. Cut the history at `history_end` FIRST: every later step only ever sees the cut frame,
     so no future data can leak into fitting, calendars, profiles or AHT.
  3. Local daily totals; learn the calendar (open weekdays, holiday closures) and the intraday
     profiles from them.
  4. The series of open weekdays, with the days that must not teach the models (closed
     holidays, outliers, closures, unexplained zero days) filled from the neighbouring weeks,
     and multiplier days divided by their multiplier.
  5. Backtest the candidates over rolling origins, pick by WAPE (ensemble of the best ones
     included), refit the winner on the whole history, calibrate its spread on its backtest
     errors.
  6. Map to calendar days (closed days and future closures forecast 0, multipliers applied),
     then to the requested level: days, intervals (daily forecast spread by the profiles, or
     the direct interval model: with `auto` where an interval-level backtest says it is
     better (`interval_choice`), or when `method` is `direct`), or local calendar months
     (totals of simulated daily paths).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Literal

import numpy as np
import pandas as pd

from models.arima import ARIMA
from models.backtest import (
    N_ORIGINS,
    Backtest,
    BacktestPlan,
    Scores,
    naive_scale,
    run_backtest,
    score,
)
from models.base import BoolArray, FloatArray, Forecaster, Predictive, check_levels
from models.calendar import (
    ANNUAL_MIN_HISTORY_DAYS,
    ActivityCalendar,
    DayAssumption,
    features,
    learn_calendar,
    local_midnights,
    varying_columns,
)
from models.calibration import ErrorModel, calibration_factor, fit_error_model
from models.direct import SlotMatrix, SlotSmoothing, fit_slot_smoothing
from models.ensemble import Ensemble, combine
from models.ets import ETS
from models.interval_choice import backtest_intervals
from models.intraday import IntervalGrid, IntradayProfile, learn_profile, sample_counts
from models.prophet import Prophet
from models.registry import MODELS
from models.selection import Selection, select
from models.snaive import SeasonalNaive

Granularity = Literal["day", "interval", "month"]
Volume = Literal["offered", "handled"]
Method = Literal["auto", "snaive", "ets", "arima", "prophet", "ensemble", "direct"]
DIRECT = "direct"
"""The direct interval model (`models.direct`), for `interval` forecasts only."""

MAX_HORIZON_DAYS: dict[str, int] = {"day": 400, "month": 400, "interval": 62}
"""Longest forecast, in days from `history_end` to the last forecast day (for months: the last
day of the last month)."""
MIN_OPEN_WEEKS = 2
"""Below two weeks of open days no method has a weekly pattern to go on."""
_UNKNOWN_CALENDAR_MINIMUM = MIN_OPEN_WEEKS * 5  # stated when no open day is seen at all
CANDIDATES: tuple[str, ...] = ("snaive", "ets", "arima", "prophet")
TREND_MIN_HISTORY_DAYS = ANNUAL_MIN_HISTORY_DAYS
"""Trend terms only with a year of history and more: below, a season looks like a trend."""
BACKTEST_MAX_HORIZON = 66
"""Backtest windows match the request's horizon up to about a quarter of open days: longer
windows would leave too little training before the earliest origin of a two-year history."""
N_SAMPLES = 1000
INTERVAL_SAMPLES = 400
_SEED = 20250101  # forecasts are reproducible: same input, same output


@dataclass(frozen=True)
class SpecialDay:
    """A day the history or the forecast must treat apart.

    ``outlier``: a past day left out of fitting. ``closed``: no activity that day (a past one
    is left out of fitting, a future one forecasts 0). ``open``: a future day worked although
    the calendar would close it (a holiday closed in past years), forecast as a normal day of
    its weekday; a past one is an ordinary day. ``multiplier``: a future day's forecast is
    multiplied by `multiplier`; a past one is divided by it before fitting.
    """

    day: date
    kind: Literal["outlier", "closed", "open", "multiplier"]
    multiplier: float | None = None


@dataclass(frozen=True)
class ForecastRequest:
    granularity: Granularity
    start: date
    end: date
    method: Method = "auto"
    levels: tuple[int, ...] = (80, 95)
    history_end: date | None = None
    special_days: tuple[SpecialDay, ...] = ()
    volume: Volume = "offered"
    """Which contacts to forecast: ``offered`` (what staffing must answer) or ``handled``
    (what a contract billed on handled contacts, or on production hours, counts)."""


@dataclass(frozen=True)
class ActivitySeries:
    intervals: pd.DataFrame
    timezone: str
    interval_minutes: int
    holiday_country: str


@dataclass(frozen=True)
class CandidateScore:
    """A backtest score: of a daily model (`level` day) or, for interval forecasts with
    `auto`, of an interval approach (`level` interval: ``profile`` or ``direct``)."""

    alias: str
    wape: float | None
    mase: float | None
    skipped_reason: str | None = None
    level: Literal["day", "interval"] = "day"


@dataclass(frozen=True)
class ForecastResult:
    """The forecast and how it was chosen.

    `points`: one row per period (day, interval, or local month) with `period_start` (UTC),
    `volume` (point forecast: the mean of the predictive distribution, so that periods add up),
    `lower_<level>` / `upper_<level>` (integer bounds; for months, bounds of the month TOTAL)
    and `aht_seconds` (0 where no volume is expected).

    `samples`: for `day` and `month`, simulated volumes of each period, shape
    ``(len(points), n_samples)`` in the order of `points` (for months: totals including the
    month's actuals before `history_end`), e.g. ``(samples < x).mean(axis=1)`` estimates
    P(total < x). None for `interval`.
    """

    method: str
    backtest: tuple[CandidateScore, ...]
    points: pd.DataFrame
    samples: np.ndarray | None = None
    assumptions: tuple[DayAssumption, ...] = ()
    """Every forecast day assumed closed, and every unconfirmed holiday, with the reason."""
    selection: Selection | None = None
    """For `auto` and `ensemble`: the ranking, the margins and the tie rule behind the choice."""


class InsufficientHistory(ValueError):
    """Too little history: for any forecast (two weeks of open days), or for one method."""

    def __init__(self, minimum_open_days: int, available_open_days: int, what: str = "") -> None:
        self.minimum_open_days = minimum_open_days
        self.available_open_days = available_open_days
        self.what = what
        subject = what or "a forecast"
        why = "" if what else " (two weeks of open days)"
        super().__init__(
            f"{subject} needs at least {minimum_open_days} open days of history{why}; "
            f"the history has {available_open_days}"
        )

    def __reduce__(self) -> tuple[type, tuple[int, int, str]]:
        # Process pools pickle exceptions back to the caller: keep the fields.
        return type(self), (self.minimum_open_days, self.available_open_days, self.what)


class ForecastInputError(ValueError):
    """A request value the engine cannot serve; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        return type(self), (self.field, self.message)


# --------------------------------------------------------------------------------------------
# Validation.


def _forecast_days(request: ForecastRequest) -> tuple[date, date]:
    """First and last local day the output covers (whole months for `month`)."""
    if request.granularity != "month":
        return request.start, request.end
    first = request.start.replace(day=1)
    after = (request.end.replace(day=1) + timedelta(days=32)).replace(day=1)
    return first, after - timedelta(days=1)


def _validate(series: ActivitySeries, request: ForecastRequest) -> tuple[int, ...]:
    if request.granularity not in MAX_HORIZON_DAYS:
        raise ForecastInputError(
            "granularity", f"unknown granularity {request.granularity!r}: day, interval or month"
        )
    if request.method not in ("auto", DIRECT) and request.method not in MODELS:
        known = ", ".join(["auto", *MODELS, DIRECT])
        raise ForecastInputError("method", f"unknown method {request.method!r}: one of {known}")
    if request.method == DIRECT and request.granularity != "interval":
        raise ForecastInputError(
            "method", "the direct model forecasts intervals: use it with granularity interval"
        )
    if request.end < request.start:
        raise ForecastInputError("end", f"end {request.end} is before start {request.start}")
    try:
        levels = check_levels(tuple(request.levels))
    except ValueError as error:
        raise ForecastInputError("levels", str(error)) from None
    if series.interval_minutes not in (15, 30, 60):
        raise ForecastInputError("interval_minutes", "must be 15, 30 or 60")
    try:
        zoneinfo.ZoneInfo(series.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ForecastInputError("timezone", f"unknown time zone {series.timezone!r}") from None
    if request.volume not in ("offered", "handled"):
        raise ForecastInputError("volume", f"unknown volume {request.volume!r}: offered or handled")
    for special in request.special_days:
        needs_factor = special.kind == "multiplier"
        if special.kind not in ("outlier", "closed", "open", "multiplier"):
            raise ForecastInputError("special_days", f"unknown kind {special.kind!r}")
        if needs_factor != (special.multiplier is not None) or (
            needs_factor and not (special.multiplier or 0) > 0
        ):
            raise ForecastInputError(
                "special_days",
                f"{special.day}: a positive multiplier goes with kind 'multiplier' only",
            )
    return levels


def _check_horizon(request: ForecastRequest, history_end: date) -> None:
    first, last = _forecast_days(request)
    if request.granularity != "month" and first < history_end:
        raise ForecastInputError(
            "start", f"start {first} is before history_end {history_end}: that is history"
        )
    if last < history_end:
        raise ForecastInputError("end", f"end {last} is before history_end {history_end}")
    horizon = (last - history_end).days + 1
    limit = MAX_HORIZON_DAYS[request.granularity]
    if horizon > limit:
        raise ForecastInputError(
            "end",
            f"the forecast would run {horizon} days past history_end {history_end}; "
            f"the maximum for {request.granularity} is {limit} days",
        )


# --------------------------------------------------------------------------------------------
# History.


@dataclass(frozen=True)
class _History:
    """Everything learned from the history strictly before `end`."""

    intervals: pd.DataFrame
    daily: pd.DataFrame  # offered per local day, every day from the first to end - 1
    end: date


def _cut_history(series: ActivitySeries, history_end: date | None) -> _History:
    frame = series.intervals
    local_day = frame["interval_start"].dt.tz_convert(series.timezone).dt.tz_localize(None)
    local_day = local_day.dt.normalize()
    if history_end is None:
        if frame.empty:
            raise InsufficientHistory(_UNKNOWN_CALENDAR_MINIMUM, 0)
        history_end = local_day.max().date() + timedelta(days=1)
    keep = (local_day < pd.Timestamp(history_end)).to_numpy()
    intervals = frame.loc[keep, ["interval_start", "offered", "handled", "aht_seconds"]]
    days = local_day[keep]
    if intervals.empty:
        raise InsufficientHistory(_UNKNOWN_CALENDAR_MINIMUM, 0)
    span = pd.date_range(days.min(), pd.Timestamp(history_end) - pd.Timedelta(days=1), freq="D")
    daily = (
        intervals.groupby(days.to_numpy())["offered"]
        .sum()
        .astype(np.float64)
        .reindex(span, fill_value=0.0)
    )
    return _History(intervals, daily.to_frame("offered"), history_end)


def _fill_gaps(values: FloatArray, season_length: int) -> FloatArray:
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
class _OpenDaySeries:
    """The open-weekday series the models see, and which of its days really count."""

    y: pd.Series
    usable: BoolArray  # observed normal open days (scored in backtests, used by profiles)


def _open_day_series(
    history: _History, calendar: ActivityCalendar, special: dict[date, SpecialDay]
) -> _OpenDaySeries:
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
    available = int((~excluded).sum())
    minimum = MIN_OPEN_WEEKS * calendar.season_length
    if available < minimum:
        raise InsufficientHistory(minimum, available)
    first = int(np.argmax(~excluded))  # start on the first real open day
    values = np.where(excluded, np.nan, values)[first:]
    y = pd.Series(_fill_gaps(values, calendar.season_length), index=slots[first:])
    return _OpenDaySeries(y, ~excluded[first:])


# --------------------------------------------------------------------------------------------
# Model choice.


def _build(alias: str, season_length: int, country: str, trend: bool) -> Forecaster:
    """A candidate configured for this activity (the ensemble is built from the winners).

    `trend`: whether the history is long enough (`TREND_MIN_HISTORY_DAYS`) to tell a trend
    from the annual season. On shorter real series a spring rise read as a trend and
    extrapolated over a quarter gave month totals 20 % to 100 % too high (ETS, ARIMA and
    Prophet alike). Without it, ETS smooths a level and ARIMA differences its residuals, so
    both still follow a level that moves.
    """
    factories: dict[str, Callable[[], Forecaster]] = {
        "snaive": lambda: SeasonalNaive(season_length=season_length),
        "ets": lambda: ETS(season_length=season_length, trend=trend),
        "arima": lambda: ARIMA(
            season_length=season_length, order=(1, 0, 1) if trend else (1, 1, 1), trend=trend
        ),
        "prophet": lambda: Prophet(country=country),
    }
    return factories[alias]()


SHORT_HISTORY_SKIPS = {
    "prophet": (
        "left out below a year of history: its trend cannot be told from the season there, "
        "and its flat or linear extrapolation missed month totals by 20 % to 100 % on real "
        "short series"
    )
}
"""Candidates `auto` does not consider on a history shorter than TREND_MIN_HISTORY_DAYS."""


@dataclass
class _Choice:
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


def _choose(
    method: str,
    series: _OpenDaySeries,
    X: pd.DataFrame | None,
    horizon: int,
    season_length: int,
    country: str,
    trend: bool,
) -> _Choice:
    y = series.y
    values = y.to_numpy()
    pool = CANDIDATES if method in ("auto", "ensemble") else (method,)
    left_out = {} if trend or method not in ("auto", "ensemble") else SHORT_HISTORY_SKIPS
    models = {a: _build(a, season_length, country, trend) for a in pool if a not in left_out}
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
        )
        members = selection.members if selection.combined else _ranked(selection)[:2]
        if len(members) >= 2:
            stacked = zip(*(scored_runs[a].forecasts for a in members), strict=True)
            runs["ensemble"] = Backtest("ensemble", tuple(combine(list(f)) for f in stacked))
            scored_runs["ensemble"] = runs["ensemble"]
            models["ensemble"] = Ensemble(members=tuple(models[a] for a in members))
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
            alias = "snaive"
            models.setdefault("snaive", _build("snaive", season_length, country, trend))
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
        actuals, scored = plan.windows(values), plan.windows(series.usable)
        error_model = fit_error_model(run.forecasts, actuals, scored)
        return _Choice(
            alias,
            model,
            scores,
            error_model,
            calibration_factor(run.forecasts, actuals, scored) if error_model is None else 1.0,
            plan,
            run.forecasts,
            selection,
        )
    return _Choice(alias, model, scores, selection=selection)


def _ranked(selection: Selection) -> list[str]:
    return [margin.alias for margin in selection.margins]


def _per_origin_wape(run: Backtest, series: _OpenDaySeries, plan: BacktestPlan) -> FloatArray:
    values = series.y.to_numpy()
    out = []
    for forecast, actual, mask in zip(
        run.forecasts, plan.windows(values), plan.windows(series.usable), strict=True
    ):
        total = float(actual[mask].sum())
        out.append(float(np.abs(actual - forecast.point)[mask].sum()) / max(total, 1e-9))
    return np.asarray(out, dtype=np.float64)


def _score(run: Backtest, series: _OpenDaySeries, plan: BacktestPlan, season_length: int) -> Scores:
    values = series.y.to_numpy()
    scale = naive_scale(values[: plan.cuts[0]], season_length)
    return score(run.forecasts, plan.windows(values), plan.windows(series.usable), scale)


def _finite(value: float) -> float | None:
    return value if bool(np.isfinite(value)) else None


# --------------------------------------------------------------------------------------------
# From the open-weekday forecast to calendar days and the requested level.


@dataclass(frozen=True)
class _DailyForecast:
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


def _daily_forecast(
    predictive: Predictive,
    slots: pd.DatetimeIndex,
    calendar: ActivityCalendar,
    first: date,
    last: date,
    special: dict[date, SpecialDay],
) -> _DailyForecast:
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
    return _DailyForecast(days, point * factor, predictive, slot_of_day, factor)


def _frame(
    starts: pd.DatetimeIndex,
    volume: FloatArray,
    bounds: dict[int, tuple[FloatArray, FloatArray]],
    aht: FloatArray,
) -> pd.DataFrame:
    """The contract frame; bounds are counts: lower rounded down, upper rounded up."""
    frame = pd.DataFrame({"period_start": starts, "volume": volume})
    for level, (lower, upper) in bounds.items():
        frame[f"lower_{level}"] = np.floor(np.minimum(lower, volume) + 1e-9)
        frame[f"upper_{level}"] = np.ceil(np.maximum(upper, volume) - 1e-9) + 0.0  # no -0.0
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


def _day_points(
    daily: _DailyForecast,
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


def _month_points(
    daily: _DailyForecast,
    history: _History,
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


@dataclass(frozen=True)
class _DirectIntervals:
    """The direct interval model, kept because it backtested better than the profiles."""

    model: SlotSmoothing
    overdispersion: float


def _interval_approach(
    history: _History,
    series: ActivitySeries,
    open_days: _OpenDaySeries,
    special: dict[date, SpecialDay],
    choice: _Choice,
    season_length: int,
    required: bool,
) -> tuple[_DirectIntervals | None, list[CandidateScore]]:
    """Backtest the profile approach against the direct model at interval level (see
    `interval_choice`); the direct model when it wins or is `required`, and both scores.

    Past multiplier days are left out of both the direct model and the scoring: their
    intervals carry the multiplier that the daily series had divided out.
    """
    if choice.plan is None or not choice.backtest:
        if required:  # its spread comes from its backtest errors
            minimum = MIN_OPEN_WEEKS * season_length + N_ORIGINS
            raise InsufficientHistory(minimum, open_days.y.size, "method direct")
        reason = "no backtest of the daily model to spread (history too short)"
        return None, [
            CandidateScore(name, None, None, reason, level="interval")
            for name in ("profile", "direct")
        ]
    slots = open_days.y.index
    multiplied = [pd.Timestamp(d) for d, marked in special.items() if marked.kind == "multiplier"]
    usable = open_days.usable & ~slots.isin(multiplied)
    tz, minutes = series.timezone, series.interval_minutes
    matrix = SlotMatrix.of(history.intervals, tz, minutes, slots[usable])
    result = backtest_intervals(
        history.intervals, tz, minutes, slots, usable, choice.plan, choice.backtest, matrix
    )
    scores = [
        CandidateScore(name, scored.wape, _finite(scored.mase), level="interval")
        for name, scored in (("profile", result.profile), ("direct", result.direct))
    ]
    if not (required or result.direct_is_better):
        return None, scores
    return _DirectIntervals(fit_slot_smoothing(matrix), result.direct_overdispersion), scores


def _interval_points(
    daily: _DailyForecast,
    first: date,
    levels: tuple[int, ...],
    profile: IntradayProfile,
    series: ActivitySeries,
    direct: _DirectIntervals | None,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Intervals from the daily forecast spread by the profiles (they add up to it), or from
    the direct model times the day's calendar factor; bounds from simulated counts."""
    out = daily.days >= pd.Timestamp(first)
    days = daily.days[out]
    grid = IntervalGrid.of(days, series.timezone, series.interval_minutes)
    day_position = np.searchsorted(days, grid.day)
    if direct is None:
        share = profile.spread(grid)
        volume = daily.point[out][day_position] * share
        day_paths = daily.paths(INTERVAL_SAMPLES, rng)[:, out]
        counts = sample_counts(day_paths[:, day_position] * share, profile.overdispersion, rng)
    else:
        opening = profile.share[grid.day.day_of_week, grid.slot] > 0
        volume = direct.model.means(grid) * opening * daily.factor[out][day_position]
        means = np.broadcast_to(volume, (INTERVAL_SAMPLES, volume.size))
        counts = sample_counts(means, direct.overdispersion, rng)
    return _frame(grid.start, volume, _quantile_bounds(counts, levels), profile.interval_aht(grid))


# --------------------------------------------------------------------------------------------
# Entry point.


def forecast(series: ActivitySeries, request: ForecastRequest) -> ForecastResult:
    """Forecast one activity; see the module docstring for the pipeline."""
    levels = _validate(series, request)
    if request.volume == "handled":  # every step below then models handled contacts
        series = replace(
            series, intervals=series.intervals.assign(offered=series.intervals["handled"])
        )
    history = _cut_history(series, request.history_end)
    _check_horizon(request, history.end)
    special = {s.day: s for s in request.special_days}

    calendar = learn_calendar(history.daily["offered"], series.holiday_country)
    if calendar.season_length == 0:
        raise InsufficientHistory(_UNKNOWN_CALENDAR_MINIMUM, 0)
    open_days = _open_day_series(history, calendar, special)
    first_out, last_out = _forecast_days(request)
    future_slots = calendar.open_weekday_index(history.end, last_out)
    all_slots = open_days.y.index.append(future_slots)
    history_days = (history.end - history.daily.index[0].date()).days
    n = open_days.y.size
    regressors = features(calendar, all_slots, history_days)
    regressors = regressors[varying_columns(regressors, n)]
    X = regressors.iloc[:n] if regressors.shape[1] else None
    X_future = regressors.iloc[n:] if regressors.shape[1] else None

    choice = _choose(
        # A direct interval forecast only needs the calendar from the daily side, and the
        # cheapest daily backtest to score the profile approach against.
        "snaive" if request.method == DIRECT else request.method,
        open_days,
        X,
        max(future_slots.size, 1),
        calendar.season_length,
        series.holiday_country,
        trend=history_days >= TREND_MIN_HISTORY_DAYS,
    )
    model = choice.model.clone().fit(open_days.y, X)
    if future_slots.size:
        predictive = model.predict_distribution(future_slots.size, X_future)
    else:
        predictive = Predictive(np.zeros(0), np.zeros(0))
    predictive = choice.calibrated(predictive)

    daily = _daily_forecast(predictive, future_slots, calendar, history.end, last_out, special)
    usable_days = open_days.y.index[open_days.usable]
    profile = learn_profile(
        history.intervals, series.timezone, series.interval_minutes, usable_days
    )
    rng = np.random.default_rng(_SEED)
    samples: np.ndarray | None
    if request.granularity == "day":
        points, samples = _day_points(daily, first_out, levels, profile, series.timezone, rng)
    elif request.granularity == "month":
        points, samples = _month_points(
            daily, history, first_out, levels, profile, series.timezone, rng
        )
    else:
        direct, interval_scores = (
            _interval_approach(
                history,
                series,
                open_days,
                special,
                choice,
                calendar.season_length,
                required=request.method == DIRECT,
            )
            if request.method in ("auto", DIRECT)
            else (None, [])
        )
        points = _interval_points(daily, first_out, levels, profile, series, direct, rng)
        samples = None
        choice.scores += interval_scores
        if direct is not None:
            choice.alias = DIRECT
    forecast_days = daily.days[daily.days >= pd.Timestamp(first_out)]
    planned = {day: marked.kind for day, marked in special.items()}
    assumptions = calendar.assumptions(forecast_days, planned)
    return ForecastResult(
        choice.alias, tuple(choice.scores), points, samples, tuple(assumptions), choice.selection
    )
