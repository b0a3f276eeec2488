"""The charter axis 1 shortfall of a contract and period, with every input that produced it.

This gathers the inputs from the other domains (binding commitments and adjustments, actual
totals, prices in force) and hands them to the pure rule in `rules.py`. It works on many
contracts at once, in a handful of queries, so an invoice run over ten thousand contracts costs
about what one contract costs times a small constant; the single-contract preview is the same
code with a list of one.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.billing import rules, schemas
from app.commitments import service as commitments
from app.contracts import service as contracts
from app.contracts.service import ActivityFacts, Contract, ContractFacts
from app.core import charter
from app.core.fields import canonical_decimal
from app.core.periods import Period, is_period_closed, period_bounds
from app.forecasts import quantities
from app.forecasts import service as forecasts
from app.volumes import service as volumes


@dataclass(frozen=True)
class ShortfallLine:
    """One activity's line: the fields of `schemas.ShortfallLineOut`, in its order (a test
    holds them equal), as a plain dataclass. The response validates it once; an invoice run
    stores it as JSON without a pydantic model per activity (building and validating those
    was a fifth of the run's computation)."""

    activity_id: str
    activity_name: str
    billing_unit: str
    volume_basis: str
    binding_commitment_id: str | None
    binding_received_at: datetime | None
    latest_commitment_id: str | None
    deadline: datetime
    committed: Decimal | None
    adjustments: Decimal
    committed_effective: Decimal
    actual: Decimal
    trigger: Decimal
    floor: Decimal
    shortfall_units: Decimal
    unit_price: Decimal | None
    amount: Decimal
    status: str
    reason: str | None
    projected_actual: Decimal | None = None
    projected_amount: Decimal | None = None
    projection: Literal["forecast", "pro_rata"] | None = None
    projection_forecast_id: str | None = None


@dataclass(frozen=True)
class Shortfall:
    contract_id: str
    client_id: str
    period: Period
    period_start: datetime
    period_end: datetime
    provisional: bool
    evaluation: str
    currency: str
    trigger_ratio: Decimal
    floor_ratio: Decimal
    upper_tolerance: Decimal
    vat_rate: Decimal
    lines: tuple[ShortfallLine, ...]
    pooled: schemas.PooledOut | None
    net_amount: Decimal
    projected_net_amount: Decimal | None

    @property
    def unpriced_activities(self) -> list[str]:
        """Activities whose units cannot be billed because no price is in force."""
        return [
            line.activity_id
            for line in self.lines
            if line.reason == rules.ShortfallReason.NO_PRICE_IN_FORCE
            and (line.shortfall_units > 0 or self.pooled is not None)
        ]


def compute(session: Session, contract: Contract, period: Period, now: datetime) -> Shortfall:
    return compute_many(session, [contract], period, now)[contract.id]


def compute_many(
    session: Session, contract_list: Sequence[ContractFacts], period: Period, now: datetime
) -> dict[str, Shortfall]:
    activities = contracts.activity_rows(session, [contract.id for contract in contract_list])
    by_contract: dict[str, list[ActivityFacts]] = defaultdict(list)
    for activity in activities:
        by_contract[activity.contract_id].append(activity)
    contract_of = {contract.id: contract for contract in contract_list}
    pairs = [(activity, contract_of[activity.contract_id]) for activity in activities]
    in_force = contracts.terms_for(session, contract_list, period)
    committed = commitments.resolve_periods(session, pairs, period, in_force)
    actuals = _actuals(session, contract_list, by_contract, period)
    zones = _Zones(period, now)
    stored = _open_forecasts(session, pairs, period, zones)
    return {
        contract.id: _evaluate(
            contract,
            in_force[contract.id],
            period,
            now,
            zones,
            by_contract[contract.id],
            committed,
            actuals,
            stored,
        )
        for contract in contract_list
    }


class _Zones:
    """The period's instants and whether it has ended, once per time zone of a batch (ten
    thousand contracts share a few zones)."""

    def __init__(self, period: Period, now: datetime) -> None:
        self.period, self.now = period, now
        self._of: dict[str, tuple[ZoneInfo, datetime, datetime, bool]] = {}

    def of(self, zone: str) -> tuple[ZoneInfo, datetime, datetime, bool]:
        """The zone, the period's UTC bounds in it, and whether the period is closed there."""
        found = self._of.get(zone)
        if found is None:
            timezone = ZoneInfo(zone)
            start, end = period_bounds(self.period, timezone)
            closed = is_period_closed(self.period, timezone, self.now)
            found = self._of[zone] = (timezone, start, end, closed)
        return found


def _open_forecasts(
    session: Session,
    pairs: Sequence[tuple[ActivityFacts, ContractFacts]],
    period: Period,
    zones: _Zones,
) -> dict[str, forecasts.MonthForecast]:
    """The stored month forecasts of the activities whose period is still open (what their
    projection is made from); none are read for closed periods (invoice runs)."""
    wanted = [
        forecasts.MonthForecastWanted(
            activity.id, quantities.forecast_volume(activity), ZoneInfo(contract.timezone)
        )
        for activity, contract in pairs
        if not zones.of(contract.timezone)[3]
    ]
    return forecasts.month_forecasts(session, wanted, period) if wanted else {}


def _actuals(
    session: Session,
    contract_list: Sequence[ContractFacts],
    by_contract: dict[str, list[ActivityFacts]],
    period: Period,
) -> dict[str, volumes.PeriodActuals]:
    """Period totals, one query per time zone (a period's instants depend on the zone)."""
    by_zone: dict[str, list[str]] = defaultdict(list)
    for contract in contract_list:
        by_zone[contract.timezone] += [activity.id for activity in by_contract[contract.id]]
    totals: dict[str, volumes.PeriodActuals] = {}
    for zone, activity_ids in by_zone.items():
        start, end = period_bounds(period, ZoneInfo(zone))
        totals.update(volumes.period_actuals(session, activity_ids, start, end))
    return totals


def _evaluate(
    contract: ContractFacts,
    in_force: contracts.Terms,
    period: Period,
    now: datetime,
    zones: _Zones,
    activities: list[ActivityFacts],
    committed: dict[str, commitments.PeriodCommitment],
    actuals: dict[str, volumes.PeriodActuals],
    stored: dict[str, forecasts.MonthForecast],
) -> Shortfall:
    terms = rules.ContractTerms(
        trigger_ratio=in_force.trigger_ratio,
        floor_ratio=in_force.floor_ratio,
        upper_tolerance=in_force.upper_tolerance,
        evaluation=charter.Evaluation(in_force.evaluation),
        vat_rate=in_force.vat_rate,
    )
    figures = [_figures(a, period, committed[a.id], actuals) for a in activities]
    judged = _judge(terms, figures)
    timezone, start, end, closed = zones.of(contract.timezone)
    provisional = not closed
    projected = None
    if provisional:
        projected = _project(terms, activities, figures, stored, start, end, now)
    lines = tuple(
        _line(
            activity,
            committed[activity.id],
            evaluation,
            billed=judged.pooled is None,
            provisional=provisional,
            projection=None
            if projected is None
            else (projected[0].evaluations[index], projected[1][index]),
        )
        for index, (activity, evaluation) in enumerate(
            zip(activities, judged.evaluations, strict=True)
        )
    )
    pooled = judged.pooled
    if pooled is not None and provisional:
        pooled = pooled.model_copy(update={"status": OPEN})
    return Shortfall(
        contract_id=contract.id,
        client_id=contract.client_id,
        period=period,
        period_start=start.astimezone(timezone),
        period_end=end.astimezone(timezone),
        provisional=provisional,
        evaluation=in_force.evaluation,
        currency=contract.currency,
        trigger_ratio=in_force.trigger_ratio,
        floor_ratio=in_force.floor_ratio,
        upper_tolerance=in_force.upper_tolerance,
        vat_rate=in_force.vat_rate,
        lines=lines,
        pooled=pooled,
        net_amount=judged.net,
        projected_net_amount=None if projected is None else projected[0].net,
    )


OPEN = "open"


@dataclass(frozen=True)
class _Judged:
    evaluations: tuple[rules.ActivityShortfall, ...]
    pooled: schemas.PooledOut | None
    net: Decimal


def _judge(terms: rules.ContractTerms, figures: Sequence[rules.ActivityFigures]) -> _Judged:
    """The charter rule over a contract's activities, per activity or pooled."""
    if terms.evaluation is not charter.Evaluation.POOLED:
        evaluations = tuple(
            rules.evaluate_activity(terms, f.committed, f.adjustments, f.actual, f.unit_price)
            for f in figures
        )
        net = sum((evaluation.amount for evaluation in evaluations), Decimal("0.00"))
        return _Judged(evaluations, None, net)
    result = rules.evaluate_pooled(terms, figures)
    pooled = schemas.PooledOut(
        committed_value=result.committed_value,
        actual_value=result.actual_value,
        trigger_value=result.trigger_value,
        floor_value=result.floor_value,
        amount=result.amount,
        status=result.status.value,
        reason=result.reason.value if result.reason else None,
    )
    return _Judged(result.activities, pooled, result.amount)


@dataclass(frozen=True)
class _Basis:
    """What an activity's projection was made from: a stored forecast, or the pro rata."""

    kind: Literal["forecast", "pro_rata"]
    forecast_id: str | None = None


def _project(
    terms: rules.ContractTerms,
    activities: Sequence[ActivityFacts],
    figures: Sequence[rules.ActivityFigures],
    stored: dict[str, forecasts.MonthForecast],
    start: datetime,
    end: datetime,
    now: datetime,
) -> tuple[_Judged, list[_Basis]] | None:
    """The open period judged on a projection of each activity's actual, so that actuals of
    ten days are never judged against a month's commitment: the actuals to date plus the
    provider's month forecast for the share of the period left where a month forecast is
    stored, else the actuals to date pro-rated to the whole period (A × period length / time
    elapsed). None before the period has started."""
    elapsed = (now - start) / (end - start)
    if elapsed <= 0:
        return None
    share = Decimal(repr(elapsed))
    scale = Decimal(1) / share
    projected, bases = [], []
    for activity, figure in zip(activities, figures, strict=True):
        month = stored.get(activity.id)
        if month is None:
            projected.append(replace(figure, actual=figure.actual * scale))
            bases.append(_Basis("pro_rata"))
            continue
        total = quantities.forecast_units(activity, month.volume, month.aht_seconds)
        projected.append(replace(figure, actual=figure.actual + total * (1 - share)))
        bases.append(_Basis("forecast", month.forecast_id))
    return _judge(terms, projected), bases


def _figures(
    activity: ActivityFacts,
    period: Period,
    commitment: commitments.PeriodCommitment,
    actuals: dict[str, volumes.PeriodActuals],
) -> rules.ActivityFigures:
    totals = actuals.get(activity.id, volumes.NO_ACTUALS)
    actual = charter.actual_quantity(
        charter.BillingUnit(activity.billing_unit),
        charter.VolumeBasis(activity.volume_basis),
        totals.offered,
        totals.handled,
        totals.handled_seconds,
    )
    price = rules.price_in_force(
        [(row.effective_from, row.unit_price) for row in activity.prices], period.first_day
    )
    return rules.ActivityFigures(
        committed=commitment.committed,
        adjustments=commitment.adjustments,
        actual=actual,
        unit_price=price,
    )


def _line(
    activity: ActivityFacts,
    commitment: commitments.PeriodCommitment,
    evaluation: rules.ActivityShortfall,
    billed: bool,
    provisional: bool,
    projection: tuple[rules.ActivityShortfall, _Basis] | None,
) -> "ShortfallLine":
    """One activity's figures; under pooled evaluation they inform and `amount` is 0. While
    the period is open the status is `open` (the band is judged only once it has ended) and
    `projection` is the evaluation of the projected actual and what it was made from, once the
    period has started.

    The line has the response's fields, from the rule's figures to the API and the invoice."""
    bound = commitment.binding
    return ShortfallLine(
        activity_id=activity.id,
        activity_name=activity.name,
        billing_unit=activity.billing_unit,
        volume_basis=activity.volume_basis,
        binding_commitment_id=bound.version_id if bound else None,
        binding_received_at=bound.received_at if bound else None,
        latest_commitment_id=commitment.latest.version_id if commitment.latest else None,
        deadline=commitment.deadline,
        committed=evaluation.committed,
        adjustments=evaluation.adjustments,
        committed_effective=evaluation.committed_effective,
        actual=evaluation.actual,
        trigger=evaluation.trigger,
        floor=evaluation.floor,
        shortfall_units=evaluation.shortfall_units,
        unit_price=evaluation.unit_price,
        amount=evaluation.amount if billed else Decimal("0.00"),
        status=OPEN if provisional else evaluation.status.value,
        projected_actual=projection[0].actual if projection else None,
        projected_amount=(projection[0].amount if billed else None) if projection else None,
        projection=projection[1].kind if projection else None,
        projection_forecast_id=projection[1].forecast_id if projection else None,
        reason=evaluation.reason.value if evaluation.reason else None,
    )


_TWO_PLACES = {
    "amount",
    "unit_price",
    "committed_value",
    "actual_value",
    "trigger_value",
    "floor_value",
    "net_amount",
    "trigger_ratio",
    "floor_ratio",
    "upper_tolerance",
    "vat_rate",
}


def as_json(figures: dict[str, Any]) -> dict[str, Any]:
    """Figures as stored on an invoice: instants in RFC 3339, decimals as exact strings in the
    API's canonical form (money and ratios with at least two decimals), whichever database
    they were read from."""
    return {
        name: value
        if value is None or type(value) is str
        else str(canonical_decimal(value, 2 if name in _TWO_PLACES else 0))
        if type(value) is Decimal
        else _json_value(name, value)
        for name, value in figures.items()
    }


def _json_value(name: str, value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(canonical_decimal(value, 2 if name in _TWO_PLACES else 0))
    return value
