"""Use cases of the staffing API: size an interval or evaluate a staffing, by Erlang C or A.

The maths is `app.staffing.erlang`; this module turns validated request decimals into its
float arguments and its results into the response.
"""

import math
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.contracts import service as contracts
from app.core import checks
from app.core.auth import Principal
from app.core.errors import FieldError, failed, field_errors_from
from app.core.wording import with_article
from app.forecasts import service as forecasts
from app.forecasts.results import StoredForecast
from app.staffing import erlang, schemas
from app.staffing.schemas import MAX_AGENTS, MAX_OFFERED_LOAD, StaffingModel


def size(data: schemas.StaffingSizingRequest) -> schemas.StaffingOut:
    """Fewest agents meeting the service-level target and the occupancy cap."""
    load = _offered_load(data.volume, data.interval_minutes, data.aht_seconds, data.max_occupancy)
    if data.model is StaffingModel.ERLANG_A:
        assert data.patience_seconds is not None, "the schema requires it for erlang_a"
        result = erlang.size_erlang_a(
            volume=float(data.volume),
            interval_minutes=data.interval_minutes,
            aht_seconds=float(data.aht_seconds),
            service_level_target=float(data.service_level_target),
            answer_time_seconds=float(data.answer_time_seconds),
            patience_seconds=float(data.patience_seconds),
            max_occupancy=float(data.max_occupancy),
            shrinkage=float(data.shrinkage),
        )
    else:
        result = erlang.size_erlang_c(
            volume=float(data.volume),
            interval_minutes=data.interval_minutes,
            aht_seconds=float(data.aht_seconds),
            service_level_target=float(data.service_level_target),
            answer_time_seconds=float(data.answer_time_seconds),
            max_occupancy=float(data.max_occupancy),
            shrinkage=float(data.shrinkage),
        )
    return _out(result, load, data.model)


def evaluate(data: schemas.StaffingEvaluationRequest) -> schemas.StaffingOut:
    """What a given number of agents achieves."""
    load = _offered_load(data.volume, data.interval_minutes, data.aht_seconds)
    if data.model is StaffingModel.ERLANG_A:
        assert data.patience_seconds is not None, "the schema requires it for erlang_a"
        result = erlang.evaluate_erlang_a(
            agents=data.agents,
            volume=float(data.volume),
            interval_minutes=data.interval_minutes,
            aht_seconds=float(data.aht_seconds),
            answer_time_seconds=float(data.answer_time_seconds),
            patience_seconds=float(data.patience_seconds),
            shrinkage=float(data.shrinkage),
        )
    else:
        result = erlang.evaluate_erlang_c(
            agents=data.agents,
            volume=float(data.volume),
            interval_minutes=data.interval_minutes,
            aht_seconds=float(data.aht_seconds),
            answer_time_seconds=float(data.answer_time_seconds),
            shrinkage=float(data.shrinkage),
        )
    return _out(result, load, data.model)


def _offered_load(
    volume: Decimal,
    interval_minutes: int,
    aht_seconds: Decimal,
    max_occupancy: Decimal = Decimal(1),
) -> float:
    """The interval's offered load in erlangs, refused by name when sizing it would take more
    agents than a request may search (the searches take about one step per agent)."""
    problems = _load_problems(volume, interval_minutes, aht_seconds, max_occupancy)
    if problems:
        raise failed(problems)
    return float(volume * aht_seconds / (interval_minutes * 60))


def _load_problems(
    volume: Decimal, interval_minutes: int, aht_seconds: Decimal, max_occupancy: Decimal
) -> list[FieldError]:
    load = volume * aht_seconds / (interval_minutes * 60)
    if load > MAX_OFFERED_LOAD:
        reason = (
            f"the offered load (volume × aht_seconds / interval) is {load:,.0f} erlangs; at "
            f"most {MAX_OFFERED_LOAD:,} can be sized"
        )
        return [FieldError("body", "volume", reason)]
    if load / max_occupancy > MAX_AGENTS:
        reason = (
            f"with an offered load of {load:,.0f} erlangs, a cap of {max_occupancy} needs "
            f"more than {MAX_AGENTS:,} agents"
        )
        return [FieldError("body", "max_occupancy", reason)]
    return []


def check_interval(session: Session, actor: Principal, raw: checks.RawRequest) -> list[FieldError]:
    """The offered-load bounds of a one-interval request whose schema failed elsewhere (a huge
    volume is named with a missing answer time); reads no stored data."""
    fields = checks.salvage(schemas.StaffingSizingRequest, raw.body)
    if not {"volume", "interval_minutes", "aht_seconds"} <= fields.keys():
        return []
    return _load_problems(
        fields["volume"],
        fields["interval_minutes"],
        fields["aht_seconds"],
        fields.get("max_occupancy", Decimal(1)),
    )


