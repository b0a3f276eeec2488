"""One conformance suite over the registry: every model, at every level it forecasts.

Two parts. The daily `Forecaster`s, with each of their test parameters, against the model
interface (fit, update, predict and its contract frame). Then every registered model (the
direct interval model included) through the engine, at every granularity it serves: the same
contract frame, nested whole-count bounds, configurable levels, reproducible output, samples
where the level has them, and a clear refusal where it does not serve. A model added to the
registry is covered by both parts without a line here.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any, get_args

import numpy as np
import pandas as pd
import pytest

from app.forecasts import schemas
from models import ForecastInputError, ForecastRequest, ForecastResult, forecast
from models.base import Forecaster, NotEnoughHistory
from models.contract import ActivitySeries, Method
from models.registry import MODELS, ActivitySetting, ModelSpec, build, candidates
from models.rendering import N_SAMPLES
from models.snaive import SeasonalNaive
from models.synthetic import generate_intervals
from models.validation import serves

from .conftest import VOICE, activity

CASES = [
    pytest.param(spec.forecaster, params, id=f"{alias}-{i}")
    for alias, spec in MODELS.items()
    if spec.forecaster is not None
    for i, params in enumerate(spec.forecaster.test_params())
]
HORIZON = 12


def _fitted(
    cls: type[Forecaster], params: dict[str, Any], y: pd.Series, X: pd.DataFrame
) -> Forecaster:
    return cls(**params).fit(y, X if cls.uses_exog else None)


def _future_exog(model: Forecaster, X: pd.DataFrame) -> pd.DataFrame | None:
    if not model.uses_exog:
        return None
    index = model.future_index(HORIZON)
    return pd.DataFrame(np.zeros((HORIZON, X.shape[1])), index=index, columns=X.columns)


@pytest.mark.parametrize(("cls", "params"), CASES)
def test_constructor_stores_hyperparameters_unchanged(
    cls: type[Forecaster], params: dict[str, Any]
) -> None:
    model = cls(**params)
    for name, value in params.items():
        assert getattr(model, name) is value


@pytest.mark.parametrize(("cls", "params"), CASES)
def test_alias_is_the_registry_key(cls: type[Forecaster], params: dict[str, Any]) -> None:
    assert MODELS[cls.alias].forecaster is cls


@pytest.mark.parametrize(("cls", "params"), CASES)
def test_fit_returns_self_and_leaves_inputs_untouched(
    cls: type[Forecaster],
    params: dict[str, Any],
    weekly_series: pd.Series,
    weekly_exog: pd.DataFrame,
) -> None:
    y, X = weekly_series.copy(), weekly_exog.copy()
    model = cls(**params)
    assert model.fit(y, X if cls.uses_exog else None) is model
    pd.testing.assert_series_equal(y, weekly_series)
    pd.testing.assert_frame_equal(X, weekly_exog)


@pytest.mark.parametrize(("cls", "params"), CASES)
def test_fitted_state_ends_with_underscore(
    cls: type[Forecaster],
    params: dict[str, Any],
    weekly_series: pd.Series,
    weekly_exog: pd.DataFrame,
) -> None:
    before = set(vars(cls(**params)))
    after = set(vars(_fitted(cls, params, weekly_series, weekly_exog)))
    assert before == set(params) | set(cls(**params).get_params())
    assert all(name.endswith("_") for name in after - before)


@pytest.mark.parametrize(("cls", "params"), CASES)
def test_predict_returns_the_contract_frame(
    cls: type[Forecaster],
    params: dict[str, Any],
    weekly_series: pd.Series,
    weekly_exog: pd.DataFrame,
) -> None:
    model = _fitted(cls, params, weekly_series, weekly_exog)
    frame = model.predict(HORIZON, _future_exog(model, weekly_exog))
    assert list(frame.columns) == ["mean", "lo-80", "hi-80", "lo-95", "hi-95"]
    assert frame.index.equals(model.future_index(HORIZON))
    assert frame.index[0] == weekly_series.index[-1] + weekly_series.index.freq


@pytest.mark.parametrize(("cls", "params"), CASES)
def test_intervals_are_nested_around_a_non_negative_mean(
    cls: type[Forecaster],
    params: dict[str, Any],
    weekly_series: pd.Series,
    weekly_exog: pd.DataFrame,
) -> None:
    model = _fitted(cls, params, weekly_series, weekly_exog)
    f = model.predict(HORIZON, _future_exog(model, weekly_exog))
    assert (f["lo-95"] >= 0).all()
    assert (f["lo-95"] <= f["lo-80"]).all()
    assert (f["lo-80"] <= f["mean"]).all()
    assert (f["mean"] <= f["hi-80"]).all()
    assert (f["hi-80"] <= f["hi-95"]).all()
    assert (f["hi-95"] > f["lo-95"]).all()


@pytest.mark.parametrize(("cls", "params"), CASES)
def test_levels_are_configurable(
    cls: type[Forecaster],
    params: dict[str, Any],
    weekly_series: pd.Series,
    weekly_exog: pd.DataFrame,
) -> None:
    model = _fitted(cls, params, weekly_series, weekly_exog)
    frame = model.predict(HORIZON, _future_exog(model, weekly_exog), levels=(50, 99))
    assert list(frame.columns) == ["mean", "lo-50", "hi-50", "lo-99", "hi-99"]


@pytest.mark.parametrize(("cls", "params"), CASES)
def test_mean_is_near_the_series_level(
    cls: type[Forecaster],
    params: dict[str, Any],
    weekly_series: pd.Series,
    weekly_exog: pd.DataFrame,
) -> None:
    model = _fitted(cls, params, weekly_series, weekly_exog)
    mean = model.predict(HORIZON, _future_exog(model, weekly_exog))["mean"]
    assert 0.8 * weekly_series.mean() < mean.mean() < 1.2 * weekly_series.mean()


@pytest.mark.parametrize(("cls", "params"), CASES)
def test_update_on_a_longer_series_moves_the_forecast_origin(
    cls: type[Forecaster],
    params: dict[str, Any],
    weekly_series: pd.Series,
    weekly_exog: pd.DataFrame,
) -> None:
    exog = weekly_exog if cls.uses_exog else None
    model = cls(**params).fit(weekly_series.iloc[:40], None if exog is None else exog.iloc[:40])
    model.update(weekly_series, exog)
    frame = model.predict(HORIZON, _future_exog(model, weekly_exog))
    assert frame.index[0] == weekly_series.index[-1] + weekly_series.index.freq


@pytest.mark.parametrize(("cls", "params"), CASES)
def test_predict_before_fit_raises(cls: type[Forecaster], params: dict[str, Any]) -> None:
    with pytest.raises(RuntimeError, match="not fitted"):
        cls(**params).predict(HORIZON)


@pytest.mark.parametrize(("cls", "params"), CASES)
def test_too_short_a_series_raises_with_the_minimum(
    cls: type[Forecaster], params: dict[str, Any], weekly_series: pd.Series
) -> None:
    model = cls(**params)
    short = weekly_series.iloc[: model.min_length() - 1]
    with pytest.raises(NotEnoughHistory, match=f"at least {model.min_length()} observations"):
        model.fit(short)


@pytest.mark.parametrize(("cls", "params"), CASES)
def test_negative_counts_are_rejected(
    cls: type[Forecaster], params: dict[str, Any], weekly_series: pd.Series
) -> None:
    with pytest.raises(ValueError, match="no negative values"):
        cls(**params).fit(weekly_series - 1000)


@pytest.mark.parametrize(("cls", "params"), CASES)
def test_an_irregular_series_is_rejected(
    cls: type[Forecaster], params: dict[str, Any], weekly_series: pd.Series
) -> None:
    irregular = weekly_series.drop(weekly_series.index[[3, 11, 17]])
    irregular.index.freq = None
    with pytest.raises(ValueError, match="regular series"):
        cls(**params).fit(irregular)


@pytest.mark.parametrize(("cls", "params"), CASES)
def test_a_model_declared_exogenous_follows_its_regressors(
    cls: type[Forecaster],
    params: dict[str, Any],
    weekly_series: pd.Series,
    weekly_exog: pd.DataFrame,
) -> None:
    """`exogenous` in the registry is what the model does: its forecast moves with the future
    regressors, and a model without it ignores them."""
    exogenous = "exogenous" in MODELS[cls.alias].capabilities
    assert cls.uses_exog is exogenous
    model = cls(**params).fit(weekly_series, weekly_exog)
    quiet = pd.DataFrame(0.0, index=model.future_index(HORIZON), columns=weekly_exog.columns)
    school = quiet.assign(school=1.0)
    mean, moved = model.predict(HORIZON, quiet)["mean"], model.predict(HORIZON, school)["mean"]
    assert (not np.allclose(mean, moved)) is exogenous


@pytest.mark.parametrize("alias", candidates())
def test_a_candidate_is_configured_for_the_activity(alias: str) -> None:
    """Candidates take the activity's season, and its country when they declare `holidays`."""
    model = build(alias, ActivitySetting(season_length=5, country="DE", trend=False))
    params = model.get_params()
    assert params.get("season_length", 5) == 5
    assert ("DE" in params.values()) is ("holidays" in MODELS[alias].capabilities)


