"""Comparison of the client's commitments with the provider's forecast and the actuals.

Before the deadline both sides want to know how realistic a commitment is and what it may cost:
per period, the binding (and latest) commitment, the provider's month forecast with its
interval, the probability that actual activity falls below the trigger and the expected billed
shortfall. After the period, the realised figures replace the estimates.

The month forecasts come from stored runs of the contacts the contract bills (offered, or
handled: `forecast_volume`); the outlook's service first asks the forecasting pool for the
missing ones (`periods_needing_forecast`), then builds the rows here.
"""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.orm import Session

from app.billing import rules, shortfall
from app.commitments.service import PeriodCommitment, resolve_periods
from app.contracts import service as contracts
from app.contracts.service import Activity, ActivityFacts, Contract
from app.core import charter
from app.core.orm import utc_now
from app.core.periods import Period, is_period_closed, period_bounds
from app.forecasts import service as forecasts
from app.forecasts.quantities import forecast_units as forecast_units
from app.forecasts.quantities import forecast_volume as forecast_volume
from app.forecasts.quantities import sample_units as sample_units
from app.outlook import risk
from app.volumes import service as volumes


@dataclass(frozen=True)
class ComparisonRow:
    period: Period
    deadline: datetime
    billing_unit: str
    committed: Decimal | None
    binding_commitment_id: str | None
    committed_latest: Decimal | None
    latest_commitment_id: str | None
    adjustments: Decimal
    provider_forecast: forecasts.MonthForecast | None
    provider_forecast_units: Decimal | None
    actual: Decimal
    deviation_pct: Decimal | None
    probability_below_trigger: float | None
    expected_shortfall_units: Decimal | None
    expected_shortfall_amount: Decimal | None
    unit_price: Decimal | None
    status: str
    pooled_shortfall_amount: Decimal | None = None


def periods_needing_forecast(
    session: Session, activity: Activity, contract: Contract, periods: list[Period]
) -> list[Period]:
    """Open or future periods with no stored month forecast."""
    timezone = ZoneInfo(contract.timezone)
    now = utc_now()
    return [
        period
        for period in periods
        if not is_period_closed(period, timezone, now)
        and forecasts.month_forecast(
            session, activity.id, period, timezone, forecast_volume(activity)
        )
        is None
    ]


def activities_needing_forecast(
    session: Session, activities: Sequence[Activity], contract: Contract, period: Period
) -> list[Activity]:
    """The activities of a contract with no stored month forecast of `period` if it is open or
    future (`periods_needing_forecast` for many activities, in one batch read)."""
    timezone = ZoneInfo(contract.timezone)
    if is_period_closed(period, timezone, utc_now()):
        return []
    found = forecasts.month_forecasts(
        session,
        [
            forecasts.MonthForecastWanted(activity.id, forecast_volume(activity), timezone)
            for activity in activities
        ],
        period,
    )
    return [activity for activity in activities if activity.id not in found]


def pool_members(
    session: Session, activity: Activity, contract: Contract, periods: list[Period]
) -> list[Activity]:
    """The activities whose forecasts the comparison of `activity` over `periods` reads: all
    of the contract's when one of the open periods is pooled (the pool is judged as a whole),
    else the activity alone."""
    timezone, now = ZoneInfo(contract.timezone), utc_now()
    pooled = any(
        _pooled(contracts.terms_of_period(session, contract, period))
        for period in periods
        if not is_period_closed(period, timezone, now)
    )
    return contracts.activities_of(session, [contract.id]) if pooled else [activity]


def _pooled(in_force: contracts.Terms) -> bool:
    return in_force.evaluation == charter.Evaluation.POOLED


def compare(
    session: Session, activity: Activity, contract: Contract, periods: list[Period]
) -> list[ComparisonRow]:
    """The activity's row of each period (`compare_period`)."""
    return [
        compare_period(session, [activity], contract, period)[activity.id] for period in periods
    ]


