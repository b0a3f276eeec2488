"""The portfolio overview: every contract's position for one month, in a few queries.

Each activity's figures are its comparison row (`comparison.compare_many`, the same code as the
per-activity and per-contract comparisons), read from stored forecasts only: a GET never fits a
model, and an activity without a stored month forecast says so. A pooled contract is judged on
money (charter §3): its pooled position adds the activities' simulated totals valued at their
prices, sample by sample, and once the period is closed applies the charter rule itself.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.billing import rules
from app.billing.reporting import service as invoices
from app.contracts import service as contracts
from app.core import charter
from app.core.periods import Period, is_period_closed, period_bounds
from app.outlook import comparison, risk

_PERCENT = Decimal("0.01")


@dataclass(frozen=True)
class ActivityPosition:
    activity: contracts.ActivityFacts
    row: comparison.ComparisonRow
    forecast_to_date: Decimal | None
    """The forecast pro rata of the time elapsed (month forecasts are what is stored), to the
    thousandth of a unit like the other estimates."""
    pace_pct: Decimal | None
    """Actual to date / forecast to date × 100."""


@dataclass(frozen=True)
class PooledPosition:
    committed_value: Decimal | None
    provider_forecast_value: Decimal | None
    actual_value: Decimal | None
    probability_below_trigger: float | None
    expected_shortfall_amount: Decimal | None
    status: str


@dataclass(frozen=True)
class ContractPosition:
    contract: contracts.Contract
    activities: list[ActivityPosition]
    pooled: PooledPosition | None
    status: str
    probability_below_trigger: float | None
    expected_shortfall_amount: Decimal | None
    invoice: invoices.Invoice | None

    @property
    def sort_key(self) -> tuple[Decimal, str]:
        """Largest expected shortfall first, then by id (stable pages)."""
        return (-(self.expected_shortfall_amount or Decimal(0)), self.contract.id)


def positions(
    session: Session, contract_list: Sequence[contracts.Contract], period: Period, now: datetime
) -> list[ContractPosition]:
    """The positions of `contract_list` (already scoped to the caller) for `period`. The
    terms in force are read once for the rows and the contracts' judgements; what depends
    only on a contract's time zone (the share of the month elapsed) is computed once per
    zone."""
    activities = contracts.activity_rows(session, [contract.id for contract in contract_list])
    contract_of = {contract.id: contract for contract in contract_list}
    pairs = [(activity, contract_of[activity.contract_id]) for activity in activities]
    in_force = contracts.terms_for(session, contract_list, period)
    rows = comparison.compare_many(session, pairs, period, now, in_force)
    period_invoices = invoices.period_invoices(session, list(contract_of), period)
    elapsed = {
        zone: _elapsed_share(period, ZoneInfo(zone), now)
        for zone in {contract.timezone for contract in contract_list}
    }
    by_contract: dict[str, list[ActivityPosition]] = {contract.id: [] for contract in contract_list}
    for activity, contract in pairs:
        by_contract[contract.id].append(
            _activity_position(activity, rows[activity.id], elapsed[contract.timezone])
        )
    return sorted(
        (
            _contract_position(
                contract,
                comparison.contract_terms(in_force[contract.id]),
                by_contract[contract.id],
                period,
                now,
                period_invoices.get(contract.id),
            )
            for contract in contract_list
        ),
        key=lambda position: position.sort_key,
    )


def _elapsed_share(period: Period, timezone: ZoneInfo, now: datetime) -> Decimal:
    start, end = period_bounds(period, timezone)
    if now <= start:
        return Decimal(0)
    if now >= end:
        return Decimal(1)
    return Decimal((now - start).total_seconds()) / Decimal((end - start).total_seconds())


def _activity_position(
    activity: contracts.ActivityFacts, row: comparison.ComparisonRow, elapsed: Decimal
) -> ActivityPosition:
    to_date = None
    if row.provider_forecast_units is not None:
        to_date = risk.round_units(row.provider_forecast_units * elapsed)
    pace = None
    if to_date is not None and to_date > 0:
        pace = (row.actual / to_date * 100).quantize(_PERCENT)
    return ActivityPosition(activity, row, to_date, pace)


def _contract_position(
    contract: contracts.Contract,
    terms: rules.ContractTerms,
    activities: list[ActivityPosition],
    period: Period,
    now: datetime,
    invoice: invoices.Invoice | None,
) -> ContractPosition:
    closed = is_period_closed(period, ZoneInfo(contract.timezone), now)
    pooled = None
    if terms.evaluation == charter.Evaluation.POOLED:
        pooled, activities = _pooled(terms, activities, closed)
        probability = pooled.probability_below_trigger
        amount = pooled.expected_shortfall_amount
        status = pooled.status
    else:
        rows = [position.row for position in activities]
        probabilities = [p for p in (r.probability_below_trigger for r in rows) if p is not None]
        probability = max(probabilities, default=None)
        amounts = [a for a in (r.expected_shortfall_amount for r in rows) if a is not None]
        amount = sum(amounts, Decimal("0.00")) if amounts else None
        status = _worst([row.status for row in rows]) if closed else "open"
    return ContractPosition(contract, activities, pooled, status, probability, amount, invoice)


_SEVERITY = ["under_band", "over_band", "within_band"]


def _worst(statuses: list[str]) -> str:
    """A per-activity contract's status: under the band if any activity is, and so on."""
    return min(statuses, key=_SEVERITY.index, default="within_band")


def _pooled(
    terms: rules.ContractTerms, activities: list[ActivityPosition], closed: bool
) -> tuple[PooledPosition, list[ActivityPosition]]:
    """The pool in money, over the committed activities. Closed: the charter rule on the
    realised figures, so the amount is the one the shortfall bills. Open: the comparison's
    pooled outlook (`comparison.pooled_rows`), whose activity rows replace the activities'
    own, as in the per-contract comparison."""
    rows = [position.row for position in activities]
    if closed:
        result = rules.evaluate_pooled(
            terms,
            [
                rules.ActivityFigures(row.committed, row.adjustments, row.actual, row.unit_price)
                for row in rows
            ],
        )
        valued = result.reason is None
        return PooledPosition(
            committed_value=result.committed_value if valued else None,
            provider_forecast_value=comparison.forecast_value(rows),
            actual_value=result.actual_value if valued else None,
            probability_below_trigger=1.0 if result.status == rules.BandStatus.UNDER_BAND else 0.0,
            expected_shortfall_amount=result.amount,
            status=result.status.value,
        ), activities
    pool, pooled_rows = comparison.pooled_rows(
        terms, [(position.activity, position.row) for position in activities]
    )
    return PooledPosition(**pool.__dict__, status="open"), [
        replace(position, row=pooled_rows[position.activity.id]) for position in activities
    ]
