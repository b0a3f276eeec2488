"""Every model family by its alias: the names the API, backtests and benchmarks use."""

from __future__ import annotations

from models.arima import ARIMA
from models.base import Forecaster
from models.ensemble import Ensemble
from models.ets import ETS
from models.prophet import Prophet
from models.snaive import SeasonalNaive

MODELS: dict[str, type[Forecaster]] = {
    model.alias: model for model in (SeasonalNaive, ETS, ARIMA, Prophet, Ensemble)
}
