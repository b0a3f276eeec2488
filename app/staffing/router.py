"""HTTP layer of staffing: Erlang C / Erlang A sizing and evaluation of one interval.

These endpoints read no client data, so any valid key may call them. They are plain `def`
routes: the maths is CPU work and runs in the thread pool, off the event loop.
"""

from fastapi import APIRouter

from app.core.auth import AnyKey
from app.core.errors import problem_responses
from app.core.routing import TransactionalRoute
from app.staffing import schemas, service

router = APIRouter(route_class=TransactionalRoute, tags=["staffing"])

_ERRORS = problem_responses(400, 401, 422)


@router.post(
    "/staffing/erlang-c",
    response_model=schemas.StaffingOut,
    responses=_ERRORS,
    summary="Size the staffing of one interval",
)
def staffing_erlang_c(body: schemas.StaffingSizingRequest, actor: AnyKey) -> schemas.StaffingOut:
    """Fewest agents meeting the service-level target and the occupancy cap on one interval,
    by Erlang C or, when callers hang up, Erlang A (`model`), with the FTE after shrinkage."""
    return service.size(body)


@router.post(
    "/staffing/evaluate",
    response_model=schemas.StaffingOut,
    responses=_ERRORS,
    summary="Evaluate a number of agents on one interval",
)
def staffing_evaluate(
    body: schemas.StaffingEvaluationRequest, actor: AnyKey
) -> schemas.StaffingOut:
    """What a given number of agents achieves on one interval (service level, speed of answer,
    occupancy, abandonment): the reverse of the sizing."""
    return service.evaluate(body)
