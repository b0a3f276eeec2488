"""Use cases of the outlook: compare an activity or a contract, score an activity's accuracy.

Each first asks the forecasting pool for the month forecasts it lacks (`forecasts.ondemand`),
then reads the rows (`comparison`). The reads run in threads: these use cases are async only
because the forecasts they may wait for are fitted in worker processes.
"""

from dataclasses import dataclass

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.contracts import service as contracts
from app.core.auth import Principal
from app.core.fields import parse_period
from app.core.periods import Period
from app.core.queries import period_range
from app.forecasts import ondemand
from app.forecasts.pool import ForecastPool
from app.outlook import comparison


@dataclass(frozen=True)
class ActivityComparison:
    activity: contracts.Activity
    contract: contracts.Contract
    rows: list[comparison.ComparisonRow]


@dataclass(frozen=True)
class ContractComparison:
    contract: contracts.Contract
    period: Period
    lines: list[tuple[contracts.Activity, comparison.ComparisonRow]]


@dataclass(frozen=True)
class Scorecard:
    activity: contracts.Activity
    rows: list[comparison.ScorecardRow]
    commitment: comparison.Accuracy
    provider: comparison.Accuracy


async def compare_activity(
    pool: ForecastPool,
    session: Session,
    actor: Principal,
    activity_id: str,
    first: str,
    last: str,
) -> ActivityComparison:
    """Per period: commitments, provider forecast, actuals, P(below trigger), expected cost."""
    periods, activity, contract = await _activity_over(session, actor, activity_id, first, last)
    rows = await _compare(pool, session, actor, activity, contract, periods)
    return ActivityComparison(activity, contract, rows)


async def _activity_over(
    session: Session, actor: Principal, activity_id: str, first: str, last: str
) -> tuple[list[Period], contracts.Activity, contracts.Contract]:
    """The periods of the query (checked first) and the activity with its contract."""
    periods = period_range(first, last)
    activity, contract = await run_in_threadpool(
        contracts.get_activity_and_contract, session, actor, activity_id
    )
    return periods, activity, contract


async def compare_contract(
    pool: ForecastPool, session: Session, actor: Principal, contract_id: str, period_text: str
) -> ContractComparison:
    """Every activity of a contract for one period."""
    month = parse_period(period_text)
    contract = await run_in_threadpool(contracts.get_contract, session, actor, contract_id)
    activities = await run_in_threadpool(contracts.all_activities, session, actor, contract.id)
    lines = []
    for activity in activities:
        [row] = await _compare(pool, session, actor, activity, contract, [month])
        lines.append((activity, row))
    return ContractComparison(contract, month, lines)


async def _compare(
    pool: ForecastPool,
    session: Session,
    actor: Principal,
    activity: contracts.Activity,
    contract: contracts.Contract,
    periods: list[Period],
) -> list[comparison.ComparisonRow]:
    """Forecast the open periods that lack a month forecast, then compare."""
    missing = await run_in_threadpool(
        comparison.periods_needing_forecast, session, activity, contract, periods
    )
    if missing:
        await _forecast(pool, session, actor, activity, [ondemand.Span(missing[0], missing[-1])])
    rows: list[comparison.ComparisonRow] = await run_in_threadpool(
        comparison.compare, session, activity, contract, periods
    )
    return rows


async def score_activity(
    pool: ForecastPool,
    session: Session,
    actor: Principal,
    activity_id: str,
    first: str,
    last: str,
) -> Scorecard:
    """Bias and MAPE of the binding commitments and of the provider's forecasts made as of the
    same deadlines, over closed periods: who forecasts better."""
    periods, activity, contract = await _activity_over(session, actor, activity_id, first, last)
    cutoffs = await run_in_threadpool(
        comparison.forecast_cutoffs, session, activity, contract, periods
    )
    await _forecast(
        pool,
        session,
        actor,
        activity,
        [ondemand.Span(period, period, deadline.date()) for period, deadline in cutoffs],
    )
    rows, committed, provider = await run_in_threadpool(
        comparison.scorecard, session, activity, contract, periods
    )
    return Scorecard(activity, rows, committed, provider)


async def _forecast(
    pool: ForecastPool,
    session: Session,
    actor: Principal,
    activity: contracts.Activity,
    spans: list[ondemand.Span],
) -> None:
    """Make the month forecasts of `spans` (if any), counting the contacts the outlook compares
    with the commitment."""
    if spans:
        await ondemand.make_month_forecasts(
            pool, session, actor, activity.id, spans, comparison.forecast_volume(activity)
        )
