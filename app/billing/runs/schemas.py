"""Bodies of the invoice-run API."""

from datetime import datetime

from pydantic import BaseModel, Field

from app.core.fields import PeriodText


class InvoiceRunCreate(BaseModel):
    period: PeriodText


class RunError(BaseModel):
    contract_id: str | None = Field(description="Null when a whole batch failed.")
    detail: str


class InvoiceRunOut(BaseModel):
    id: str
    period: str
    status: str = Field(
        description="queued, running, then completed (contracts that could not be invoiced "
        "are in `errors`) or failed (a batch of contracts failed, see `errors`)."
    )
    contracts: int = Field(description="Contracts in force in the period.")
    batches: int
    batches_done: int
    created: int
    existing: int = Field(description="Contracts whose invoice of the period existed already.")
    no_shortfall: int
    invoice_ids: list[str] = Field(description="The draft invoices this run created.")
    errors: list[RunError]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
