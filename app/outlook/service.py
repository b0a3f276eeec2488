"""Use cases of the outlook: compare an activity or a contract, score an activity's accuracy,
and the portfolio overview.

Nothing here fits a model. The comparisons and the scorecard queue the month forecasts they lack
(`forecasts.ondemand`, kept fresh by the nightly schedule) and say so (`forecast_pending`), then
read the rows (`comparison`). They never wait for a fit, so each is a plain sync read: the
route runs it in one worker thread hop with the end of its transaction (`core.routing`), where
run step by step from the loop each read cost a hop of its own. The overview reads stored
forecasts only and never fits: it is a plain read.
"""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy.orm import Session

from app.contracts import service as contracts
from app.core import checks
from app.core.auth import Principal
from app.core.errors import FieldError, ValidationFailed, failed
from app.core.fields import parse_period
from app.core.orm import utc_now
from app.core.pagination import PageParams, decode_cursor, encode_cursor
from app.core.periods import Period
from app.core.queries import period_range
from app.core.queue import TaskQueue
from app.forecasts import ondemand
from app.outlook import comparison, overview


@dataclass(frozen=True)
class ActivityComparison:
    activity: contracts.Activity
    contract: contracts.Contract
    rows: list[comparison.ComparisonRow]
    forecast_pending: bool
    """A month forecast the rows need is not stored yet: it has been queued."""


@dataclass(frozen=True)
class ContractComparison:
    contract: contracts.Contract
    period: Period
    lines: list[tuple[contracts.Activity, comparison.ComparisonRow]]
    forecast_pending: bool


@dataclass(frozen=True)
class Scorecard:
    activity: contracts.Activity
    rows: list[comparison.ScorecardRow]
    commitment: comparison.Accuracy
    provider: comparison.Accuracy
    forecast_pending: bool


def compare_activity(
    tasks: TaskQueue,
    session: Session,
    actor: Principal,
    activity_id: str,
    first: str,
    last: str,
) -> ActivityComparison:
    """Per period: commitments, provider forecast, actuals, P(below trigger), expected cost."""
    periods, activity, contract = _activity_over(session, actor, activity_id, first, last)
    rows, pending = _compare(tasks, session, activity, contract, periods)
    return ActivityComparison(activity, contract, rows, pending)


def _activity_over(
    session: Session, actor: Principal, activity_id: str, first: str, last: str
) -> tuple[list[Period], contracts.Activity, contracts.Contract]:
    """The periods of the query (checked first) and the activity with its contract."""
    periods = period_range(first, last)
    activity, contract = contracts.get_activity_and_contract(session, actor, activity_id)
    return periods, activity, contract


def compare_contract(
    tasks: TaskQueue, session: Session, actor: Principal, contract_id: str, period_text: str
) -> ContractComparison:
    """Every activity of a contract for one period, read together (one query per kind of
    row, whatever the number of activities)."""
    month = parse_period(period_text)
    contract = contracts.get_contract(session, actor, contract_id)
    activities = contracts.all_activities(session, actor, contract.id)
    missing = comparison.activities_needing_forecast(session, activities, contract, month)
    for activity in missing:
        _request(tasks, session, activity, [ondemand.Span(month, month)])
    rows = comparison.compare_period(session, activities, contract, month)
    return ContractComparison(
        contract, month, [(activity, rows[activity.id]) for activity in activities], bool(missing)
    )


def _compare(
    tasks: TaskQueue,
    session: Session,
    activity: contracts.Activity,
    contract: contracts.Contract,
    periods: list[Period],
) -> tuple[list[comparison.ComparisonRow], bool]:
    """Queue the month forecasts the open periods lack (of every activity of the pool when a
    period is pooled), then compare with what is stored; True if some were lacking."""
    members = comparison.pool_members(session, activity, contract, periods)
    pending = False
    for member in members:
        missing = comparison.periods_needing_forecast(session, member, contract, periods)
        if missing:
            _request(tasks, session, member, [ondemand.Span(missing[0], missing[-1])])
            pending = True
    rows: list[comparison.ComparisonRow] = comparison.compare(session, activity, contract, periods)
    return rows, pending


def score_activity(
    tasks: TaskQueue,
    session: Session,
    actor: Principal,
    activity_id: str,
    first: str,
    last: str,
) -> Scorecard:
    """Bias and MAPE of the binding commitments and of the provider's forecasts made as of the
    same deadlines, over closed periods: who forecasts better."""
    periods, activity, contract = _activity_over(session, actor, activity_id, first, last)
    cutoffs = comparison.forecast_cutoffs(session, activity, contract, periods)
    if cutoffs:
        _request(
            tasks,
            session,
            activity,
            [ondemand.Span(period, period, deadline.date()) for period, deadline in cutoffs],
        )
    rows, committed, provider = comparison.scorecard(session, activity, contract, periods)
    return Scorecard(activity, rows, committed, provider, bool(cutoffs))


