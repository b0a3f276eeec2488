"""The forecasting task: plain data in, plain data out.

It runs in a worker process (never on the event loop) and pickles nothing but dicts, lists and
numpy arrays, so that a distributed engine (a Celery, Dask or Ray worker) could run the very
same function later.
"""

from datetime import date
from typing import Any

import pandas as pd

from app.forecasts.results import output_of


def run_forecast(payload: dict[str, Any]) -> dict[str, Any]:
    """Forecast one activity.

    `payload`: intervals (dict of column lists: interval_start as ISO strings in UTC, offered,
    handled, aht_seconds), timezone, interval_minutes, holiday_country, and the request
    (granularity, start, end, method, levels, history_end, volume, special_days as dicts).
    Returns `results.output_of` the engine's result, or `{"error": {...}}` for a request the
    history cannot serve. Errors travel as data: the library's exceptions carry fields that
    would not survive pickling back from a worker.
    """
    # Imported here, in the worker: the statistics stack (statsmodels, Stan) costs the API
    # process memory and start-up time it never needs.
    from models import (
        ActivitySeries,
        ForecastInputError,
        ForecastRequest,
        InsufficientHistory,
        SpecialDay,
        forecast,
    )

    intervals = pd.DataFrame(payload["intervals"])
    intervals["interval_start"] = pd.to_datetime(intervals["interval_start"], utc=True)
    series = ActivitySeries(
        intervals=intervals,
        timezone=payload["timezone"],
        interval_minutes=payload["interval_minutes"],
        holiday_country=payload["holiday_country"],
    )
    request = ForecastRequest(
        granularity=payload["granularity"],
        start=date.fromisoformat(payload["start"]),
        end=date.fromisoformat(payload["end"]),
        method=payload["method"],
        levels=tuple(payload["levels"]),
        history_end=date.fromisoformat(payload["history_end"]) if payload["history_end"] else None,
        volume=payload["volume"],
        special_days=tuple(
            SpecialDay(
                day=date.fromisoformat(day["day"]),
                kind=day["kind"],
                multiplier=day.get("multiplier"),
            )
            for day in payload["special_days"]
        ),
    )
    try:
        result = forecast(series, request)
    except ForecastInputError as exc:
        return {"error": {"kind": "input", "field": exc.field, "message": str(exc)}}
    except InsufficientHistory as exc:
        return {
            "error": {
                "kind": "history",
                "field": "history",
                "message": str(exc),
                "minimum_open_days": exc.minimum_open_days,
                "available_open_days": exc.available_open_days,
            }
        }
    return output_of(result, request.granularity)
