"""Provider forecasts (runs and their points), forecast jobs, and special days."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.ids import new_id
from app.core.orm import Base, TimestampMixin, utc_now
from app.core.types import ExactDecimal, UTCDateTime
from app.forecasts.samples import FloatArray, SampleMatrix


class ForecastRun(Base):
    """One forecast of one activity, as it was made: request, method chosen and why, backtest
    scores, and the calendar assumptions a planner may want to confirm.

    `samples` keeps the simulated period totals of month forecasts (a row per point, as
    float64 bytes: `samples.SampleMatrix`), from which the comparison and the overview read
    probabilities (P(actual < trigger)) without re-running the model.
    """

    __tablename__ = "forecast_runs"
    __table_args__ = (Index("ix_forecast_runs_activity_granularity", "activity_id", "granularity"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("fct"))
    activity_id: Mapped[str] = mapped_column(ForeignKey("activities.id"))
    granularity: Mapped[str] = mapped_column(String(16))
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    method_requested: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(16))
    levels: Mapped[list[int]] = mapped_column(JSON)
    history_end: Mapped[date | None] = mapped_column(Date)
    volume: Mapped[str] = mapped_column(String(16), server_default="offered")
    backtest: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    selection: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    assumptions: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    """Days forecast closed and unconfirmed holidays, with reasons (None on runs made before
    they were recorded)."""
    created_by_key_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    samples: Mapped[FloatArray | None] = mapped_column(SampleMatrix())
    """Last, as the migration left it: SQLite reads a row's columns in order, and the other
    columns of a run are then read without walking its totals' overflow pages."""


class ForecastPoint(Base):
    __tablename__ = "forecast_points"

    run_id: Mapped[str] = mapped_column(ForeignKey("forecast_runs.id"), primary_key=True)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    volume: Mapped[Decimal] = mapped_column(ExactDecimal(18, 3))
    bounds: Mapped[dict[str, str]] = mapped_column(JSON)
    aht_seconds: Mapped[Decimal | None] = mapped_column(ExactDecimal(12, 3))


class ForecastJob(TimestampMixin, Base):
    """A background forecast of many activities; `results` grows as activities finish.

    `status`: queued, running, then completed, partial (some activities failed), failed (all
    did) or cancelled; `interrupted` only on jobs a version before the task queue left."""

    __tablename__ = "forecast_jobs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("job"))
    contract_id: Mapped[str | None] = mapped_column(ForeignKey("contracts.id"))
    status: Mapped[str] = mapped_column(String(16))
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    activity_ids: Mapped[list[str] | None] = mapped_column(JSON)
    """The activities the job forecasts (None on jobs made before it was kept)."""
    total: Mapped[int] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer, default=0)
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_by_key_id: Mapped[str | None] = mapped_column(String(40))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SpecialDay(Base):
    """A day planners treat apart: a past outlier left out of fitting, a future closure, or a
    future event with a volume multiplier (campaign, known incident)."""

    __tablename__ = "special_days"
    __table_args__ = (UniqueConstraint("activity_id", "day"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("spd"))
    activity_id: Mapped[str] = mapped_column(ForeignKey("activities.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    multiplier: Mapped[Decimal | None] = mapped_column(ExactDecimal(8, 4))
    reason: Mapped[str | None] = mapped_column(Text)
    created_by_key_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
