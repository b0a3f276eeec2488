"""Use cases of provider forecasts: making one (`create_forecast`), reading them, special days.

The CPU-heavy part (`tasks.run_forecast`) runs in a worker process of `pool.ForecastPool`; what
happens here is reading the history and the special days before it, and storing the run with
its points after it, each in a short transaction of its own.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from prometheus_client import Counter, Histogram
from sqlalchemy.orm import Session

from app.contracts import dependents
from app.contracts import service as contracts
from app.core import audit
from app.core.auth import Principal
from app.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from app.core.orm import utc_now
from app.core.periods import Period, local_midnight
from app.core.queue import FittingPool
from app.core.transactions import Transactions
from app.core.wording import counted
from app.forecasts import results, schemas
from app.forecasts.repository import ForecastRepository, PointRow
from app.forecasts.samples import FloatArray
from app.forecasts.tables import ForecastPoint, SpecialDay
from app.forecasts.tasks import run_forecast
from app.volumes import service as volumes

FORECAST_DURATION = Histogram(
    "plancher_forecast_duration_seconds",
    "Time to fit and predict one forecast (API, jobs, CLI and the outlook alike).",
    ["granularity"],
    buckets=(0.5, 1, 2, 5, 10, 20, 40, 80, 160, float("inf")),
)
FORECAST_FAILURES = Counter(
    "plancher_forecast_failures_total",
    "Forecasts that failed: refused by the models (ForecastRefused), timed out, or crashed.",
    ["granularity", "error"],
)

HISTORY_YEARS = 3
"""Years of history handed to the models: enough for two annual cycles and backtests."""


class ForecastRefused(ValidationFailed):
    """The history cannot serve the request (too little of it, or a request the models refuse);
    the problem names the field."""


async def create_forecast(
    transactions: Transactions,
    pool: FittingPool,
    actor: Principal,
    activity_id: str,
    request: schemas.ForecastCreate,
    on_stored: Callable[[Session, results.StoredForecast], None] | None = None,
) -> results.StoredForecast:
    """The forecast use case, the same for the API, the jobs, the CLI and the schedules: read
    the inputs in a short transaction, fit in a worker process with no transaction open and no
    connection held, store the run in a short write transaction (with `on_stored`'s writes,
    which may refuse the run by raising)."""
    inputs = await transactions.read(lambda session: _inputs(session, actor, activity_id, request))
    with FORECAST_DURATION.labels(request.granularity).time():
        try:
            output = await pool.run(run_forecast, inputs.payload)
            _raise_refusal(output)
        except Exception as error:
            FORECAST_FAILURES.labels(request.granularity, type(error).__name__).inc()
            raise
    return await transactions.write(
        lambda session: _store(session, actor, inputs, request, output, on_stored)
    )


@dataclass(frozen=True)
class _Inputs:
    activity_id: str
    timezone: ZoneInfo
    payload: dict[str, Any]


def _inputs(
    session: Session, actor: Principal, activity_id: str, request: schemas.ForecastCreate
) -> _Inputs:
    """The plain-data input of `tasks.run_forecast` for one activity: its history up to the cut,
    its calendar and special days, and the request."""
    activity, contract = contracts.get_activity_and_contract(session, actor, activity_id)
    timezone = ZoneInfo(contract.timezone)
    cut = request.history_end or (utc_now().astimezone(timezone).date() + timedelta(days=1))
    first = cut - timedelta(days=366 * HISTORY_YEARS)
    history = volumes.history_frame(
        session,
        activity.id,
        datetime(first.year, first.month, first.day, tzinfo=timezone),
        datetime(cut.year, cut.month, cut.day, tzinfo=timezone),
    )
    payload = {
        "intervals": {
            "interval_start": [ts.isoformat() for ts in history["interval_start"]],
            "offered": history["offered"].tolist(),
            "handled": history["handled"].tolist(),
            "aht_seconds": history["aht_seconds"].tolist(),
        },
        "timezone": contract.timezone,
        "interval_minutes": activity.interval_minutes,
        "holiday_country": contract.holiday_country,
        "granularity": request.granularity,
        "start": request.start.isoformat(),
        "end": request.end.isoformat(),
        "method": request.method,
        "levels": sorted(set(request.levels)),
        "history_end": request.history_end.isoformat() if request.history_end else None,
        "volume": request.volume,
        "special_days": [
            {
                "day": day.day.isoformat(),
                "kind": day.kind,
                "multiplier": float(day.multiplier) if day.multiplier is not None else None,
            }
            for day in ForecastRepository(session).special_days(activity.id)
        ],
    }
    return _Inputs(activity.id, timezone, payload)


def _raise_refusal(output: dict[str, Any]) -> None:
    """Turn an error the task reported into a problem naming the field."""
    error = output.get("error")
    if error is None:
        return
    # The engine's message may start with its field ("end: end … is before start …"); the
    # problem names the field apart, so the reason is the message alone.
    reason = error["message"].removeprefix(f"{error['field']}: ")
    raise ForecastRefused(
        f"The forecast cannot be made: {reason}.",
        errors=[FieldError("body", error["field"], reason)],
    )


def _store(
    session: Session,
    actor: Principal,
    inputs: _Inputs,
    request: schemas.ForecastCreate,
    output: dict[str, Any],
    on_stored: Callable[[Session, results.StoredForecast], None] | None,
) -> results.StoredForecast:
    run, points = results.new_run(inputs.activity_id, request, output, actor.key_id)
    ForecastRepository(session).add_run(run, points)
    audit.record(
        session,
        actor,
        "forecast.created",
        "forecast",
        run.id,
        {"activity_id": inputs.activity_id, "method": run.method, "granularity": run.granularity},
    )
    stored = results.StoredForecast(run, points, inputs.timezone)
    if on_stored is not None:
        on_stored(session, stored)
    return stored


def get_forecast(session: Session, actor: Principal, forecast_id: str) -> results.StoredForecast:
    """A run, its points and the contract's time zone (404 for another client's run)."""
    repository = ForecastRepository(session)
    run = repository.get_run(forecast_id)
    if run is None:
        raise NotFound(f"No forecast with id {forecast_id}.")
    _, contract = contracts.get_activity_and_contract(session, actor, run.activity_id)
    return results.StoredForecast(run, repository.points(run.id), ZoneInfo(contract.timezone))


# Special days


def add_special_day(
    session: Session, actor: Principal, activity_id: str, data: schemas.SpecialDayCreate
) -> SpecialDay:
    activity = contracts.get_activity(session, actor, activity_id)
    repository = ForecastRepository(session)
    if repository.special_day_on(activity.id, data.day) is not None:
        raise Conflict(f"{data.day} is already a special day of this activity; delete it first.")
    special = SpecialDay(
        activity_id=activity.id,
        day=data.day,
        kind=data.kind,
        multiplier=data.multiplier,
        reason=data.reason,
        created_by_key_id=actor.key_id,
    )
    repository.add(special)
    audit.record(
        session,
        actor,
        "special_day.created",
        "special_day",
        special.id,
        data.model_dump(mode="json"),
    )
    return special


def list_special_days(session: Session, actor: Principal, activity_id: str) -> list[SpecialDay]:
    activity = contracts.get_activity(session, actor, activity_id)
    return list(ForecastRepository(session).special_days(activity.id))


def delete_special_day(
    session: Session, actor: Principal, activity_id: str, special_day_id: str
) -> None:
    activity = contracts.get_activity(session, actor, activity_id)
    repository = ForecastRepository(session)
    special = repository.special_day(special_day_id)
    if special is None or special.activity_id != activity.id:
        raise NotFound(f"No special day with id {special_day_id} on this activity.")
    repository.delete(special)
    audit.record(
        session,
        actor,
        "special_day.deleted",
        "special_day",
        special_day_id,
        {"day": special.day.isoformat(), "kind": special.kind},
    )


@dataclass(frozen=True)
class MonthForecast:
    """The provider's forecast of one local month: total, bounds, AHT and simulated totals."""

    forecast_id: str
    volume: Decimal
    bounds: dict[str, str]
    aht_seconds: Decimal | None
    samples: FloatArray
    """Simulated totals of the month (floats: they only feed probabilities)."""


