"""HTTP layer of the outlook: the comparison of commitments with the provider forecast and the
actuals, the accuracy scorecard, and the portfolio overview of ops dashboards.

Its operations keep the `committed forecasts` tag they were published under.
"""

from typing import Annotated, Literal

from fastapi import Query, Request

from app.core import checks
from app.core.auth import ReaderKey
from app.core.db import SessionDep
from app.core.domain_router import DomainRouter
from app.core.errors import READ_ERRORS, problem_responses
from app.core.pagination import PageDep
from app.core.queries import FirstPeriod, LastPeriod, PeriodQuery
from app.core.routing import quick_read
from app.outlook import comparison, overview, schemas, service

router = DomainRouter(tags=["committed forecasts"])

OUTLOOK_ERRORS = {**READ_ERRORS, **problem_responses(422)}
"""Besides the read errors: a bad period range (422)."""


def _status(pending: bool) -> schemas.ForecastStatus:
    return "pending" if pending else "stored"


def _forecast_out(row: comparison.ComparisonRow) -> schemas.ProviderForecastOut | None:
    forecast = row.provider_forecast
    if forecast is None or row.provider_forecast_units is None:
        return None
    return schemas.ProviderForecastOut(
        forecast_id=forecast.forecast_id,
        volume=forecast.volume,
        units=row.provider_forecast_units,
        lower_80=forecast.bounds.get("lower_80"),
        upper_80=forecast.bounds.get("upper_80"),
        lower_95=forecast.bounds.get("lower_95"),
        upper_95=forecast.bounds.get("upper_95"),
        aht_seconds=forecast.aht_seconds,
    )


def _row_fields(row: comparison.ComparisonRow) -> dict[str, object]:
    return {
        "period": str(row.period),
        "deadline": row.deadline,
        "status": row.status,
        "billing_unit": row.billing_unit,
        "committed": row.committed,
        "binding_commitment_id": row.binding_commitment_id,
        "committed_latest": row.committed_latest,
        "latest_commitment_id": row.latest_commitment_id,
        "adjustments": row.adjustments,
        "provider_forecast": _forecast_out(row),
        "actual": row.actual,
        "deviation_pct": row.deviation_pct,
        "probability_below_trigger": row.probability_below_trigger,
        "expected_shortfall_units": row.expected_shortfall_units,
        "expected_shortfall_amount": row.expected_shortfall_amount,
        "unit_price": row.unit_price,
        "pooled_shortfall_amount": row.pooled_shortfall_amount,
    }


@router.get(
    "/activities/{activity_id}/comparison",
    response_model=schemas.ComparisonOut,
    responses=OUTLOOK_ERRORS,
)
def get_activity_comparison(
    activity_id: str,
    request: Request,
    session: SessionDep,
    actor: ReaderKey,
    first: FirstPeriod,
    last: LastPeriod,
) -> object:
    """Per period: commitments, provider forecast, actuals, P(below trigger), expected cost."""
    found = service.compare_activity(
        request.app.state.queue, session, actor, activity_id, first, last
    )
    return schemas.ComparisonOut(
        activity_id=found.activity.id,
        currency=found.contract.currency,
        forecast_status=_status(found.forecast_pending),
        periods=[schemas.ComparisonPeriodOut(**_row_fields(row)) for row in found.rows],
    )


@router.get(
    "/contracts/{contract_id}/comparison",
    response_model=schemas.ContractComparisonOut,
    responses=OUTLOOK_ERRORS,
)
@quick_read
def get_contract_comparison(
    contract_id: str,
    request: Request,
    session: SessionDep,
    actor: ReaderKey,
    period: PeriodQuery,
) -> object:
    """Every activity of a contract for one period, with totals in money (dashboards)."""
    found = service.compare_contract(request.app.state.queue, session, actor, contract_id, period)
    return schemas.ContractComparisonOut(
        contract_id=found.contract.id,
        period=str(found.period),
        currency=found.contract.currency,
        forecast_status=_status(found.forecast_pending),
        activities=[
            schemas.ContractComparisonActivityOut(
                activity_id=activity.id,
                activity_name=activity.name,
                **_row_fields(row),
            )
            for activity, row in found.lines
        ],
        totals=schemas.ComparisonTotalsOut(
            **comparison.money_totals([row for _, row in found.lines]).__dict__
        ),
    )


