"""Committed forecasts (*prévisions engageantes*) and agreed adjustments. Both append-only."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.ids import new_id
from app.core.orm import Base, utc_now
from app.core.types import ExactDecimal, UTCDateTime


class CommitmentVersion(Base):
    """One document received from the client's WFM system. Never modified once stored.

    `received_at` is the server's receipt time (the charter binds on it), except for versions
    an admin imported from a legacy system, which carry the original time and `source=import`.
    """

    __tablename__ = "commitment_versions"
    __table_args__ = (
        Index("ix_commitment_versions_contract_received", "contract_id", "received_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("cmt"))
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"))
    label: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(16))
    created_by_key_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    lines: Mapped[list["CommitmentLine"]] = relationship(lazy="raise")


class CommitmentLine(Base):
    """The committed volume (and optionally AHT) of one activity for one period."""

    __tablename__ = "commitment_lines"
    __table_args__ = (
        UniqueConstraint("version_id", "activity_id", "period"),
        Index("ix_commitment_lines_activity_period", "activity_id", "period"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("cml"))
    version_id: Mapped[str] = mapped_column(ForeignKey("commitment_versions.id"))
    activity_id: Mapped[str] = mapped_column(ForeignKey("activities.id"))
    period: Mapped[str] = mapped_column(String(7))
    volume: Mapped[Decimal] = mapped_column(ExactDecimal(18, 3))
    aht_seconds: Mapped[Decimal | None] = mapped_column(ExactDecimal(12, 3))


class Adjustment(Base):
    """An agreed neutralisation (client strike, client-side outage, cancelled campaign…) that
    reduces one activity's commitment for one period by `units` billing units."""

    __tablename__ = "adjustments"
    __table_args__ = (Index("ix_adjustments_activity_period", "activity_id", "period"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("adj"))
    activity_id: Mapped[str] = mapped_column(ForeignKey("activities.id"))
    period: Mapped[str] = mapped_column(String(7))
    units: Mapped[Decimal] = mapped_column(ExactDecimal(18, 3))
    reason: Mapped[str] = mapped_column(Text)
    created_by_key_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
