"""Every problem of a request in one response: the schema's errors and the checks against the
stored data (the contract, the client) together, for bodies and queries alike."""

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.contracts.tables import Contract
from app.core.auth import Role
from app.core.pagination import encode_cursor
from app.forecasts.tables import ForecastRun
from app.main import create_app

from factories import bearer, make_activity, make_client, make_contract


@pytest.fixture
def admin(db: Session) -> dict[str, str]:
    return bearer(db, Role.ADMIN)


@pytest.fixture
def activity(db: Session) -> Any:
    contract = make_contract(db, make_client(db), starts_on=date(2025, 1, 1))
    return make_activity(db, contract, name="Back-office", billing_unit="hour")


def _fields(response: Any) -> set[tuple[str, str]]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return {(error["location"], error["field"]) for error in response.json()["errors"]}


def test_a_bad_volume_does_not_hide_bad_periods_or_a_missing_aht(
    client: TestClient, activity: Any, admin: dict[str, str]
) -> None:
    body = {
        "lines": [
            {"period": "2027-13", "volume": "abc"},
            {"period": "2024-01", "volume": 5, "aht_seconds": 300},
            {"period": "2026-12", "volume": 5},
        ]
    }
    response = client.post(f"/v1/activities/{activity.id}/commitments", json=body, headers=admin)
    assert _fields(response) == {
        ("body", "lines.0.period"),  # the schema: no month 13
        ("body", "lines.0.volume"),  # the schema: not a number
        ("body", "lines.0.aht_seconds"),  # the activity: billed per hour, no reference AHT
        ("body", "lines.1.period"),  # the contract: before it starts
        ("body", "lines.2.aht_seconds"),
    }


def test_an_unknown_activity_is_named_with_the_schema_errors(
    client: TestClient, activity: Any, admin: dict[str, str]
) -> None:
    body = {
        "received_at": "not a time",
        "lines": [
            {"activity_id": "act_nope", "period": "2026-12", "volume": 1},
            {"activity_id": activity.id, "period": "2026-12", "volume": -1, "aht_seconds": 60},
        ],
    }
    response = client.post(
        f"/v1/contracts/{activity.contract_id}/commitments", json=body, headers=admin
    )
    assert _fields(response) == {
        ("body", "received_at"),
        ("body", "lines.0.activity_id"),
        ("body", "lines.1.volume"),
    }


def test_an_adjustment_outside_the_contract_is_named_with_the_schema_errors(
    client: TestClient, activity: Any, admin: dict[str, str]
) -> None:
    response = client.post(
        f"/v1/activities/{activity.id}/adjustments",
        json={"period": "2020-01", "units": "abc", "reason": ""},
        headers=admin,
    )
    assert _fields(response) == {("body", "period"), ("body", "units"), ("body", "reason")}


def test_an_unknown_client_is_named_with_the_schema_errors(
    client: TestClient, admin: dict[str, str]
) -> None:
    body = {"client_id": "cli_nope", "reference": "X", "starts_on": "2026-01-01", "vat_rate": 2}
    response = client.post("/v1/contracts", json=body, headers=admin)
    assert _fields(response) == {("body", "client_id"), ("body", "vat_rate")}


def test_an_end_before_the_stored_start_is_named_with_the_schema_errors(
    client: TestClient, activity: Any, admin: dict[str, str]
) -> None:
    response = client.patch(
        f"/v1/contracts/{activity.contract_id}",
        json={"ends_on": "2024-06-30", "trigger_ratio": "7"},
        headers=admin,
    )
    errors = response.json()["errors"]
    assert _fields(response) == {("body", "ends_on"), ("body", "trigger_ratio")}
    assert (
        "after starts_on (2025-01-01)"
        in next(e for e in errors if e["field"] == "ends_on")["reason"]
    )


def test_start_after_end_is_named_with_the_other_bad_fields(
    client: TestClient, activity: Any, admin: dict[str, str]
) -> None:
    body = {"start": "2026-12-31", "end": "2026-12-01", "levels": [10], "granularity": "week"}
    response = client.post(f"/v1/activities/{activity.id}/forecasts", json=body, headers=admin)
    assert _fields(response) == {
        ("body", "end"),
        ("body", "levels.0"),
        ("body", "granularity"),
    }


