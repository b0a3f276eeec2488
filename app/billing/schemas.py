"""Bodies of the minimum-billing API: the shortfall preview and invoices."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core.fields import (
    Money,
    PeriodLabel,
    PeriodText,
    Quantity,
    Ratio,
    Tolerance,
    UnitPrice,
    VatRate,
)

InvoiceStatus = Literal["draft", "issued", "paid", "void"]
InvoiceKind = Literal["invoice", "credit_note"]


class ShortfallLineOut(BaseModel):
    # The service's lines are `shortfall.ShortfallLine` dataclasses with these fields.
    model_config = ConfigDict(from_attributes=True)

    activity_id: str
    activity_name: str
    billing_unit: str
    volume_basis: str
    binding_commitment_id: str | None
    binding_received_at: datetime | None
    latest_commitment_id: str | None
    deadline: datetime
    committed: Quantity | None = Field(description="C: the binding commitment, billing units.")
    adjustments: Quantity
    committed_effective: Quantity
    actual: Quantity = Field(description="A: actual quantity of the period, billing units.")
    trigger: Quantity
    floor: Quantity
    shortfall_units: Quantity
    unit_price: UnitPrice | None
    amount: Money
    status: Literal["within_band", "under_band", "over_band", "open"] = Field(
        description="`open` while the period has not ended: no band is judged before."
    )
    reason: str | None
    projected_actual: Quantity | None = Field(
        default=None,
        description="Open period: the actuals to date plus the provider forecast's share of "
        "the time left (`projection: forecast`), or, without a stored month forecast, the "
        "actuals to date pro-rated to the whole period (`projection: pro_rata`).",
    )
    projected_amount: Money | None = Field(
        default=None, description="Open period: the amount the projected actual would bill."
    )
    projection: Literal["forecast", "pro_rata"] | None = Field(
        default=None, description="Open period: what `projected_actual` was made from."
    )
    projection_forecast_id: str | None = Field(
        default=None, description="`projection: forecast`: the stored month forecast used."
    )


class PooledOut(BaseModel):
    committed_value: Money
    actual_value: Money
    trigger_value: Money
    floor_value: Money
    amount: Money
    status: Literal["within_band", "under_band", "over_band", "open"]
    reason: str | None


class ShortfallOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    contract_id: str
    period: PeriodLabel
    period_start: datetime
    period_end: datetime
    provisional: bool = Field(description="True while the period is open: a preview only.")
    evaluation: str
    currency: str
    trigger_ratio: Ratio
    floor_ratio: Ratio
    upper_tolerance: Tolerance
    vat_rate: VatRate
    net_amount: Money
    projected_net_amount: Money | None = Field(
        description="Open period: the net amount the projected actuals would bill."
    )
    lines: list[ShortfallLineOut]
    pooled: PooledOut | None


class InvoiceCreate(BaseModel):
    contract_id: str
    period: PeriodText


class InvoiceRef(BaseModel):
    id: str
    number: str | None = Field(description="Null until that invoice or credit note is issued.")


class InvoiceOut(BaseModel):
    id: str
    kind: InvoiceKind
    number: str | None
    status: InvoiceStatus
    contract_id: str
    client_id: str
    period: str
    currency: str
    evaluation: str
    lines: list[dict[str, Any]] = Field(description="The billed shortfall lines.")
    computation: dict[str, Any] = Field(
        description="Every input of the computation, to re-derive the amount."
    )
    net_amount: Money
    vat_rate: VatRate
    vat_amount: Money
    total_amount: Money
    corrects: str | None = Field(
        description="Id of the invoice this one credits or replaces (its number is "
        "`corrects_number`)."
    )
    corrects_number: str | None = Field(
        description="Number of the invoice this one corrects, beside its id in `corrects`."
    )
    credited_by: InvoiceRef | None = Field(description="The credit note that cancels this one.")
    replaced_by: InvoiceRef | None = Field(description="The invoice that replaces this one.")
    issue_date: date | None
    due_date: date | None
    mentions: dict[str, Any] | None = Field(
        description="Legal mentions frozen at issue: seller and buyer, service period, "
        "payment terms, late-payment penalties, recovery indemnity."
    )
    created_at: datetime
    updated_at: datetime
    issued_at: datetime | None
    paid_at: datetime | None
    amount_paid: Money = Field(description="Sum of the payments received.")
    balance_due: Money = Field(description="Total amount minus the payments received.")


class PaymentCreate(BaseModel):
    """A payment received; without a body, the balance is taken as paid in full today."""

    model_config = ConfigDict(extra="forbid")

    paid_on: date
    amount: Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=2)]
    reference: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = (
        None
    )


class NoShortfallOut(BaseModel):
    status: Literal["no_shortfall"]
    contract_id: str
    period: str
    shortfall: ShortfallOut


class CorrectionOut(BaseModel):
    status: Literal["corrected", "unchanged"]
    original: InvoiceOut
    credit_note: InvoiceOut | None
    invoice: InvoiceOut | None


class InvoicePage(BaseModel):
    items: list[InvoiceOut]
    next_cursor: str | None