# --------------------------------------------------------------------------------------------
# Every registered model through the engine, at every granularity it serves.

HISTORY_END = date(2024, 12, 30)  # a Monday; 17 weeks of history, with Christmas in it
ENDS: dict[str, date] = {
    "day": HISTORY_END + timedelta(days=13),
    "interval": HISTORY_END + timedelta(days=2),
    "month": date(2025, 1, 31),
}
SERVED = [
    pytest.param(alias, granularity, id=f"{alias}-{granularity}")
    for alias in MODELS
    for granularity in ENDS
    if serves(alias, granularity)
]
REFUSED = [
    pytest.param(alias, granularity, id=f"{alias}-{granularity}")
    for alias in MODELS
    for granularity in ENDS
    if not serves(alias, granularity)
]
CONTRACT = ["period_start", "mean", "lo-80", "hi-80", "lo-95", "hi-95", "aht_seconds"]


@pytest.fixture(scope="module")
def months_of_voice() -> ActivitySeries:
    return activity(
        generate_intervals(VOICE, date(2024, 9, 2), HISTORY_END - timedelta(days=1), seed=7)
    )


def _request(alias: str, granularity: str, levels: tuple[int, ...] = (80, 95)) -> ForecastRequest:
    return ForecastRequest(
        granularity,  # type: ignore[arg-type]
        HISTORY_END,
        ENDS[granularity],
        method=alias,  # type: ignore[arg-type]
        levels=levels,
        history_end=HISTORY_END,
    )