def test_a_missing_multiplier_is_named_with_a_bad_day(
    client: TestClient, activity: Any, admin: dict[str, str]
) -> None:
    response = client.post(
        f"/v1/activities/{activity.id}/special-days",
        json={"day": "2026-02-30", "kind": "multiplier"},
        headers=admin,
    )
    assert _fields(response) == {("body", "day"), ("body", "multiplier")}


def test_a_missing_answer_time_does_not_hide_a_bad_target(
    client: TestClient, admin: dict[str, str]
) -> None:
    body = {"volume": 100, "interval_minutes": 30, "aht_seconds": 180, "service_level_target": 80}
    response = client.post("/v1/staffing/erlang-c", json=body, headers=admin)
    assert _fields(response) == {("body", "answer_time_seconds"), ("body", "service_level_target")}


def _at(path: str, db: Session, activity: Any) -> str:
    """`path` with the ids of the test's activity, its contract and client; an invoice id that
    does not exist (its query is refused before the invoice is looked for)."""
    contract = db.get(Contract, activity.contract_id)
    assert contract is not None
    return path.format(
        activity_id=activity.id,
        contract_id=contract.id,
        client_id=contract.client_id,
        invoice_id="inv_x",
    )


QUERY_CASES = [
    (
        "/v1/invoices",
        {"limit": "x", "period": "2027-13", "cursor": "%%%", "status": "nope"},
        {"limit", "period", "cursor", "status"},
    ),
    ("/v1/clients", {"limit": "0", "cursor": "%%%"}, {"limit", "cursor"}),
    ("/v1/invoices/summary", {"from": "2026-13", "to": "2026"}, {"from", "to"}),
    (  # a cursor of another list is a cursor, not this list's: named with the rest
        "/v1/overview",
        {"period": "2026-00", "limit": "-1", "cursor": encode_cursor("2026-01-01|inv_1")},
        {"period", "limit", "cursor"},
    ),
    ("/v1/contracts", {"limit": "0", "cursor": "%%%"}, {"limit", "cursor"}),
    (
        "/v1/contracts/{contract_id}/activities",
        {"limit": "x", "cursor": "%%%"},
        {"limit", "cursor"},
    ),
    (
        "/v1/activities/{activity_id}/forecasts",
        {"granularity": "year", "volume": "all", "limit": "0"},
        {"granularity", "volume", "limit"},
    ),
    (
        "/v1/activities/{activity_id}/commitments",
        {"limit": "501", "cursor": "%%%"},
        {"limit", "cursor"},
    ),
    (
        "/v1/contracts/{contract_id}/deadlines",
        {"from": "2026-13", "periods": "0"},
        {"from", "periods"},
    ),
    ("/v1/activities/{activity_id}/comparison", {"from": "2026-13", "to": "x"}, {"from", "to"}),
    (
        "/v1/activities/{activity_id}/scorecard",
        {"from": "2026-00", "to": "2026-13"},
        {"from", "to"},
    ),
    # One parameter each: one problem at most.
    ("/v1/contracts/{contract_id}/comparison", {"period": "2026-13"}, {"period"}),
    ("/v1/contracts/{contract_id}/shortfall", {"period": "2026-13"}, {"period"}),
    ("/v1/invoices/{invoice_id}/xml", {"syntax": "pdf"}, {"syntax"}),
]
"""(path, query, the fields named): the queries with nothing to check against stored data."""


@pytest.mark.parametrize(("path", "params", "expected"), QUERY_CASES)
def test_every_bad_query_value_is_named(
    client: TestClient,
    db: Session,
    activity: Any,
    admin: dict[str, str],
    path: str,
    params: dict[str, str],
    expected: set[str],
) -> None:
    response = client.get(_at(path, db, activity), params=params, headers=admin)
    assert _fields(response) == {("query", name) for name in expected}


