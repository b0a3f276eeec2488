"""Staffing through the API (api.md "Workforce (staffing)"): Erlang C / Erlang A sizing and
evaluation of one interval, checked against the textbook formula computed here."""

import math
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.core.auth import Role

from factories import bearer, make_client

PROBLEM = "application/problem+json"
SIZE = "/v1/staffing/erlang-c"
EVALUATE = "/v1/staffing/evaluate"

# api.md's reference interval: 100 contacts in 30 minutes at 180 s each, i.e. 10 erlangs.
REFERENCE = {"volume": 100, "interval_minutes": 30, "aht_seconds": 180}
LOAD = 10
TARGET = {"service_level_target": "0.80", "answer_time_seconds": 20}


def textbook_erlang_c(agents: int, load: int) -> float:
    """Probability of waiting by the textbook formula, with exact integers for small n."""
    queue = load**agents * agents / (math.factorial(agents) * (agents - load))
    no_queue = sum(load**k / math.factorial(k) for k in range(agents))
    return float(queue / (no_queue + queue))


def textbook_service_level(agents: int, load: int, aht: float, answer_time: float) -> float:
    wait = textbook_erlang_c(agents, load)
    return 1.0 - wait * math.exp(-(agents - load) * answer_time / aht)


@pytest.fixture
def key(db: Session) -> dict[str, str]:
    headers: dict[str, str] = bearer(db, Role.OPS)
    return headers


