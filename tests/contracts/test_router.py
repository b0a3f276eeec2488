"""Reference data through the API (api.md "Reference data"): clients, contracts, activities and
prices, with the charter defaults, decimal strings, paging, validation, conflicts and audit."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.contracts.tables import Activity, ActivityPrice, Client, Contract
from app.core.auth import Role, issue_key
from app.core.tables import AuditEntry

from factories import make_activity, make_client, make_contract

PROBLEM = "application/problem+json"


@dataclass
class Caller:
    headers: dict[str, str]
    key_id: str


@pytest.fixture
def admin(db: Session) -> Caller:
    issued = issue_key(db, Role.ADMIN)
    return Caller({"Authorization": f"Bearer {issued.secret}"}, issued.id)


def _contract_body(client_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "client_id": client_id,
        "reference": "CTR-2026-01",
        "starts_on": "2026-01-01",
        **overrides,
    }


def _activity_body(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Service client voix",
        "channel": "voice",
        "interval_minutes": 30,
        "billing_unit": "contact",
        "prices": [{"effective_from": "2026-01-01", "unit_price": "1.20"}],
        **overrides,
    }


def _bad_fields(response: Any) -> set[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    return {error["field"] for error in response.json()["errors"]}


def _create_client(client: TestClient, admin: Caller, **body: Any) -> dict[str, Any]:
    response = client.post(
        "/v1/clients", json={"name": "Acme Énergie", **body}, headers=admin.headers
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def _new_client_id(client: TestClient, admin: Caller) -> str:
    return str(_create_client(client, admin)["id"])


def _create_contract(client: TestClient, admin: Caller, **body: Any) -> dict[str, Any]:
    client_id = body.pop("client_id", None) or _new_client_id(client, admin)
    response = client.post(
        "/v1/contracts", json=_contract_body(client_id, **body), headers=admin.headers
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def _create_activity(
    client: TestClient, admin: Caller, contract_id: str, **body: Any
) -> dict[str, Any]:
    response = client.post(
        f"/v1/contracts/{contract_id}/activities",
        json=_activity_body(**body),
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


# Clients


def test_created_client_has_the_api_fields(client: TestClient, admin: Caller) -> None:
    created = _create_client(client, admin, siren="552081317", country="BE")
    assert {k: created[k] for k in ("name", "siren", "country")} == {
        "name": "Acme Énergie",
        "siren": "552081317",
        "country": "BE",
    }
    assert isinstance(created["id"], str) and created["id"]


def test_client_country_defaults_to_fr(client: TestClient, admin: Caller) -> None:
    assert _create_client(client, admin)["country"] == "FR"


def test_client_siren_is_optional(client: TestClient, admin: Caller) -> None:
    assert _create_client(client, admin)["siren"] is None


def test_get_client_returns_the_created_client(client: TestClient, admin: Caller) -> None:
    created = _create_client(client, admin, siren="552081317")
    fetched = client.get(f"/v1/clients/{created['id']}", headers=admin.headers)
    assert fetched.json() == created


def test_get_unknown_client_is_404(client: TestClient, admin: Caller) -> None:
    response = client.get("/v1/clients/cli_nope", headers=admin.headers)
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


def test_list_clients_includes_the_created_client(client: TestClient, admin: Caller) -> None:
    created = _create_client(client, admin)
    items = client.get("/v1/clients", headers=admin.headers).json()["items"]
    assert created in items


def test_client_with_unknown_country_is_422_naming_country(
    client: TestClient, admin: Caller
) -> None:
    response = client.post(
        "/v1/clients", json={"name": "X", "country": "XX"}, headers=admin.headers
    )
    assert _bad_fields(response) == {"country"}


# SIREN: 9 digits and a Luhn checksum


def test_valid_siren_is_accepted(client: TestClient, admin: Caller) -> None:
    assert _create_client(client, admin, siren="552081317")["siren"] == "552081317"


@pytest.mark.parametrize(
    "siren",
    ["552081318", "55208131", "55208131A"],
    ids=["bad-checksum", "8-digits", "letter"],
)
def test_invalid_siren_is_422_naming_siren(client: TestClient, admin: Caller, siren: str) -> None:
    response = client.post("/v1/clients", json={"name": "X", "siren": siren}, headers=admin.headers)
    assert _bad_fields(response) == {"siren"}


def test_duplicate_siren_is_409(client: TestClient, admin: Caller) -> None:
    _create_client(client, admin, siren="552081317")
    response = client.post(
        "/v1/clients", json={"name": "Other", "siren": "552081317"}, headers=admin.headers
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM


def test_two_clients_without_siren_coexist(client: TestClient, admin: Caller) -> None:
    first, second = _create_client(client, admin), _create_client(client, admin)
    assert first["id"] != second["id"]


# Contracts

CHARTER_DEFAULTS = {
    "currency": "EUR",
    "timezone": "Europe/Paris",
    "commitment_deadline_days": 30,
    "trigger_ratio": "0.90",
    "floor_ratio": "0.90",
    "upper_tolerance": "0.10",
    "evaluation": "per_activity",
    "vat_rate": "0.20",
    "holiday_country": "FR",
    "payment_terms_days": 30,
}
CONTRACT_FIELDS = {"id", "client_id", "reference", "starts_on", "ends_on", *CHARTER_DEFAULTS}


def test_created_contract_has_the_api_fields(client: TestClient, admin: Caller) -> None:
    assert _create_contract(client, admin).keys() >= CONTRACT_FIELDS


def test_created_contract_echoes_what_was_sent(client: TestClient, admin: Caller) -> None:
    client_id = _new_client_id(client, admin)
    created = _create_contract(client, admin, client_id=client_id, ends_on="2028-12-31")
    assert {k: created[k] for k in ("client_id", "reference", "starts_on", "ends_on")} == {
        "client_id": client_id,
        "reference": "CTR-2026-01",
        "starts_on": "2026-01-01",
        "ends_on": "2028-12-31",
    }


def test_contract_gets_the_charter_defaults(client: TestClient, admin: Caller) -> None:
    created = _create_contract(client, admin)
    assert {k: created[k] for k in CHARTER_DEFAULTS} == CHARTER_DEFAULTS


def test_stored_contract_reads_back_with_the_charter_defaults(
    client: TestClient, admin: Caller
) -> None:
    """PostgreSQL pads NUMERIC(6, 4) to 0.9000; the API must still say "0.90"."""
    created = _create_contract(client, admin)
    fetched = client.get(f"/v1/contracts/{created['id']}", headers=admin.headers).json()
    assert {k: fetched[k] for k in CHARTER_DEFAULTS} == CHARTER_DEFAULTS


def test_contract_without_end_date_is_open_ended(client: TestClient, admin: Caller) -> None:
    assert _create_contract(client, admin)["ends_on"] is None


def test_get_contract_returns_the_created_contract(client: TestClient, admin: Caller) -> None:
    created = _create_contract(client, admin)
    assert client.get(f"/v1/contracts/{created['id']}", headers=admin.headers).json() == created


def test_list_contracts_filters_by_client(client: TestClient, admin: Caller, db: Session) -> None:
    mine = _create_contract(client, admin)
    make_contract(db, make_client(db))
    response = client.get(
        "/v1/contracts", params={"client_id": mine["client_id"]}, headers=admin.headers
    )
    assert [item["id"] for item in response.json()["items"]] == [mine["id"]]


@pytest.mark.parametrize("field", ["trigger_ratio", "floor_ratio", "upper_tolerance", "vat_rate"])
def test_contract_ratio_is_a_json_string(client: TestClient, admin: Caller, field: str) -> None:
    assert isinstance(_create_contract(client, admin)[field], str)


@pytest.mark.parametrize(
    ("field", "sent", "shown"),
    [
        ("trigger_ratio", "0.875", "0.875"),
        ("floor_ratio", "0.8", "0.80"),
        ("upper_tolerance", "0.1525", "0.1525"),
        ("vat_rate", "0.055", "0.055"),
    ],
)
def test_contract_ratio_round_trips_exactly(
    client: TestClient, admin: Caller, field: str, sent: str, shown: str
) -> None:
    """The value sent, exactly, with at least two decimals (as "0.90" in api.md)."""
    created = _create_contract(client, admin, **{field: sent})
    fetched = client.get(f"/v1/contracts/{created['id']}", headers=admin.headers).json()
    assert fetched[field] == shown


def test_pooled_evaluation_is_accepted(client: TestClient, admin: Caller) -> None:
    assert _create_contract(client, admin, evaluation="pooled")["evaluation"] == "pooled"


def test_contract_with_eight_bad_terms_names_all_eight(
    client: TestClient, admin: Caller, db: Session
) -> None:
    body = _contract_body(
        make_client(db).id,
        trigger_ratio="0",
        floor_ratio="1.5",
        upper_tolerance="-0.1",
        timezone="Mars/Olympus",
        currency="ABC",
        holiday_country="ZZ",
        payment_terms_days=61,
        starts_on="2026-06-01",
        ends_on="2026-05-31",
    )
    response = client.post("/v1/contracts", json=body, headers=admin.headers)
    assert _bad_fields(response) == {
        "trigger_ratio",
        "floor_ratio",
        "upper_tolerance",
        "timezone",
        "currency",
        "holiday_country",
        "payment_terms_days",
        "ends_on",
    }


def test_validation_detail_names_the_bad_fields(
    client: TestClient, admin: Caller, db: Session
) -> None:
    body = _contract_body(make_client(db).id, trigger_ratio="0", currency="ABC")
    detail = client.post("/v1/contracts", json=body, headers=admin.headers).json()["detail"]
    assert "trigger_ratio" in detail and "currency" in detail


@pytest.mark.parametrize("days", [0, 60])
def test_payment_terms_at_the_legal_bounds_are_accepted(
    client: TestClient, admin: Caller, days: int
) -> None:
    assert _create_contract(client, admin, payment_terms_days=days)["payment_terms_days"] == days


def test_ratio_of_exactly_one_is_accepted(client: TestClient, admin: Caller) -> None:
    assert _create_contract(client, admin, trigger_ratio="1")["trigger_ratio"] == "1.00"


def test_unknown_field_is_refused_by_name(client: TestClient, admin: Caller, db: Session) -> None:
    body = _contract_body(make_client(db).id, trigger_ration="0.80")
    response = client.post("/v1/contracts", json=body, headers=admin.headers)
    assert _bad_fields(response) == {"trigger_ration"}


def test_contract_for_unknown_client_is_422_naming_client_id(
    client: TestClient, admin: Caller
) -> None:
    response = client.post("/v1/contracts", json=_contract_body("cli_nope"), headers=admin.headers)
    assert _bad_fields(response) == {"client_id"}


def test_duplicate_reference_for_a_client_is_409(client: TestClient, admin: Caller) -> None:
    first = _create_contract(client, admin)
    response = client.post(
        "/v1/contracts", json=_contract_body(first["client_id"]), headers=admin.headers
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM


def test_same_reference_for_another_client_is_allowed(client: TestClient, admin: Caller) -> None:
    first = _create_contract(client, admin)
    second = _create_contract(client, admin)
    assert first["reference"] == second["reference"]
    assert first["client_id"] != second["client_id"]


# PATCH /v1/contracts/{id}


def test_patch_changes_terms_and_get_shows_them(client: TestClient, admin: Caller) -> None:
    created = _create_contract(client, admin)
    patch = {
        "trigger_ratio": "0.85",
        "floor_ratio": "0.80",
        "evaluation": "pooled",
        "payment_terms_days": 45,
        "ends_on": "2027-12-31",
    }
    client.patch(f"/v1/contracts/{created['id']}", json=patch, headers=admin.headers)
    fetched = client.get(f"/v1/contracts/{created['id']}", headers=admin.headers).json()
    assert {k: fetched[k] for k in patch} == patch


def test_patch_leaves_unsent_terms_alone(client: TestClient, admin: Caller) -> None:
    created = _create_contract(client, admin, vat_rate="0.10")
    client.patch(
        f"/v1/contracts/{created['id']}", json={"trigger_ratio": "0.85"}, headers=admin.headers
    )
    fetched = client.get(f"/v1/contracts/{created['id']}", headers=admin.headers).json()
    assert fetched["vat_rate"] == "0.10"


def test_patch_ends_on_before_stored_starts_on_is_422_naming_ends_on(
    client: TestClient, admin: Caller
) -> None:
    created = _create_contract(client, admin, starts_on="2026-06-01")
    response = client.patch(
        f"/v1/contracts/{created['id']}", json={"ends_on": "2026-05-31"}, headers=admin.headers
    )
    assert _bad_fields(response) == {"ends_on"}


def test_rejected_patch_changes_nothing(client: TestClient, admin: Caller) -> None:
    """The valid term sent alongside the invalid one is not applied either."""
    created = _create_contract(client, admin, starts_on="2026-06-01")
    response = client.patch(
        f"/v1/contracts/{created['id']}",
        json={"trigger_ratio": "0.50", "ends_on": "2026-05-31"},
        headers=admin.headers,
    )
    assert response.status_code == 422
    fetched = client.get(f"/v1/contracts/{created['id']}", headers=admin.headers).json()
    assert fetched == created


def test_patch_cannot_move_a_contract_to_another_client(
    client: TestClient, admin: Caller, db: Session
) -> None:
    created = _create_contract(client, admin)
    response = client.patch(
        f"/v1/contracts/{created['id']}",
        json={"client_id": make_client(db).id},
        headers=admin.headers,
    )
    assert _bad_fields(response) == {"client_id"}


def test_patch_to_a_reference_already_used_by_the_client_is_409(
    client: TestClient, admin: Caller
) -> None:
    first = _create_contract(client, admin)
    second = _create_contract(client, admin, client_id=first["client_id"], reference="CTR-2")
    response = client.patch(
        f"/v1/contracts/{second['id']}",
        json={"reference": first["reference"]},
        headers=admin.headers,
    )
    assert response.status_code == 409


def test_patch_reference_to_null_is_422_naming_reference(client: TestClient, admin: Caller) -> None:
    created = _create_contract(client, admin)
    response = client.patch(
        f"/v1/contracts/{created['id']}", json={"reference": None}, headers=admin.headers
    )
    assert response.status_code == 422


def test_patch_unknown_contract_is_404(client: TestClient, admin: Caller) -> None:
    response = client.patch(
        "/v1/contracts/ctr_nope", json={"trigger_ratio": "0.85"}, headers=admin.headers
    )
    assert response.status_code == 404


# Activities and prices

ACTIVITY_FIELDS = {
    "id",
    "contract_id",
    "name",
    "channel",
    "interval_minutes",
    "billing_unit",
    "volume_basis",
    "reference_aht_seconds",
    "prices",
}


@pytest.fixture
def contract_id(db: Session) -> str:
    return make_contract(db, make_client(db)).id


def test_created_activity_has_the_api_fields(
    client: TestClient, admin: Caller, contract_id: str
) -> None:
    assert _create_activity(client, admin, contract_id).keys() >= ACTIVITY_FIELDS


def test_created_activity_echoes_what_was_sent(
    client: TestClient, admin: Caller, contract_id: str
) -> None:
    created = _create_activity(
        client,
        admin,
        contract_id,
        channel="email",
        interval_minutes=60,
        billing_unit="hour",
        volume_basis="handled",
        reference_aht_seconds="420",
    )
    assert {
        k: created[k]
        for k in (
            "contract_id",
            "channel",
            "interval_minutes",
            "billing_unit",
            "volume_basis",
            "reference_aht_seconds",
        )
    } == {
        "contract_id": contract_id,
        "channel": "email",
        "interval_minutes": 60,
        "billing_unit": "hour",
        "volume_basis": "handled",
        "reference_aht_seconds": "420",
    }


def test_activity_volume_basis_defaults_to_offered(
    client: TestClient, admin: Caller, contract_id: str
) -> None:
    assert _create_activity(client, admin, contract_id)["volume_basis"] == "offered"


def test_activity_prices_are_created_with_it(
    client: TestClient, admin: Caller, contract_id: str
) -> None:
    created = _create_activity(client, admin, contract_id)
    assert [(p["effective_from"], p["unit_price"]) for p in created["prices"]] == [
        ("2026-01-01", "1.20")
    ]


def test_unit_price_is_a_json_string(client: TestClient, admin: Caller, contract_id: str) -> None:
    assert isinstance(_create_activity(client, admin, contract_id)["prices"][0]["unit_price"], str)


@pytest.mark.parametrize(
    ("sent", "shown"), [("1.234567", "1.234567"), ("1.5", "1.50"), ("6000", "6000.00")]
)
def test_unit_price_reads_back_exactly_with_two_decimals_at_least(
    client: TestClient, admin: Caller, contract_id: str, sent: str, shown: str
) -> None:
    created = _create_activity(
        client, admin, contract_id, prices=[{"effective_from": "2026-01-01", "unit_price": sent}]
    )
    fetched = client.get(f"/v1/activities/{created['id']}", headers=admin.headers).json()
    assert fetched["prices"][0]["unit_price"] == shown


def test_get_activity_returns_the_created_activity(
    client: TestClient, admin: Caller, contract_id: str
) -> None:
    created = _create_activity(client, admin, contract_id)
    assert client.get(f"/v1/activities/{created['id']}", headers=admin.headers).json() == created


def test_list_activities_gives_the_contracts_activities(
    client: TestClient, admin: Caller, contract_id: str
) -> None:
    voice = _create_activity(client, admin, contract_id)
    chat = _create_activity(client, admin, contract_id, name="Chat", channel="chat")
    response = client.get(f"/v1/contracts/{contract_id}/activities", headers=admin.headers)
    assert {item["id"] for item in response.json()["items"]} == {voice["id"], chat["id"]}


def test_activity_prices_are_listed_oldest_first(
    client: TestClient, admin: Caller, contract_id: str
) -> None:
    prices = [
        {"effective_from": d, "unit_price": "1.20"}
        for d in ("2027-01-01", "2025-01-01", "2026-01-01")
    ]
    created = _create_activity(client, admin, contract_id, prices=prices)
    listed = client.get(f"/v1/activities/{created['id']}/prices", headers=admin.headers).json()
    assert [p["effective_from"] for p in listed] == ["2025-01-01", "2026-01-01", "2027-01-01"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"interval_minutes": 20}, "interval_minutes"),
        ({"billing_unit": "minute"}, "billing_unit"),
        ({"volume_basis": "x"}, "volume_basis"),
        ({"channel": "fax"}, "channel"),
        ({"prices": [{"effective_from": "2026-01-01", "unit_price": "0"}]}, "prices.0.unit_price"),
        (
            {"prices": [{"effective_from": "2026-01-01", "unit_price": "-1.00"}]},
            "prices.0.unit_price",
        ),
        (
            {"prices": [{"effective_from": "2026-01-01", "unit_price": "1.1234567"}]},
            "prices.0.unit_price",
        ),
        (
            {
                "prices": [
                    {"effective_from": "2026-01-01", "unit_price": "1.20"},
                    {"effective_from": "2026-01-01", "unit_price": "1.30"},
                ]
            },
            "prices",
        ),
        ({"reference_aht_seconds": "0"}, "reference_aht_seconds"),
    ],
    ids=[
        "interval-20",
        "unit-minute",
        "basis-x",
        "channel-fax",
        "price-0",
        "price-negative",
        "price-7-decimals",
        "two-prices-same-date",
        "aht-0",
    ],
)
def test_invalid_activity_is_422_naming_the_field(
    client: TestClient, admin: Caller, contract_id: str, overrides: dict[str, Any], field: str
) -> None:
    response = client.post(
        f"/v1/contracts/{contract_id}/activities",
        json=_activity_body(**overrides),
        headers=admin.headers,
    )
    assert _bad_fields(response) == {field}


def test_activity_for_unknown_contract_is_404(client: TestClient, admin: Caller) -> None:
    response = client.post(
        "/v1/contracts/ctr_nope/activities", json=_activity_body(), headers=admin.headers
    )
    assert response.status_code == 404


def test_duplicate_activity_name_in_a_contract_is_409(
    client: TestClient, admin: Caller, contract_id: str
) -> None:
    _create_activity(client, admin, contract_id)
    response = client.post(
        f"/v1/contracts/{contract_id}/activities", json=_activity_body(), headers=admin.headers
    )
    assert response.status_code == 409


def test_added_price_appears_in_the_activity(
    client: TestClient, admin: Caller, contract_id: str
) -> None:
    created = _create_activity(client, admin, contract_id)
    added = client.post(
        f"/v1/activities/{created['id']}/prices",
        json={"effective_from": "2027-01-01", "unit_price": "1.26"},
        headers=admin.headers,
    )
    assert added.status_code == 201
    fetched = client.get(f"/v1/activities/{created['id']}", headers=admin.headers).json()
    assert [(p["effective_from"], p["unit_price"]) for p in fetched["prices"]] == [
        ("2026-01-01", "1.20"),
        ("2027-01-01", "1.26"),
    ]


def test_price_on_an_existing_effective_from_is_409(
    client: TestClient, admin: Caller, contract_id: str
) -> None:
    created = _create_activity(client, admin, contract_id)
    response = client.post(
        f"/v1/activities/{created['id']}/prices",
        json={"effective_from": "2026-01-01", "unit_price": "9.99"},
        headers=admin.headers,
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM


def test_refused_price_leaves_the_original_unchanged(
    client: TestClient, admin: Caller, contract_id: str
) -> None:
    created = _create_activity(client, admin, contract_id)
    client.post(
        f"/v1/activities/{created['id']}/prices",
        json={"effective_from": "2026-01-01", "unit_price": "9.99"},
        headers=admin.headers,
    )
    listed = client.get(f"/v1/activities/{created['id']}/prices", headers=admin.headers).json()
    assert listed == created["prices"]


# PATCH /v1/activities/{id}


def test_patch_activity_changes_its_name(
    client: TestClient, admin: Caller, contract_id: str
) -> None:
    created = _create_activity(client, admin, contract_id)
    client.patch(
        f"/v1/activities/{created['id']}", json={"name": "Voix premium"}, headers=admin.headers
    )
    fetched = client.get(f"/v1/activities/{created['id']}", headers=admin.headers).json()
    assert fetched["name"] == "Voix premium"


@pytest.mark.parametrize(("field", "value"), [("interval_minutes", 20), ("billing_unit", "hour")])
def test_patch_activity_cannot_change_its_unit_nor_leave_the_grids(
    client: TestClient, admin: Caller, contract_id: str, field: str, value: Any
) -> None:
    created = _create_activity(client, admin, contract_id)
    response = client.patch(
        f"/v1/activities/{created['id']}", json={field: value}, headers=admin.headers
    )
    assert _bad_fields(response) == {field}


def test_patch_activity_cannot_edit_prices(
    client: TestClient, admin: Caller, contract_id: str
) -> None:
    created = _create_activity(client, admin, contract_id)
    response = client.patch(
        f"/v1/activities/{created['id']}",
        json={"prices": [{"effective_from": "2026-01-01", "unit_price": "9.99"}]},
        headers=admin.headers,
    )
    assert _bad_fields(response) == {"prices"}


@pytest.mark.parametrize("field", ["name", "channel", "volume_basis"])
def test_patch_activity_required_field_to_null_is_422(
    client: TestClient, admin: Caller, contract_id: str, field: str
) -> None:
    created = _create_activity(client, admin, contract_id)
    response = client.patch(
        f"/v1/activities/{created['id']}", json={field: None}, headers=admin.headers
    )
    assert response.status_code == 422


def test_patch_activity_may_clear_the_reference_aht(
    client: TestClient, admin: Caller, contract_id: str
) -> None:
    created = _create_activity(client, admin, contract_id, reference_aht_seconds="300")
    response = client.patch(
        f"/v1/activities/{created['id']}",
        json={"reference_aht_seconds": None},
        headers=admin.headers,
    )
    assert response.json()["reference_aht_seconds"] is None


# Paging


def _walk(client: TestClient, admin: Caller, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        body = client.get("/v1/clients", params=params, headers=admin.headers).json()
        pages.append([item["id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None or len(pages) > 10:
            return pages


def test_paging_by_two_walks_every_client_exactly_once(
    client: TestClient, admin: Caller, db: Session
) -> None:
    made = {make_client(db, name=f"Client {i}").id for i in range(5)}
    every = set(db.scalars(select(Client.id)))
    seen = [client_id for page in _walk(client, admin, 2) for client_id in page]
    assert made <= every
    assert sorted(seen) == sorted(every)


def test_paging_by_two_gives_pages_of_two_at_most(
    client: TestClient, admin: Caller, db: Session
) -> None:
    for i in range(5):
        make_client(db, name=f"Client {i}")
    total = db.scalar(select(func.count()).select_from(Client)) or 0
    sizes = [len(page) for page in _walk(client, admin, 2)]
    assert sizes == [2] * (total // 2) + ([total % 2] if total % 2 else [])


def test_default_page_size_is_50(client: TestClient, admin: Caller, db: Session) -> None:
    for i in range(51):
        make_client(db, name=f"Client {i}")
    body = client.get("/v1/clients", headers=admin.headers).json()
    assert len(body["items"]) == 50
    assert body["next_cursor"] is not None


def test_limit_of_500_is_accepted(client: TestClient, admin: Caller) -> None:
    assert (
        client.get("/v1/clients", params={"limit": 500}, headers=admin.headers).status_code == 200
    )


@pytest.mark.parametrize("limit", [0, 501, -1])
def test_limit_out_of_range_is_422_naming_limit(
    client: TestClient, admin: Caller, limit: int
) -> None:
    response = client.get("/v1/clients", params={"limit": limit}, headers=admin.headers)
    assert _bad_fields(response) == {"limit"}


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "garbage!",
        "!!!!",
    ],
)
def test_garbage_cursor_is_422_naming_cursor(
    client: TestClient, admin: Caller, cursor: str
) -> None:
    response = client.get("/v1/clients", params={"cursor": cursor}, headers=admin.headers)
    assert _bad_fields(response) == {"cursor"}


# Nothing is written by a rejected request


def _row_counts(db: Session) -> tuple[int, ...]:
    return tuple(
        db.scalar(select(func.count()).select_from(table)) or 0
        for table in (Client, Contract, Activity, ActivityPrice, AuditEntry)
    )


REJECTED = {
    "client with bad siren": ("/v1/clients", {"name": "X", "siren": "552081318"}),
    "client with taken siren": ("/v1/clients", {"name": "X", "siren": "552081317"}),
    "contract for unknown client": ("/v1/contracts", _contract_body("cli_nope")),
    "contract with taken reference": ("/v1/contracts", _contract_body("{client}")),
    "activity with bad interval": (
        "/v1/contracts/{contract}/activities",
        _activity_body(interval_minutes=20),
    ),
    "activity with taken name": (
        "/v1/contracts/{contract}/activities",
        _activity_body(name="Service client voix"),
    ),
    "price on a taken date": (
        "/v1/activities/{activity}/prices",
        {"effective_from": "2025-01-01", "unit_price": "2.00"},
    ),
}


@pytest.mark.parametrize("case", list(REJECTED))
def test_rejected_create_writes_nothing(
    client: TestClient, admin: Caller, db: Session, case: str
) -> None:
    existing = make_client(db, siren="552081317")
    contract = make_contract(db, existing, reference="CTR-2026-01")
    activity = make_activity(db, contract)  # named "Service client voix", priced from 2025-01-01
    ids = {"client": existing.id, "contract": contract.id, "activity": activity.id}
    path, body = REJECTED[case]
    body = {k: v.format(**ids) if isinstance(v, str) else v for k, v in body.items()}
    before = _row_counts(db)
    response = client.post(path.format(**ids), json=body, headers=admin.headers)
    assert response.status_code in (409, 422), response.text
    assert _row_counts(db) == before


# Audit trail


def _audit(db: Session, entity_id: str) -> list[tuple[str, str | None]]:
    db.expire_all()
    return [
        (entry.action, entry.api_key_id)
        for entry in db.scalars(
            select(AuditEntry).where(AuditEntry.entity_id == entity_id).order_by(AuditEntry.at)
        )
    ]


def test_client_creation_is_audited_with_the_callers_key(
    client: TestClient, admin: Caller, db: Session
) -> None:
    created = _create_client(client, admin)
    assert _audit(db, created["id"]) == [("client.created", admin.key_id)]


def test_contract_creation_is_audited_with_the_callers_key(
    client: TestClient, admin: Caller, db: Session
) -> None:
    created = _create_contract(client, admin)
    assert _audit(db, created["id"]) == [("contract.created", admin.key_id)]


def test_contract_update_is_audited_with_the_callers_key(
    client: TestClient, admin: Caller, db: Session
) -> None:
    created = _create_contract(client, admin)
    other = issue_key(db, Role.ADMIN)
    client.patch(
        f"/v1/contracts/{created['id']}",
        json={"trigger_ratio": "0.85"},
        headers={"Authorization": f"Bearer {other.secret}"},
    )
    assert _audit(db, created["id"]) == [
        ("contract.created", admin.key_id),
        ("contract.updated", other.id),
    ]


def test_activity_creation_is_audited_with_the_callers_key(
    client: TestClient, admin: Caller, db: Session, contract_id: str
) -> None:
    created = _create_activity(client, admin, contract_id)
    assert _audit(db, created["id"]) == [("activity.created", admin.key_id)]


def test_activity_update_is_audited_with_the_callers_key(
    client: TestClient, admin: Caller, db: Session, contract_id: str
) -> None:
    created = _create_activity(client, admin, contract_id)
    client.patch(
        f"/v1/activities/{created['id']}", json={"name": "Voix premium"}, headers=admin.headers
    )
    assert ("activity.updated", admin.key_id) in _audit(db, created["id"])


def test_price_creation_is_audited_with_the_callers_key(
    client: TestClient, admin: Caller, db: Session
) -> None:
    activity = make_activity(db, make_contract(db, make_client(db)))
    added = client.post(
        f"/v1/activities/{activity.id}/prices",
        json={"effective_from": "2027-01-01", "unit_price": "1.26"},
        headers=admin.headers,
    )
    assert _audit(db, added.json()["id"]) == [("price.created", admin.key_id)]


def test_contract_update_audit_records_the_old_and_new_value(
    client: TestClient, admin: Caller, db: Session
) -> None:
    created = _create_contract(client, admin)
    client.patch(
        f"/v1/contracts/{created['id']}", json={"trigger_ratio": "0.85"}, headers=admin.headers
    )
    db.expire_all()
    entry = db.scalars(
        select(AuditEntry).where(
            AuditEntry.entity_id == created["id"], AuditEntry.action == "contract.updated"
        )
    ).one()
    before, after = (
        entry.changes["before"]["trigger_ratio"],
        entry.changes["after"]["trigger_ratio"],
    )
    assert (Decimal(before), Decimal(after)) == (Decimal("0.90"), Decimal("0.85"))