def compare_period(
    session: Session, activities: Sequence[Activity], contract: Contract, period: Period
) -> dict[str, ComparisonRow]:
    """The rows of one period for activities of one contract, in one batch read (by activity
    id): a closed period's row is what the shortfall bills, an open pooled period's carries
    the pool's outlook (`pooled_rows`, over every activity of the pool)."""
    now = utc_now()
    pairs = [(activity, contract) for activity in activities]
    if is_period_closed(period, ZoneInfo(contract.timezone), now):
        rows = compare_many(session, pairs, period, now)
        billed = shortfall.compute(session, contract, period, now)
        return {a.id: _as_billed(rows[a.id], billed, a) for a in activities}
    in_force = contracts.terms_of_period(session, contract, period)
    if not _pooled(in_force):
        return compare_many(session, pairs, period, now)
    members = contracts.activities_of(session, [contract.id])
    found = compare_many(session, [(member, contract) for member in members], period, now)
    lines = [(member, found[member.id]) for member in members]
    pooled = pooled_rows(contract_terms(in_force), lines)[1]
    return {activity.id: pooled[activity.id] for activity in activities}


def compare_many(
    session: Session,
    pairs: Sequence[tuple[ActivityFacts, Contract]],
    period: Period,
    now: datetime,
    in_force: Mapping[str, contracts.Terms] | None = None,
) -> dict[str, ComparisonRow]:
    """The comparison row of `period` for many activities in a few queries, keyed by activity
    id: the one path of the per-activity comparison and of the portfolio overview, so that
    their figures cannot differ. A closed period's row is the activity's own rule result:
    `compare` replaces it with what the shortfall bills (a pool's status and amount), and the
    overview values a closed pool itself with the same rule (`overview._pooled`). `in_force`:
    the contracts' terms of `period` when the caller has read them (the overview needs them
    too); they are read once and shared with the commitments' resolution."""
    unique = list({contract.id: contract for _, contract in pairs}.values())
    if in_force is None:
        in_force = contracts.terms_for(session, unique, period)
    committed = resolve_periods(session, pairs, period, in_force)
    found = forecasts.month_forecasts(
        session,
        [
            forecasts.MonthForecastWanted(
                activity.id, forecast_volume(activity), ZoneInfo(contract.timezone)
            )
            for activity, contract in pairs
        ],
        period,
    )
    totals = _actuals_to_date(session, pairs, period, now)
    judged = {
        contract.id: (
            contract_terms(in_force[contract.id]),
            is_period_closed(period, ZoneInfo(contract.timezone), now),
        )
        for contract in unique
    }
    cases = {
        activity.id: case
        for activity, contract in pairs
        if (case := _open_case(activity, *judged[contract.id], committed[activity.id], found))
    }
    estimates = dict(zip(cases, risk.outlooks(list(cases.values())), strict=True))
    return {
        activity.id: _row(
            activity,
            *judged[contract.id],
            period,
            committed[activity.id],
            found.get(activity.id),
            actual_units(activity, totals.get(activity.id, volumes.NO_ACTUALS)),
            estimates.get(activity.id),
        )
        for activity, contract in pairs
    }


def _open_case(
    activity: ActivityFacts,
    terms: rules.ContractTerms,
    closed: bool,
    figures: PeriodCommitment,
    found: dict[str, forecasts.MonthForecast],
) -> risk.Case | None:
    """What an open period's estimate is made of: the forecast's simulated totals in billing
    units, set against the band limits of the commitment (None without either)."""
    forecast = found.get(activity.id)
    if closed or figures.committed is None or forecast is None:
        return None
    trigger, floor = rules.band_limits(terms, figures.committed, figures.adjustments)
    return sample_units(activity, forecast.samples, forecast.aht_seconds), trigger, floor


def contract_terms(in_force: contracts.Terms) -> rules.ContractTerms:
    """The charter terms of a period (the amendment in force then) as the rule takes them."""
    return rules.ContractTerms(
        trigger_ratio=in_force.trigger_ratio,
        floor_ratio=in_force.floor_ratio,
        upper_tolerance=in_force.upper_tolerance,
        evaluation=charter.Evaluation(in_force.evaluation),
        vat_rate=in_force.vat_rate,
    )


def _actuals_to_date(
    session: Session, pairs: Sequence[tuple[ActivityFacts, Contract]], period: Period, now: datetime
) -> dict[str, volumes.PeriodActuals]:
    """Totals of the period up to now, one query per time zone (a period's instants depend on
    the zone)."""
    by_zone: dict[str, list[str]] = defaultdict(list)
    for activity, contract in pairs:
        by_zone[contract.timezone].append(activity.id)
    totals: dict[str, volumes.PeriodActuals] = {}
    for zone, activity_ids in by_zone.items():
        start, end = period_bounds(period, ZoneInfo(zone))
        totals.update(volumes.period_actuals(session, activity_ids, start, min(end, now)))
    return totals


