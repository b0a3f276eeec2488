"""One conformance suite over the registry: every model, with each of its test parameters."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from models.base import Forecaster, NotEnoughHistory
from models.registry import MODELS

CASES = [
    pytest.param(cls, params, id=f"{alias}-{i}")
    for alias, cls in MODELS.items()
    for i, params in enumerate(cls.test_params())
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
    assert MODELS[cls.alias] is cls


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
