"""Erlang C and Erlang A staffing, checked against references computed independently here:
exact rational Erlang C, a log-space sum for huge loads, and explicit birth-death chains."""

from __future__ import annotations

import functools
import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.linalg import expm

from app.staffing.erlang import (
    average_speed_of_answer,
    erlang_a_abandon_probability,
    erlang_a_metrics,
    erlang_a_occupancy,
    erlang_a_service_level,
    erlang_a_wait_probability,
    erlang_b,
    erlang_c_wait_probability,
    evaluate_erlang_a,
    evaluate_erlang_c,
    occupancy,
    offered_load,
    service_level,
    size_erlang_a,
    size_erlang_c,
)

# --------------------------------------------------------------------------------------------
# Independent references


def exact_erlang_c(agents: int, load: Fraction) -> Fraction:
    """The textbook formula, in exact rational arithmetic (feasible for small n only)."""
    queue_term = load**agents / math.factorial(agents) * Fraction(agents) / (agents - load)
    no_queue = sum(load**k / math.factorial(k) for k in range(agents))
    return queue_term / (no_queue + queue_term)


def log_space_erlang_c(agents: int, load: float) -> float:
    """The textbook formula with every term as a logarithm (lgamma instead of n!), so that it
    reaches thousands of erlangs without overflowing."""
    log_terms = [k * math.log(load) - math.lgamma(k + 1) for k in range(agents)]
    log_queue = (
        agents * math.log(load) - math.lgamma(agents + 1) + math.log(agents / (agents - load))
    )
    top = max(*log_terms, log_queue)
    no_queue = math.fsum(math.exp(t - top) for t in log_terms)
    queue = math.exp(log_queue - top)
    return queue / (no_queue + queue)


def stationary_chain(
    agents: int, load: float, aht: float, patience: float, queue_states: int
) -> list[float]:
    """Stationary law of the explicit Erlang A birth-death chain on states
    0 .. agents + queue_states (weights kept as logarithms so that long chains fit a float)."""
    mu, theta = 1.0 / aht, 1.0 / patience
    log_weights = [0.0]
    for j in range(1, agents + queue_states + 1):
        death = min(j, agents) * mu + max(0, j - agents) * theta
        log_weights.append(log_weights[-1] + math.log(load * mu / death))
    top = max(log_weights)
    weights = [math.exp(w - top) for w in log_weights]
    total = math.fsum(weights)
    assert weights[-1] < 1e-20 * total, "truncate the chain further out"
    return [w / total for w in weights]


def chain_wait_and_abandon(
    agents: int, load: float, aht: float, patience: float, queue_states: int = 400
) -> tuple[float, float]:
    pi = stationary_chain(agents, load, aht, patience, queue_states)
    queueing = pi[agents:]
    abandon_rate = math.fsum(k / patience * q for k, q in enumerate(queueing))
    return math.fsum(queueing), abandon_rate / (load / aht)


@functools.cache
def erlang_a_chain(
    agents: int, load: float, aht: float, patience: float, answer_time: float
) -> dict[str, float]:
    """Erlang A from the explicit chain and, for the waits, from the chain a tagged caller
    follows after arriving behind ``i`` others (PASTA: arrivals see the stationary law)."""
    queue_states = 400
    mu, theta = 1.0 / aht, 1.0 / patience
    pi = stationary_chain(agents, load, aht, patience, queue_states)
    queueing = pi[agents:]
    answered_at_once = math.fsum(pi[:agents])

    # With i callers ahead the tagged caller moves up at rate n mu + i theta (a service ends or
    # someone ahead hangs up), is answered from i = 0 at rate n mu, hangs up at rate theta.
    size = queue_states + 3
    served, abandoned = size - 2, size - 1
    generator = np.zeros((size, size))
    for i in range(queue_states + 1):
        forward = agents * mu + i * theta
        generator[i, i - 1 if i > 0 else served] = forward
        generator[i, abandoned] = theta
        generator[i, i] = -(forward + theta)
    served_by_t = expm(generator * answer_time)[: queue_states + 1, served]

    # P(answered) and E[wait; answered] by first-step analysis on the same chain.
    p_answered, wait_if_answered = [], []
    p_prev, m_prev = 1.0, 0.0
    for i in range(queue_states + 1):
        forward = agents * mu + i * theta
        leave = forward + theta
        p_prev, m_prev = forward / leave * p_prev, forward / leave * (p_prev / leave + m_prev)
        p_answered.append(p_prev)
        wait_if_answered.append(m_prev)

    answered = answered_at_once + math.fsum(
        q * p for q, p in zip(queueing, p_answered, strict=True)
    )
    waited = math.fsum(q * m for q, m in zip(queueing, wait_if_answered, strict=True))
    return {
        "answered": answered,
        "service_level": answered_at_once
        + math.fsum(q * s for q, s in zip(queueing, served_by_t, strict=True)),
        "asa": waited / answered,
    }


