"""The client's billing identity (issue 15): address, VAT number, electronic address, and the
audited PATCH that changes them."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.auth import Role
from app.core.tables import AuditEntry

from factories import bearer

ADDRESS = {"line1": "12 avenue des Champs", "postcode": "69002", "city": "Lyon"}


@pytest.fixture
def admin(db: Session) -> dict[str, str]:
    return bearer(db, Role.ADMIN)


def _create(client: TestClient, admin: dict[str, str], **body: object) -> dict:
    response = client.post("/v1/clients", json={"name": "Acme", **body}, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


def test_client_is_created_with_its_billing_identity(client, admin) -> None:
    created = _create(client, admin, siren="552081317", vat_number="FR03552081317", address=ADDRESS)
    assert created["address"] == {**ADDRESS, "line2": None, "country": "FR"}
    assert created["vat_number"] == "FR03552081317"


def test_electronic_address_defaults_to_the_siren(client, admin) -> None:
    assert _create(client, admin, siren="552081317")["electronic_address"] == "552081317"
    other = _create(client, admin, siren="732829320", electronic_address="732829320_FACT")
    assert other["electronic_address"] == "732829320_FACT"


def test_patch_changes_only_what_it_names_and_is_audited(client, db, admin) -> None:
    created = _create(client, admin, siren="552081317")
    response = client.patch(
        f"/v1/clients/{created['id']}",
        json={"address": {**ADDRESS, "line2": "Bâtiment B"}, "vat_number": "FR03552081317"},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    patched = response.json()
    assert (patched["name"], patched["siren"]) == ("Acme", "552081317")
    assert patched["address"]["line2"] == "Bâtiment B"
    [changes] = db.scalars(
        select(AuditEntry.changes).where(
            AuditEntry.entity_id == created["id"], AuditEntry.action == "client.updated"
        )
    )
    assert changes["before"] == {"address": None, "vat_number": None}
    assert changes["after"]["vat_number"] == "FR03552081317"


def test_patch_with_null_clears_an_optional_field(client, admin) -> None:
    created = _create(client, admin, siren="552081317", address=ADDRESS)
    response = client.patch(f"/v1/clients/{created['id']}", json={"address": None}, headers=admin)
    assert response.json()["address"] is None


def test_patch_names_every_bad_field(client, admin) -> None:
    created = _create(client, admin)
    response = client.patch(
        f"/v1/clients/{created['id']}",
        json={"name": None, "vat_number": "not a vat", "address": {"line1": "x"}},
        headers=admin,
    )
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert {"name", "vat_number", "address.postcode", "address.city"} <= fields


def test_patch_to_a_taken_siren_is_409(client, admin) -> None:
    _create(client, admin, siren="552081317")
    other = _create(client, admin)
    response = client.patch(
        f"/v1/clients/{other['id']}", json={"siren": "552081317"}, headers=admin
    )
    assert response.status_code == 409


def test_only_admin_patches_a_client(client, db, admin) -> None:
    created = _create(client, admin)
    ops = bearer(db, Role.OPS)
    response = client.patch(f"/v1/clients/{created['id']}", json={"name": "X"}, headers=ops)
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("siren", "vat_number"),
    [
        ("732 829 320", "fr 44 732 829 320"),
        ("732\u00a0829\u00a0320", "Fr44732829320"),  # no-break spaces, as a French form writes
        (" 732829320 ", "FR44\u202f732829320"),
    ],
)
def test_a_siren_and_vat_number_written_grouped_are_stored_ungrouped(
    client, admin, siren: str, vat_number: str
) -> None:
    created = _create(client, admin, siren=siren, vat_number=vat_number)
    assert (created["siren"], created["vat_number"]) == ("732829320", "FR44732829320")
    patched = client.patch(
        f"/v1/clients/{created['id']}", json={"vat_number": "fr 44 732829320"}, headers=admin
    )
    assert patched.json()["vat_number"] == "FR44732829320"


def test_a_grouped_siren_still_has_to_pass_its_checksum(client, admin) -> None:
    response = client.post(
        "/v1/clients", json={"name": "Acme", "siren": "732 829 321"}, headers=admin
    )
    assert response.status_code == 422
    assert "Luhn" in response.json()["errors"][0]["reason"]
