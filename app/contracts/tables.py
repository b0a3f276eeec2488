"""Reference data: clients, their contracts, the activities billed under them, and prices."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.ids import new_id
from app.core.orm import Base, TimestampMixin, utc_now
from app.core.types import ExactDecimal, UTCDateTime


class Client(TimestampMixin, Base):
    """The *donneur d'ordre*."""

    __tablename__ = "clients"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("cli"))
    name: Mapped[str] = mapped_column(String(200))
    siren: Mapped[str | None] = mapped_column(String(9), unique=True)
    country: Mapped[str] = mapped_column(String(2))
    vat_number: Mapped[str | None] = mapped_column(String(20))
    electronic_address: Mapped[str | None] = mapped_column(String(100))
    address_line1: Mapped[str | None] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    address_postcode: Mapped[str | None] = mapped_column(String(16))
    address_city: Mapped[str | None] = mapped_column(String(100))
    address_country: Mapped[str | None] = mapped_column(String(2))

    @property
    def address(self) -> dict[str, str | None] | None:
        """The billing address as the API shows it; None until one is recorded."""
        if self.address_line1 is None:
            return None
        return {
            "line1": self.address_line1,
            "line2": self.address_line2,
            "postcode": self.address_postcode,
            "city": self.address_city,
            "country": self.address_country,
        }

    @property
    def effective_electronic_address(self) -> str | None:
        """Where the buyer receives e-invoices (scheme 0225): its SIREN unless told otherwise,
        as the annuaire registers every company under its SIREN by default."""
        return self.electronic_address or self.siren


class Contract(TimestampMixin, Base):
    """Every term of charter axis 1 that a contract negotiates (see charter-axis-1.md)."""

    __tablename__ = "contracts"
    __table_args__ = (
        UniqueConstraint("client_id", "reference"),
        # CAST: SQLite stores exact decimals as text, which would compare as strings.
        CheckConstraint(
            "CAST(trigger_ratio AS REAL) > 0 AND CAST(trigger_ratio AS REAL) <= 1",
            name="trigger_ratio_range",
        ),
        CheckConstraint(
            "CAST(floor_ratio AS REAL) > 0 AND CAST(floor_ratio AS REAL) <= 1",
            name="floor_ratio_range",
        ),
        CheckConstraint("payment_terms_days BETWEEN 0 AND 60", name="payment_terms_range"),
        CheckConstraint("commitment_deadline_days >= 0", name="deadline_days_non_negative"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("ctr"))
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"), index=True)
    reference: Mapped[str] = mapped_column(String(100))
    currency: Mapped[str] = mapped_column(String(3))
    timezone: Mapped[str] = mapped_column(String(64))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    commitment_deadline_days: Mapped[int] = mapped_column(Integer)
    trigger_ratio: Mapped[Decimal] = mapped_column(ExactDecimal(6, 4))
    floor_ratio: Mapped[Decimal] = mapped_column(ExactDecimal(6, 4))
    upper_tolerance: Mapped[Decimal] = mapped_column(ExactDecimal(6, 4))
    evaluation: Mapped[str] = mapped_column(String(16))
    vat_rate: Mapped[Decimal] = mapped_column(ExactDecimal(6, 4))
    holiday_country: Mapped[str] = mapped_column(String(8))
    payment_terms_days: Mapped[int] = mapped_column(Integer)


class Activity(TimestampMixin, Base):
    """One stream of work billed separately (a queue or a channel) inside a contract."""

    __tablename__ = "activities"
    __table_args__ = (UniqueConstraint("contract_id", "name"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("act"))
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16))
    interval_minutes: Mapped[int] = mapped_column(Integer)
    billing_unit: Mapped[str] = mapped_column(String(16))
    volume_basis: Mapped[str] = mapped_column(String(16))
    reference_aht_seconds: Mapped[Decimal | None] = mapped_column(ExactDecimal(12, 3))

    prices: Mapped[list["ActivityPrice"]] = relationship(
        lazy="raise", order_by="ActivityPrice.effective_from"
    )


class ActivityPrice(Base):
    """A unit price from a date on. Append-only: axis 5 indexation adds a row, never edits one,
    so an old invoice can always be re-derived with the price that was in force."""

    __tablename__ = "activity_prices"
    __table_args__ = (
        UniqueConstraint("activity_id", "effective_from"),
        CheckConstraint("CAST(unit_price AS REAL) > 0", name="unit_price_positive"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("prc"))
    activity_id: Mapped[str] = mapped_column(ForeignKey("activities.id"), index=True)
    effective_from: Mapped[date] = mapped_column(Date)
    unit_price: Mapped[Decimal] = mapped_column(ExactDecimal(18, 6))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class ContractAmendment(Base):
    """The dated terms of a contract: the charter terms in force from `effective_from` (the
    first day of a period) until the next amendment. Append-only, like prices: a change of
    terms adds a row, so every invoice re-derives with the terms that were in force.

    `backdated` rows were made by an admin for a period already invoiced or past its
    deadline; the invoices they touch must be corrected (they were listed when it was made).
    Two rows from the same period: the later one (`created_at`, then id) stands.
    """

    __tablename__ = "contract_amendments"
    __table_args__ = (
        Index("ix_contract_amendments_contract_effective", "contract_id", "effective_from"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("amd"))
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"))
    effective_from: Mapped[date] = mapped_column(Date)
    trigger_ratio: Mapped[Decimal] = mapped_column(ExactDecimal(6, 4))
    floor_ratio: Mapped[Decimal] = mapped_column(ExactDecimal(6, 4))
    upper_tolerance: Mapped[Decimal] = mapped_column(ExactDecimal(6, 4))
    evaluation: Mapped[str] = mapped_column(String(16))
    vat_rate: Mapped[Decimal] = mapped_column(ExactDecimal(6, 4))
    commitment_deadline_days: Mapped[int] = mapped_column(Integer)
    payment_terms_days: Mapped[int] = mapped_column(Integer)
    backdated: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_key_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