CHAIN_CASES = [
    # agents, load (erlangs), AHT s, patience s, answer time s
    (3, 2.5, 180.0, 90.0, 20.0),
    (4, 6.0, 300.0, 240.0, 30.0),  # overloaded: more erlangs than agents
    (8, 7.0, 200.0, 1000.0, 15.0),
    (1, 0.8, 120.0, 30.0, 10.0),
    (12, 10.0, 180.0, 60.0, 20.0),
]

# --------------------------------------------------------------------------------------------
# Erlang C


def test_offered_load_is_volume_times_aht_over_interval() -> None:
    assert offered_load(100, 1800, 180) == 10.0


def test_100_calls_in_30_minutes_at_180s_need_14_agents_for_80_percent_in_20s() -> None:
    assert size_erlang_c(100, 30, 180, 0.8, 20).agents == 14


def test_13_agents_answer_79_6_percent_within_20s() -> None:
    exact = 1 - float(exact_erlang_c(13, Fraction(10))) * math.exp(-(13 - 10) * 20 / 180)
    assert exact == pytest.approx(0.796, abs=0.0005)
    assert evaluate_erlang_c(13, 100, 30, 180, 20).service_level == pytest.approx(exact, rel=1e-12)


def test_recursion_matches_exact_rational_erlang_c_over_a_grid() -> None:
    for agents in range(1, 41):
        for tenths in range(1, 10 * agents, 7):
            load = tenths / 10  # Fraction(load) is the float's exact value
            expected = float(exact_erlang_c(agents, Fraction(load)))
            assert erlang_c_wait_probability(agents, load) == pytest.approx(expected, rel=1e-12)


def test_erlang_b_matches_exact_rational_formula() -> None:
    load = Fraction(37, 4)
    terms = [load**k / math.factorial(k) for k in range(16)]
    assert erlang_b(15, float(load)) == pytest.approx(float(terms[-1] / sum(terms)), rel=1e-13)


@pytest.mark.parametrize(("agents", "load"), [(2030, 2000.0), (5060, 5000.0), (5010, 4999.5)])
def test_recursion_matches_log_space_sum_at_thousands_of_erlangs(agents: int, load: float) -> None:
    assert erlang_c_wait_probability(agents, load) == pytest.approx(
        log_space_erlang_c(agents, load), rel=1e-9
    )


@pytest.mark.parametrize("load", [2000, 5000])
def test_thousands_of_erlangs_are_staffed_slightly_above_the_load(load: int) -> None:
    result = size_erlang_c(load * 10, 30, 180, 0.8, 20)  # 10 calls per erlang at 180 s / 30 min
    assert load < result.agents < 1.02 * load
    assert 0.8 <= result.service_level < 1.0
    assert math.isfinite(result.asa_seconds)


@pytest.mark.parametrize("load", [2000, 5000])
def test_thousands_of_erlangs_sizing_is_minimal(load: int) -> None:
    agents = size_erlang_c(load * 10, 30, 180, 0.8, 20).agents
    assert evaluate_erlang_c(agents - 1, load * 10, 30, 180, 20).service_level < 0.8


def test_six_thousand_agents_on_a_tiny_load_never_wait() -> None:
    assert erlang_c_wait_probability(6000, 0.5) == 0.0


