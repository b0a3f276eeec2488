"""Use cases of committed forecasts: receiving versions, telling which one binds, adjustments.

Other domains (billing, comparison) ask `resolve_period` for the figures of one activity and
period; it applies the pure rule of `binding.py` to what is stored.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.commitments import binding as binding_rule
from app.commitments import schemas, submission
from app.commitments.repository import CommitmentRepository, StoredLine
from app.commitments.tables import Adjustment, CommitmentLine, CommitmentVersion
from app.contracts import dependents
from app.contracts import service as contracts
from app.contracts.service import Activity, ActivityFacts, Contract, ContractFacts
from app.core import audit, checks
from app.core.auth import Principal, Role
from app.core.charter import BillingUnit, committed_quantity
from app.core.errors import FieldError, Forbidden, NotFound, failed, field_errors_from
from app.core.fields import parse_period
from app.core.orm import utc_now
from app.core.pagination import PageParams
from app.core.periods import Period, commitment_deadline, period_of

SOURCE_API = "api"
SOURCE_IMPORT = "import"


class NotBinding(StrEnum):
    """Why a stored line does not bind its period."""

    AFTER_DEADLINE = "after_deadline"
    SUPERSEDED = "superseded"


@dataclass(frozen=True)
class LineStatus:
    """Whether a stored line binds its period now, why not, and the period's deadline. A line
    received by the deadline binds until a later version received by it replaces it; a line
    received after the deadline never binds (the charter's deadline rule)."""

    deadline: datetime
    binding: bool
    reason: NotBinding | None


Stored = tuple[CommitmentVersion, list[CommitmentLine], dict[str, LineStatus]]
"""A version as stored, with its lines and whether each binds."""


def create_commitment(
    session: Session, actor: Principal, activity_id: str, received: submission.Received
) -> Stored:
    """Store a new version with lines for one activity (JSON or CSV), all or nothing."""
    activity, contract = contracts.get_activity_and_contract(session, actor, activity_id)
    return _receive(session, actor, contract, [activity], received, bulk=False)


def create_bulk_commitment(
    session: Session, actor: Principal, contract_id: str, received: submission.Received
) -> Stored:
    """Store one version covering several activities of a contract, atomically."""
    contract = contracts.get_contract(session, actor, contract_id)
    own = contracts.all_activities(session, actor, contract.id)
    return _receive(session, actor, contract, own, received, bulk=True)


def _receive(
    session: Session,
    actor: Principal,
    contract: Contract,
    activities: Sequence[Activity],
    received: submission.Received,
    *,
    bulk: bool,
) -> Stored:
    """Validate with the schema and check against the contract, then store; every problem of
    either kind is reported in one response, where the caller wrote the value."""
    sent = submission.read(received, activities if bulk else None)
    claims_receipt = isinstance(sent.body, dict) and sent.body.get("received_at") is not None
    if claims_receipt and actor.role != Role.ADMIN:
        raise Forbidden(
            "Only an admin key may set received_at (to import past versions); the server "
            "stamps every other version with its own receipt time."
        )
    model = schemas.BulkCommitmentCreate if bulk else schemas.CommitmentCreate
    problems: list[FieldError] = []
    data: schemas.CommitmentCreate | schemas.BulkCommitmentCreate | None = None
    try:
        data = model.model_validate(sent.body)
    except ValidationError as exc:
        problems += field_errors_from(exc.errors(), location="body")
    problems += _contract_problems(contract, {a.id: a for a in activities}, sent.body, bulk)
    if problems or sent.problems or data is None:
        located = [sent.locate(problem) for problem in sorted(problems, key=_line_order)]
        raise failed(sorted([*located, *sent.problems], key=lambda error: error.row or 0))
    version, lines = _store(session, actor, contract, data, {a.id: a for a in activities})
    statuses = line_statuses(session, contract, activities, [(line, version) for line in lines])
    return version, lines, statuses


def _line_order(error: FieldError) -> int:
    """Errors of the version first, then line by line (schema and contract errors mixed)."""
    parts = error.field.split(".")
    return int(parts[1]) + 1 if parts[0] == "lines" and len(parts) > 1 and parts[1].isdigit() else 0


def _store(
    session: Session,
    actor: Principal,
    contract: Contract,
    data: schemas.CommitmentCreate | schemas.BulkCommitmentCreate,
    activities: dict[str, Activity],
) -> tuple[CommitmentVersion, list[CommitmentLine]]:
    version = CommitmentVersion(
        contract_id=contract.id,
        label=data.label,
        received_at=data.received_at or utc_now(),
        source=SOURCE_IMPORT if data.received_at is not None else SOURCE_API,
        created_by_key_id=actor.key_id,
    )
    only = next(iter(activities)) if isinstance(data, schemas.CommitmentCreate) else None
    rows = [
        CommitmentLine(
            activity_id=getattr(line, "activity_id", only),
            period=line.period,
            volume=line.volume,
            aht_seconds=line.aht_seconds,
        )
        for line in data.lines
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


def _contract_problems(
    contract: Contract, activities: dict[str, Activity], body: Any, bulk: bool
) -> list[FieldError]:
    """What the contract refuses in a version, read from the raw body so that it is found even
    when the schema refused other fields: a receipt time in the future, an unknown activity, a
    period outside the contract or given twice, no AHT for an activity billed per hour."""
    errors: list[FieldError] = []
    version = checks.salvage(schemas.BulkCommitmentCreate, body)
    received_at = version.get("received_at")
    if received_at is not None and received_at > utc_now():
        errors.append(FieldError("body", "received_at", "must not be in the future"))
    raw_lines = body.get("lines") if isinstance(body, dict) else None
    line_model = schemas.BulkCommitmentLineIn if bulk else schemas.CommitmentLineIn
    seen: dict[tuple[str, str], str] = {}
    for index, raw in enumerate(raw_lines if isinstance(raw_lines, list) else []):
        prefix, line = f"lines.{index}", checks.salvage(line_model, raw)
        activity = None if bulk else next(iter(activities.values()))
        if "activity_id" in line:
            activity = activities.get(line["activity_id"])
            if activity is None:
                reason = f"no activity {line['activity_id']} in this contract"
                errors.append(FieldError("body", f"{prefix}.activity_id", reason))
        if "period" in line:
            period = Period.parse(line["period"])
            if not contracts.in_force(contract, period):
                reason = (
                    f"{period} is outside the contract ({contract.starts_on} to "
                    f"{contract.ends_on or 'open-ended'})"
                )
                errors.append(FieldError("body", f"{prefix}.period", reason))
            if activity is not None:
                key, where = (activity.id, str(period)), f"{prefix}.period"
                if key in seen:
                    reason = f"{period} appears twice (also at {seen[key]})"
                    errors.append(FieldError("body", where, reason))
                seen.setdefault(key, where)
        if (
            activity is not None
            and activity.billing_unit == BillingUnit.HOUR
            and activity.reference_aht_seconds is None
            and isinstance(raw, dict)
            and raw.get("aht_seconds") is None
        ):
            reason = "required: the activity is billed per hour and has no reference AHT"
            errors.append(FieldError("body", f"{prefix}.aht_seconds", reason))
    return errors


def list_commitments(
    session: Session, actor: Principal, activity_id: str, params: PageParams
) -> tuple[list[tuple[CommitmentVersion, list[CommitmentLine]]], dict[str, LineStatus], str | None]:
    """Versions with a line for the activity, newest receipt first, each with its lines, and
    whether each line binds."""
    activity, contract = contracts.get_activity_and_contract(session, actor, activity_id)
    versions, next_cursor = CommitmentRepository(session).versions_page(activity.id, params)
    pairs = [(line, version) for version, lines in versions for line in lines]
    return versions, line_statuses(session, contract, [activity], pairs), next_cursor


def line_statuses(
    session: Session,
    contract: Contract,
    activities: Sequence[Activity],
    lines: Sequence[tuple[CommitmentLine, CommitmentVersion]],
) -> dict[str, LineStatus]:
    """The status of each line (by line id), resolving each period once for all activities."""
    own = {activity.id: activity for activity in activities}
    wanted: dict[str, set[str]] = {}
    for line, _ in lines:
        wanted.setdefault(line.period, set()).add(line.activity_id)
    resolved: dict[tuple[str, str], PeriodCommitment] = {}
    for period, ids in wanted.items():
        pairs = [(own[activity_id], contract) for activity_id in sorted(ids)]
        for activity_id, figures in resolve_periods(session, pairs, Period.parse(period)).items():
            resolved[(activity_id, period)] = figures
    statuses = {}
    for line, version in lines:
        figures = resolved[(line.activity_id, line.period)]
        if version.received_at > figures.deadline:
            statuses[line.id] = LineStatus(figures.deadline, False, NotBinding.AFTER_DEADLINE)
        elif figures.binding is not None and figures.binding.version_id == version.id:
            statuses[line.id] = LineStatus(figures.deadline, True, None)
        else:
            statuses[line.id] = LineStatus(figures.deadline, False, NotBinding.SUPERSEDED)
    return statuses


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
    versions: dict[str, StoredLine]
    """The stored lines of the period's versions, by version id."""


def resolve_period(
    session: Session, activity: Activity, contract: Contract, period: Period
) -> PeriodCommitment:
    """Apply the binding rule to the stored versions of (activity, period)."""
    return resolve_periods(session, [(activity, contract)], period)[activity.id]


def resolve_periods(
    session: Session,
    activities: Sequence[tuple[ActivityFacts, ContractFacts]],
    period: Period,
    in_force: Mapping[str, contracts.Terms] | None = None,
) -> dict[str, PeriodCommitment]:
    """`resolve_period` for many activities in a few queries (invoice runs over thousands of
    contracts read every activity's versions at once). `in_force`: the contracts' terms of
    `period`, when the caller has read them already (the portfolio overview)."""
    repository = CommitmentRepository(session)
    ids = [activity.id for activity, _ in activities]
    stored: dict[str, list[StoredLine]] = {i: [] for i in ids}
    for line in repository.lines_for(ids, str(period)):
        stored[line.activity_id].append(line)
    adjustments = repository.adjustment_totals(ids, str(period))
    if in_force is None:
        unique = list({contract.id: contract for _, contract in activities}.values())
        in_force = contracts.terms_for(session, unique, period)
    deadlines: dict[tuple[str, int], datetime] = {}  # ten thousand contracts, a few of each
    for _, contract in activities:
        days = in_force[contract.id].commitment_deadline_days
        if (contract.timezone, days) not in deadlines:
            deadlines[(contract.timezone, days)] = commitment_deadline(
                period, ZoneInfo(contract.timezone), days
            )
    return {
        activity.id: _resolve(
            activity,
            deadlines[(contract.timezone, in_force[contract.id].commitment_deadline_days)],
            period,
            stored[activity.id],
            adjustments.get(activity.id, Decimal(0)),
        )
        for activity, contract in activities
    }


def _resolve(
    activity: ActivityFacts,
    deadline: datetime,
    period: Period,
    stored: list[StoredLine],
    adjustments: Decimal,
) -> PeriodCommitment:
    """`binding.resolve_for_period` with the period's deadline computed by the caller, once
    per zone and deadline."""
    resolution = binding_rule.resolve_binding(stored, deadline)
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
        versions={line.version_id: line for line in stored},
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


def deadlines(
    session: Session, actor: Principal, contract_id: str, first: str | None, count: int
) -> tuple[Contract, list[tuple[Activity, PeriodCommitment]]]:
    """(activity, figures) for `count` periods from `first` (the contract's current period by
    default), skipping those outside the contract, period by period."""
    contract = contracts.get_contract(session, actor, contract_id)
    activities = contracts.all_activities(session, actor, contract.id)
    period = Period.parse(first) if first else period_of(utc_now(), ZoneInfo(contract.timezone))
    rows: list[tuple[Activity, PeriodCommitment]] = []
    for _ in range(count):
        if contracts.in_force(contract, period) and activities:
            figures = resolve_periods(session, [(a, contract) for a in activities], period)
            rows += [(activity, figures[activity.id]) for activity in activities]
        period = period.next()
    return contract, rows


# Adjustments


def check_adjustment(
    session: Session, actor: Principal, raw: checks.RawRequest
) -> list[FieldError]:
    """What the contract refuses in an adjustment (its period), for the schema's 422 too."""
    _, contract = contracts.get_activity_and_contract(session, actor, raw.path["activity_id"])
    return _adjustment_problems(contract, raw.body)


def _adjustment_problems(contract: Contract, body: Any) -> list[FieldError]:
    period_text = checks.salvage(schemas.AdjustmentCreate, body).get("period")
    if period_text is None or contracts.in_force(contract, Period.parse(period_text)):
        return []
    return [FieldError("body", "period", f"{period_text} is outside the contract")]


def add_adjustment(
    session: Session, actor: Principal, activity_id: str, data: schemas.AdjustmentCreate
) -> Adjustment:
    activity, contract = contracts.get_activity_and_contract(session, actor, activity_id)
    problems = _adjustment_problems(contract, data.model_dump())
    if problems:
        raise failed(problems)
    period = Period.parse(data.period)
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