def _as_billed(
    row: ComparisonRow, billed: shortfall.Shortfall, activity: Activity
) -> ComparisonRow:
    """A closed period shows what the shortfall rule bills, from the very computation that
    invoices it: a pooled contract is judged on its pooled value, so the activity's own
    units are not billed and the row carries the pool's status and amount."""
    line = next(line for line in billed.lines if line.activity_id == activity.id)
    if billed.pooled is None:
        status, units = line.status, line.shortfall_units
    else:
        status, units = billed.pooled.status, Decimal(0)
    has_commitment = line.committed is not None
    return replace(
        row,
        status=status,
        probability_below_trigger=(1.0 if status == "under_band" else 0.0)
        if has_commitment
        else None,
        expected_shortfall_units=units if has_commitment else None,
        expected_shortfall_amount=line.amount
        if has_commitment and line.unit_price is not None
        else None,
        pooled_shortfall_amount=billed.pooled.amount if billed.pooled else None,
    )


@dataclass(frozen=True)
class PoolOutlook:
    """An open pooled period in money (charter §3), over the committed activities: work never
    committed to is outside the pool. None where it cannot be valued: a committed activity
    without a price, or (probability and amount) without a stored forecast with simulated
    totals."""

    committed_value: Decimal | None
    provider_forecast_value: Decimal | None
    actual_value: Decimal | None
    probability_below_trigger: float | None
    expected_shortfall_amount: Decimal | None


def pooled_rows(
    terms: rules.ContractTerms, lines: Sequence[tuple[ActivityFacts, ComparisonRow]]
) -> tuple[PoolOutlook, dict[str, ComparisonRow]]:
    """The pool's outlook and each activity's open row judged in it: the pool's probability,
    and its expected amount billed once for the contract (`pooled_shortfall_amount`), never
    the activity's own units. The one path of the comparisons and the overview."""
    pool = pool_outlook(terms, lines)
    return pool, {activity.id: _in_pool(row, pool) for activity, row in lines}


def _in_pool(row: ComparisonRow, pool: PoolOutlook) -> ComparisonRow:
    committed = row.committed is not None
    valued = committed and pool.expected_shortfall_amount is not None
    return replace(
        row,
        probability_below_trigger=pool.probability_below_trigger if committed else None,
        expected_shortfall_units=Decimal(0) if valued else None,
        expected_shortfall_amount=Decimal("0.00") if valued and row.unit_price else None,
        pooled_shortfall_amount=pool.expected_shortfall_amount,
    )


def pool_outlook(
    terms: rules.ContractTerms, lines: Sequence[tuple[ActivityFacts, ComparisonRow]]
) -> PoolOutlook:
    """P(A$ < trigger$) and the expected shortfall from the activities' simulated totals valued
    at their prices, sample i with sample i (the runs are independent simulations, so this
    treats the activities as independent)."""
    rows = [row for _, row in lines]
    pool = [(activity, row) for activity, row in lines if row.committed]
    if not pool or any(row.unit_price is None for _, row in pool):
        return PoolOutlook(None, forecast_value(rows), None, None, None)
    committed_value = sum((_effective(row) * (row.unit_price or 0) for _, row in pool), Decimal(0))
    actual_value = sum((row.actual * (row.unit_price or 0) for _, row in pool), Decimal(0))
    estimate = _simulated_pool(terms, pool, committed_value)
    return PoolOutlook(
        committed_value=rules.round_half_up(committed_value),
        provider_forecast_value=forecast_value(rows),
        actual_value=rules.round_half_up(actual_value),
        probability_below_trigger=estimate.probability_below_trigger if estimate else None,
        expected_shortfall_amount=(
            rules.round_half_up(estimate.expected_shortfall_units) if estimate else None
        ),
    )


def _effective(row: ComparisonRow) -> Decimal:
    return max(Decimal(0), (row.committed or Decimal(0)) - row.adjustments)