def test_occupancy_cap_decides_the_agent_count_at_high_load() -> None:
    uncapped = size_erlang_c(10_000, 30, 180, 0.8, 20)  # 1,000 erlangs
    capped = size_erlang_c(10_000, 30, 180, 0.8, 20, max_occupancy=0.85)
    assert uncapped.agents < capped.agents == math.ceil(1000 / 0.85)
    assert capped.occupancy <= 0.85


def test_occupancy_cap_reached_exactly_is_met() -> None:
    # 8 erlangs at 80 %: 10 agents, although 8 / 0.8 rounds to 10.000000000000002
    assert size_erlang_c(80, 30, 180, 0.01, 20, max_occupancy=0.8).agents == 10


def test_zero_traffic_needs_no_agents() -> None:
    result = size_erlang_c(0, 30, 180, 0.8, 20)
    assert (result.agents, result.service_level, result.asa_seconds, result.occupancy) == (
        0,
        1.0,
        0.0,
        0.0,
    )


def test_fte_adds_shrinkage_to_agents() -> None:
    assert size_erlang_c(100, 30, 180, 0.8, 20, shrinkage=0.3).fte == pytest.approx(14 / 0.7)


def test_decimal_inputs_give_the_same_staffing() -> None:
    result = size_erlang_c(Decimal("100"), Decimal("30"), Decimal("180"), Decimal("0.8"), 20)
    assert result == size_erlang_c(100, 30, 180, 0.8, 20)


def test_evaluation_reproduces_the_sized_result() -> None:
    sized = size_erlang_c(437, 30, 263, 0.9, 30, shrinkage=0.25)
    assert evaluate_erlang_c(sized.agents, 437, 30, 263, 30, shrinkage=0.25) == sized


def test_unstable_queue_makes_every_call_wait() -> None:
    assert erlang_c_wait_probability(10, 10.0) == 1.0


def test_unstable_queue_has_no_service_level_and_infinite_asa() -> None:
    result = evaluate_erlang_c(9, 100, 30, 180, 20)
    assert (result.service_level, result.asa_seconds, result.occupancy) == (0.0, math.inf, 1.0)


def test_asa_is_wait_probability_times_aht_over_spare_agents() -> None:
    expected = float(exact_erlang_c(14, Fraction(10))) * 180 / 4
    assert average_speed_of_answer(14, 10.0, 180) == pytest.approx(expected, rel=1e-12)


def test_occupancy_of_idle_interval_is_zero() -> None:
    assert occupancy(0, 0.0) == 0.0


@given(
    agents=st.integers(min_value=1, max_value=300),
    load=st.floats(min_value=0.01, max_value=250.0),
    answer_time=st.floats(min_value=0.0, max_value=120.0),
)
def test_service_level_never_decreases_with_one_more_agent(
    agents: int, load: float, answer_time: float
) -> None:
    assert service_level(agents + 1, load, 240, answer_time) >= service_level(
        agents, load, 240, answer_time
    )


@given(
    volume=st.integers(min_value=1, max_value=3000),
    aht=st.floats(min_value=30.0, max_value=900.0),
    target=st.sampled_from([0.7, 0.8, 0.9, 0.95]),
    answer_time=st.sampled_from([10.0, 20.0, 30.0, 60.0]),
)
def test_one_agent_fewer_than_sized_misses_the_target(
    volume: int, aht: float, target: float, answer_time: float
) -> None:
    agents = size_erlang_c(volume, 30, aht, target, answer_time).agents
    assert evaluate_erlang_c(agents - 1, volume, 30, aht, answer_time).service_level < target


# --------------------------------------------------------------------------------------------
# Erlang A


@pytest.mark.parametrize("case", CHAIN_CASES)
def test_erlang_a_wait_probability_matches_birth_death_chain(case: tuple[Any, ...]) -> None:
    agents, load, aht, patience, _ = case
    reference, _ = chain_wait_and_abandon(agents, load, aht, patience)
    assert erlang_a_wait_probability(agents, load, aht, patience) == pytest.approx(
        reference, rel=1e-12
    )


@pytest.mark.parametrize("case", CHAIN_CASES)
def test_erlang_a_abandon_probability_matches_birth_death_chain(case: tuple[Any, ...]) -> None:
    agents, load, aht, patience, _ = case
    _, reference = chain_wait_and_abandon(agents, load, aht, patience)
    assert erlang_a_abandon_probability(agents, load, aht, patience) == pytest.approx(
        reference, rel=1e-12
    )


