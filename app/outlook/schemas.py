"""Bodies of the outlook API: the comparison of commitments with the provider forecast and the
actuals, and the accuracy scorecard."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.fields import Money, Quantity, Seconds, UnitPrice, decimal_string

Percent = Annotated[Decimal, decimal_string(2)]

ForecastStatus = Literal["stored", "pending"]
FORECAST_STATUS = Field(
    description="`pending`: a provider forecast these figures need was not stored yet; it has "
    "been queued (the nightly refresh keeps them stored): ask again shortly."
)


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
    pooled_shortfall_amount: Money | None = Field(
        description="Pooled contracts: the pool's shortfall for the whole contract, billed "
        "once the period is closed, expected while it is open (then "
        "`probability_below_trigger` is the pool's too); the activity's own amount is 0.00."
    )


class ComparisonOut(BaseModel):
    activity_id: str
    currency: str
    forecast_status: ForecastStatus = FORECAST_STATUS
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
    forecast_status: ForecastStatus = FORECAST_STATUS
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
    forecast_status: ForecastStatus = FORECAST_STATUS
    periods: list[ScorecardPeriodOut]
    commitment: AccuracyOut
    provider: AccuracyOut


# The portfolio overview


class OverviewInvoiceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    number: str | None
    status: str
    net_amount: Money
    vat_amount: Money
    total_amount: Money


class OverviewActivityOut(ContractComparisonActivityOut):
    forecast_status: Literal["stored", "not_stored"] = Field(
        description="not_stored: no month forecast is stored for the period; the overview "
        "never fits one (POST …/forecasts or a forecast job does)."
    )
    forecast_to_date: Quantity | None = Field(
        description="The provider forecast pro rata of the time elapsed in the period."
    )
    pace_pct: Percent | None = Field(description="Actual to date / forecast to date × 100.")


class OverviewPooledOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    committed_value: Money | None
    provider_forecast_value: Money | None
    actual_value: Money | None
    probability_below_trigger: float | None
    expected_shortfall_amount: Money | None
    status: str


class OverviewContractOut(BaseModel):
    contract_id: str
    client_id: str
    reference: str
    currency: str
    evaluation: str
    status: str = Field(description="open, or the closed period's band status.")
    probability_below_trigger: float | None
    expected_shortfall_amount: Money | None = Field(
        description="Pooled: the pool's; per activity: the sum over the activities."
    )
    activities: list[OverviewActivityOut]
    pooled: OverviewPooledOut | None
    invoice: OverviewInvoiceOut | None = Field(description="The period's current invoice.")


class OverviewTotalsOut(BaseModel):
    currency: str
    contracts: int
    committed_value: Money
    provider_forecast_value: Money | None = Field(
        description="None when a priced activity has no stored forecast."
    )
    actual_value: Money
    expected_shortfall_amount: Money
    invoiced_net_amount: Money


class OverviewOut(BaseModel):
    period: str
    items: list[OverviewContractOut]
    next_cursor: str | None
    totals: list[OverviewTotalsOut] = Field(
        description="Per currency, over every contract the filters admit (all pages)."
    )
