"""Bodies of the outlook API: the comparison of commitments with the provider forecast and the
actuals, and the accuracy scorecard."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field

from app.core.fields import Money, Quantity, Seconds, UnitPrice, decimal_string

Percent = Annotated[Decimal, decimal_string(2)]


class ProviderForecastOut(BaseModel):
    forecast_id: str
    volume: Quantity = Field(description="Forecast contacts of the month.")
    units: Quantity = Field(description="The same in the activity's billing unit.")
    lower_80: Quantity | None
    upper_80: Quantity | None
    lower_95: Quantity | None
    upper_95: Quantity | None
    aht_seconds: Seconds | None


class ComparisonPeriodOut(BaseModel):
    period: str
    deadline: datetime
    status: str = Field(description="within_band, under_band or over_band once closed; open.")
    billing_unit: str
    committed: Quantity | None = Field(description="The binding commitment, billing units.")
    binding_commitment_id: str | None
    committed_latest: Quantity | None = Field(description="The latest version, bound or not.")
    latest_commitment_id: str | None
    adjustments: Quantity
    provider_forecast: ProviderForecastOut | None
    actual: Quantity = Field(description="Actual quantity to date, billing units.")
    deviation_pct: Percent | None = Field(
        description="(committed − provider forecast) / provider forecast × 100."
    )
    probability_below_trigger: float | None
    expected_shortfall_units: Quantity | None
    expected_shortfall_amount: Money | None
    unit_price: UnitPrice | None


class ComparisonOut(BaseModel):
    activity_id: str
    currency: str
    periods: list[ComparisonPeriodOut]


class ContractComparisonActivityOut(ComparisonPeriodOut):
    activity_id: str
    activity_name: str


class ComparisonTotalsOut(BaseModel):
    committed_value: Money
    provider_forecast_value: Money
    actual_value: Money
    expected_shortfall_amount: Money


class ContractComparisonOut(BaseModel):
    contract_id: str
    period: str
    currency: str
    activities: list[ContractComparisonActivityOut]
    totals: ComparisonTotalsOut = Field(description="Sums in money over the priced activities.")


class ScorecardPeriodOut(BaseModel):
    period: str
    deadline: datetime
    actual: Quantity
    committed: Quantity | None
    binding_commitment_id: str | None
    provider_forecast: Quantity | None = Field(
        description="The provider's month forecast made with history before the deadline."
    )
    provider_forecast_id: str | None
    committed_error_pct: Percent | None
    provider_error_pct: Percent | None


class AccuracyOut(BaseModel):
    periods: int
    bias_pct: Percent | None = Field(description="Mean of (estimate − actual) / actual × 100.")
    mape_pct: Percent | None = Field(description="Mean of |estimate − actual| / actual × 100.")


class ScorecardOut(BaseModel):
    activity_id: str
    billing_unit: str
    periods: list[ScorecardPeriodOut]
    commitment: AccuracyOut
    provider: AccuracyOut
