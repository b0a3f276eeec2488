"""Plancher's forecasting library: pure numpy / pandas / statsmodels / prophet / holidays."""

from models.base import Forecaster
from models.contract import (
    ActivitySeries,
    CandidateScore,
    ForecastInputError,
    ForecastRequest,
    ForecastResult,
    InsufficientHistory,
    SpecialDay,
)
from models.engine import forecast
from models.registry import MODELS

__all__ = [
    "MODELS",
    "ActivitySeries",
    "CandidateScore",
    "ForecastInputError",
    "ForecastRequest",
    "ForecastResult",
    "Forecaster",
    "InsufficientHistory",
    "SpecialDay",
    "forecast",
]
