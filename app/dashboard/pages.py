"""What each dashboard page shows, gathered through the domains' services (read only, from
stored forecasts: a page never fits a model) and shaped into charts."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.billing.reporting import service as invoices
from app.contracts import service as contracts
from app.core.auth import Principal
from app.core.orm import utc_now
from app.core.periods import Period, periods_between
from app.dashboard import charts
from app.dashboard.formatting import short_month
from app.dashboard.labels import FR
from app.forecasts import service as forecasts
from app.outlook import comparison
from app.staffing import service as staffing
from app.staffing.schemas import ForecastStaffingInterval
from app.volumes import service as volumes
from app.volumes.aggregation import Granularity

MONTHS_BEFORE, MONTHS_AFTER = 9, 2
INTRADAY_DAYS = 28
_BLUE, _ORANGE, _RED, _GREY = "#1f5fa8", "#d9822b", "#c0392b", "#7f8c8d"


@dataclass(frozen=True)
class ActivityMonths:
    activity: contracts.Activity
    rows: list[comparison.ComparisonRow]
    chart: charts.Chart


@dataclass(frozen=True)
class ContractPage:
    contract: contracts.Contract
    periods: list[Period]
    activities: list[ActivityMonths]
    invoices: dict[Period, invoices.Invoice]


def _units(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _band(
    activity: contracts.Activity, row: comparison.ComparisonRow, share: Decimal = Decimal(1)
) -> tuple[float, float] | None:
    """The forecast's 80 % interval in billing units (times `share` of the month)."""
    forecast = row.provider_forecast
    if forecast is None or "lower_80" not in forecast.bounds:
        return None
    low, high = (
        comparison.forecast_units(activity, Decimal(forecast.bounds[name]), forecast.aht_seconds)
        * share
        for name in ("lower_80", "upper_80")
    )
    return float(low), float(high)


def contract_page(
    session: Session, actor: Principal, contract_id: str, period: Period
) -> ContractPage:
    """Month by month around `period`, per activity: commitments, forecast band, actuals,
    trigger; and the invoice of each month."""
    contract = contracts.get_contract(session, actor, contract_id)
    activities = contracts.all_activities(session, actor, contract.id)
    periods = periods_between(shift(period, -MONTHS_BEFORE), shift(period, MONTHS_AFTER))
    now = utc_now()
    pairs = [(activity, contract) for activity in activities]
    by_activity: dict[str, list[comparison.ComparisonRow]] = defaultdict(list)
    billed: dict[Period, invoices.Invoice] = {}
    for month in periods:
        for activity_id, row in comparison.compare_many(session, pairs, month, now).items():
            by_activity[activity_id].append(row)
        invoice = invoices.period_invoices(session, [contract.id], month).get(contract.id)
        if invoice is not None:
            billed[month] = invoice
    slots = [short_month(month) for month in periods]
    return ContractPage(
        contract,
        periods,
        [
            ActivityMonths(
                activity,
                by_activity[activity.id],
                _months_chart(activity, contract, slots, by_activity[activity.id]),
            )
            for activity in activities
        ],
        billed,
    )


