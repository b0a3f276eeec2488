"""Request and response bodies of the reference-data API (clients, contracts, activities)."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from app.core.charter import BillingUnit, Evaluation, VolumeBasis
from app.core.fields import (
    CountryCode,
    CurrencyCode,
    HolidayCountry,
    PeriodText,
    Ratio,
    Seconds,
    Siren,
    TimeZoneName,
    Tolerance,
    UnitPrice,
    VatNumber,
    VatRate,
)

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class Channel(StrEnum):
    VOICE = "voice"
    EMAIL = "email"
    CHAT = "chat"
    MESSAGING = "messaging"
    BACKOFFICE = "backoffice"


class StrictInput(BaseModel):
    """Unknown fields are refused by name: a misspelt term silently ignored is a billing bug."""

    model_config = ConfigDict(extra="forbid")


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# Clients


Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Postcode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]
City = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
ElectronicAddress = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    Field(
        description="Where the client receives e-invoices (scheme 0225); default: its SIREN.",
        examples=["552081317"],
    ),
]


class Address(StrictInput):
    """The billing address an e-invoice carries (EN 16931 BG-8)."""

    line1: Line
    line2: Line | None = None
    postcode: Postcode
    city: City
    country: CountryCode = "FR"


class ClientCreate(StrictInput):
    name: Name
    siren: Siren | None = None
    country: CountryCode = "FR"
    vat_number: VatNumber | None = None
    address: Address | None = None
    electronic_address: ElectronicAddress | None = None


class ClientUpdate(StrictInput):
    """A partial update: an omitted field is left alone; `null` clears an optional one (the
    name and country always have a value). Issued documents keep what they froze."""

    name: Name | None = None
    siren: Siren | None = None
    country: CountryCode | None = None
    vat_number: VatNumber | None = None
    address: Address | None = None
    electronic_address: ElectronicAddress | None = None

    @field_validator("name", "country")
    @classmethod
    def _not_null(cls, value: str | None) -> str:
        if value is None:
            raise ValueError("may not be null; omit the field to leave it unchanged")
        return value


class ClientOut(Output):
    id: str
    name: str
    siren: str | None
    country: str
    vat_number: str | None
    address: Address | None
    electronic_address: str | None = Field(
        validation_alias="effective_electronic_address",
        description="Scheme 0225; the SIREN unless another address was set.",
    )
    created_at: datetime
    updated_at: datetime


# Contracts


class ContractTermsFields(StrictInput):
    """The negotiated terms, with the charter defaults; shared by create and the merged patch."""

    currency: CurrencyCode = "EUR"
    timezone: TimeZoneName = "Europe/Paris"
    starts_on: date
    ends_on: date | None = None
    commitment_deadline_days: int = Field(default=30, ge=0, le=366)
    trigger_ratio: Ratio = Decimal("0.90")
    floor_ratio: Ratio = Decimal("0.90")
    upper_tolerance: Tolerance = Decimal("0.10")
    evaluation: Evaluation = Evaluation.PER_ACTIVITY
    vat_rate: VatRate = Decimal("0.20")
    holiday_country: HolidayCountry = "FR"
    payment_terms_days: int = Field(
        default=30, ge=0, le=60, description="French law caps payment terms at 60 days."
    )

    @field_validator("ends_on")
    @classmethod
    def _ends_after_start(cls, ends_on: date | None, info: ValidationInfo) -> date | None:
        starts_on = info.data.get("starts_on")
        if ends_on is not None and starts_on is not None and ends_on <= starts_on:
            raise ValueError(f"must be after starts_on ({starts_on})")
        return ends_on


class ContractCreate(ContractTermsFields):
    client_id: str
    reference: Reference


class _Patch(StrictInput):
    """A partial update: an omitted field is left alone, and `null` is refused for fields that
    always have a value (only `ends_on` and `reference_aht_seconds` may be cleared)."""

    NULLABLE: ClassVar[frozenset[str]] = frozenset({"ends_on", "reference_aht_seconds"})

    @field_validator("*")
    @classmethod
    def _not_null(cls, value: object, info: ValidationInfo) -> object:
        if value is None and info.field_name not in cls.NULLABLE:
            raise ValueError("may not be null; omit the field to leave it unchanged")
        return value


class ContractUpdate(_Patch):
    """Any term may be renegotiated; the client a contract belongs to may not change."""

    reference: Reference | None = None
    currency: CurrencyCode | None = None
    timezone: TimeZoneName | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    commitment_deadline_days: int | None = Field(default=None, ge=0, le=366)
    trigger_ratio: Ratio | None = None
    floor_ratio: Ratio | None = None
    upper_tolerance: Tolerance | None = None
    evaluation: Evaluation | None = None
    vat_rate: VatRate | None = None
    holiday_country: HolidayCountry | None = None
    payment_terms_days: int | None = Field(default=None, ge=0, le=60)


class ContractOut(Output):
    id: str
    client_id: str
    reference: str
    currency: str
    timezone: str
    starts_on: date
    ends_on: date | None
    commitment_deadline_days: int
    trigger_ratio: Ratio
    floor_ratio: Ratio
    upper_tolerance: Tolerance
    evaluation: Evaluation
    vat_rate: VatRate
    holiday_country: str
    payment_terms_days: int
    created_at: datetime
    updated_at: datetime


class AmendedTerms(StrictInput):
    """The terms an amendment changes; omitted ones keep their value in force then."""

    commitment_deadline_days: int | None = Field(default=None, ge=0, le=366)
    trigger_ratio: Ratio | None = None
    floor_ratio: Ratio | None = None
    upper_tolerance: Tolerance | None = None
    evaluation: Evaluation | None = None
    vat_rate: VatRate | None = None
    payment_terms_days: int | None = Field(default=None, ge=0, le=60)


class AmendmentCreate(AmendedTerms):
    effective_from: PeriodText = Field(description="The first period the terms apply to.")
    backdate: bool = Field(
        default=False,
        description="Admin consent to amend a period already invoiced or past its deadline: "
        "audited, and the invoices to correct are listed in the response.",
    )


class TermsOut(Output):
    effective_from: date
    amendment_id: str | None
    commitment_deadline_days: int
    trigger_ratio: Ratio
    floor_ratio: Ratio
    upper_tolerance: Tolerance
    evaluation: Evaluation
    vat_rate: VatRate
    payment_terms_days: int


class AmendmentOut(Output):
    id: str
    effective_from: date
    commitment_deadline_days: int
    trigger_ratio: Ratio
    floor_ratio: Ratio
    upper_tolerance: Tolerance
    evaluation: Evaluation
    vat_rate: VatRate
    payment_terms_days: int
    backdated: bool
    created_at: datetime


class ContractDetailOut(ContractOut):
    """The contract; its top-level terms are the latest amendment's (perhaps scheduled)."""

    terms_in_force: TermsOut = Field(description="The terms of the period under way.")
    amendments: list[AmendmentOut] = Field(description="Every amendment, in the order they apply.")


