"""HTTP layer of committed forecasts: versions, the binding line, adjustments."""

from typing import Annotated

from fastapi import Query, Request
from starlette.concurrency import run_in_threadpool

from app.commitments import schemas, service, submission
from app.commitments.tables import CommitmentLine, CommitmentVersion
from app.core import checks, media, openapi
from app.core.auth import AdminKey, Principal, ReaderKey, Role, require
from app.core.db import SessionDep
from app.core.domain_router import DomainRouter
from app.core.errors import READ_ERRORS, WRITE_ERRORS, problem_responses
from app.core.fields import PeriodText
from app.core.orm import utc_now
from app.core.pagination import PageDep
from app.core.queries import MAX_PERIODS, PeriodQuery
from app.core.routing import quick_read

router = DomainRouter(tags=["committed forecasts"])

CommitmentWriter = Annotated[Principal, require(Role.ADMIN, Role.CLIENT)]


def _version_out(
    version: CommitmentVersion,
    lines: list[CommitmentLine],
    statuses: dict[str, service.LineStatus],
) -> schemas.CommitmentOut:
    return schemas.CommitmentOut(
        id=version.id,
        contract_id=version.contract_id,
        label=version.label,
        received_at=version.received_at,
        source=version.source,
        lines=[
            schemas.CommitmentLineOut(
                activity_id=line.activity_id,
                period=line.period,
                volume=line.volume,
                aht_seconds=line.aht_seconds,
                deadline=statuses[line.id].deadline,
                binding=statuses[line.id].binding,
                reason=statuses[line.id].reason,
            )
            for line in lines
        ],
        created_at=version.created_at,
    )


_ACTIVITY_CSV = "period,volume,aht_seconds\n2026-12,95000,\n2027-01,98000,\n"
_CONTRACT_CSV = "activity,period,volume,aht_seconds\nService client voix,2026-12,95000,\n"
LabelQuery = Annotated[
    str | None,
    Query(description="The version's label, for a CSV body (JSON sends it in the body)."),
]


async def _received(request: Request, label: str | None) -> submission.Received:
    if media.media_type(request) == media.CSV:
        return submission.Received("csv", text=await media.csv_text(request), label=label)
    return submission.Received("json", body=await media.json_body(request), label=label)


@router.post(
    "/activities/{activity_id}/commitments",
    status_code=201,
    response_model=schemas.CommitmentOut,
    responses={**WRITE_ERRORS, **problem_responses(400, 415)},
    openapi_extra=media.upload_body(openapi.body_schema(schemas.CommitmentCreate), _ACTIVITY_CSV),
)
async def create_commitment(
    activity_id: str,
    request: Request,
    session: SessionDep,
    actor: CommitmentWriter,
    label: LabelQuery = None,
) -> object:
    """Receive a committed forecast version (immutable, stamped with the server's time), as
    JSON or as CSV (`period,volume,aht_seconds`), all or nothing: every bad line is named."""
    received = await _received(request, label)
    stored = await run_in_threadpool(
        service.create_commitment, session, actor, activity_id, received
    )
    return _version_out(*stored)


@router.post(
    "/contracts/{contract_id}/commitments",
    status_code=201,
    response_model=schemas.CommitmentOut,
    responses={**WRITE_ERRORS, **problem_responses(400, 415)},
    openapi_extra=media.upload_body(
        openapi.body_schema(schemas.BulkCommitmentCreate), _CONTRACT_CSV
    ),
)
async def create_bulk_commitment(
    contract_id: str,
    request: Request,
    session: SessionDep,
    actor: CommitmentWriter,
    label: LabelQuery = None,
) -> object:
    """Receive one version for several activities of a contract at once, all or nothing, as
    JSON or as CSV (`activity,period,volume,aht_seconds`; `activity` is an id or a name)."""
    received = await _received(request, label)
    stored = await run_in_threadpool(
        service.create_bulk_commitment, session, actor, contract_id, received
    )
    return _version_out(*stored)


@router.get(
    "/activities/{activity_id}/commitments",
    response_model=schemas.CommitmentPage,
    responses=READ_ERRORS,
)
@quick_read
def list_commitments(
    activity_id: str,
    session: SessionDep,
    actor: ReaderKey,
    page: PageDep,
) -> object:
    """The activity's commitment versions, newest receipt first."""
    versions, statuses, next_cursor = service.list_commitments(session, actor, activity_id, page)
    return {
        "items": [_version_out(v, lines, statuses) for v, lines in versions],
        "next_cursor": next_cursor,
    }


@router.get(
    "/activities/{activity_id}/commitments/binding",
    response_model=schemas.BindingOut,
    responses={**READ_ERRORS, **problem_responses(422)},
)
@quick_read
def get_binding_commitment(
    activity_id: str,
    session: SessionDep,
    actor: ReaderKey,
    period: PeriodQuery,
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
        final=figures.deadline < utc_now(),
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


@router.get(
    "/contracts/{contract_id}/deadlines",
    response_model=schemas.DeadlinesOut,
    responses={**READ_ERRORS, **problem_responses(422)},
)
def list_deadlines(
    contract_id: str,
    session: SessionDep,
    actor: ReaderKey,
    first: Annotated[
        PeriodText | None,
        Query(alias="from", description="First period, YYYY-MM; the current one by default."),
    ] = None,
    periods: Annotated[
        int, Query(ge=1, le=MAX_PERIODS, description="How many periods from `from`.")
    ] = 3,
) -> object:
    """Each activity's commitment deadlines for the coming periods (within the contract), and
    which version binds each as things stand: a WFM system's reminder of when to send."""
    contract, rows = service.deadlines(session, actor, contract_id, first, periods)
    now = utc_now()
    return schemas.DeadlinesOut(
        contract_id=contract.id,
        items=[
            schemas.DeadlineOut(
                activity_id=activity.id,
                activity_name=activity.name,
                period=str(figures.period),
                deadline=figures.deadline,
                passed=figures.deadline < now,
                binding_version_id=figures.binding.version_id if figures.binding else None,
            )
            for activity, figures in rows
        ],
    )


@router.post(
    "/activities/{activity_id}/adjustments",
    status_code=201,
    response_model=schemas.AdjustmentOut,
    responses=WRITE_ERRORS,
)
@checks.checked_by(service.check_adjustment)
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
@quick_read
def list_adjustments(activity_id: str, session: SessionDep, actor: ReaderKey) -> object:
    """The activity's agreed adjustments, oldest first."""
    return service.list_adjustments(session, actor, activity_id)
