"""HTTP layer of committed forecasts: versions, the binding line, adjustments, and the
comparison with the provider forecast and actuals (with the accuracy scorecard)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.commitments import comparison, schemas, service
from app.commitments.tables import CommitmentLine, CommitmentVersion
from app.contracts import service as contracts
from app.contracts.tables import Activity, Contract
from app.core.auth import AdminKey, Principal, ReaderKey, Role, require
from app.core.db import SessionDep
from app.core.errors import READ_ERRORS, WRITE_ERRORS, FieldError, failed, problem_responses
from app.core.fields import parse_period
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from app.core.periods import Period, periods_between
from app.core.routing import TransactionalRoute
from app.forecasts import ondemand
from app.forecasts import service as forecasts

router = APIRouter(route_class=TransactionalRoute, tags=["committed forecasts"])

CommitmentWriter = Annotated[Principal, require(Role.ADMIN, Role.CLIENT)]


def _version_out(version: CommitmentVersion, lines: list[CommitmentLine]) -> schemas.CommitmentOut:
    return schemas.CommitmentOut(
        id=version.id,
        contract_id=version.contract_id,
        label=version.label,
        received_at=version.received_at,
        source=version.source,
        lines=[schemas.CommitmentLineOut.model_validate(line) for line in lines],
        created_at=version.created_at,
    )


@router.post(
    "/activities/{activity_id}/commitments",
    status_code=201,
    response_model=schemas.CommitmentOut,
    responses=WRITE_ERRORS,
)
def create_commitment(
    activity_id: str, body: schemas.CommitmentCreate, session: SessionDep, actor: CommitmentWriter
) -> object:
    """Receive a committed forecast version (immutable, stamped with the server's time)."""
    return _version_out(*service.create_commitment(session, actor, activity_id, body))


@router.post(
    "/contracts/{contract_id}/commitments",
    status_code=201,
    response_model=schemas.CommitmentOut,
    responses=WRITE_ERRORS,
)
def create_bulk_commitment(
    contract_id: str,
    body: schemas.BulkCommitmentCreate,
    session: SessionDep,
    actor: CommitmentWriter,
) -> object:
    """Receive one version for several activities of a contract at once, all or nothing."""
    return _version_out(*service.create_bulk_commitment(session, actor, contract_id, body))


@router.get(
    "/activities/{activity_id}/commitments",
    response_model=schemas.CommitmentPage,
    responses=READ_ERRORS,
)
def list_commitments(
    activity_id: str,
    session: SessionDep,
    actor: ReaderKey,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
) -> object:
    """The activity's commitment versions, newest receipt first."""
    page, next_cursor = service.list_commitments(session, actor, activity_id, limit, cursor)
    return {"items": [_version_out(v, lines) for v, lines in page], "next_cursor": next_cursor}


@router.get(
    "/activities/{activity_id}/commitments/binding",
    response_model=schemas.BindingOut,
    responses={**READ_ERRORS, **problem_responses(422)},
)
def get_binding_commitment(
    activity_id: str,
    session: SessionDep,
    actor: ReaderKey,
    period: Annotated[str, Query(description="The period, YYYY-MM.", examples=["2026-12"])],
) -> object:
    """The line that binds the period: the latest version received by the deadline."""
    activity, figures = service.get_binding(session, actor, activity_id, period)
    bound, latest = figures.binding, figures.latest
    assert bound is not None and latest is not None
    version = figures.versions[bound.version_id]
    return schemas.BindingOut(
        activity_id=activity.id,
        period=str(figures.period),
        deadline=figures.deadline,
        version_id=bound.version_id,
        label=version.label,
        received_at=bound.received_at,
        source=version.source,
        volume=bound.volume,
        aht_seconds=bound.aht_seconds,
        committed=figures.committed,
        billing_unit=activity.billing_unit,
        latest_version_id=latest.version_id,
        latest_received_at=latest.received_at,
        latest_volume=latest.volume,
    )


@router.post(
    "/activities/{activity_id}/adjustments",
    status_code=201,
    response_model=schemas.AdjustmentOut,
    responses=WRITE_ERRORS,
)
def create_adjustment(
    activity_id: str, body: schemas.AdjustmentCreate, session: SessionDep, actor: AdminKey
) -> object:
    """Record an agreed neutralisation that reduces a period's commitment (append-only)."""
    return service.add_adjustment(session, actor, activity_id, body)


@router.get(
    "/activities/{activity_id}/adjustments",
    response_model=list[schemas.AdjustmentOut],
    responses=READ_ERRORS,
)
def list_adjustments(activity_id: str, session: SessionDep, actor: ReaderKey) -> object:
    """The activity's agreed adjustments, oldest first."""
    return service.list_adjustments(session, actor, activity_id)


# Comparison and scorecard

PeriodQuery = Annotated[str, Query(description="YYYY-MM", examples=["2026-12"])]
MAX_PERIODS = 36


def _period_range(first: str, last: str) -> list[Period]:
    start, end = parse_period(first, "from"), parse_period(last, "to")
    if end < start:
        raise failed([FieldError("query", "to", "must not be before from")])
    periods = periods_between(start, end)
    if len(periods) > MAX_PERIODS:
        raise failed([FieldError("query", "to", f"at most {MAX_PERIODS} periods at once")])
    return periods


def _forecast_out(
    activity: Activity, forecast: forecasts.MonthForecast | None
) -> schemas.ProviderForecastOut | None:
    if forecast is None:
        return None
    return schemas.ProviderForecastOut(
        forecast_id=forecast.forecast_id,
        volume=forecast.volume,
        units=comparison.forecast_units(activity, forecast.volume, forecast.aht_seconds),
        lower_80=forecast.bounds.get("lower_80"),
        upper_80=forecast.bounds.get("upper_80"),
        lower_95=forecast.bounds.get("lower_95"),
        upper_95=forecast.bounds.get("upper_95"),
        aht_seconds=forecast.aht_seconds,
    )


def _row_fields(activity: Activity, row: comparison.ComparisonRow) -> dict[str, object]:
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
        "provider_forecast": _forecast_out(activity, row.provider_forecast),
        "actual": row.actual,
        "deviation_pct": row.deviation_pct,
        "probability_below_trigger": row.probability_below_trigger,
        "expected_shortfall_units": row.expected_shortfall_units,
        "expected_shortfall_amount": row.expected_shortfall_amount,
        "unit_price": row.unit_price,
    }