_RESULTS: dict[tuple[str, str], ForecastResult] = {}


def _result(series: ActivitySeries, alias: str, granularity: str) -> ForecastResult:
    """Each model and granularity forecast once for the module (a fit can take a second)."""
    if (alias, granularity) not in _RESULTS:
        _RESULTS[alias, granularity] = forecast(series, _request(alias, granularity))
    return _RESULTS[alias, granularity]


@pytest.mark.parametrize(("alias", "granularity"), SERVED)
def test_the_result_is_the_contract_frame_of_the_model(
    months_of_voice: ActivitySeries, alias: str, granularity: str
) -> None:
    result = _result(months_of_voice, alias, granularity)
    assert result.method == alias
    assert list(result.points.columns) == CONTRACT
    assert result.points["period_start"].dt.tz is not None


@pytest.mark.parametrize(("alias", "granularity"), SERVED)
def test_bounds_are_nested_whole_counts_around_a_non_negative_mean(
    months_of_voice: ActivitySeries, alias: str, granularity: str
) -> None:
    p = _result(months_of_voice, alias, granularity).points
    assert (p["mean"] >= 0).all() and p["mean"].sum() > 0
    assert (p["lo-95"] <= p["lo-80"]).all() and (p["lo-80"] <= p["mean"]).all()
    assert (p["mean"] <= p["hi-80"]).all() and (p["hi-80"] <= p["hi-95"]).all()
    bounds = p[CONTRACT[2:-1]].to_numpy()
    np.testing.assert_array_equal(bounds, np.round(bounds))
    assert (p["aht_seconds"][p["mean"] > 0] > 0).all()


