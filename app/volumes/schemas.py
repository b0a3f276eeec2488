"""Bodies of the actual-volumes API."""

from datetime import datetime

from pydantic import BaseModel, Field

from app.core.fields import Seconds


class VolumeRecord(BaseModel):
    """One interval, as the ACD feed sends it (documentation of the JSON form)."""

    interval_start: datetime = Field(
        description="Start of the interval, RFC 3339 with offset, on the activity's grid."
    )
    offered: int = Field(ge=0, description="Contacts received.")
    handled: int = Field(ge=0, description="Contacts answered or processed.")
    aht_seconds: float | None = Field(
        default=None,
        ge=0,
        lt=86_400,
        description="Average handling time of the handled contacts; required when handled > 0. "
        "Stored to the millisecond.",
    )


class VolumeUpload(BaseModel):
    records: list[VolumeRecord]


class IngestResult(BaseModel):
    inserted: int
    updated: int
    total: int


class VolumePoint(BaseModel):
    period_start: datetime = Field(description="Local start of the interval, day, week or month.")
    offered: int
    handled: int
    aht_seconds: Seconds | None = Field(description="Handled-weighted mean; null if none handled.")


class VolumePage(BaseModel):
    items: list[VolumePoint]
    next_cursor: str | None