async def _compare(
    request: Request,
    session: Session,
    actor: Principal,
    activity: Activity,
    contract: Contract,
    periods: list[Period],
) -> list[comparison.ComparisonRow]:
    """Forecast the open periods that lack a month forecast, then compare."""
    missing = await run_in_threadpool(
        comparison.periods_needing_forecast, session, activity, contract, periods
    )
    if missing:
        await ondemand.make_month_forecasts(
            request.app.state.forecast_pool,
            session,
            actor,
            activity.id,
            [ondemand.Span(missing[0], missing[-1])],
            comparison.forecast_volume(activity),
        )
    rows: list[comparison.ComparisonRow] = await run_in_threadpool(
        comparison.compare, session, activity, contract, periods
    )
    return rows


@router.get(
    "/activities/{activity_id}/comparison",
    response_model=schemas.ComparisonOut,
    responses={**READ_ERRORS, **problem_responses(422, 503)},
)
async def get_activity_comparison(
    activity_id: str,
    request: Request,
    session: SessionDep,
    actor: ReaderKey,
    first: Annotated[str, Query(alias="from", description="First period, YYYY-MM.")],
    last: Annotated[str, Query(alias="to", description="Last period, YYYY-MM.")],
) -> object:
    """Per period: commitments, provider forecast, actuals, P(below trigger), expected cost."""
    periods = _period_range(first, last)
    activity, contract = await run_in_threadpool(
        contracts.get_activity_and_contract, session, actor, activity_id
    )
    rows = await _compare(request, session, actor, activity, contract, periods)
    return schemas.ComparisonOut(
        activity_id=activity.id,
        currency=contract.currency,
        periods=[schemas.ComparisonPeriodOut(**_row_fields(activity, row)) for row in rows],
    )


@router.get(
    "/contracts/{contract_id}/comparison",
    response_model=schemas.ContractComparisonOut,
    responses={**READ_ERRORS, **problem_responses(422, 503)},
)
async def get_contract_comparison(
    contract_id: str,
    request: Request,
    session: SessionDep,
    actor: ReaderKey,
    period: PeriodQuery,
) -> object:
    """Every activity of a contract for one period, with totals in money (dashboards)."""
    month = parse_period(period)
    contract = await run_in_threadpool(contracts.get_contract, session, actor, contract_id)
    activities = await run_in_threadpool(contracts.all_activities, session, actor, contract.id)
    lines = []
    for activity in activities:
        [row] = await _compare(request, session, actor, activity, contract, [month])
        lines.append((activity, row))
    return schemas.ContractComparisonOut(
        contract_id=contract.id,
        period=str(month),
        currency=contract.currency,
        activities=[
            schemas.ContractComparisonActivityOut(
                activity_id=activity.id,
                activity_name=activity.name,
                **_row_fields(activity, row),
            )
            for activity, row in lines
        ],
        totals=schemas.ComparisonTotalsOut(
            **comparison.money_totals([row for _, row in lines]).__dict__
        ),
    )


@router.get(
    "/activities/{activity_id}/scorecard",
    response_model=schemas.ScorecardOut,
    responses={**READ_ERRORS, **problem_responses(422, 503)},
)
async def get_scorecard(
    activity_id: str,
    request: Request,
    session: SessionDep,
    actor: ReaderKey,
    first: Annotated[str, Query(alias="from", description="First period, YYYY-MM.")],
    last: Annotated[str, Query(alias="to", description="Last period, YYYY-MM.")],
) -> object:
    """Bias and MAPE of the binding commitments and of the provider's forecasts made as of the
    same deadlines, over closed periods: who forecasts better."""
    periods = _period_range(first, last)
    activity, contract = await run_in_threadpool(
        contracts.get_activity_and_contract, session, actor, activity_id
    )
    cutoffs = await run_in_threadpool(
        comparison.forecast_cutoffs, session, activity, contract, periods
    )
    if cutoffs:
        await ondemand.make_month_forecasts(
            request.app.state.forecast_pool,
            session,
            actor,
            activity.id,
            [ondemand.Span(period, period, deadline.date()) for period, deadline in cutoffs],
            comparison.forecast_volume(activity),
        )
    rows, committed, provider = await run_in_threadpool(
        comparison.scorecard, session, activity, contract, periods
    )
    return schemas.ScorecardOut(
        activity_id=activity.id,
        billing_unit=activity.billing_unit,
        periods=[
            schemas.ScorecardPeriodOut(**{**row.__dict__, "period": str(row.period)})
            for row in rows
        ],
        commitment=schemas.AccuracyOut(**committed.__dict__),
        provider=schemas.AccuracyOut(**provider.__dict__),
    )
