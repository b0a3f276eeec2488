"""The model choice: candidates within noise of the best are combined, not picked by luck."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from models import ForecastRequest, forecast
from models.contract import ActivitySeries
from models.selection import MAX_MEMBERS, NEVER_TIE, SHORT_HISTORY_CLAUSE, select


def _pooled(per_origin: dict[str, np.ndarray]) -> dict[str, float]:
    return {alias: float(values.mean()) for alias, values in per_origin.items()}


def test_a_candidate_within_noise_of_the_best_is_combined_with_it() -> None:
    # "ets" is best on average by a margin that three origins out of five contradict.
    per_origin = {
        "ets": np.array([0.100, 0.140, 0.090, 0.120, 0.100]),
        "snaive": np.array([0.120, 0.110, 0.110, 0.100, 0.125]),
    }
    selection = select(per_origin, _pooled(per_origin))
    assert selection.best == "ets"
    assert selection.combined
    assert set(selection.members) == {"ets", "snaive"}


def test_candidates_of_the_same_skill_are_combined_not_picked_by_a_random_margin() -> None:
    rng = np.random.default_rng(11)
    combined = 0
    draws = 400
    for _ in range(draws):
        difficulty = rng.uniform(0.05, 0.2, 5)  # shared by both: some windows are harder
        per_origin = {alias: difficulty * rng.lognormal(0, 0.15, 5) for alias in ("a", "b")}
        combined += select(per_origin, _pooled(per_origin)).combined
    assert combined / draws >= 0.85


def test_a_consistently_better_candidate_is_used_alone() -> None:
    rng = np.random.default_rng(12)
    alone = 0
    draws = 200
    for _ in range(draws):
        difficulty = rng.uniform(0.05, 0.2, 5)
        per_origin = {
            "good": difficulty * rng.lognormal(0, 0.03, 5),
            "poor": 1.25 * difficulty * rng.lognormal(0, 0.03, 5),
        }
        selection = select(per_origin, _pooled(per_origin))
        alone += selection.members == ("good",)
    assert alone / draws >= 0.95


def test_a_much_worse_candidate_is_never_a_tie_however_noisy() -> None:
    per_origin = {
        "steady": np.array([0.10, 0.10, 0.10, 0.10, 0.10]),
        "wild": np.array([0.02, 0.03, 0.02, 0.03, 0.60]),  # once far off: mean 0.14
    }
    selection = select(per_origin, _pooled(per_origin))
    wild = next(m for m in selection.margins if m.alias == "wild")
    assert wild.margin > NEVER_TIE * 0.10
    assert selection.members == ("steady",)


def test_at_most_the_best_ties_are_combined() -> None:
    per_origin = {f"m{k}": np.full(5, 0.1 + 0.0001 * k) for k in range(5)}
    selection = select(per_origin, _pooled(per_origin))
    assert selection.members == tuple(f"m{k}" for k in range(MAX_MEMBERS))
    assert [m.alias for m in selection.margins] == [f"m{k}" for k in range(5)]


def test_a_tighter_never_tie_separates_a_gap_that_noise_would_cover() -> None:
    """Three noisy windows cover a 13 % gap at the default bound; the interval choice's
    10 % bound does not average two approaches that far apart."""
    per_origin = {
        "profile": np.array([0.05, 0.11, 0.07]),
        "direct": np.array([0.04, 0.15, 0.07]),
    }
    assert select(per_origin, _pooled(per_origin)).combined
    assert not select(per_origin, _pooled(per_origin), never_tie=0.10).combined


def _short_history(seed: int, days: int = 140) -> tuple[ActivitySeries, date]:
    """Twenty weeks of a daily line on a wandering level: too short for a trend."""
    rng = np.random.default_rng(seed)
    pattern = np.array([1.2, 1.05, 1.0, 0.95, 0.8, 0.5, 0.3])
    level = 3000 * np.exp(np.cumsum(rng.normal(0, 0.02, days)))
    volumes = level * np.resize(pattern, days) * np.exp(rng.normal(0, 0.03, days))
    first = date(2025, 3, 3)
    noon = pd.DatetimeIndex(
        [pd.Timestamp(first + timedelta(days=k, hours=12)) for k in range(days)]
    )
    offered = np.round(volumes).astype(np.int64)
    frame = pd.DataFrame(
        {
            "interval_start": noon.tz_localize("Europe/Paris").tz_convert("UTC"),
            "offered": offered,
            "handled": offered,
            "aht_seconds": np.full(days, 180.0),
        }
    )
    return ActivitySeries(frame, "Europe/Paris", 60, "FR"), first + timedelta(days=days)


def test_on_a_short_history_ties_whose_combination_backtests_worse_leave_the_best_alone() -> None:
    series, end = _short_history(21)
    result = forecast(
        series, ForecastRequest("day", end, end + timedelta(days=27), history_end=end)
    )
    assert result.selection is not None
    scores = {s.alias: s.wape for s in result.backtest if s.wape is not None}
    tied = [m.alias for m in result.selection.margins if m.tied]
    assert len(tied) >= 2  # the rule found ties...
    assert scores["ensemble"] >= scores[result.selection.best]  # ...whose combination lost
    assert result.method == result.selection.best
    assert result.selection.members == (result.selection.best,)
    assert SHORT_HISTORY_CLAUSE in result.selection.rule


def test_month_totals_on_a_short_history_keep_the_combination_of_ties() -> None:
    # Tied candidates whose combination backtests worse by day than the best alone, which
    # a day forecast would use alone: month totals keep the combination, whose level errors
    # partly cancel over a month (on the real series, month totals lost 2 % pooled where the
    # clause applied to them).
    series, end = _short_history(18)
    first_month = date(end.year, end.month + 1, 1)
    last_month = date(first_month.year, first_month.month + 2, 1) - timedelta(days=1)
    month = forecast(series, ForecastRequest("month", first_month, last_month, history_end=end))
    assert month.selection is not None
    scores = {s.alias: s.wape for s in month.backtest if s.wape is not None}
    assert scores["ensemble"] >= scores[month.selection.best]
    assert month.method == "ensemble"
    assert month.selection.members == tuple(m.alias for m in month.selection.margins if m.tied)
    assert SHORT_HISTORY_CLAUSE not in month.selection.rule
