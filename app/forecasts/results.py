"""The one mapping of a forecast's result, from the engine to the stored run to the response.

A result crosses three shapes: the engine's `ForecastResult` becomes plain data in the worker
(`output_of`, so that it survives pickling back and could travel through any task queue), the
plain data becomes a stored run with its points (`new_run`), and a stored run becomes the
response (`forecast_out`). A new field of the result is added in these three functions (and as
a column), and nowhere else.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from app.forecasts import schemas
from app.forecasts.tables import ForecastPoint, ForecastRun

if TYPE_CHECKING:
    from models import ForecastResult
    from models.selection import Selection


def output_of(result: "ForecastResult", granularity: str) -> dict[str, Any]:
    """The engine's result as plain data: method, backtest (list of dicts), points (list of
    dicts with ISO period_start) and samples (month totals as a list of lists, or None)."""
    points = result.points.copy()
    points["period_start"] = points["period_start"].map(lambda ts: ts.isoformat())
    return {
        "method": result.method,
        "backtest": [score.__dict__ for score in result.backtest],
        "selection": _selection(result.selection),
        "assumptions": [
            {**assumption.__dict__, "day": assumption.day.isoformat()}
            for assumption in result.assumptions
        ],
        "points": points.to_dict(orient="records"),
        "samples": (
            result.samples.round(1).tolist()
            if result.samples is not None and granularity == "month"
            else None
        ),
    }


def _selection(selection: "Selection | None") -> dict[str, Any] | None:
    if selection is None:
        return None
    return {
        "best": selection.best,
        "members": list(selection.members),
        "rule": selection.rule,
        "margins": [margin.__dict__ for margin in selection.margins],
    }


def new_run(
    activity_id: str,
    request: schemas.ForecastCreate,
    output: dict[str, Any],
    created_by_key_id: str | None,
) -> tuple[ForecastRun, list[ForecastPoint]]:
    """The run and points to store for the worker's `output` of `request`."""
    levels = sorted(set(request.levels))
    run = ForecastRun(
        activity_id=activity_id,
        granularity=request.granularity,
        start=request.start,
        end=request.end,
        method_requested=request.method,
        method=output["method"],
        levels=levels,
        history_end=request.history_end,
        volume=request.volume,
        backtest=[
            {name: _json_number(value) for name, value in score.items()}
            for score in output["backtest"]
        ],
        selection=output["selection"],
        assumptions=output["assumptions"],
        samples=output["samples"],
        created_by_key_id=created_by_key_id,
    )
    return run, [_point(row, levels) for row in output["points"]]


def _point(row: dict[str, Any], levels: list[int]) -> ForecastPoint:
    """A row of the engine's contract frame (`mean`, `lo-80`, `hi-80`, ...) as a stored point,
    whose bounds keep the API's names (`lower_80`, `upper_80`, ...)."""
    aht = row.get("aht_seconds")
    return ForecastPoint(
        period_start=datetime.fromisoformat(row["period_start"]),
        volume=_quantity(row["mean"]),
        bounds={
            f"{side}_{level}": str(_quantity(row[f"{column}-{level}"]))
            for level in levels
            for side, column in (("lower", "lo"), ("upper", "hi"))
        },
        aht_seconds=_quantity(aht) if aht else None,
    )


def _quantity(value: float) -> Decimal:
    """Model output as an exact decimal to the thousandth: forecasts are estimates, but what is
    stored and compared downstream must not change between reads."""
    return Decimal(repr(float(value))).quantize(Decimal("0.001"))


def _json_number(value: Any) -> Any:
    """A backtest score as JSON allows it: NaN and infinities (a model that could not be
    scored) become null, which PostgreSQL's JSON type requires."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class StoredForecast:
    """A forecast as stored, with the contract's time zone its local periods are read in."""

    run: ForecastRun
    points: Sequence[ForecastPoint]
    timezone: ZoneInfo


def forecast_out(stored: StoredForecast) -> schemas.ForecastOut:
    """A run as the API shows it, period starts in the contract's local time."""
    run, timezone = stored.run, stored.timezone
    return schemas.ForecastOut(
        id=run.id,
        activity_id=run.activity_id,
        granularity=run.granularity,
        start=run.start,
        end=run.end,
        method_requested=run.method_requested,
        method=run.method,
        levels=run.levels,
        history_end=run.history_end,
        volume=run.volume,
        backtest=[schemas.CandidateScoreOut(**score) for score in run.backtest],
        selection=None if run.selection is None else schemas.SelectionOut(**run.selection),
        assumptions=[schemas.DayAssumptionOut(**item) for item in run.assumptions or []],
        points=[_point_out(point, run.levels, timezone) for point in stored.points],
        created_at=run.created_at,
    )


def _point_out(
    point: ForecastPoint, levels: list[int], timezone: ZoneInfo
) -> schemas.ForecastPointOut:
    bounds = point.bounds
    return schemas.ForecastPointOut(
        period_start=point.period_start.astimezone(timezone),
        volume=point.volume,
        lower_80=bounds.get("lower_80"),
        upper_80=bounds.get("upper_80"),
        lower_95=bounds.get("lower_95"),
        upper_95=bounds.get("upper_95"),
        intervals={
            str(level): {"lower": bounds[f"lower_{level}"], "upper": bounds[f"upper_{level}"]}
            for level in levels
        },
        aht_seconds=point.aht_seconds,
    )
