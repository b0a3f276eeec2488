"""HTTP layer of staffing: Erlang C / Erlang A sizing and evaluation of one interval, and the
staffing of an interval forecast.

The one-interval endpoints read no client data, so any person's key may call them (not a
`feed` key, which only moves volumes); the forecast staffing is scoped like the forecast.
They are plain `def` routes: the maths is CPU work and runs in the thread pool, off the event
loop.
"""

from typing import Annotated

from fastapi import Query

from app.core import checks
from app.core.auth import ReaderKey
from app.core.db import SessionDep
from app.core.domain_router import DomainRouter
from app.core.errors import READ_ERRORS, problem_responses
from app.staffing import schemas, service

router = DomainRouter(tags=["staffing"])

_ERRORS = problem_responses(400, 401, 422)


@router.post(
    "/staffing/erlang-c",
    response_model=schemas.StaffingOut,
    responses=_ERRORS,
    summary="Size the staffing of one interval",
)
@checks.checked_by(service.check_interval)
def staffing_erlang_c(body: schemas.StaffingSizingRequest, actor: ReaderKey) -> schemas.StaffingOut:
    """Fewest agents meeting the service-level target and the occupancy cap on one interval,
    by Erlang C or, when callers hang up, Erlang A (`model`), with the FTE after shrinkage."""
    return service.size(body)


@router.post(
    "/staffing/evaluate",
    response_model=schemas.StaffingOut,
    responses=_ERRORS,
    summary="Evaluate a number of agents on one interval",
)
@checks.checked_by(service.check_interval)
def staffing_evaluate(
    body: schemas.StaffingEvaluationRequest, actor: ReaderKey
) -> schemas.StaffingOut:
    """What a given number of agents achieves on one interval (service level, speed of answer,
    occupancy, abandonment): the reverse of the sizing."""
    return service.evaluate(body)


@router.get(
    "/forecasts/{forecast_id}/staffing",
    response_model=schemas.ForecastStaffingOut,
    responses={**READ_ERRORS, **problem_responses(422)},
)
@checks.checked_by(service.check_forecast_staffing)
def forecast_staffing(
    forecast_id: str,
    session: SessionDep,
    actor: ReaderKey,
    query: Annotated[schemas.ForecastStaffingQuery, Query()],
) -> object:
    """Agents, service level, occupancy and FTE per interval of an interval forecast, and
    agent-hours per day."""
    targets = query.model_dump(exclude={"quantile"})
    return service.forecast_staffing(session, actor, forecast_id, targets, query.quantile)