BODY_CASES = [
    (
        "POST",
        "/v1/clients",
        {"name": "", "siren": "123", "country": "France", "colour": "red"},
        {"name", "siren", "country", "colour"},
    ),
    (
        "PATCH",
        "/v1/clients/{client_id}",
        {"name": None, "siren": "12", "vat_number": "FR"},
        {"name", "siren", "vat_number"},
    ),
    (
        "POST",
        "/v1/contracts/{contract_id}/amendments",
        {"effective_from": "2026-13", "trigger_ratio": "7", "payment_terms_days": 90},
        {"effective_from", "trigger_ratio", "payment_terms_days"},
    ),
    (
        "POST",
        "/v1/contracts/{contract_id}/activities",
        {"name": "Mail", "channel": "fax", "interval_minutes": 20, "billing_unit": "page"},
        {"channel", "interval_minutes", "billing_unit"},
    ),
    (
        "PATCH",
        "/v1/activities/{activity_id}",
        {"channel": "fax", "interval_minutes": 20, "billing_unit": "hour"},
        {"channel", "interval_minutes", "billing_unit"},
    ),
    (
        "POST",
        "/v1/activities/{activity_id}/prices",
        {"effective_from": "2026-02-30", "unit_price": "-1"},
        {"effective_from", "unit_price"},
    ),
    ("POST", "/v1/invoice-runs", {"period": "2026-13"}, {"period"}),  # its one field
]
"""(method, path, body, the fields named): bodies with nothing to check against stored data
but the path's id, and conflicts (a duplicate name, a period already invoiced) that are not
about a field's value."""


@pytest.mark.parametrize(("method", "path", "body", "expected"), BODY_CASES)
def test_every_bad_body_field_is_named(
    client: TestClient,
    db: Session,
    activity: Any,
    admin: dict[str, str],
    method: str,
    path: str,
    body: dict[str, Any],
    expected: set[str],
) -> None:
    response = client.request(method, _at(path, db, activity), json=body, headers=admin)
    assert _fields(response) == {("body", name) for name in expected}


def test_an_interval_off_the_activitys_grid_is_named_with_a_bad_count(
    client: TestClient, activity: Any, admin: dict[str, str]
) -> None:
    records = [
        {"interval_start": "2026-01-05T08:10:00+01:00", "offered": "abc"},  # a 30-minute grid
        {"interval_start": "2026-01-05T08:30:00+01:00", "offered": 3, "handled": 4},
    ]
    response = client.post(
        f"/v1/activities/{activity.id}/volumes", json={"records": records}, headers=admin
    )
    assert _fields(response) == {
        ("body", "records.0.interval_start"),  # the activity: 30-minute intervals
        ("body", "records.0.offered"),
        ("body", "records.0.handled"),
        ("body", "records.1.aht_seconds"),  # required when handled > 0
    }


def test_a_bad_binding_period_is_named_with_the_query_location(
    client: TestClient, activity: Any, admin: dict[str, str]
) -> None:
    response = client.get(
        f"/v1/activities/{activity.id}/commitments/binding",
        params={"period": "2026-13"},
        headers=admin,
    )
    assert _fields(response) == {("query", "period")}


def test_bad_volume_bounds_are_named_with_the_paging_errors(
    client: TestClient, activity: Any, admin: dict[str, str]
) -> None:
    response = client.get(
        f"/v1/activities/{activity.id}/volumes",
        params={"start": "yesterday", "end": "2026-10-01T08:00:00", "limit": "0"},
        headers=admin,
    )
    assert _fields(response) == {("query", "start"), ("query", "end"), ("query", "limit")}


@pytest.mark.parametrize("path", ["/v1/staffing/erlang-c", "/v1/staffing/evaluate"])
def test_an_offered_load_too_large_is_named_with_a_missing_field(
    client: TestClient, admin: dict[str, str], path: str
) -> None:
    body = {"volume": 900_000_000, "interval_minutes": 15, "aht_seconds": 3600}
    response = client.post(path, json=body, headers=admin)
    fields = _fields(response)
    assert ("body", "volume") in fields and ("body", "answer_time_seconds") in fields