@pytest.mark.parametrize(
    ("agents", "load", "patience", "queue_states"),
    [
        (13, 10.0, 1e6, 500),  # shape 72,000 far above the scaled load: summed directly
        (50, 40.0, 2e6, 3000),  # shape 555,556: summed directly
        (100, 99.0, 1e5, 8000),  # shape 55,556 next to the scaled load: incomplete gamma
        (8, 9.0, 1e6, 60_000),  # overloaded, very patient: thousands of callers queue
        (5013, 5000.0, 1e7, 40_000),  # 5,000 erlangs, shape 2.8e8
    ],
)
def test_erlang_a_matches_birth_death_chain_for_very_patient_callers(
    agents: int, load: float, patience: float, queue_states: int
) -> None:
    wait, abandon = chain_wait_and_abandon(agents, load, 180.0, patience, queue_states)
    assert erlang_a_wait_probability(agents, load, 180.0, patience) == pytest.approx(
        wait, rel=1e-12
    )
    assert erlang_a_abandon_probability(agents, load, 180.0, patience) == pytest.approx(
        abandon, rel=1e-9
    )


@pytest.mark.parametrize("case", CHAIN_CASES)
def test_erlang_a_service_level_matches_tagged_caller_chain(case: tuple[Any, ...]) -> None:
    agents, load, aht, patience, answer_time = case
    reference = erlang_a_chain(agents, load, aht, patience, answer_time)["service_level"]
    assert erlang_a_service_level(agents, load, aht, patience, answer_time) == pytest.approx(
        reference, rel=1e-12
    )


@pytest.mark.parametrize("case", CHAIN_CASES)
def test_erlang_a_asa_of_answered_calls_matches_tagged_caller_chain(
    case: tuple[Any, ...],
) -> None:
    agents, load, aht, patience, answer_time = case
    reference = erlang_a_chain(agents, load, aht, patience, answer_time)["asa"]
    metrics = erlang_a_metrics(agents, load, aht, patience, answer_time)
    assert metrics.asa_seconds == pytest.approx(reference, rel=1e-10)


@pytest.mark.parametrize("case", CHAIN_CASES)
def test_erlang_a_occupancy_is_answered_load_per_agent(case: tuple[Any, ...]) -> None:
    agents, load, aht, patience, answer_time = case
    answered = erlang_a_chain(agents, load, aht, patience, answer_time)["answered"]
    assert erlang_a_occupancy(agents, load, aht, patience) == pytest.approx(
        load * answered / agents, rel=1e-9
    )


@pytest.mark.parametrize(("agents", "load"), [(13, 10.0), (110, 100.0), (1030, 1000.0)])
def test_erlang_a_with_endless_patience_is_erlang_c(agents: int, load: float) -> None:
    metrics = erlang_a_metrics(agents, load, 180, 1e7, 20)
    assert metrics.wait_probability == pytest.approx(
        erlang_c_wait_probability(agents, load), abs=1e-3
    )
    assert metrics.service_level == pytest.approx(service_level(agents, load, 180, 20), abs=1e-3)


def test_erlang_a_with_endless_patience_has_erlang_c_asa() -> None:
    metrics = erlang_a_metrics(13, 10.0, 180, 1e7, 20)
    assert metrics.asa_seconds == pytest.approx(average_speed_of_answer(13, 10.0, 180), rel=1e-3)


def test_erlang_a_sizing_with_endless_patience_is_erlang_c_sizing() -> None:
    assert size_erlang_a(100, 30, 180, 0.8, 20, 1e7).agents == 14


def test_short_patience_at_high_load_needs_fewer_agents_than_erlang_c() -> None:
    erlang_c = size_erlang_c(10_000, 30, 180, 0.8, 20)
    erlang_a = size_erlang_a(10_000, 30, 180, 0.8, 20, patience_seconds=30)
    assert erlang_a.agents < erlang_c.agents
    assert erlang_a.service_level >= 0.8


