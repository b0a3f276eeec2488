"""Request and response bodies of the staffing API (Erlang C and Erlang A for one interval).

Inputs are decimals (JSON numbers or decimal strings) checked here, field by field, so that a
bad request names every bad field at once. Outputs are probabilities and head counts, computed
as floats and rounded once, by the output types below, to decimal strings.
"""

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    field_validator,
)

MAX_OFFERED_LOAD = 100_000
"""Erlangs. The searches cost about one step per agent: the bound keeps every request well under
a second, and no real interval of one activity comes near it."""
MAX_AGENTS = 200_000
"""Most agents a request may evaluate, or that the occupancy cap alone may call for."""
MAX_VOLUME = 1_000_000_000
MAX_PATIENCE_TO_AHT = 10_000
"""Erlang A costs grow with ``agents * patience / aht``; beyond this ratio callers practically
never abandon, so the figures are Erlang C's and the erlang_c model is the right question."""


class StaffingModel(StrEnum):
    ERLANG_C = "erlang_c"
    ERLANG_A = "erlang_a"


def _rounder(places: int) -> BeforeValidator:
    quantum = Decimal(1).scaleb(-places)

    def round_half_up(value: Any) -> Any:
        # repr() is the shortest decimal that reads back as the same float, so 0.12345 rounds
        # to 0.1235 as a reader expects, not by the binary value just below it.
        if isinstance(value, float | int) and not isinstance(value, bool):
            value = Decimal(repr(value))
        if isinstance(value, Decimal) and value.is_finite():
            return value.quantize(quantum, rounding=ROUND_HALF_UP)
        return value

    return BeforeValidator(round_half_up)


_AS_STRING = PlainSerializer(str, return_type=str, when_used="json")

Probability = Annotated[Decimal, _rounder(4), _AS_STRING]
Tenths = Annotated[Decimal, _rounder(1), _AS_STRING]
Hundredths = Annotated[Decimal, _rounder(2), _AS_STRING]


# Requests

Volume = Annotated[
    Decimal,
    Field(
        ge=0,
        le=MAX_VOLUME,
        description="Contacts offered in the interval; may be fractional (a forecast). "
        "Zero volume needs zero agents. The offered load, `volume * aht_seconds / "
        "(interval_minutes * 60)`, may not exceed "
        f"{MAX_OFFERED_LOAD:,} erlangs.",
        examples=["100"],
    ),
]
IntervalMinutes = Annotated[
    int,
    Field(
        gt=0,
        le=1440,
        description="Length of the interval in minutes: 15, 30 or 60 usually, any whole "
        "number from 1 to 1440.",
        examples=[30],
    ),
]
AhtSeconds = Annotated[
    Decimal,
    Field(gt=0, lt=86_400, description="Average handling time in seconds.", examples=["180"]),
]
AnswerTimeSeconds = Annotated[
    Decimal,
    Field(
        ge=0,
        le=604_800,
        description='The service-level answer time in seconds (the 20 of "80 % in 20 s"), '
        "at most a week.",
        examples=["20"],
    ),
]
Shrinkage = Annotated[
    Decimal,
    Field(
        ge=0,
        lt=1,
        description="Share of paid time not spent available (breaks, training, absence), in "
        "[0, 1); `fte = agents / (1 - shrinkage)`.",
        examples=["0.30"],
    ),
]
ModelName = Annotated[
    StaffingModel,
    Field(
        description="`erlang_c`: callers never hang up. `erlang_a`: callers abandon after an "
        "exponential patience of mean `patience_seconds`."
    ),
]
PatienceSeconds = Annotated[
    Decimal | None,
    Field(
        gt=0,
        lt=86_400,
        validate_default=True,
        description="Mean caller patience in seconds before hanging up: required for "
        f"`erlang_a`, refused for `erlang_c`; under a day and at most {MAX_PATIENCE_TO_AHT:,} "
        "times `aht_seconds`.",
        examples=["120"],
    ),
]


ServiceLevelTarget = Annotated[
    Decimal,
    Field(
        gt=0,
        lt=1,
        description="Share of all contacts to answer within `answer_time_seconds`, in (0, 1).",
        examples=["0.80"],
    ),
]
MaxOccupancy = Annotated[
    Decimal,
    Field(
        gt=0,
        le=1,
        description="Cap on the share of time agents spend on contacts, in (0, 1]; 1 (the "
        f"default) means no cap. `offered_load / max_occupancy` may not exceed {MAX_AGENTS:,}.",
        examples=["0.85"],
    ),
]