def test_a_label_query_with_a_json_body_is_named_with_the_bodys_problems(
    client: TestClient, activity: Any, admin: dict[str, str]
) -> None:
    body = {"lines": [{"period": "2024-01", "volume": "abc", "aht_seconds": 60}]}
    response = client.post(
        f"/v1/activities/{activity.id}/commitments",
        params={"label": "S48"},
        json=body,
        headers=admin,
    )
    assert _fields(response) == {
        ("query", "label"),  # only a CSV body takes its label in the query
        ("body", "lines.0.volume"),
        ("body", "lines.0.period"),  # the contract: before it starts
    }


@pytest.mark.parametrize(
    "body",
    [
        {"contract_id": "ctr_nope", "period": "2026-13"},
        {"contract_id": "ctr_nope", "period": "2026-01"},
    ],
    ids=["with-a-bad-period", "alone"],
)
def test_an_unknown_contract_to_invoice_is_a_bad_field(
    client: TestClient, admin: dict[str, str], body: dict[str, str]
) -> None:
    response = client.post("/v1/invoices", json=body, headers=admin)
    fields = _fields(response)
    assert ("body", "contract_id") in fields
    assert (("body", "period") in fields) == (body["period"] == "2026-13")


def test_an_unknown_contract_to_forecast_is_named_with_the_schema_errors(
    client: TestClient, admin: dict[str, str]
) -> None:
    body = {"contract_id": "ctr_nope", "start": "2026-12-01", "end": "2026-12-31", "levels": [10]}
    response = client.post("/v1/forecast-jobs", json=body, headers=admin)
    assert _fields(response) == {("body", "contract_id"), ("body", "levels.0")}


def test_another_clients_contract_to_forecast_looks_like_a_missing_one(
    client: TestClient, db: Session, activity: Any
) -> None:
    stranger = bearer(db, Role.CLIENT, make_client(db).id)
    body = {"contract_id": activity.contract_id, "start": "2026-12-01", "end": "2026-12-31"}
    response = client.post("/v1/forecast-jobs", json=body, headers=stranger)
    assert _fields(response) == {("body", "contract_id")}
    assert activity.contract_id in response.json()["errors"][0]["reason"]


@pytest.fixture
def day_forecast(db: Session, activity: Any) -> ForecastRun:
    """A stored day forecast with a 95 % interval only: staffing needs an interval forecast,
    and it has no 80 % bound."""
    run = ForecastRun(
        activity_id=activity.id,
        granularity="day",
        start=date(2026, 12, 1),
        end=date(2026, 12, 1),
        method_requested="snaive",
        method="snaive",
        levels=[95],
        volume="offered",
        backtest=[],
    )
    db.add(run)
    db.flush()
    return run


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (  # the schema refuses answer_time_seconds: the route's check adds the forecast's
            {"service_level_target": "80", "answer_time_seconds": "abc", "quantile": "upper_80"},
            {"service_level_target", "answer_time_seconds"},
        ),
        (  # the schema accepts every field: the service names the forecast's problems
            {"service_level_target": "0.8", "answer_time_seconds": "20", "quantile": "upper_80"},
            set(),
        ),
    ],
    ids=["schema-errors-too", "forecast-problems-only"],
)
def test_a_forecast_that_cannot_be_staffed_is_named_with_the_bad_targets(
    client: TestClient,
    admin: dict[str, str],
    day_forecast: ForecastRun,
    params: dict[str, str],
    expected: set[str],
) -> None:
    response = client.get(f"/v1/forecasts/{day_forecast.id}/staffing", params=params, headers=admin)
    assert _fields(response) == {
        ("path", "forecast_id"),  # a day forecast: staffing needs intervals
        ("query", "quantile"),  # no 80 % bound in this forecast
        *(("query", name) for name in expected),
    }
    reasons = {error["field"]: error["reason"] for error in response.json()["errors"]}
    assert reasons["quantile"].startswith("this forecast has no upper_80 bound")