class AmendmentResultOut(BaseModel):
    amendment: AmendmentOut
    invoices_to_correct: list[str] = Field(
        description="Back-dated amendments: the invoices of the periods it changes, to correct."
    )


# Activities and prices


class PriceCreate(StrictInput):
    effective_from: date
    unit_price: UnitPrice


class PriceAdd(PriceCreate):
    """A price row added to an existing activity (indexation)."""

    backdate: bool = Field(
        default=False,
        description="Admin consent to a price taking effect in a period already invoiced: "
        "audited, and the invoices to correct are listed in the response.",
    )


class PriceOut(Output):
    id: str
    effective_from: date
    unit_price: UnitPrice
    created_at: datetime


class PriceResultOut(PriceOut):
    invoices_to_correct: list[str] = Field(
        description="Back-dated prices: the invoices of the periods it changes, to correct."
    )


class ActivityCreate(StrictInput):
    name: Name
    channel: Channel
    interval_minutes: Literal[15, 30, 60]
    billing_unit: BillingUnit
    volume_basis: VolumeBasis = VolumeBasis.OFFERED
    reference_aht_seconds: Seconds | None = None
    prices: list[PriceCreate] = Field(default_factory=list)

    @field_validator("prices")
    @classmethod
    def _one_price_per_date(cls, prices: list[PriceCreate]) -> list[PriceCreate]:
        seen: set[date] = set()
        for price in prices:
            if price.effective_from in seen:
                raise ValueError(f"two prices take effect on {price.effective_from}")
            seen.add(price.effective_from)
        return prices


class ActivityUpdate(_Patch):
    """The billing unit is fixed at creation: commitments and invoices are expressed in it.
    The interval grid may change while nothing recorded on it exists (409 otherwise)."""

    name: Name | None = None
    channel: Channel | None = None
    interval_minutes: Literal[15, 30, 60] | None = None
    volume_basis: VolumeBasis | None = None
    reference_aht_seconds: Seconds | None = None


class ActivityOut(Output):
    id: str
    contract_id: str
    name: str
    channel: Channel
    interval_minutes: int
    billing_unit: BillingUnit
    volume_basis: VolumeBasis
    reference_aht_seconds: Seconds | None
    prices: list[PriceOut]
    created_at: datetime
    updated_at: datetime
