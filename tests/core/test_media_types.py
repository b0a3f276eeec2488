"""A body of a media type the operation does not accept is a 415 problem that lists the
accepted ones, before anything tries to read it."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.contracts.tables import Client
from app.core.auth import Role

from factories import bearer, make_activity, make_client, make_contract


@pytest.fixture
def admin(db: Session) -> dict[str, str]:
    return bearer(db, Role.ADMIN)


def _refused(response: Any, accepted: list[str]) -> dict[str, Any]:
    assert response.status_code == 415, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["accepted"] == accepted
    assert all(name in body["detail"] for name in accepted)
    return body


def test_a_json_operation_refuses_form_data_and_lists_json(
    client: TestClient, db: Session, admin: dict[str, str]
) -> None:
    before = db.scalar(select(func.count()).select_from(Client))
    response = client.post(
        "/v1/clients",
        content=b"name=Acme",
        headers={**admin, "Content-Type": "application/x-www-form-urlencoded"},
    )
    body = _refused(response, ["application/json"])
    assert "application/x-www-form-urlencoded" in body["detail"]
    assert response.headers["Accept-Post"] == "application/json"
    assert db.scalar(select(func.count()).select_from(Client)) == before


def test_a_patch_names_its_accepted_types_in_accept_patch(
    client: TestClient, db: Session, admin: dict[str, str]
) -> None:
    customer = make_client(db)
    response = client.patch(
        f"/v1/clients/{customer.id}",
        content=b"<name>X</name>",
        headers={**admin, "Content-Type": "application/xml"},
    )
    _refused(response, ["application/json"])
    assert response.headers["Accept-Patch"] == "application/json"


@pytest.mark.parametrize("path", ["commitments", "volumes"])
def test_an_upload_refuses_xml_and_lists_json_and_csv(
    client: TestClient, db: Session, admin: dict[str, str], path: str
) -> None:
    activity = make_activity(db, make_contract(db, make_client(db)))
    response = client.post(
        f"/v1/activities/{activity.id}/{path}",
        content=b"<lines/>",
        headers={**admin, "Content-Type": "application/xml"},
    )
    _refused(response, ["application/json", "text/csv"])


def test_json_with_a_charset_or_a_json_suffix_is_accepted(
    client: TestClient, admin: dict[str, str]
) -> None:
    for media_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        response = client.post(
            "/v1/clients",
            content=b'{"name": "Acme"}',
            headers={**admin, "Content-Type": media_type},
        )
        assert response.status_code == 201, (media_type, response.text)


def test_a_key_is_checked_before_the_media_type(client: TestClient) -> None:
    response = client.post("/v1/clients", content=b"x", headers={"Content-Type": "text/plain"})
    assert response.status_code == 401