def _simulated_pool(
    terms: rules.ContractTerms,
    pool: list[tuple[ActivityFacts, ComparisonRow]],
    committed_value: Decimal,
) -> risk.Outlook | None:
    """None unless every committed activity has a stored forecast with simulated totals."""
    stored = [row.provider_forecast for _, row in pool]
    if any(forecast is None or len(forecast.samples) == 0 for forecast in stored):
        return None
    draws = min(len(forecast.samples) for forecast in stored if forecast is not None)
    values = np.zeros(draws)
    for activity, row in pool:
        forecast = row.provider_forecast
        assert forecast is not None and row.unit_price is not None
        units = sample_units(activity, forecast.samples, forecast.aht_seconds)
        values += units[:draws] * float(row.unit_price)
    return risk.outlook(
        values, committed_value * terms.trigger_ratio, committed_value * terms.floor_ratio
    )


def forecast_value(rows: Sequence[ComparisonRow]) -> Decimal | None:
    """Σ forecast × price over the priced activities, or None when one has no stored
    forecast."""
    values = [
        (row.provider_forecast_units, row.unit_price) for row in rows if row.unit_price is not None
    ]
    if any(units is None for units, _ in values):
        return None
    return rules.round_half_up(
        sum(((units or Decimal(0)) * price for units, price in values), Decimal(0))
    )


def actual_units(activity: ActivityFacts, totals: volumes.PeriodActuals) -> Decimal:
    return charter.actual_quantity(
        charter.BillingUnit(activity.billing_unit),
        charter.VolumeBasis(activity.volume_basis),
        totals.offered,
        totals.handled,
        totals.handled_seconds,
    )


def _row(
    activity: ActivityFacts,
    terms: rules.ContractTerms,
    closed: bool,
    period: Period,
    figures: PeriodCommitment,
    forecast: forecasts.MonthForecast | None,
    actual: Decimal,
    estimate: risk.Outlook | None,
) -> ComparisonRow:
    """A closed period is judged by the charter rule on its actual; an open one carries the
    `estimate` of its case (`_open_case`), made with every other activity's."""
    price = rules.price_in_force(
        [(row.effective_from, row.unit_price) for row in activity.prices], period.first_day
    )
    latest = figures.latest
    committed_latest = None
    if latest is not None:
        committed_latest = charter.committed_quantity(
            charter.BillingUnit(activity.billing_unit),
            latest.volume,
            latest.aht_seconds,
            activity.reference_aht_seconds,
        )
    forecast_total = (
        forecast_units(activity, forecast.volume, forecast.aht_seconds) if forecast else None
    )
    status, expected = "open", estimate
    if closed:
        evaluation = rules.evaluate_activity(
            terms, figures.committed, figures.adjustments, actual, price
        )
        status = evaluation.status.value
        if figures.committed is not None:
            expected = risk.realised(actual, evaluation.trigger, evaluation.shortfall_units)
    deviation = None
    if figures.committed is not None and forecast_total is not None:
        deviation = risk.deviation_pct(figures.committed, forecast_total)
    amount = None
    if expected is not None and price is not None:
        amount = rules.round_half_up(expected.expected_shortfall_units * price)
    return ComparisonRow(
        period=period,
        deadline=figures.deadline,
        billing_unit=activity.billing_unit,
        committed=figures.committed,
        binding_commitment_id=figures.binding.version_id if figures.binding else None,
        committed_latest=committed_latest,
        latest_commitment_id=latest.version_id if latest else None,
        adjustments=figures.adjustments,
        provider_forecast=forecast,
        provider_forecast_units=forecast_total,
        actual=actual,
        deviation_pct=deviation,
        probability_below_trigger=expected.probability_below_trigger if expected else None,
        expected_shortfall_units=expected.expected_shortfall_units if expected else None,
        expected_shortfall_amount=amount,
        unit_price=price,
        status=status,
    )


# Scorecard


@dataclass(frozen=True)
class ScorecardRow:
    period: Period
    deadline: datetime
    actual: Decimal
    committed: Decimal | None
    binding_commitment_id: str | None
    provider_forecast: Decimal | None
    provider_forecast_id: str | None
    committed_error_pct: Decimal | None
    provider_error_pct: Decimal | None


@dataclass(frozen=True)
class Accuracy:
    """Bias (mean signed error) and MAPE, in % of actuals, over the periods scored."""

    periods: int
    bias_pct: Decimal | None
    mape_pct: Decimal | None


