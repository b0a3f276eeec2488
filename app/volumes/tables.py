"""Interval actuals from the provider's ACD / telephony feed."""

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.core.orm import Base
from app.core.types import UTCDateTime


class IntervalActual(Base):
    """One interval of one activity. The primary key (activity, start) is the index every
    range read uses.

    AHT is kept as whole milliseconds: exact, and `handled × aht_ms` sums exactly in SQL and
    in numpy, so handled-weighted AHT and production hours are never approximated.
    """

    __tablename__ = "interval_actuals"

    activity_id: Mapped[str] = mapped_column(ForeignKey("activities.id"), primary_key=True)
    interval_start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    offered: Mapped[int] = mapped_column(BigInteger)
    handled: Mapped[int] = mapped_column(BigInteger)
    aht_ms: Mapped[int | None] = mapped_column(Integer)