def test_erlang_a_sizing_is_minimal() -> None:
    sized = size_erlang_a(1500, 30, 240, 0.8, 20, patience_seconds=90)
    assert evaluate_erlang_a(sized.agents - 1, 1500, 30, 240, 20, 90).service_level < 0.8


@given(
    volume=st.integers(min_value=1, max_value=3000),
    aht=st.floats(min_value=30.0, max_value=900.0),
    patience=st.floats(min_value=5.0, max_value=1200.0),
    target=st.sampled_from([0.7, 0.8, 0.9]),
    max_occupancy=st.sampled_from([0.85, 1.0]),
)
def test_one_agent_fewer_than_erlang_a_sizing_misses_the_target_or_the_cap(
    volume: int, aht: float, patience: float, target: float, max_occupancy: float
) -> None:
    sized = size_erlang_a(volume, 30, aht, target, 20, patience, max_occupancy=max_occupancy)
    fewer = evaluate_erlang_a(sized.agents - 1, volume, 30, aht, 20, patience)
    assert fewer.service_level < target or fewer.occupancy > max_occupancy


def test_erlang_a_evaluation_reproduces_the_sized_result() -> None:
    sized = size_erlang_a(640, 30, 300, 0.85, 30, 120, shrinkage=0.2)
    assert evaluate_erlang_a(sized.agents, 640, 30, 300, 30, 120, shrinkage=0.2) == sized


def test_erlang_a_reports_its_abandon_rate() -> None:
    sized = size_erlang_a(640, 30, 300, 0.85, 30, 120)
    assert sized.abandon_rate == pytest.approx(
        erlang_a_abandon_probability(sized.agents, 640 * 300 / 1800, 300, 120), rel=1e-12
    )


def test_erlang_a_zero_traffic_needs_no_agents() -> None:
    assert size_erlang_a(0, 30, 180, 0.8, 20, 60).agents == 0


def test_erlang_a_without_agents_loses_every_call() -> None:
    result = evaluate_erlang_a(0, 100, 30, 180, 20, 60)
    assert (result.service_level, result.abandon_rate) == (0.0, 1.0)


def test_erlang_a_stays_finite_at_5000_erlangs() -> None:
    result = size_erlang_a(50_000, 30, 180, 0.8, 20, patience_seconds=120)
    assert 0.8 * 5000 <= result.agents < 5000
    assert math.isfinite(result.asa_seconds)


def test_erlang_a_service_level_is_no_better_than_answered_share() -> None:
    metrics = erlang_a_metrics(90, 100.0, 180, 45, 20)
    assert metrics.service_level <= 1 - metrics.abandon_probability


# --------------------------------------------------------------------------------------------
# Validation

SIZE_ARGS: dict[str, Any] = {
    "volume": 100,
    "interval_minutes": 30,
    "aht_seconds": 180,
    "service_level_target": 0.8,
    "answer_time_seconds": 20,
}

INVALID = [
    ("volume", -1),
    ("volume", float("nan")),
    ("interval_minutes", 0),
    ("aht_seconds", 0),
    ("aht_seconds", -180),
    ("service_level_target", 0),
    ("service_level_target", 1),
    ("answer_time_seconds", -1),
    ("max_occupancy", 0),
    ("max_occupancy", 1.01),
    ("shrinkage", 1),
    ("shrinkage", -0.1),
]


@pytest.mark.parametrize(("name", "value"), INVALID)
def test_erlang_c_sizing_rejects_invalid_input_naming_it(name: str, value: float) -> None:
    with pytest.raises(ValueError, match=name):
        size_erlang_c(**{**SIZE_ARGS, name: value})


@pytest.mark.parametrize(("name", "value"), [*INVALID, ("patience_seconds", 0)])
def test_erlang_a_sizing_rejects_invalid_input_naming_it(name: str, value: float) -> None:
    with pytest.raises(ValueError, match=name):
        size_erlang_a(**{**SIZE_ARGS, "patience_seconds": 60, name: value})


def test_evaluation_rejects_negative_agents() -> None:
    with pytest.raises(ValueError, match="agents"):
        evaluate_erlang_c(-1, 100, 30, 180, 20)


def test_offered_load_rejects_empty_interval() -> None:
    with pytest.raises(ValueError, match="interval_seconds"):
        offered_load(100, 0, 180)