@pytest.mark.parametrize(("alias", "granularity"), SERVED)
def test_samples_come_with_day_and_month_forecasts_only(
    months_of_voice: ActivitySeries, alias: str, granularity: str
) -> None:
    result = _result(months_of_voice, alias, granularity)
    if granularity == "interval":
        assert result.samples is None
    else:
        assert result.samples is not None
        assert result.samples.shape == (len(result.points), N_SAMPLES)
        assert (result.samples >= 0).all()


@pytest.mark.parametrize(("alias", "granularity"), SERVED)
def test_the_same_request_gives_the_same_forecast(
    months_of_voice: ActivitySeries, alias: str, granularity: str
) -> None:
    again = forecast(months_of_voice, _request(alias, granularity))
    first = _result(months_of_voice, alias, granularity)
    pd.testing.assert_frame_equal(again.points, first.points)
    assert again.backtest == first.backtest


@pytest.mark.parametrize(("alias", "granularity"), [p for p in SERVED if p.values[1] != "month"])
def test_requested_levels_name_the_bound_columns(
    months_of_voice: ActivitySeries, alias: str, granularity: str
) -> None:
    result = forecast(months_of_voice, _request(alias, granularity, levels=(90, 50)))
    assert list(result.points.columns) == [
        "period_start",
        "mean",
        "lo-50",
        "hi-50",
        "lo-90",
        "hi-90",
        "aht_seconds",
    ]


@pytest.mark.parametrize(("alias", "granularity"), REFUSED)
def test_a_granularity_the_model_does_not_forecast_is_refused(
    months_of_voice: ActivitySeries, alias: str, granularity: str
) -> None:
    with pytest.raises(ForecastInputError, match=f"the {alias} model forecasts intervals") as e:
        forecast(months_of_voice, _request(alias, granularity))
    assert e.value.field == "method"


# --------------------------------------------------------------------------------------------
# The engine reads its candidates from the registry.


def test_auto_backtests_the_registry_s_candidates_short_history_permitting(
    months_of_voice: ActivitySeries, monkeypatch: pytest.MonkeyPatch
) -> None:
    reason = "a second weekly naive, kept away from short histories"
    extra = ModelSpec(
        "weekly-naive",
        frozenset({"day"}),
        frozenset(),
        SeasonalNaive,
        lambda activity: SeasonalNaive(season_length=activity.season_length),
        short_history_reason=reason,
    )
    monkeypatch.setitem(MODELS, extra.alias, extra)
    with_extra = forecast(months_of_voice, _request("auto", "day"))
    aliases = [score.alias for score in with_extra.backtest]
    assert aliases == [*candidates(), "ensemble"]
    assert aliases[-2] == "weekly-naive"
    skipped = {s.alias: s.skipped_reason for s in with_extra.backtest if s.wape is None}
    assert skipped == {"prophet": MODELS["prophet"].short_history_reason, "weekly-naive": reason}

    monkeypatch.setitem(
        MODELS,
        extra.alias,
        dataclasses.replace(
            extra, capabilities=frozenset({"short_history"}), short_history_reason=None
        ),
    )
    trusted = forecast(months_of_voice, _request("auto", "day"))
    weekly = next(s for s in trusted.backtest if s.alias == "weekly-naive")
    snaive = next(s for s in trusted.backtest if s.alias == "snaive")
    assert weekly.wape is not None and weekly.wape == snaive.wape


def test_a_candidate_forecasts_days_and_says_why_it_avoids_short_histories() -> None:
    with pytest.raises(ValueError, match="forecast days"):
        ModelSpec(
            "x",
            frozenset({"interval"}),
            frozenset({"short_history"}),
            None,
            lambda a: SeasonalNaive(),
        )
    with pytest.raises(ValueError, match="short-history reason"):
        ModelSpec("x", frozenset({"day"}), frozenset(), SeasonalNaive)


def test_the_methods_the_engine_and_the_api_accept_are_auto_and_the_registry() -> None:
    assert get_args(Method) == ("auto", *MODELS)
    [api_literal, *_] = get_args(schemas.Method)
    assert get_args(api_literal) == ("auto", *MODELS)
