"""HTTP layer of provider forecasts: single forecasts and their list, background jobs and
their list, special days."""

from typing import Annotated, Literal

from fastapi import Query, Request, Response

from app.core import checks
from app.core.auth import AdminKey, Principal, ReaderKey, Role, require
from app.core.db import SessionDep
from app.core.domain_router import DomainRouter
from app.core.errors import READ_ERRORS, WRITE_ERRORS, problem_responses
from app.core.pagination import PageDep
from app.core.routing import quick_read
from app.core.transactions import RequestTransactions
from app.forecasts import jobs, listing, results, schemas, service
from app.forecasts.tables import ForecastJob

router = DomainRouter(tags=["provider forecasts"])

ForecastKey = Annotated[Principal, require(Role.ADMIN, Role.CLIENT)]
"""Forecasts are made by the provider (admin) or asked for by the client's WFM system for its own
activities; ops keys only read."""


@router.post(
    "/activities/{activity_id}/forecasts",
    status_code=201,
    response_model=schemas.ForecastOut,
    responses={**WRITE_ERRORS, **problem_responses(503)},
)
async def create_forecast(
    activity_id: str,
    body: schemas.ForecastCreate,
    request: Request,
    session: SessionDep,
    actor: ForecastKey,
) -> object:
    """Forecast an activity (backtested model selection with `auto`); stored and returned."""
    stored = await service.create_forecast(
        RequestTransactions(session), request.app.state.forecast_pool, actor, activity_id, body
    )
    return results.forecast_out(stored)


@router.get(
    "/activities/{activity_id}/forecasts",
    response_model=schemas.ForecastSummaryPage,
    responses={**READ_ERRORS, **problem_responses(422)},
)
@quick_read
def list_forecasts(
    activity_id: str,
    session: SessionDep,
    actor: ReaderKey,
    page: PageDep,
    granularity: schemas.Granularity | None = None,
    volume: Annotated[
        Literal["offered", "handled"] | None, Query(description="Offered or handled contacts.")
    ] = None,
) -> object:
    """The activity's stored forecasts, newest first, without their points."""
    items, next_cursor = listing.list_forecasts(
        session, actor, activity_id, granularity, volume, page
    )
    return {"items": items, "next_cursor": next_cursor}


@router.get("/forecasts/{forecast_id}", response_model=schemas.ForecastOut, responses=READ_ERRORS)
def get_forecast(forecast_id: str, session: SessionDep, actor: ReaderKey) -> object:
    """A stored forecast with its points and backtest scores."""
    return results.forecast_out(service.get_forecast(session, actor, forecast_id))


def job_out(job: ForecastJob) -> schemas.ForecastJobOut:
    return schemas.ForecastJobOut.model_validate(job)


@router.post(
    "/forecast-jobs",
    status_code=202,
    response_model=schemas.ForecastJobOut,
    responses=WRITE_ERRORS,
)
@checks.checked_by(jobs.check_new_job)
def create_forecast_job(
    body: schemas.ForecastJobCreate, request: Request, session: SessionDep, actor: ForecastKey
) -> object:
    """Forecast every activity of a contract (or all) in the background, one task per
    activity run by the workers; poll the job."""
    return job_out(jobs.create_job(session, request.app.state.queue, actor, body))


@router.post(
    "/forecast-jobs/{job_id}/cancel",
    response_model=schemas.ForecastJobOut,
    responses={**WRITE_ERRORS, **problem_responses(404, 409)},
)
def cancel_forecast_job(
    job_id: str, request: Request, session: SessionDep, actor: ForecastKey
) -> object:
    """Stop a queued or running job: its activities not done yet are not forecast and the
    fits in progress are stopped (409 once the job has finished)."""
    return job_out(jobs.cancel_job(session, request.app.state.queue, actor, job_id))


@router.get(
    "/forecast-jobs",
    response_model=schemas.ForecastJobPage,
    responses={**READ_ERRORS, **problem_responses(422)},
)
@checks.checked_by(listing.check_job_filters)
@quick_read
def list_forecast_jobs(
    session: SessionDep,
    actor: ReaderKey,
    page: PageDep,
    contract_id: Annotated[str | None, Query(description="Only this contract's jobs.")] = None,
    status: schemas.JobStatus | None = None,
) -> object:
    """Forecast jobs, newest first; a client key sees its own contracts' jobs."""
    items, next_cursor = listing.list_jobs(session, actor, contract_id, status, page)
    return {"items": [job_out(job) for job in items], "next_cursor": next_cursor}


@router.get("/forecast-jobs/{job_id}", response_model=schemas.ForecastJobOut, responses=READ_ERRORS)
@quick_read
def get_forecast_job(job_id: str, session: SessionDep, actor: ReaderKey) -> object:
    """A job's status, progress (done/total) and per-activity results or errors."""
    return job_out(jobs.get_job(session, actor, job_id))


@router.post(
    "/activities/{activity_id}/special-days",
    status_code=201,
    response_model=schemas.SpecialDayOut,
    responses=WRITE_ERRORS,
)
def create_special_day(
    activity_id: str, body: schemas.SpecialDayCreate, session: SessionDep, actor: AdminKey
) -> object:
    """Mark a past outlier day, a future closure or a future volume multiplier."""
    return service.add_special_day(session, actor, activity_id, body)


@router.get(
    "/activities/{activity_id}/special-days",
    response_model=list[schemas.SpecialDayOut],
    responses=READ_ERRORS,
)
@quick_read
def list_special_days(activity_id: str, session: SessionDep, actor: ReaderKey) -> object:
    """The activity's special days, in date order."""
    return service.list_special_days(session, actor, activity_id)


@router.delete(
    "/activities/{activity_id}/special-days/{special_day_id}",
    status_code=204,
    responses=WRITE_ERRORS,
)
def delete_special_day(
    activity_id: str, special_day_id: str, session: SessionDep, actor: AdminKey
) -> Response:
    """Remove a special day (forecasts made since keep what they used)."""
    service.delete_special_day(session, actor, activity_id, special_day_id)
    return Response(status_code=204)
