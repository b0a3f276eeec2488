"""The invoice list: every filter value is checked, and a bare date is a valid instant."""

import pytest

from billing_scenarios import VOICE_100K, arrange, generate


def _list(client, headers, **params):
    return client.get("/v1/invoices", params=params, headers=headers)


@pytest.mark.parametrize("since", ["2026-12-01", "2026-01-01T00:00:00+01:00", "2026-01-01T00:00Z"])
def test_updated_since_takes_a_date_or_an_instant_with_offset(client, db, admin, billing, since):
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    generate(client, contract_id, billing)
    response = _list(client, billing, updated_since=since)
    assert response.status_code == 200, response.text


def test_a_bare_date_is_midnight_utc(client, db, admin, billing) -> None:
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    invoice = generate(client, contract_id, billing).json()
    day = invoice["updated_at"][:10]
    listed = _list(client, billing, updated_since=day).json()["items"]
    assert [item["id"] for item in listed] == [invoice["id"]]
    assert _list(client, billing, updated_since="2999-01-01").json()["items"] == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("updated_since", "2026-12-01T10:00:00"),
        ("updated_since", "yesterday"),
        ("status", "bogus"),
        ("kind", "receipt"),
        ("period", "2026-13"),
    ],
)
def test_a_malformed_filter_is_a_problem_naming_it(client, billing, name, value) -> None:
    response = _list(client, billing, **{name: value})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in response.json()["errors"]] == [name]


def test_filters_on_kind_and_client(client, db, admin, billing) -> None:
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    invoice = generate(client, contract_id, billing).json()
    other_id, _ = arrange(client, db, admin, [VOICE_100K])
    generate(client, other_id, billing)
    mine = _list(client, billing, client_id=invoice["client_id"], kind="invoice").json()
    assert [item["id"] for item in mine["items"]] == [invoice["id"]]
    assert _list(client, billing, kind="credit_note").json()["items"] == []