@router.get(
    "/activities/{activity_id}/scorecard",
    response_model=schemas.ScorecardOut,
    responses=OUTLOOK_ERRORS,
)
def get_scorecard(
    activity_id: str,
    request: Request,
    session: SessionDep,
    actor: ReaderKey,
    first: FirstPeriod,
    last: LastPeriod,
) -> object:
    """Bias and MAPE of the binding commitments and of the provider's forecasts made as of the
    same deadlines, over closed periods: who forecasts better."""
    found = service.score_activity(
        request.app.state.queue, session, actor, activity_id, first, last
    )
    return schemas.ScorecardOut(
        activity_id=found.activity.id,
        billing_unit=found.activity.billing_unit,
        forecast_status=_status(found.forecast_pending),
        periods=[
            schemas.ScorecardPeriodOut(**{**row.__dict__, "period": str(row.period)})
            for row in found.rows
        ],
        commitment=schemas.AccuracyOut(**found.commitment.__dict__),
        provider=schemas.AccuracyOut(**found.provider.__dict__),
    )


StatusQuery = Annotated[
    Literal["open", "within_band", "under_band", "over_band"] | None,
    Query(description="Only contracts with this status."),
]
ClientQuery = Annotated[str | None, Query(description="Only this client's contracts.")]
ProbabilityQuery = Annotated[
    float | None,
    Query(ge=0, le=1, description="Only contracts at least this likely to fall below trigger."),
]


def _activity_position_out(position: overview.ActivityPosition) -> schemas.OverviewActivityOut:
    return schemas.OverviewActivityOut(
        activity_id=position.activity.id,
        activity_name=position.activity.name,
        forecast_status="stored" if position.row.provider_forecast else "not_stored",
        forecast_to_date=position.forecast_to_date,
        pace_pct=position.pace_pct,
        **_row_fields(position.row),
    )


def _contract_position_out(position: overview.ContractPosition) -> schemas.OverviewContractOut:
    contract, invoice = position.contract, position.invoice
    return schemas.OverviewContractOut(
        contract_id=contract.id,
        client_id=contract.client_id,
        reference=contract.reference,
        currency=contract.currency,
        evaluation=contract.evaluation,
        status=position.status,
        probability_below_trigger=position.probability_below_trigger,
        expected_shortfall_amount=position.expected_shortfall_amount,
        activities=[_activity_position_out(activity) for activity in position.activities],
        pooled=schemas.OverviewPooledOut.model_validate(position.pooled)
        if position.pooled
        else None,
        invoice=schemas.OverviewInvoiceOut.model_validate(invoice) if invoice else None,
    )


@router.get(
    "/overview",
    response_model=schemas.OverviewOut,
    responses={**READ_ERRORS, **problem_responses(422)},
    tags=["overview"],
)
@checks.checked_by(service.check_overview_query)
def get_overview(
    session: SessionDep,
    actor: ReaderKey,
    period: PeriodQuery,
    page: PageDep,
    client_id: ClientQuery = None,
    status: StatusQuery = None,
    min_probability: ProbabilityQuery = None,
) -> object:
    """Every contract's position for the month, largest expected shortfall first, from stored
    forecasts only (ops dashboards)."""
    found = service.portfolio(
        session,
        actor,
        period,
        service.OverviewFilter(client_id, status, min_probability),
        page,
    )
    return schemas.OverviewOut(
        period=str(found.period),
        items=[_contract_position_out(position) for position in found.positions],
        next_cursor=found.next_cursor,
        totals=[
            schemas.OverviewTotalsOut(currency=currency, **totals.__dict__)
            for currency, totals in found.totals.items()
        ],
    )
