"""Every model by its alias, with the levels it forecasts and what it can do.

The aliases are the names the API, the backtests and the benchmarks use. The engine reads its
candidates here instead of listing them: `auto` backtests every `candidate` (configured for the
activity by its `configure`), leaves out of a short history those without `short_history`,
combines the best ones into the `ensemble`, and for intervals weighs the daily forecast spread
by the intraday profiles against the models that forecast intervals themselves (`direct`). A
request for a model at a granularity its levels do not cover is refused. A new model family is
added here, and the engine and the conformance suite (tests/models) pick it up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from models.arima import ARIMA
from models.base import Forecaster
from models.ensemble import Ensemble
from models.ets import ETS
from models.prophet import Prophet
from models.snaive import SeasonalNaive

Level = Literal["day", "interval"]
"""What a model forecasts itself: open days (months are their totals, intervals their spread by
the intraday profiles), or the intervals of the day directly."""
Capability = Literal["exogenous", "holidays", "short_history"]
"""``exogenous``: reads the calendar regressors (school holidays, catch-up days, annual season);
``holidays``: has an effect of its own per named public holiday of the contract's country;
``short_history``: trusted by `auto` below a year of history."""


@dataclass(frozen=True)
class ActivitySetting:
    """What the engine knows of an activity when it configures a candidate.

    `trend`: whether the history is long enough (a year) to tell a trend from the annual
    season. On shorter real series a spring rise read as a trend and extrapolated over a
    quarter gave month totals 20 % to 100 % too high (ETS, ARIMA and Prophet alike). Without
    it, ETS smooths a level and ARIMA differences its residuals, so both still follow a level
    that moves.
    """

    season_length: int
    country: str
    trend: bool


@dataclass(frozen=True)
class ModelSpec:
    """A model as the engine sees it."""

    alias: str
    levels: frozenset[Level]
    capabilities: frozenset[Capability]
    forecaster: type[Forecaster] | None = None
    """Its class when it is a daily `Forecaster` (None for the direct interval model)."""
    configure: Callable[[ActivitySetting], Forecaster] | None = None
    """How a candidate is configured for an activity; None for a model that is not a candidate
    of `auto` (the ensemble is assembled from the candidates that win the backtest)."""
    short_history_reason: str | None = None
    """Why `auto` leaves it out below a year of history (when it lacks `short_history`)."""

    def __post_init__(self) -> None:
        if ("short_history" in self.capabilities) == (self.short_history_reason is not None):
            raise ValueError(f"{self.alias}: a short-history reason exactly when it lacks one")
        if self.configure is not None and "day" not in self.levels:
            raise ValueError(f"{self.alias}: the candidates of auto forecast days")

    @property
    def candidate(self) -> bool:
        """Whether `auto` (and an ensemble request) backtests it."""
        return self.configure is not None


DAY: frozenset[Level] = frozenset({"day"})
DIRECT = "direct"
"""The direct interval model (`models.direct`), for `interval` forecasts only."""

MODELS: dict[str, ModelSpec] = {
    spec.alias: spec
    for spec in (
        ModelSpec(
            SeasonalNaive.alias,
            DAY,
            frozenset({"short_history"}),
            SeasonalNaive,
            lambda activity: SeasonalNaive(season_length=activity.season_length),
        ),
        ModelSpec(
            ETS.alias,
            DAY,
            frozenset({"exogenous", "short_history"}),
            ETS,
            lambda activity: ETS(season_length=activity.season_length, trend=activity.trend),
        ),
        ModelSpec(
            ARIMA.alias,
            DAY,
            frozenset({"exogenous", "short_history"}),
            ARIMA,
            lambda activity: ARIMA(
                season_length=activity.season_length,
                order=(1, 0, 1) if activity.trend else (1, 1, 1),
                trend=activity.trend,
            ),
        ),
        ModelSpec(
            Prophet.alias,
            DAY,
            frozenset({"exogenous", "holidays"}),
            Prophet,
            lambda activity: Prophet(country=activity.country),
            short_history_reason=(
                "left out below a year of history: its trend cannot be told from the season "
                "there, and its flat or linear extrapolation missed month totals by 20 % to "
                "100 % on real short series"
            ),
        ),
        ModelSpec(Ensemble.alias, DAY, frozenset({"exogenous", "short_history"}), Ensemble),
        ModelSpec(DIRECT, frozenset({"interval"}), frozenset({"short_history"})),
    )
}
"""In the order the engine backtests and reports them."""


def candidates() -> tuple[str, ...]:
    """The daily models `auto` backtests, in order."""
    return tuple(alias for alias, spec in MODELS.items() if spec.candidate)


def build(alias: str, activity: ActivitySetting) -> Forecaster:
    """Candidate `alias` configured for `activity`."""
    configure = MODELS[alias].configure
    if configure is None:
        raise ValueError(f"{alias} is not a candidate of auto: it is not configured alone")
    return configure(activity)