class _PatienceRule(BaseModel):
    """The patience a model takes: required by Erlang A, refused by Erlang C."""

    # Subclasses declare `model` before `patience_seconds`, so both it and `aht_seconds` (when
    # there is one) are in `info.data` here when they were valid themselves.
    @field_validator("patience_seconds", check_fields=False)
    @classmethod
    def _patience_fits_the_model(cls, patience: Decimal | None, info: ValidationInfo) -> Any:
        model = info.data.get("model")
        if model is StaffingModel.ERLANG_A and patience is None:
            raise ValueError("required when model is erlang_a")
        if model is StaffingModel.ERLANG_C and patience is not None:
            raise ValueError("only the erlang_a model takes a patience; leave it out for erlang_c")
        aht = info.data.get("aht_seconds")
        if patience is not None and aht is not None and patience > MAX_PATIENCE_TO_AHT * aht:
            raise ValueError(
                f"at most {MAX_PATIENCE_TO_AHT:,} times aht_seconds; callers so patient "
                "practically never abandon: use the erlang_c model"
            )
        return patience


class _IntervalInput(_PatienceRule):
    """Unknown fields are refused by name: a misspelt `max_occupency` silently ignored would
    size the wrong thing."""

    model_config = ConfigDict(extra="forbid")

    volume: Volume
    interval_minutes: IntervalMinutes
    aht_seconds: AhtSeconds


class StaffingSizingRequest(_IntervalInput):
    """One interval and the service targets to size it for."""

    service_level_target: ServiceLevelTarget
    answer_time_seconds: AnswerTimeSeconds
    max_occupancy: MaxOccupancy = Decimal(1)
    shrinkage: Shrinkage = Decimal(0)
    model: ModelName = StaffingModel.ERLANG_C
    patience_seconds: PatienceSeconds = None


class StaffingEvaluationRequest(_IntervalInput):
    """One interval and a number of agents, to see what they achieve."""

    agents: int = Field(
        ge=0, le=MAX_AGENTS, description="Productive agents on the interval.", examples=[13]
    )
    answer_time_seconds: AnswerTimeSeconds
    shrinkage: Shrinkage = Decimal(0)
    model: ModelName = StaffingModel.ERLANG_C
    patience_seconds: PatienceSeconds = None


# Response


class StaffingOut(BaseModel):
    """What the agents achieve on the interval. Decimal strings are rounded half up."""

    agents: int = Field(description="Productive agents needed (sizing) or given (evaluation).")
    service_level: Probability = Field(
        description="Share of all contacts answered within the answer time, 4 decimal places. "
        '"0.0000" for an unstable Erlang C queue (no more agents than the offered load).',
        examples=["0.8884"],
    )
    asa_seconds: Tenths | None = Field(
        description="Average speed of answer in seconds, to 0.1 s (Erlang C: over all "
        "contacts; Erlang A: over answered contacts). Null when infinite: an unstable Erlang C "
        "queue, or no agent at all facing contacts.",
        examples=["7.8"],
    )
    occupancy: Probability = Field(
        description='Share of agent time spent on contacts, 4 decimal places; "1.0000" when '
        "the queue is saturated.",
        examples=["0.7143"],
    )
    fte: Hundredths = Field(
        description="Head count to roster, `agents / (1 - shrinkage)`, to 0.01.",
        examples=["20.00"],
    )
    abandon_rate: Probability | None = Field(
        description="Share of all contacts that hang up before an answer, 4 decimal places "
        "(Erlang A); null for Erlang C, whose callers never hang up.",
        examples=[None],
    )
    offered_load: Hundredths = Field(
        description="Offered traffic in erlangs, `volume * aht_seconds / (interval_minutes * "
        "60)`, to 0.01: the agents busy on average if every contact were answered at once.",
        examples=["10.00"],
    )
    model: StaffingModel = Field(description="The model the figures come from.")


# Staffing of an interval forecast

Quantile = Literal["volume", "lower_80", "upper_80", "lower_95", "upper_95"]


class ForecastStaffingQuery(_PatienceRule):
    """The query of a forecast's staffing: the service targets, checked by the same types as
    one interval's so that every bad one is named at once, and the quantile to staff for."""

    service_level_target: ServiceLevelTarget
    answer_time_seconds: AnswerTimeSeconds
    shrinkage: Shrinkage = Decimal(0)
    max_occupancy: MaxOccupancy = Decimal(1)
    model: ModelName = StaffingModel.ERLANG_C
    patience_seconds: PatienceSeconds = None
    quantile: Quantile = Field(
        default="volume", description="Staff for the forecast or one of its bounds (risk)."
    )


class ForecastStaffingInterval(StaffingOut):
    period_start: datetime
    volume: Decimal = Field(description="Forecast contacts used (the chosen quantile).")
    aht_seconds: Decimal | None = Field(description="Forecast AHT of the interval.")


class ForecastStaffingDay(BaseModel):
    day: date
    agent_hours: Hundredths = Field(description="Σ agents × interval length, in hours.")
    fte_hours: Hundredths = Field(description="Σ FTE × interval length (with shrinkage).")


class ForecastStaffingOut(BaseModel):
    forecast_id: str
    activity_id: str
    interval_minutes: int
    quantile: Quantile
    model: StaffingModel
    intervals: list[ForecastStaffingInterval]
    days: list[ForecastStaffingDay]