def shift(period: Period, months: int) -> Period:
    index = period.year * 12 + period.month - 1 + months
    return Period(index // 12, index % 12 + 1)


def _months_chart(
    activity: contracts.Activity,
    contract: contracts.Contract,
    slots: list[str],
    rows: list[comparison.ComparisonRow],
) -> charts.Chart:
    trigger = [
        None if row.committed is None else float(row.committed * contract.trigger_ratio)
        for row in rows
    ]
    return charts.Chart(
        title=f"{activity.name} — {FR['months']}",
        slots=slots,
        bars=[float(row.actual) for row in rows],
        bar_label=FR["actual_month"],
        band=[_band(activity, row) for row in rows],
        band_label=f"{FR['forecast']} ({FR['band_80']})",
        lines=[
            charts.Line(FR["committed"], [_units(row.committed) for row in rows], _BLUE),
            charts.Line(
                FR["committed_latest"],
                [_units(row.committed_latest) for row in rows],
                _BLUE,
                dashed=True,
            ),
            charts.Line(FR["trigger"], trigger, _RED, dashed=True),
            charts.Line(
                FR["forecast"], [_units(row.provider_forecast_units) for row in rows], _ORANGE
            ),
        ],
    )


STAFFING_TARGETS: dict[str, Any] = {
    "service_level_target": Decimal("0.80"),
    "answer_time_seconds": Decimal(20),
    "shrinkage": Decimal("0.30"),
}
"""The usual French contact-centre target, 80 % of calls answered within 20 s, with 30 %
shrinkage: the page shows an example sizing, the API takes any target."""


@dataclass(frozen=True)
class ActivityPage:
    activity: contracts.Activity
    contract: contracts.Contract
    period: Period
    row: comparison.ComparisonRow
    daily: charts.Chart
    intraday: charts.Chart
    staffing: charts.Chart | None
    """Agents per interval of the first day of the newest interval forecast, if any."""


def activity_page(
    session: Session, actor: Principal, activity_id: str, period: Period
) -> ActivityPage:
    """This month day by day against the forecast band and the commitment's daily pace, and
    the intraday profile of the last four weeks."""
    activity, contract = contracts.get_activity_and_contract(session, actor, activity_id)
    now = utc_now()
    row = comparison.compare_many(session, [(activity, contract)], period, now)[activity.id]
    return ActivityPage(
        activity,
        contract,
        period,
        row,
        _daily_chart(session, actor, activity, row, period),
        _intraday_chart(session, actor, activity, contract, now),
        _staffing_chart(session, actor, activity),
    )


def _billed(activity: contracts.Activity, volume: volumes.VolumeRow) -> float:
    totals = volumes.PeriodActuals(
        volume.offered, volume.handled, Decimal(volume.handled) * (volume.aht_seconds or 0)
    )
    return float(comparison.actual_units(activity, totals))


def _daily_chart(
    session: Session,
    actor: Principal,
    activity: contracts.Activity,
    row: comparison.ComparisonRow,
    period: Period,
) -> charts.Chart:
    days = (period.next().first_day - period.first_day).days
    rows, _ = volumes.read_volumes(
        session,
        actor,
        activity.id,
        period.first_day.isoformat(),
        period.next().first_day.isoformat(),
        Granularity.DAY,
        days,
        None,
    )
    by_day = {volume.period_start.date(): _billed(activity, volume) for volume in rows}
    share = Decimal(1) / days
    pace = None if row.committed is None else float(row.committed * share)
    forecast = (
        None if row.provider_forecast_units is None else float(row.provider_forecast_units * share)
    )
    dates = [period.first_day + timedelta(days=i) for i in range(days)]
    return charts.Chart(
        title=FR["daily_actuals"],
        slots=[str(day.day) for day in dates],
        bars=[by_day.get(day) for day in dates],
        bar_label=FR["actual_month"],
        band=[_band(activity, row, share)] * days,
        band_label=f"{FR['forecast']} ({FR['band_80']})",
        lines=[
            charts.Line(FR["daily_pace"], [pace] * days, _BLUE, dashed=True),
            charts.Line(FR["forecast"], [forecast] * days, _ORANGE),
        ],
    )


def _intraday_chart(
    session: Session,
    actor: Principal,
    activity: contracts.Activity,
    contract: contracts.Contract,
    now: datetime,
) -> charts.Chart:
    timezone = ZoneInfo(contract.timezone)
    start = now - timedelta(days=INTRADAY_DAYS)
    rows, _ = volumes.read_volumes(
        session,
        actor,
        activity.id,
        start.isoformat(),
        now.isoformat(),
        Granularity.INTERVAL,
        INTRADAY_DAYS * 24 * 60 // activity.interval_minutes,
        None,
    )
    totals: dict[str, float] = defaultdict(float)
    for volume in rows:
        totals[volume.period_start.astimezone(timezone).strftime("%H:%M")] += _billed(
            activity, volume
        )
    slots = sorted(totals)
    return charts.Chart(
        title=FR["intraday"],
        slots=slots,
        bars=[totals[slot] / INTRADAY_DAYS for slot in slots],
        bar_label=FR["actual_month"],
    )


def _staffing_chart(
    session: Session, actor: Principal, activity: contracts.Activity
) -> charts.Chart | None:
    forecast_id = forecasts.latest_interval_forecast_id(session, activity.id)
    if forecast_id is None:
        return None
    sized = staffing.forecast_staffing(session, actor, forecast_id, STAFFING_TARGETS, "volume")
    if not sized.intervals:
        return None
    first_day = sized.intervals[0].period_start.date()
    shown = _open_hours([i for i in sized.intervals if i.period_start.date() == first_day])
    return charts.Chart(
        title=f"{FR['staffing']} — {first_day.strftime('%d/%m/%Y')}",
        slots=[interval.period_start.strftime("%H:%M") for interval in shown],
        bars=[float(interval.agents) for interval in shown],
        bar_label=FR["agents"],
        lines=[charts.Line(FR["fte"], [float(interval.fte) for interval in shown], _ORANGE)],
    )


def _open_hours(
    intervals: list[ForecastStaffingInterval],
) -> list[ForecastStaffingInterval]:
    """The day from its first staffed interval to its last: the closed night hours would
    otherwise take most of the chart, and the lines would slope down to them."""
    staffed = [index for index, interval in enumerate(intervals) if interval.agents > 0]
    if not staffed:
        return intervals
    return intervals[staffed[0] : staffed[-1] + 1]
