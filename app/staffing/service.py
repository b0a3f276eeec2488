"""Use cases of the staffing API: size an interval or evaluate a staffing, by Erlang C or A.

The maths is `app.staffing.erlang`; this module turns validated request decimals into its
float arguments and its results into the response.
"""

import math
from decimal import Decimal

from app.core.errors import FieldError, failed
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
    load = volume * aht_seconds / (interval_minutes * 60)
    if load > MAX_OFFERED_LOAD:
        raise failed(
            [
                FieldError(
                    "body",
                    "volume",
                    f"the offered load (volume × aht_seconds / interval) is {load:,.0f} "
                    f"erlangs; at most {MAX_OFFERED_LOAD:,} can be sized",
                )
            ]
        )
    if load / max_occupancy > MAX_AGENTS:
        raise failed(
            [
                FieldError(
                    "body",
                    "max_occupancy",
                    f"with an offered load of {load:,.0f} erlangs, a cap of {max_occupancy} "
                    f"needs more than {MAX_AGENTS:,} agents",
                )
            ]
        )
    return float(load)


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