NAMED_CASES = {
    ("POST", "/v1/activities/{activity_id}/commitments"): (
        "test_a_bad_volume_does_not_hide_bad_periods_or_a_missing_aht",
        "test_a_label_query_with_a_json_body_is_named_with_the_bodys_problems",
        "commitments/test_csv.py::test_an_overlong_label_is_named_as_the_query_parameter",
    ),
    ("POST", "/v1/contracts/{contract_id}/commitments"): (
        "test_an_unknown_activity_is_named_with_the_schema_errors",
    ),
    ("POST", "/v1/activities/{activity_id}/adjustments"): (
        "test_an_adjustment_outside_the_contract_is_named_with_the_schema_errors",
    ),
    ("POST", "/v1/contracts"): ("test_an_unknown_client_is_named_with_the_schema_errors",),
    ("PATCH", "/v1/contracts/{contract_id}"): (
        "test_an_end_before_the_stored_start_is_named_with_the_schema_errors",
    ),
    ("POST", "/v1/activities/{activity_id}/forecasts"): (
        "test_start_after_end_is_named_with_the_other_bad_fields",
    ),
    ("POST", "/v1/activities/{activity_id}/special-days"): (
        "test_a_missing_multiplier_is_named_with_a_bad_day",
    ),
    ("POST", "/v1/staffing/erlang-c"): (
        "test_a_missing_answer_time_does_not_hide_a_bad_target",
        "test_an_offered_load_too_large_is_named_with_a_missing_field",
    ),
    ("POST", "/v1/staffing/evaluate"): (
        "test_an_offered_load_too_large_is_named_with_a_missing_field",
    ),
    ("GET", "/v1/activities/{activity_id}/commitments/binding"): (
        "test_a_bad_binding_period_is_named_with_the_query_location",
    ),
    ("GET", "/v1/activities/{activity_id}/volumes"): (
        "test_bad_volume_bounds_are_named_with_the_paging_errors",
    ),
    ("POST", "/v1/activities/{activity_id}/volumes"): (
        "test_an_interval_off_the_activitys_grid_is_named_with_a_bad_count",
        "volumes/test_router.py::test_every_bad_row_is_listed",
    ),
    ("POST", "/v1/invoices"): ("test_an_unknown_contract_to_invoice_is_a_bad_field",),
    ("POST", "/v1/forecast-jobs"): (
        "test_an_unknown_contract_to_forecast_is_named_with_the_schema_errors",
        "test_another_clients_contract_to_forecast_looks_like_a_missing_one",
    ),
    ("GET", "/v1/forecast-jobs"): (
        "forecasts/test_lists.py::test_an_unknown_contract_is_named_with_a_bad_status",
    ),
    ("POST", "/v1/invoices/{invoice_id}/mark-paid"): (
        "billing/test_payments.py::test_an_amount_above_the_balance_is_named_with_a_bad_date",
    ),
    ("GET", "/v1/forecasts/{forecast_id}/staffing"): (
        "test_a_forecast_that_cannot_be_staffed_is_named_with_the_bad_targets",
    ),
}
"""The operations whose checks read stored data (or whose input has a shape of its own), and
the tests that send them several problems at once."""


def _operations_with_input() -> set[tuple[str, str]]:
    """Every `/v1` operation that takes a body or query parameters, as the app declares it."""
    return {
        (method.upper(), path)
        for path, operations in create_app().openapi()["paths"].items()
        if path.startswith("/v1/")
        for method, operation in operations.items()
        if "requestBody" in operation
        or any(parameter["in"] == "query" for parameter in operation.get("parameters", []))
    }


def test_every_operation_with_a_body_or_a_query_has_a_case() -> None:
    """A new route with a body or a query fails here until a test sends it several problems."""
    audited = {("GET", path) for path, _, _ in QUERY_CASES}
    audited |= {(method, path) for method, path, _, _ in BODY_CASES}
    assert not audited & NAMED_CASES.keys()
    assert audited | NAMED_CASES.keys() == _operations_with_input()


def test_every_named_case_is_a_test() -> None:
    tests = Path(__file__).resolve().parents[1]
    for names in NAMED_CASES.values():
        for name in names:
            module, _, function = name.rpartition("::")
            source = (tests / module if module else Path(__file__)).read_text(encoding="utf-8")
            assert f"\ndef {function}(" in source, name