def _post(client: TestClient, path: str, key: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post(path, json=body, headers=key)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _size(client: TestClient, key: dict[str, str], **overrides: Any) -> dict[str, Any]:
    return _post(client, SIZE, key, **{**REFERENCE, **TARGET, **overrides})


def _evaluate(
    client: TestClient, key: dict[str, str], agents: int, **overrides: Any
) -> dict[str, Any]:
    body = {**REFERENCE, "answer_time_seconds": 20, "agents": agents, **overrides}
    return _post(client, EVALUATE, key, **body)


def _bad_fields(response: Any) -> set[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    return {error["field"] for error in response.json()["errors"]}


# Sizing (Erlang C)


def test_reference_interval_needs_14_agents(client: TestClient, key: dict[str, str]) -> None:
    assert _size(client, key)["agents"] == 14


def test_reference_sizing_reports_the_textbook_service_level_of_14_agents(
    client: TestClient, key: dict[str, str]
) -> None:
    expected = textbook_service_level(14, LOAD, 180, 20)
    reported = Decimal(_size(client, key)["service_level"])
    assert abs(reported - Decimal(expected)) <= Decimal("0.00005")


def test_zero_volume_needs_zero_agents(client: TestClient, key: dict[str, str]) -> None:
    sized = _size(client, key, volume=0)
    assert (sized["agents"], sized["fte"], sized["occupancy"]) == (0, "0.00", "0.0000")


def test_erlang_c_has_no_abandon_rate(client: TestClient, key: dict[str, str]) -> None:
    sized = _size(client, key)
    assert sized["model"] == "erlang_c"
    assert sized["abandon_rate"] is None


def test_fte_adds_shrinkage_to_the_agents(client: TestClient, key: dict[str, str]) -> None:
    assert _size(client, key, shrinkage="0.30")["fte"] == "20.00"  # 14 / 0.7


def test_occupancy_cap_adds_agents(client: TestClient, key: dict[str, str]) -> None:
    sized = _size(client, key, max_occupancy="0.60")
    assert sized["agents"] == math.ceil(LOAD / 0.60)


def test_offered_load_is_reported_in_erlangs(client: TestClient, key: dict[str, str]) -> None:
    assert _size(client, key)["offered_load"] == "10.00"


def test_any_whole_interval_length_is_accepted(client: TestClient, key: dict[str, str]) -> None:
    # 100 contacts in 45 minutes is 6.67 erlangs: fewer agents than in 30 minutes.
    assert _size(client, key, interval_minutes=45)["agents"] < 14


def test_decimal_strings_are_accepted_as_inputs(client: TestClient, key: dict[str, str]) -> None:
    sized = _size(client, key, volume="100.0", aht_seconds="180.000", answer_time_seconds="20")
    assert sized["agents"] == 14


def test_figures_are_decimal_strings_not_floats(client: TestClient, key: dict[str, str]) -> None:
    sized = _size(client, key, shrinkage="0.25")
    figures = {name: sized[name] for name in ("service_level", "asa_seconds", "occupancy", "fte")}
    assert all(isinstance(value, str) for value in figures.values()), figures
    assert isinstance(sized["agents"], int)


def test_figures_are_rounded_as_documented(client: TestClient, key: dict[str, str]) -> None:
    sized = _size(client, key, shrinkage="0.25")
    places = {
        name: len(sized[name].partition(".")[2])
        for name in ("service_level", "occupancy", "asa_seconds", "fte")
    }
    assert places == {"service_level": 4, "occupancy": 4, "asa_seconds": 1, "fte": 2}


# Erlang A


def test_erlang_a_returns_an_abandon_rate(client: TestClient, key: dict[str, str]) -> None:
    sized = _size(client, key, model="erlang_a", patience_seconds=60)
    assert sized["model"] == "erlang_a"
    assert 0 < Decimal(sized["abandon_rate"]) < 1


def test_erlang_a_needs_fewer_agents_when_callers_are_impatient(
    client: TestClient, key: dict[str, str]
) -> None:
    impatient = _size(client, key, model="erlang_a", patience_seconds=30)
    assert impatient["agents"] < _size(client, key)["agents"]


def test_erlang_a_without_patience_is_refused(client: TestClient, key: dict[str, str]) -> None:
    response = client.post(SIZE, json={**REFERENCE, **TARGET, "model": "erlang_a"}, headers=key)
    assert _bad_fields(response) == {"patience_seconds"}


def test_patience_is_refused_for_erlang_c(client: TestClient, key: dict[str, str]) -> None:
    body = {**REFERENCE, **TARGET, "patience_seconds": 60}
    assert _bad_fields(client.post(SIZE, json=body, headers=key)) == {"patience_seconds"}


# Evaluation


def test_evaluate_reports_the_textbook_service_level_of_13_agents(
    client: TestClient, key: dict[str, str]
) -> None:
    expected = textbook_service_level(13, LOAD, 180, 20)
    reported = _evaluate(client, key, 13)["service_level"]
    assert len(reported.partition(".")[2]) == 4
    assert abs(Decimal(reported) - Decimal(expected)) <= Decimal("0.00005")


def test_evaluate_reports_the_textbook_average_speed_of_answer(
    client: TestClient, key: dict[str, str]
) -> None:
    expected = textbook_erlang_c(13, LOAD) * 180 / (13 - LOAD)
    reported = Decimal(_evaluate(client, key, 13)["asa_seconds"])
    assert abs(reported - Decimal(expected)) <= Decimal("0.05")


def test_evaluating_the_sized_staffing_gives_the_same_figures(
    client: TestClient, key: dict[str, str]
) -> None:
    sized = _size(client, key, shrinkage="0.30")
    evaluated = _evaluate(client, key, sized["agents"], shrinkage="0.30")
    assert evaluated == sized


def test_unstable_queue_has_no_asa_and_zero_service_level(
    client: TestClient, key: dict[str, str]
) -> None:
    evaluated = _evaluate(client, key, LOAD - 1)
    assert (evaluated["asa_seconds"], evaluated["service_level"]) == (None, "0.0000")


def test_evaluate_with_erlang_a_stays_finite_below_the_load(
    client: TestClient, key: dict[str, str]
) -> None:
    evaluated = _evaluate(client, key, LOAD - 1, model="erlang_a", patience_seconds=60)
    assert evaluated["asa_seconds"] is not None
    assert Decimal(evaluated["abandon_rate"]) > 0


# Validation


def test_sizing_validation_names_every_bad_field(client: TestClient, key: dict[str, str]) -> None:
    body = {
        "volume": -1,
        "interval_minutes": 0,
        "aht_seconds": 86_400,
        "service_level_target": "1",
        "answer_time_seconds": -5,
        "max_occupancy": 0,
        "shrinkage": "1",
        "model": "erlang_a",
        "patience_seconds": 0,
    }
    assert _bad_fields(client.post(SIZE, json=body, headers=key)) == set(body) - {"model"}


def test_evaluate_validation_names_every_bad_field(client: TestClient, key: dict[str, str]) -> None:
    body = {
        "agents": -1,
        "volume": "lots",
        "interval_minutes": 1441,
        "aht_seconds": 0,
        "answer_time_seconds": "soon",
        "shrinkage": -0.1,
        "model": "erlang_b",
    }
    assert _bad_fields(client.post(EVALUATE, json=body, headers=key)) == set(body)


def test_targets_are_refused_by_evaluate(client: TestClient, key: dict[str, str]) -> None:
    body = {**REFERENCE, **TARGET, "agents": 13}
    assert _bad_fields(client.post(EVALUATE, json=body, headers=key)) == {"service_level_target"}


def test_missing_target_is_named(client: TestClient, key: dict[str, str]) -> None:
    body = {**REFERENCE, "answer_time_seconds": 20}
    assert _bad_fields(client.post(SIZE, json=body, headers=key)) == {"service_level_target"}


def test_offered_load_beyond_the_limit_is_refused_naming_volume(
    client: TestClient, key: dict[str, str]
) -> None:
    body = {**REFERENCE, **TARGET, "volume": 10**9, "interval_minutes": 1}
    assert _bad_fields(client.post(SIZE, json=body, headers=key)) == {"volume"}


def test_occupancy_cap_needing_too_many_agents_is_refused_naming_it(
    client: TestClient, key: dict[str, str]
) -> None:
    body = {**REFERENCE, **TARGET, "volume": 10**6, "max_occupancy": "0.01"}
    assert _bad_fields(client.post(SIZE, json=body, headers=key)) == {"max_occupancy"}


def test_patience_far_beyond_the_handling_time_is_refused(
    client: TestClient, key: dict[str, str]
) -> None:
    body = {
        **REFERENCE,
        **TARGET,
        "aht_seconds": 1,
        "model": "erlang_a",
        "patience_seconds": 80_000,
    }
    assert _bad_fields(client.post(SIZE, json=body, headers=key)) == {"patience_seconds"}


# Access


@pytest.mark.parametrize("path", [SIZE, EVALUATE])
def test_a_request_without_key_gets_401(client: TestClient, path: str) -> None:
    response = client.post(path, json={**REFERENCE, **TARGET})
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OPS, Role.BILLING, Role.CLIENT])
def test_every_role_may_size_staffing(client: TestClient, db: Session, role: Role) -> None:
    client_id = make_client(db).id if role is Role.CLIENT else None
    assert _size(client, bearer(db, role, client_id))["agents"] == 14


def test_operations_are_named_for_the_staffing_functions(client: TestClient) -> None:
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    ids = {paths[SIZE]["post"]["operationId"], paths[EVALUATE]["post"]["operationId"]}
    assert ids == {"staffing_erlang_c", "staffing_evaluate"}
