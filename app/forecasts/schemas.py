"""Bodies of the provider-forecast API."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from app.core.fields import Quantity, Seconds, decimal_string

Granularity = Literal["day", "interval", "month"]
Method = Annotated[
    Literal["auto", "snaive", "ets", "arima", "prophet", "ensemble", "direct"],
    Field(
        description="`auto` backtests the daily models (and, for intervals, the profile"
        " approach against the direct interval model) and keeps the best; `direct` (intervals"
        " only) forces the direct interval model; the others force one daily model."
    ),
]
Volume = Annotated[
    Literal["offered", "handled"],
    Field(
        description="Which contacts to forecast: `offered` (what staffing must answer) or"
        " `handled` (what a contract billed on handled contacts or production hours counts)."
    ),
]


class StrictInput(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MethodForGranularity(StrictInput):
    """`direct` is a model of intervals: any other granularity with it is refused."""

    granularity: Granularity = "day"
    method: Method = "auto"

    @field_validator("method")
    @classmethod
    def _direct_needs_intervals(cls, method: str, info: ValidationInfo) -> str:
        granularity = info.data.get("granularity")  # absent when it was itself invalid
        if method == "direct" and granularity not in (None, "interval"):
            raise PydanticCustomError(
                "direct_needs_intervals",
                "the direct model forecasts intervals: use it with granularity interval",
            )
        return method


class DayRange(MethodForGranularity):
    """The days to forecast; `end` is checked against `start` by the schema, so that a reversed
    range is named with every other bad field."""

    start: date = Field(description="First local day to forecast.")
    end: date = Field(description="Last local day to forecast (inclusive).")

    @field_validator("end")
    @classmethod
    def _not_before_start(cls, end: date, info: ValidationInfo) -> date:
        start = info.data.get("start")  # absent when it was itself invalid
        if start is not None and end < start:
            raise PydanticCustomError(
                "end_before_start",
                "must not be before start ({start})",
                {"start": start.isoformat()},
            )
        return end


class ForecastCreate(DayRange):
    history_end: date | None = Field(
        default=None, description="Forecast as of this date: only history strictly before it."
    )
    levels: list[Annotated[int, Field(ge=50, le=99)]] = Field(
        default_factory=lambda: [80, 95], min_length=1, max_length=4
    )
    volume: Volume = "offered"


class CandidateScoreOut(BaseModel):
    alias: str
    wape: float | None = Field(description="Weighted absolute percentage error of the backtest.")
    mase: float | None = Field(description="Mean absolute scaled error (vs weekly naive).")
    skipped_reason: str | None
    level: Literal["day", "interval"] = Field(
        default="day",
        description=(
            "What was scored: a daily model's daily totals, or (interval forecasts with `auto`)"
            " the intervals of an interval approach: `profile` (the chosen daily model spread by"
            " intraday profiles) or `direct` (each weekday-and-slot smoothed over the weeks)."
            " `method` is `direct` when the direct approach backtested better."
        ),
    )
    detail: str | None = Field(
        default=None,
        description=(
            "How the scored approach was set up where its alias does not say it all: for"
            " `profile`, the recency (half-life) of the intraday profile and the backtest"
            " shape errors it was chosen on."
        ),
    )


class CandidateMarginOut(BaseModel):
    alias: str
    wape: float = Field(description="Pooled backtest WAPE over the origins.")
    margin: float = Field(
        description="Mean over the backtest origins of this candidate's WAPE minus the best's."
    )
    noise: float = Field(description="The tie threshold for this candidate (see `rule`).")
    tied: bool = Field(description="Within noise of the best: combined with it.")


class SelectionOut(BaseModel):
    """How `auto` (or `ensemble`) chose: the best candidate, the ties it combined, and why."""

    best: str = Field(description="The candidate with the lowest pooled backtest WAPE.")
    members: list[str] = Field(
        description="The candidates used: the best alone, or the ties combined (`ensemble`)."
    )
    margins: list[CandidateMarginOut] = Field(description="Every scored candidate, best first.")
    rule: str = Field(description="The selection rule, in words.")


class DayAssumptionOut(BaseModel):
    """A forecast day the calendar decided without a planner, for the planner to confirm or
    override with a special day (`closed`, or `open` for a holiday closed in past years)."""

    day: date
    closed: bool = Field(description="Forecast closed (0); false for an unconfirmed holiday.")
    reason: Literal["closed_weekday", "closed_holiday", "closed_special_day", "unconfirmed_holiday"]
    detail: str = Field(description="The evidence, in words.")
    holiday: str | None = Field(description="The public holiday of that day, if any.")


class ForecastPointOut(BaseModel):
    period_start: datetime
    volume: Quantity
    lower_80: Quantity | None = None
    upper_80: Quantity | None = None
    lower_95: Quantity | None = None
    upper_95: Quantity | None = None
    intervals: dict[str, dict[str, Quantity]] = Field(
        description="Bounds for every requested level, e.g. {'80': {'lower': .., 'upper': ..}}."
    )
    aht_seconds: Seconds | None


class ForecastSummaryOut(BaseModel):
    """A stored forecast without its points and scores (`GET /forecasts/{id}` has them)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    activity_id: str
    granularity: Granularity
    start: date
    end: date
    method_requested: Method
    method: str = Field(
        description="The method used: the daily model chosen, or `direct` (interval forecasts"
        " with `auto` whose direct interval model backtested better than the profiles), or"
        " `<daily model>+direct` (their average: the two within noise of each other, or the"
        " average backtested better than either alone)."
    )
    levels: list[int]
    history_end: date | None
    volume: Volume
    created_at: datetime


