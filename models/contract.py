"""What goes into the forecasting engine and what comes out of it.

The request (`ForecastRequest`, with its `SpecialDay`s) and the activity's history
(`ActivitySeries`) go in; a `ForecastResult` comes out, or one of the two errors that say why
not: `ForecastInputError` for a value the engine cannot serve, `InsufficientHistory` for a
history too short. The result's `points` use the models' own contract frame (`mean`, `lo-<level>`,
`hi-<level>`, see `models.base.Forecaster.predict`), so that there is one output contract from
the models to the service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd

from models.calendar import DayAssumption
from models.selection import Selection

Granularity = Literal["day", "interval", "month"]
Volume = Literal["offered", "handled"]
Method = Literal["auto", "snaive", "ets", "arima", "prophet", "ensemble", "direct"]
"""`auto`, or the alias of a model of `models.registry.MODELS`."""


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
    detail: str | None = None
    """How the scored approach was set up, where its alias does not say it all (the intraday
    profile's recency)."""


@dataclass(frozen=True)
class ForecastResult:
    """The forecast and how it was chosen.

    `points`: one row per period (day, interval, or local month) with `period_start` (UTC),
    `mean` (point forecast: the mean of the predictive distribution, so that periods add up),
    `lo-<level>` / `hi-<level>` (integer bounds; for months, bounds of the month TOTAL) and
    `aht_seconds` (0 where no volume is expected): the columns of the models' contract frame.

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
