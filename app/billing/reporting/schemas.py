"""Bodies of the invoice summary."""

from pydantic import BaseModel, Field

from app.core.fields import Money


class SummaryBucketOut(BaseModel):
    period: str
    status: str = Field(description="draft, issued, paid or void.")
    kind: str = Field(description="invoice or credit_note (whose amounts are negative).")
    currency: str
    count: int
    net_amount: Money
    vat_amount: Money
    total_amount: Money


class ReceivablesOut(BaseModel):
    currency: str
    outstanding_amount: Money = Field(description="Issued and not yet paid, VAT included.")
    overdue_amount: Money = Field(description="Of which the due date has passed.")
    overdue_count: int


class InvoiceSummaryOut(BaseModel):
    from_period: str = Field(alias="from")
    to_period: str = Field(alias="to")
    items: list[SummaryBucketOut] = Field(description="Per month, status, kind and currency.")
    receivables: list[ReceivablesOut]