def latest_interval_forecast_id(session: Session, activity_id: str) -> str | None:
    """The newest interval forecast of offered contacts of an activity (what staffing sizes)."""
    return ForecastRepository(session).latest_run_id(activity_id, "interval", "offered")


def last_forecast_at(session: Session) -> datetime | None:
    """When the newest forecast was stored: dashboards alert when forecasts stop refreshing."""
    return ForecastRepository(session).newest_run_at()


def month_forecast(
    session: Session,
    activity_id: str,
    period: Period,
    timezone: ZoneInfo,
    volume: str,
    history_end: date | None = None,
) -> MonthForecast | None:
    """The newest stored month forecast of `volume` contacts in `period` (made as of
    `history_end` if given)."""
    first, last = period.first_day, period.next().first_day - timedelta(days=1)
    repository = ForecastRepository(session)
    run = repository.latest_month_run(activity_id, first, last, volume, history_end)
    if run is None:
        return None
    return _month_of(run.id, run.samples, repository.points(run.id), period, timezone)


@dataclass(frozen=True)
class MonthForecastWanted:
    """One activity of a batch read: which contacts its forecast must count, in which zone."""

    activity_id: str
    volume: str
    timezone: ZoneInfo


def month_forecasts(
    session: Session, wanted: Sequence[MonthForecastWanted], period: Period
) -> dict[str, MonthForecast]:
    """`month_forecast` for many activities in two queries (the overview reads every
    contract's), keyed by activity id; an activity without a stored forecast is absent."""
    first, last = period.first_day, period.next().first_day - timedelta(days=1)
    repository = ForecastRepository(session)
    runs = repository.latest_month_runs([item.activity_id for item in wanted], first, last)
    chosen = {
        item.activity_id: (item, runs[(item.activity_id, item.volume)])
        for item in wanted
        if (item.activity_id, item.volume) in runs
    }
    points = repository.points_of([run.id for _, run in chosen.values()])
    found = {}
    for activity_id, (item, run) in chosen.items():
        month = _month_of(run.id, run.samples, points[run.id], period, item.timezone)
        if month is not None:
            found[activity_id] = month
    return found


def _month_of(
    run_id: str,
    samples: FloatArray | Sequence[Sequence[float]] | None,
    points: Sequence[ForecastPoint | PointRow],
    period: Period,
    timezone: ZoneInfo,
) -> MonthForecast | None:
    """The point of `period` in a month run, with its simulated totals (as stored, or as
    given to a run not yet read back in this session)."""
    month_start = local_midnight(period.first_day, timezone)
    for index, point in enumerate(points):
        if point.period_start == month_start and samples is not None:
            return MonthForecast(
                forecast_id=run_id,
                volume=point.volume,
                bounds=point.bounds,
                aht_seconds=point.aht_seconds,
                samples=np.asarray(samples[index], dtype=np.float64),
            )
    return None


def forecast_on_grid(session: Session, scope: dependents.Scope) -> list[str]:
    """The stored interval forecasts an activity's grid change would misread: their points
    are the old grid's intervals, and staffing sizes each for the activity's interval length.
    (Day and month forecasts sum the history whatever its grid.)"""
    if not scope.activity_ids:
        return []
    return [
        f"{counted(count, 'interval forecast')} of activity {activity_id} from {first} to {last}"
        for activity_id, count, first, last in ForecastRepository(session).interval_runs(
            scope.activity_ids
        )
    ]