def _out(result: erlang.StaffingResult, load: float, model: StaffingModel) -> schemas.StaffingOut:
    # The float results are rounded and turned into decimals by the response fields' types.
    return schemas.StaffingOut.model_validate(
        {
            "agents": result.agents,
            "service_level": result.service_level,
            "asa_seconds": result.asa_seconds if math.isfinite(result.asa_seconds) else None,
            "occupancy": result.occupancy,
            "fte": result.fte,
            "abandon_rate": result.abandon_rate,
            "offered_load": load,
            "model": model,
        }
    )


def check_forecast_staffing(
    session: Session, actor: Principal, raw: checks.RawRequest
) -> list[FieldError]:
    """What the stored forecast refuses (its kind, a quantile it has not), for the query's
    422 too."""
    stored = forecasts.get_forecast(session, actor, raw.path["forecast_id"])
    quantile = checks.salvage(schemas.ForecastStaffingQuery, raw.query).get("quantile", "volume")
    return _forecast_problems(stored, quantile)


def _forecast_problems(stored: StoredForecast, quantile: str) -> list[FieldError]:
    run, points = stored.run, stored.points
    problems = []
    if run.granularity != "interval" or run.volume != "offered":
        what = with_article(f"{run.granularity} forecast of {run.volume} contacts")
        reason = (
            f"is {what}; staffing sizes the offered traffic of each interval: it needs an"
            " interval forecast of offered contacts"
        )
        problems.append(FieldError("path", "forecast_id", reason))
    bounds = sorted(points[0].bounds) if points else []
    if quantile != "volume" and quantile not in bounds:
        has = f"its bounds are {', '.join(bounds)}" if bounds else "it has no bounds"
        reason = f"this forecast has no {quantile} bound ({has}); volume is always available"
        problems.append(FieldError("query", "quantile", reason))
    return problems


def forecast_staffing(
    session: Session,
    actor: Principal,
    forecast_id: str,
    targets: dict[str, Any],
    quantile: schemas.Quantile,
) -> schemas.ForecastStaffingOut:
    """Agents and FTE per interval of an interval forecast, sized for `targets`, on the
    forecast volume or one of its bounds (staffing for risk), with daily agent-hours."""
    stored = forecasts.get_forecast(session, actor, forecast_id)
    run, points, timezone = stored.run, stored.points, stored.timezone
    activity = contracts.get_activity(session, actor, run.activity_id)
    problems = _forecast_problems(stored, quantile)
    if problems:
        raise failed(problems)
    model = _sizing_request(targets, Decimal(0), Decimal(1), activity.interval_minutes).model
    intervals = []
    for point in points:
        volume = point.volume if quantile == "volume" else Decimal(point.bounds[quantile])
        aht = point.aht_seconds
        if volume == 0 or not aht:
            sized = _nobody(model)
        else:
            sized = size(_sizing_request(targets, volume, aht, activity.interval_minutes))
        intervals.append(
            schemas.ForecastStaffingInterval(
                **sized.model_dump(),
                period_start=point.period_start.astimezone(timezone),
                volume=volume,
                aht_seconds=aht,
            )
        )
    return schemas.ForecastStaffingOut(
        forecast_id=run.id,
        activity_id=run.activity_id,
        interval_minutes=activity.interval_minutes,
        quantile=quantile,
        model=model,
        intervals=intervals,
        days=_daily_hours(intervals, activity.interval_minutes),
    )


def _sizing_request(
    targets: dict[str, Any], volume: Decimal, aht: Decimal, interval_minutes: int
) -> schemas.StaffingSizingRequest:
    """The sizing request of one interval; the targets' errors are named as query fields."""
    try:
        return schemas.StaffingSizingRequest(
            **targets, volume=volume, aht_seconds=aht, interval_minutes=interval_minutes
        )
    except ValidationError as exc:
        raise failed(field_errors_from(exc.errors(), location="query")) from None


def _nobody(model: StaffingModel) -> schemas.StaffingOut:
    """An interval with no forecast contact needs no agent."""
    return schemas.StaffingOut(
        agents=0,
        service_level=Decimal(1),
        asa_seconds=Decimal(0),
        occupancy=Decimal(0),
        fte=Decimal(0),
        abandon_rate=Decimal(0) if model is StaffingModel.ERLANG_A else None,
        offered_load=Decimal(0),
        model=model,
    )


def _daily_hours(
    intervals: list[schemas.ForecastStaffingInterval], interval_minutes: int
) -> list[schemas.ForecastStaffingDay]:
    """Agent-hours and FTE-hours per local day."""
    hours = Decimal(interval_minutes) / 60
    days: dict[date, tuple[Decimal, Decimal]] = {}
    for interval in intervals:
        day = interval.period_start.date()
        agent_hours, fte_hours = days.get(day, (Decimal(0), Decimal(0)))
        days[day] = (agent_hours + interval.agents * hours, fte_hours + interval.fte * hours)
    return [
        schemas.ForecastStaffingDay(day=day, agent_hours=agent, fte_hours=fte)
        for day, (agent, fte) in sorted(days.items())
    ]
