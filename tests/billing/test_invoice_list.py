"""The invoice list: every filter value is checked; an instant must carry its offset."""

import pytest

from billing_scenarios import VOICE_100K, arrange, generate


def _list(client, headers, **params):
    return client.get("/v1/invoices", params=params, headers=headers)


@pytest.mark.parametrize("since", ["2026-01-01T00:00:00+01:00", "2026-01-01T00:00Z"])
def test_updated_since_takes_an_instant_with_offset(client, db, admin, billing, since):
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    generate(client, contract_id, billing)
    response = _list(client, billing, updated_since=since)
    assert response.status_code == 200, response.text


def test_an_instant_filters_on_the_stamp(client, db, admin, billing) -> None:
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    invoice = generate(client, contract_id, billing).json()
    midnight = f"{invoice['updated_at'][:10]}T00:00:00Z"
    listed = _list(client, billing, updated_since=midnight).json()["items"]
    assert [item["id"] for item in listed] == [invoice["id"]]
    assert _list(client, billing, updated_since="2999-01-01T00:00:00Z").json()["items"] == []


@pytest.mark.parametrize("since", ["2027-01-05", " 2027-01-05"])
def test_a_bare_date_is_not_an_instant(client, billing, since) -> None:
    response = _list(client, billing, updated_since=since)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    [error] = response.json()["errors"]
    assert error["field"] == "updated_since"
    assert "offset" in error["reason"]


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
