"""A `feed` key, for an ACD or telephony platform: it posts and reads actual volumes, of one
client when it is bound to one, and may do nothing else."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.contracts.tables import Contract
from app.core.auth import Role, issue_key

from factories import bearer, make_activity, make_client, make_contract

RECORDS = {
    "records": [
        {
            "interval_start": "2026-10-01T08:00:00+02:00",
            "offered": 42,
            "handled": 40,
            "aht_seconds": 300,
        }
    ]
}
READ = {"start": "2026-10-01", "end": "2026-10-02", "granularity": "interval"}


@pytest.fixture
def tenants(db: Session):
    """Two clients with an activity each."""
    return [make_activity(db, make_contract(db, make_client(db))) for _ in range(2)]


def _feed(db: Session, client_id: str | None = None) -> dict[str, str]:
    issued = issue_key(db, Role.FEED, client_id)
    return {"Authorization": f"Bearer {issued.secret}"}


def test_a_feed_key_posts_and_reads_volumes(client: TestClient, db: Session, tenants) -> None:
    activity = tenants[0]
    headers = _feed(db)
    posted = client.post(f"/v1/activities/{activity.id}/volumes", json=RECORDS, headers=headers)
    assert posted.status_code == 200, posted.text
    assert posted.json()["inserted"] == 1
    read = client.get(f"/v1/activities/{activity.id}/volumes", params=READ, headers=headers)
    assert read.status_code == 200
    assert [item["offered"] for item in read.json()["items"]] == [42]


def test_a_bound_feed_key_sees_another_clients_activity_as_missing(
    client: TestClient, db: Session, tenants
) -> None:
    own, other = tenants
    contract = db.get(Contract, own.contract_id)
    assert contract is not None
    headers = _feed(db, client_id=contract.client_id)
    url = f"/v1/activities/{other.id}/volumes"
    assert client.post(url, json=RECORDS, headers=headers).status_code == 404
    assert client.get(url, params=READ, headers=headers).status_code == 404
    own_url = f"/v1/activities/{own.id}/volumes"
    assert client.post(own_url, json=RECORDS, headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/clients"),
        ("GET", "/v1/contracts"),
        ("GET", "/v1/invoices"),
        ("GET", "/v1/overview?period=2026-10"),
        ("POST", "/v1/staffing/erlang-c"),
        ("POST", "/v1/clients"),
    ],
)
def test_a_feed_key_may_do_nothing_else(
    client: TestClient, db: Session, method: str, path: str
) -> None:
    response = client.request(method, path, json={}, headers=_feed(db))
    assert response.status_code == 403, response.text
    assert "the key has role feed" in response.json()["detail"]


def test_a_feed_key_may_not_post_commitments_or_read_an_activity(
    client: TestClient, db: Session, tenants
) -> None:
    activity = tenants[0]
    headers = _feed(db)
    body = {"lines": [{"period": "2027-03", "volume": 1}]}
    assert (
        client.post(
            f"/v1/activities/{activity.id}/commitments", json=body, headers=headers
        ).status_code
        == 403
    )
    assert client.get(f"/v1/activities/{activity.id}", headers=headers).status_code == 403


def test_a_feed_key_does_not_sign_in_to_the_dashboard(client: TestClient, db: Session) -> None:
    secret = _feed(db)["Authorization"].removeprefix("Bearer ")
    response = client.post("/dashboard/signin", data={"api_key": secret}, follow_redirects=False)
    assert response.status_code == 401
    ops = bearer(db, Role.OPS)["Authorization"].removeprefix("Bearer ")
    signed_in = client.post("/dashboard/signin", data={"api_key": ops}, follow_redirects=False)
    assert signed_in.status_code == 303


def test_only_client_and_feed_keys_take_a_client(db: Session) -> None:
    customer = make_client(db)
    assert issue_key(db, Role.FEED, customer.id).client_id == customer.id
    assert issue_key(db, Role.FEED).client_id is None
    with pytest.raises(ValueError, match="only client and feed keys"):
        issue_key(db, Role.OPS, customer.id)
    with pytest.raises(ValueError, match="needs --client-id"):
        issue_key(db, Role.CLIENT)
