"""Bodies of the committed-forecast API."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from app.core.fields import PeriodText, Quantity, Seconds, decimal_string

Units = Annotated[Decimal, Field(gt=0, le=10**12, decimal_places=3), decimal_string(0)]


class StrictInput(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CommitmentLineIn(StrictInput):
    """The service checks what needs the contract (period inside it, no duplicates, AHT for
    hours) on the same body, even when the schema refused some field, so that one response
    names every problem of every line."""

    period: PeriodText
    volume: Annotated[Decimal, Field(ge=0, le=10**12, decimal_places=3), decimal_string(0)]
    aht_seconds: Seconds | None = None


class BulkCommitmentLineIn(CommitmentLineIn):
    activity_id: str


class _VersionIn(StrictInput):
    label: Annotated[str, StringConstraints(max_length=200)] | None = None
    received_at: AwareDatetime | None = Field(
        default=None,
        description="Admin keys only, to import past versions from a legacy system; "
        "otherwise the server's receipt time is used.",
    )


class CommitmentCreate(_VersionIn):
    lines: list[CommitmentLineIn] = Field(min_length=1)


class BulkCommitmentCreate(_VersionIn):
    lines: list[BulkCommitmentLineIn] = Field(min_length=1)


class CommitmentLineOut(BaseModel):
    activity_id: str
    period: str
    volume: Quantity
    aht_seconds: Seconds | None
    deadline: datetime = Field(description="The period's commitment deadline.")
    binding: bool = Field(
        description="Whether this line binds its period now: received by the deadline and not "
        "replaced by a later version received by it."
    )
    reason: Literal["after_deadline", "superseded"] | None = Field(
        description="Why the line does not bind: received after the deadline (it never will), "
        "or replaced by a later version received by the deadline; null when it binds."
    )


class CommitmentOut(BaseModel):
    id: str
    contract_id: str
    label: str | None
    received_at: datetime
    source: str
    lines: list[CommitmentLineOut]
    created_at: datetime


class CommitmentPage(BaseModel):
    items: list[CommitmentOut]
    next_cursor: str | None


class BindingOut(BaseModel):
    activity_id: str
    period: str
    deadline: datetime
    final: bool = Field(
        description="The deadline has passed: this line binds the period for good. Before it, "
        "a newer version received by the deadline would replace it."
    )
    version_id: str
    label: str | None
    received_at: datetime
    source: str
    volume: Quantity
    aht_seconds: Seconds | None
    committed: Quantity = Field(description="C, in the activity's billing unit.")
    billing_unit: str
    latest_version_id: str = Field(description="The most recent version, bound or not.")
    latest_received_at: datetime
    latest_volume: Quantity


class AdjustmentCreate(StrictInput):
    period: PeriodText
    units: Units
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class AdjustmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    activity_id: str
    period: str
    units: Quantity
    reason: str
    created_by_key_id: str | None
    created_at: datetime


class DeadlineOut(BaseModel):
    activity_id: str
    activity_name: str
    period: str
    deadline: datetime = Field(description="The last instant a version can bind the period.")
    passed: bool = Field(description="The deadline is over: the binding line is final.")
    binding_version_id: str | None = Field(
        description="The version that binds the period as things stand; null when none does."
    )


class DeadlinesOut(BaseModel):
    contract_id: str
    items: list[DeadlineOut] = Field(description="Period by period, then by activity id.")
