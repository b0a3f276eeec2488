"""Use cases of committed forecasts: receiving versions, telling which one binds, adjustments.

Other domains (billing, comparison) ask `resolve_period` for the figures of one activity and
period; it applies the pure rule of `binding.py` to what is stored.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.commitments import binding as binding_rule
from app.commitments import schemas
from app.commitments.repository import CommitmentRepository
from app.commitments.tables import Adjustment, CommitmentLine, CommitmentVersion
from app.contracts import dependents
from app.contracts import service as contracts
from app.contracts.service import Activity, Contract
from app.core import audit
from app.core.auth import Principal, Role
from app.core.charter import BillingUnit, committed_quantity
from app.core.errors import FieldError, Forbidden, NotFound, failed
from app.core.fields import parse_period
from app.core.orm import utc_now
from app.core.pagination import PageParams
from app.core.periods import Period

SOURCE_API = "api"
SOURCE_IMPORT = "import"


@dataclass(frozen=True)
class _Line:
    """A line to store, with where it came from in the request (for error messages)."""

    activity: Activity
    data: schemas.CommitmentLineIn
    field_prefix: str


def create_commitment(
    session: Session, actor: Principal, activity_id: str, data: schemas.CommitmentCreate
) -> tuple[CommitmentVersion, list[CommitmentLine]]:
    """Store a new version with lines for one activity."""
    activity, contract = contracts.get_activity_and_contract(session, actor, activity_id)
    lines = [_Line(activity, line, f"lines.{i}") for i, line in enumerate(data.lines)]
    return _store(session, actor, contract, data, lines)


def create_bulk_commitment(
    session: Session, actor: Principal, contract_id: str, data: schemas.BulkCommitmentCreate
) -> tuple[CommitmentVersion, list[CommitmentLine]]:
    """Store one version covering several activities of a contract, atomically."""
    contract = contracts.get_contract(session, actor, contract_id)
    own = {a.id: a for a in contracts.all_activities(session, actor, contract.id)}
    unknown = [
        FieldError(
            "body", f"lines.{i}.activity_id", f"no activity {line.activity_id} in this contract"
        )
        for i, line in enumerate(data.lines)
        if line.activity_id not in own
    ]
    if unknown:
        raise failed(unknown)
    lines = [_Line(own[line.activity_id], line, f"lines.{i}") for i, line in enumerate(data.lines)]
    return _store(session, actor, contract, data, lines)


def _store(
    session: Session,
    actor: Principal,
    contract: Contract,
    data: schemas.CommitmentCreate | schemas.BulkCommitmentCreate,
    lines: list[_Line],
) -> tuple[CommitmentVersion, list[CommitmentLine]]:
    if data.received_at is not None and actor.role != Role.ADMIN:
        raise Forbidden(
            "Only an admin key may set received_at (to import past versions); the server "
            "stamps every other version with its own receipt time."
        )
    now = utc_now()
    if data.received_at is not None and data.received_at > now:
        raise failed([FieldError("body", "received_at", "must not be in the future")])
    _validate_lines(contract, lines)
    version = CommitmentVersion(
        contract_id=contract.id,
        label=data.label,
        received_at=data.received_at or now,
        source=SOURCE_IMPORT if data.received_at is not None else SOURCE_API,
        created_by_key_id=actor.key_id,
    )
    rows = [
        CommitmentLine(
            activity_id=line.activity.id,
            period=line.data.period,
            volume=line.data.volume,
            aht_seconds=line.data.aht_seconds,
        )
        for line in lines
    ]
    CommitmentRepository(session).add_version(version, rows)
    audit.record(
        session,
        actor,
        "commitment.received",
        "commitment_version",
        version.id,
        {"source": version.source, "received_at": version.received_at, "lines": len(rows)},
    )
    return version, rows


def _validate_lines(contract: Contract, lines: list[_Line]) -> None:
    """Every problem of every line, in one response: a WFM system fixes them in one go."""
    errors: list[FieldError] = []
    seen: dict[tuple[str, str], str] = {}
    for line in lines:
        prefix, period_text = line.field_prefix, line.data.period
        if line.data.volume < 0:
            errors.append(FieldError("body", f"{prefix}.volume", "must be >= 0"))
        try:
            period = Period.parse(period_text)
        except ValueError as exc:
            errors.append(FieldError("body", f"{prefix}.period", str(exc)))
            continue
        if not contracts.in_force(contract, period):
            errors.append(
                FieldError(
                    "body",
                    f"{prefix}.period",
                    f"{period} is outside the contract ({contract.starts_on} to "
                    f"{contract.ends_on or 'open-ended'})",
                )
            )
        key = (line.activity.id, period_text)
        if key in seen:
            errors.append(
                FieldError(
                    "body", f"{prefix}.period", f"{period} appears twice (also at {seen[key]})"
                )
            )
        seen.setdefault(key, f"{prefix}.period")
        if (
            line.activity.billing_unit == BillingUnit.HOUR
            and line.data.aht_seconds is None
            and line.activity.reference_aht_seconds is None
        ):
            errors.append(
                FieldError(
                    "body",
                    f"{prefix}.aht_seconds",
                    "required: the activity is billed per hour and has no reference AHT",
                )
            )
    if errors:
        raise failed(errors)


def list_commitments(
    session: Session, actor: Principal, activity_id: str, params: PageParams
) -> tuple[list[tuple[CommitmentVersion, list[CommitmentLine]]], str | None]:
    """Versions with a line for the activity, newest receipt first, each with its lines."""
    activity = contracts.get_activity(session, actor, activity_id)
    return CommitmentRepository(session).versions_page(activity.id, params)


# Binding


@dataclass(frozen=True)
class PeriodCommitment:
    """What the charter needs of one (activity, period): the binding line and C, the latest
    version, the deadline, and the agreed adjustments."""

    period: Period
    deadline: datetime
    binding: binding_rule.CommitmentLine | None
    latest: binding_rule.CommitmentLine | None
    committed: Decimal | None
    adjustments: Decimal
    versions: dict[str, CommitmentVersion]


def resolve_period(
    session: Session, activity: Activity, contract: Contract, period: Period
) -> PeriodCommitment:
    """Apply the binding rule to the stored versions of (activity, period)."""
    return resolve_periods(session, [(activity, contract)], period)[activity.id]


def resolve_periods(
    session: Session, activities: Sequence[tuple[Activity, Contract]], period: Period
) -> dict[str, PeriodCommitment]:
    """`resolve_period` for many activities in a few queries (invoice runs over thousands of
    contracts read every activity's versions at once)."""
    repository = CommitmentRepository(session)
    ids = [activity.id for activity, _ in activities]
    stored: dict[str, list[tuple[CommitmentLine, CommitmentVersion]]] = {i: [] for i in ids}
    for line, version in repository.lines_for(ids, str(period)):
        stored[line.activity_id].append((line, version))
    adjustments = repository.adjustment_totals(ids, str(period))
    unique = list({contract.id: contract for _, contract in activities}.values())
    in_force = contracts.terms_for(session, unique, period)
    return {
        activity.id: _resolve(
            activity,
            contract,
            in_force[contract.id].commitment_deadline_days,
            period,
            stored[activity.id],
            adjustments.get(activity.id, Decimal(0)),
        )
        for activity, contract in activities
    }


def _resolve(
    activity: Activity,
    contract: Contract,
    deadline_days: int,
    period: Period,
    stored: list[tuple[CommitmentLine, CommitmentVersion]],
    adjustments: Decimal,
) -> PeriodCommitment:
    candidates = [
        binding_rule.CommitmentLine(
            version_id=version.id,
            received_at=version.received_at,
            volume=line.volume,
            aht_seconds=line.aht_seconds,
        )
        for line, version in stored
    ]
    resolution = binding_rule.resolve_for_period(
        candidates, period, ZoneInfo(contract.timezone), deadline_days
    )
    committed = None
    if resolution.binding is not None:
        committed = committed_quantity(
            BillingUnit(activity.billing_unit),
            resolution.binding.volume,
            resolution.binding.aht_seconds,
            activity.reference_aht_seconds,
        )
    return PeriodCommitment(
        period=period,
        deadline=resolution.deadline,
        binding=resolution.binding,
        latest=resolution.latest,
        committed=committed,
        adjustments=adjustments,
        versions={version.id: version for _, version in stored},
    )


def get_binding(
    session: Session, actor: Principal, activity_id: str, period_text: str
) -> tuple[Activity, PeriodCommitment]:
    activity, contract = contracts.get_activity_and_contract(session, actor, activity_id)
    period = parse_period(period_text, "period")
    figures = resolve_period(session, activity, contract, period)
    if figures.binding is None:
        raise NotFound(
            f"No commitment version binds {period} for activity {activity.id}: none with a line "
            f"for it was received by the deadline {figures.deadline.isoformat()}."
        )
    return activity, figures


# Adjustments


def add_adjustment(
    session: Session, actor: Principal, activity_id: str, data: schemas.AdjustmentCreate
) -> Adjustment:
    activity, contract = contracts.get_activity_and_contract(session, actor, activity_id)
    period = parse_period(data.period, location="body")
    if not contracts.in_force(contract, period):
        raise failed([FieldError("body", "period", f"{period} is outside the contract")])
    adjustment = CommitmentRepository(session).add_adjustment(
        Adjustment(
            activity_id=activity.id,
            period=str(period),
            units=data.units,
            reason=data.reason,
            created_by_key_id=actor.key_id,
        )
    )
    audit.record(
        session,
        actor,
        "adjustment.created",
        "adjustment",
        adjustment.id,
        {
            "activity_id": activity.id,
            "period": str(period),
            "units": data.units,
            "reason": data.reason,
        },
    )
    return adjustment


def list_adjustments(session: Session, actor: Principal, activity_id: str) -> list[Adjustment]:
    activity = contracts.get_activity(session, actor, activity_id)
    return list(CommitmentRepository(session).adjustments(activity.id))


def committed_in(session: Session, scope: dependents.Scope) -> list[str]:
    """The committed periods a contract change must not strand or reinterpret."""
    if not scope.activity_ids:
        return []
    first, last = scope.periods()
    return [
        f"commitment lines of activity {activity_id} for {low} to {high}"
        for activity_id, low, high in CommitmentRepository(session).periods_committed(
            scope.activity_ids, first, last
        )
    ]