class ForecastSummaryPage(BaseModel):
    items: list[ForecastSummaryOut]
    next_cursor: str | None


class ForecastOut(ForecastSummaryOut):
    model_config = ConfigDict(from_attributes=False)

    backtest: list[CandidateScoreOut]
    selection: SelectionOut | None = Field(
        description="For `auto` and `ensemble`: the ranking, the margins and the tie rule."
    )
    assumptions: list[DayAssumptionOut] = Field(
        description="Every forecast day assumed closed, and every public holiday the history"
        " has no evidence about (forecast open), with the reason."
    )
    points: list[ForecastPointOut]


class ForecastJobCreate(DayRange):
    contract_id: str | None = Field(default=None, description="Omit to forecast every activity.")
    levels: list[Annotated[int, Field(ge=50, le=99)]] = Field(
        default_factory=lambda: [80, 95], min_length=1, max_length=4
    )
    volume: Volume = "offered"


JobStatus = Literal[
    "queued", "running", "completed", "partial", "failed", "cancelled", "interrupted"
]


class ForecastJobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    contract_id: str | None
    status: JobStatus = Field(
        description="`partial`: some activities failed (see their `error`), `failed`: all "
        "did; `interrupted` only on jobs left by a version before the task queue."
    )
    total: int
    done: int
    results: list[dict[str, str | None]] = Field(
        description="Per activity: activity_id, forecast_id or error."
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


Multiplier = Annotated[Decimal, Field(gt=0, le=100, decimal_places=4), decimal_string(2)]


class SpecialDayCreate(StrictInput):
    day: date
    kind: Literal["outlier", "closed", "open", "multiplier"] = Field(
        description="`outlier`: a past day left out of fitting; `closed`: no activity that day;"
        " `open`: a day worked although the calendar would close it (a holiday closed in past"
        " years); `multiplier`: a future day's forecast multiplied by `multiplier`."
    )
    multiplier: Multiplier | None = Field(
        default=None, validate_default=True, description="Required for `multiplier`."
    )
    reason: Annotated[str, StringConstraints(max_length=500)] | None = None

    @field_validator("multiplier")
    @classmethod
    def _only_for_its_kind(cls, multiplier: Decimal | None, info: ValidationInfo) -> Any:
        kind = info.data.get("kind")  # absent when it was itself invalid
        if kind is not None and (kind == "multiplier") != (multiplier is not None):
            raise PydanticCustomError(
                "multiplier_kind", "required for kind multiplier, and only for it"
            )
        return multiplier


class SpecialDayOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    activity_id: str
    day: date
    kind: str
    multiplier: Multiplier | None
    reason: str | None
    created_at: datetime


class ForecastJobPage(BaseModel):
    items: list[ForecastJobOut]
    next_cursor: str | None