def forecast_cutoffs(
    session: Session, activity: Activity, contract: Contract, periods: list[Period]
) -> list[tuple[Period, datetime]]:
    """Closed periods whose provider forecast as of the commitment deadline is not stored."""
    timezone = ZoneInfo(contract.timezone)
    missing = []
    for period in _closed(periods, timezone):
        deadline = _deadline(session, activity, contract, period)
        if (
            forecasts.month_forecast(
                session, activity.id, period, timezone, forecast_volume(activity), deadline.date()
            )
            is None
        ):
            missing.append((period, deadline))
    return missing


def _closed(periods: list[Period], timezone: ZoneInfo) -> list[Period]:
    now = utc_now()
    return [period for period in periods if is_period_closed(period, timezone, now)]


def _deadline(session: Session, activity: Activity, contract: Contract, period: Period) -> datetime:
    return resolve_periods(session, [(activity, contract)], period)[activity.id].deadline


def scorecard(
    session: Session, activity: Activity, contract: Contract, periods: list[Period]
) -> tuple[list[ScorecardRow], Accuracy, Accuracy]:
    """Who forecast better: the binding commitments, or the provider's forecasts made as of
    the same deadlines, against what actually happened."""
    timezone = ZoneInfo(contract.timezone)
    rows = []
    for period in _closed(periods, timezone):
        figures = resolve_periods(session, [(activity, contract)], period)[activity.id]
        start, end = period_bounds(period, timezone)
        totals = volumes.period_actuals(session, [activity.id], start, end)
        actual = actual_units(activity, totals.get(activity.id, volumes.NO_ACTUALS))
        forecast = forecasts.month_forecast(
            session,
            activity.id,
            period,
            timezone,
            forecast_volume(activity),
            figures.deadline.date(),
        )
        provider = (
            forecast_units(activity, forecast.volume, forecast.aht_seconds) if forecast else None
        )
        rows.append(
            ScorecardRow(
                period=period,
                deadline=figures.deadline,
                actual=actual,
                committed=figures.committed,
                binding_commitment_id=figures.binding.version_id if figures.binding else None,
                provider_forecast=provider,
                provider_forecast_id=forecast.forecast_id if forecast else None,
                committed_error_pct=_error_pct(figures.committed, actual),
                provider_error_pct=_error_pct(provider, actual),
            )
        )
    return (
        rows,
        _accuracy([row.committed_error_pct for row in rows]),
        _accuracy([row.provider_error_pct for row in rows]),
    )


def _error_pct(estimate: Decimal | None, actual: Decimal) -> Decimal | None:
    if estimate is None or actual == 0:
        return None
    return ((estimate - actual) / actual * 100).quantize(Decimal("0.01"))


def _accuracy(errors: list[Decimal | None]) -> Accuracy:
    scored = [error for error in errors if error is not None]
    if not scored:
        return Accuracy(0, None, None)
    count = Decimal(len(scored))
    return Accuracy(
        periods=len(scored),
        bias_pct=(sum(scored, Decimal(0)) / count).quantize(Decimal("0.01")),
        mape_pct=(sum((abs(e) for e in scored), Decimal(0)) / count).quantize(Decimal("0.01")),
    )


@dataclass(frozen=True)
class MoneyTotals:
    committed_value: Decimal
    provider_forecast_value: Decimal
    actual_value: Decimal
    expected_shortfall_amount: Decimal


def money_totals(rows: list[ComparisonRow]) -> MoneyTotals:
    """Σ quantity × price over the priced activities, rounded to the cent at the end; the
    expected shortfall of a closed pooled period is the pool's, billed once for the contract."""
    committed = forecast = actual = expected = Decimal(0)
    for row in rows:
        if row.unit_price is None:
            continue
        committed += (row.committed or 0) * row.unit_price
        forecast += (row.provider_forecast_units or 0) * row.unit_price
        actual += row.actual * row.unit_price
        expected += row.expected_shortfall_amount or 0
    pooled = {amount for row in rows if (amount := row.pooled_shortfall_amount) is not None}
    return MoneyTotals(
        committed_value=rules.round_half_up(committed),
        provider_forecast_value=rules.round_half_up(forecast),
        actual_value=rules.round_half_up(actual),
        expected_shortfall_amount=pooled.pop() if pooled else rules.round_half_up(expected),
    )