def _request(
    tasks: TaskQueue, session: Session, activity: contracts.Activity, spans: list[ondemand.Span]
) -> None:
    """Queue the month forecasts of `spans`, counting the contacts the outlook compares with
    the commitment."""
    volume = comparison.forecast_volume(activity)
    ondemand.request_month_forecasts(session, tasks, activity.id, spans, volume)


# The portfolio overview


@dataclass(frozen=True)
class OverviewFilter:
    client_id: str | None = None
    status: str | None = None
    min_probability: float | None = None

    def admits(self, position: overview.ContractPosition) -> bool:
        if self.client_id is not None and position.contract.client_id != self.client_id:
            return False
        if self.status is not None and position.status != self.status:
            return False
        if self.min_probability is None:
            return True
        probability = position.probability_below_trigger
        return probability is not None and probability >= self.min_probability


@dataclass
class CurrencyTotals:
    """Sums over every contract the filters admit, not only the page."""

    contracts: int = 0
    committed_value: Decimal = Decimal("0.00")
    provider_forecast_value: Decimal | None = Decimal("0.00")
    """None once a priced activity has no stored forecast: a partial sum would mislead."""
    actual_value: Decimal = Decimal("0.00")
    expected_shortfall_amount: Decimal = Decimal("0.00")
    invoiced_net_amount: Decimal = Decimal("0.00")

    def add(self, position: overview.ContractPosition) -> None:
        money = comparison.money_totals([activity.row for activity in position.activities])
        self.contracts += 1
        self.committed_value += money.committed_value
        forecast = comparison.forecast_value([activity.row for activity in position.activities])
        if forecast is None or self.provider_forecast_value is None:
            self.provider_forecast_value = None
        else:
            self.provider_forecast_value += forecast
        self.actual_value += money.actual_value
        self.expected_shortfall_amount += position.expected_shortfall_amount or 0
        if position.invoice is not None:
            self.invoiced_net_amount += position.invoice.net_amount


@dataclass(frozen=True)
class Overview:
    period: Period
    positions: list[overview.ContractPosition]
    next_cursor: str | None
    totals: dict[str, CurrencyTotals]


def portfolio(
    session: Session,
    actor: Principal,
    period_text: str,
    filters: OverviewFilter,
    page: PageParams,
) -> Overview:
    """Every contract in force in the period that the key may see, with its position, largest
    expected shortfall first; totals per currency over all the contracts the filters admit."""
    month = parse_period(period_text)
    after = _overview_cursor(page.after) if page.after else None
    scope = actor.scoped_client_id
    in_force = [
        contract
        for contract in contracts.contracts_in_force(
            session, month.first_day, month.next().first_day
        )
        if scope is None or contract.client_id == scope
    ]
    admitted = [
        position
        for position in overview.positions(session, in_force, month, utc_now())
        if filters.admits(position)
    ]
    totals: dict[str, CurrencyTotals] = defaultdict(CurrencyTotals)
    for position in admitted:
        totals[position.contract.currency].add(position)
    remaining = [p for p in admitted if after is None or p.sort_key > after]
    shown = remaining[: page.limit]
    next_cursor = None
    if len(remaining) > page.limit:
        amount, contract_id = shown[-1].sort_key
        next_cursor = encode_cursor(f"{amount}|{contract_id}")
    return Overview(month, shown, next_cursor, dict(sorted(totals.items())))


def check_overview_query(
    session: Session, actor: Principal, raw: checks.RawRequest
) -> list[FieldError]:
    """A cursor of another list (valid as a cursor, not as this list's), for the query's 422
    too: it is named with the other bad parameters."""
    cursor = raw.query.get("cursor")
    if not cursor:
        return []
    try:
        _overview_cursor(decode_cursor(cursor))
    except ValidationFailed as refused:
        return list(refused.errors)
    return []


def _overview_cursor(after: str) -> tuple[Decimal, str]:
    """The sort key of the last position of the previous page."""
    amount, _, contract_id = after.partition("|")
    try:
        return Decimal(amount), contract_id
    except InvalidOperation:
        raise failed(
            [FieldError("query", "cursor", "not a cursor returned by a previous page")]
        ) from None
