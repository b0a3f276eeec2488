"""Commitments from a WFM suite's CSV export: the same rules as JSON, all or nothing, every bad
line named by its line number, column and reason; the README's example file is accepted."""

from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.commitments.tables import CommitmentVersion
from app.core.auth import Role

from factories import bearer, make_activity, make_client, make_contract

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "commitments.csv"


@pytest.fixture
def tenant(db: Session):
    customer = make_client(db)
    contract = make_contract(db, customer, starts_on=date(2025, 1, 1))
    voice = make_activity(db, contract, name="Service client voix")
    back_office = make_activity(db, contract, name="Back-office dossiers", billing_unit="hour")
    return customer, contract, voice, back_office


@pytest.fixture
def admin(db: Session) -> dict[str, str]:
    return bearer(db, Role.ADMIN)


def _csv(client: TestClient, path: str, text: str, headers, **params):
    return client.post(
        path,
        content=text.encode(),
        params=params,
        headers={**headers, "Content-Type": "text/csv; charset=utf-8"},
    )


def _versions(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(CommitmentVersion)) or 0)


def test_one_activitys_csv_stores_the_same_lines_as_json(client, tenant, admin) -> None:
    _, _, voice, _ = tenant
    text = "period,volume,aht_seconds\n2027-03,95000,\n2027-04,98000.5,310\n"
    response = _csv(client, f"/v1/activities/{voice.id}/commitments", text, admin, label="WFM")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["label"] == "WFM"
    assert [(line["period"], line["volume"], line["aht_seconds"]) for line in body["lines"]] == [
        ("2027-03", "95000", None),
        ("2027-04", "98000.5", "310"),
    ]
    assert {line["activity_id"] for line in body["lines"]} == {voice.id}


def test_the_contract_csv_names_activities_by_id_or_name(client, tenant, admin) -> None:
    _, contract, voice, back_office = tenant
    text = (
        "activity;period;volume;aht_seconds\n"  # a French spreadsheet's separator
        f"service client VOIX;2027-03;95000;\n"
        f"{back_office.id};2027-03;1200;420\n"
    )
    response = _csv(client, f"/v1/contracts/{contract.id}/commitments", text, admin)
    assert response.status_code == 201, response.text
    lines = response.json()["lines"]
    assert [(line["activity_id"], line["volume"]) for line in lines] == [
        (voice.id, "95000"),
        (back_office.id, "1200"),
    ]


def test_every_bad_line_is_named_by_line_number_and_nothing_is_stored(
    client, db, tenant, admin
) -> None:
    _, contract, voice, _ = tenant
    before = _versions(db)
    text = (
        "activity,period,volume,aht_seconds\n"
        f"{voice.id},2027-13,abc,\n"  # line 2: bad period and bad volume
        "\n"  # a blank line is skipped but counted
        "Nobody,2027-03,10,\n"  # line 4: unknown activity
        f"Back-office dossiers,2027-03,10,\n"  # line 5: billed per hour without an AHT
        f"{voice.id},2020-01,10,\n"  # line 6: before the contract
        f"{voice.id},2027-03,10\n"  # line 7: a cell missing
    )
    response = _csv(client, f"/v1/contracts/{contract.id}/commitments", text, admin)
    assert response.status_code == 422, response.text
    errors = [(e["location"], e.get("row"), e["field"]) for e in response.json()["errors"]]
    assert set(errors) == {
        ("csv", 2, "period"),
        ("csv", 2, "volume"),
        ("csv", 4, "activity"),
        ("csv", 5, "aht_seconds"),
        ("csv", 6, "period"),
        ("csv", 7, "line"),
    }
    assert _versions(db) == before


def test_a_wrong_header_is_named_with_the_columns_expected(client, tenant, admin) -> None:
    _, _, voice, _ = tenant
    response = _csv(
        client, f"/v1/activities/{voice.id}/commitments", "month,volume\n2027-03,1\n", admin
    )
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert (error["location"], error["row"], error["field"]) == ("csv", 1, "header")
    assert "unknown column 'month'" in error["reason"] and "period,volume" in error["reason"]


def test_the_activity_form_refuses_an_activity_column(client, tenant, admin) -> None:
    _, _, voice, _ = tenant
    text = "activity,period,volume\nX,2027-03,1\n"
    response = _csv(client, f"/v1/activities/{voice.id}/commitments", text, admin)
    assert response.status_code == 422
    assert "unknown column 'activity'" in response.json()["errors"][0]["reason"]


def test_an_overlong_label_is_named_as_the_query_parameter(client, tenant, admin) -> None:
    _, _, voice, _ = tenant
    text = "period,volume\n2027-03,x\n"
    response = _csv(client, f"/v1/activities/{voice.id}/commitments", text, admin, label="L" * 201)
    fields = {(e["location"], e["field"]) for e in response.json()["errors"]}
    assert fields == {("query", "label"), ("csv", "volume")}


def test_a_label_query_with_a_json_body_is_refused(client, tenant, admin) -> None:
    _, _, voice, _ = tenant
    response = client.post(
        f"/v1/activities/{voice.id}/commitments",
        params={"label": "WFM"},
        json={"lines": [{"period": "2027-03", "volume": 1}]},
        headers=admin,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "label"


def test_the_readmes_example_file_is_accepted(client, db, tenant, admin) -> None:
    _, contract, voice, back_office = tenant
    response = _csv(client, f"/v1/contracts/{contract.id}/commitments", EXAMPLE.read_text(), admin)
    assert response.status_code == 201, response.text
    assert {line["activity_id"] for line in response.json()["lines"]} == {
        voice.id,
        back_office.id,
    }
    readme = (EXAMPLE.parents[2] / "README.md").read_text()
    assert EXAMPLE.read_text().splitlines()[0] in readme
    assert "docs/examples/commitments.csv" in readme


def test_a_client_key_posts_its_own_csv_only(client, db, tenant) -> None:
    customer, _, voice, _ = tenant
    own = bearer(db, Role.CLIENT, customer.id)
    other = bearer(db, Role.CLIENT, make_client(db).id)
    text = "period,volume\n2027-03,1\n"
    assert _csv(client, f"/v1/activities/{voice.id}/commitments", text, own).status_code == 201
    assert _csv(client, f"/v1/activities/{voice.id}/commitments", text, other).status_code == 404
