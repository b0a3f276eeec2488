"""The lists of forecasts: an activity's stored runs and the forecast jobs, read only.

Kept apart from the forecast use case (`service`) and the job runner (`jobs`): listing reads
what they stored and changes nothing of how forecasts are made or jobs are run.
"""

from collections.abc import Sequence

from sqlalchemy.orm import Session

from app.contracts import service as contracts
from app.core import checks
from app.core.auth import Principal
from app.core.errors import FieldError
from app.core.pagination import PageParams
from app.forecasts.repository import ForecastRepository
from app.forecasts.tables import ForecastJob, ForecastRun


def list_forecasts(
    session: Session,
    actor: Principal,
    activity_id: str,
    granularity: str | None,
    volume: str | None,
    params: PageParams,
) -> tuple[Sequence[ForecastRun], str | None]:
    """The activity's forecasts, newest first (404 for another client's activity)."""
    activity = contracts.get_activity(session, actor, activity_id)
    return ForecastRepository(session).runs_page(activity.id, granularity, volume, params)


def check_job_filters(
    session: Session, actor: Principal, raw: checks.RawRequest
) -> list[FieldError]:
    """What the stored data refuses in a job list's filters (an unknown contract), for the
    query's 422 too."""
    return contracts.contract_id_problems(session, actor, raw.query.get("contract_id"), "query")


def list_jobs(
    session: Session,
    actor: Principal,
    contract_id: str | None,
    status: str | None,
    params: PageParams,
) -> tuple[Sequence[ForecastJob], str | None]:
    """Forecast jobs, newest first, of one contract or of every contract the key may see; a
    client key never sees the jobs over all contracts (as `jobs.get_job`)."""
    contract_ids: list[str] | None = None
    if contract_id is not None:
        contract_ids = [contracts.contract_named(session, actor, contract_id, "query").id]
    elif actor.scoped_client_id is not None:
        visible = contracts.visible_activities(session, actor)
        contract_ids = sorted({activity.contract_id for activity in visible})
    return ForecastRepository(session).jobs_page(contract_ids, status, params)
