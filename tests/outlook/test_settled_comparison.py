"""A closed period's comparison is the shortfall that bills it, pooling included."""

import pytest
from sqlalchemy.orm import Session

from app.core.auth import Role

from billing_scenarios import PERIOD, Stream, arrange, shortfall
from factories import bearer

POOLED = [Stream("voice", "1.20", 50_000, 40_000), Stream("email", "2.00", 10_000, 12_000)]


@pytest.fixture
def admin(db: Session) -> dict[str, str]:
    return bearer(db, Role.ADMIN)


def _period(client, activity_id, headers) -> dict:
    response = client.get(
        f"/v1/activities/{activity_id}/comparison",
        params={"from": PERIOD, "to": PERIOD},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    [row] = response.json()["periods"]
    return row


def _contract(client, contract_id, headers) -> dict:
    response = client.get(
        f"/v1/contracts/{contract_id}/comparison", params={"period": PERIOD}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_example_7_a_pooled_closed_month_expects_no_shortfall(client, db, admin) -> None:
    contract_id, ids = arrange(client, db, admin, POOLED, evaluation="pooled")
    voice = _period(client, ids["voice"], admin)
    assert (voice["status"], voice["expected_shortfall_amount"]) == ("within_band", "0.00")
    assert voice["probability_below_trigger"] == 0.0
    assert _contract(client, contract_id, admin)["totals"]["expected_shortfall_amount"] == "0.00"


def test_a_pooled_shortfall_is_counted_once_for_the_contract(client, db, admin) -> None:
    streams = [Stream("voice", "1.20", 50_000, 30_000), Stream("email", "2.00", 10_000, 9_000)]
    contract_id, _ = arrange(client, db, admin, streams, evaluation="pooled")
    billed = shortfall(client, contract_id, admin)["net_amount"]
    assert billed != "0.00"
    totals = _contract(client, contract_id, admin)["totals"]
    assert totals["expected_shortfall_amount"] == billed


@pytest.mark.parametrize("evaluation", ["per_activity", "pooled"])
def test_a_closed_month_compares_as_it_bills(client, db, admin, evaluation) -> None:
    contract_id, ids = arrange(client, db, admin, POOLED, evaluation=evaluation)
    billed = shortfall(client, contract_id, admin)
    compared = _contract(client, contract_id, admin)
    assert compared["totals"]["expected_shortfall_amount"] == billed["net_amount"]
    if evaluation == "per_activity":
        voice = _period(client, ids["voice"], admin)
        assert voice["expected_shortfall_amount"] == "6000.00"
