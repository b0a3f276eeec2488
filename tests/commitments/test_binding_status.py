"""What a WFM system needs to know of what it sent: whether each stored line binds and why not,
whether the binding line is final, and the coming deadlines of every activity."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.core.auth import Role
from app.core.orm import utc_now
from app.core.periods import Period, commitment_deadline, period_of

from factories import bearer, make_activity, make_client, make_contract


@pytest.fixture
def tenant(db: Session):
    customer = make_client(db)
    contract = make_contract(db, customer, starts_on=date(2025, 1, 1))
    return customer, contract, make_activity(db, contract), make_activity(db, contract, name="Chat")


@pytest.fixture
def admin(db: Session) -> dict[str, str]:
    return bearer(db, Role.ADMIN)


def _paris() -> ZoneInfo:
    return ZoneInfo("Europe/Paris")  # the contracts' zone (factories)


def _periods(contract) -> tuple[Period, Period]:
    """A period whose deadline has passed (the current one: 30 days before its start) and one
    whose deadline is still ahead (in three periods: at least 59 days away, whatever today)."""
    current = period_of(utc_now(), _paris())
    return current, current.next().next().next()


def _post(client: TestClient, activity_id: str, headers, lines, received_at=None):
    body: dict = {"lines": lines}
    if received_at is not None:
        body["received_at"] = received_at
    response = client.post(f"/v1/activities/{activity_id}/commitments", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def _deadline(period: Period) -> datetime:
    return commitment_deadline(period, _paris(), 30)


def test_a_line_sent_after_the_deadline_says_it_will_not_bind(client, tenant, admin) -> None:
    _, contract, activity, _ = tenant
    late, ahead = _periods(contract)
    version = _post(
        client,
        activity.id,
        admin,
        [{"period": str(late), "volume": 10}, {"period": str(ahead), "volume": 20}],
    )
    closed, open_ = version["lines"]
    assert (closed["binding"], closed["reason"]) == (False, "after_deadline")
    assert datetime.fromisoformat(closed["deadline"]) == _deadline(late)
    assert (open_["binding"], open_["reason"]) == (True, None)
    assert datetime.fromisoformat(open_["deadline"]) == _deadline(ahead)


def test_a_line_replaced_before_the_deadline_is_superseded_in_the_list(
    client, tenant, admin
) -> None:
    _, contract, activity, _ = tenant
    _, ahead = _periods(contract)
    first = _post(client, activity.id, admin, [{"period": str(ahead), "volume": 10}])
    second = _post(client, activity.id, admin, [{"period": str(ahead), "volume": 12}])
    listed = client.get(f"/v1/activities/{activity.id}/commitments", headers=admin).json()
    status = {item["id"]: item["lines"][0] for item in listed["items"]}
    assert (status[second["id"]]["binding"], status[second["id"]]["reason"]) == (True, None)
    assert (status[first["id"]]["binding"], status[first["id"]]["reason"]) == (False, "superseded")


def test_the_binding_line_is_final_once_its_deadline_has_passed(client, tenant, admin) -> None:
    _, contract, activity, _ = tenant
    late, ahead = _periods(contract)
    on_time = (_deadline(late) - timedelta(days=1)).isoformat()
    _post(client, activity.id, admin, [{"period": str(late), "volume": 10}], received_at=on_time)
    _post(client, activity.id, admin, [{"period": str(ahead), "volume": 20}])
    url = f"/v1/activities/{activity.id}/commitments/binding"
    final = client.get(url, params={"period": str(late)}, headers=admin).json()
    open_ = client.get(url, params={"period": str(ahead)}, headers=admin).json()
    assert (final["final"], final["volume"]) == (True, "10")
    assert (open_["final"], open_["volume"]) == (False, "20")


def test_the_deadlines_list_each_activitys_coming_periods(client, tenant, admin) -> None:
    _, contract, voice, chat = tenant
    late, ahead = _periods(contract)
    bound = _post(client, voice.id, admin, [{"period": str(ahead), "volume": 20}])
    response = client.get(
        f"/v1/contracts/{contract.id}/deadlines",
        params={"from": str(late), "periods": 4},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    periods = [late, late.next(), late.next().next(), ahead]
    assert [(i["period"], i["activity_id"]) for i in items] == [
        (str(period), activity_id)
        for period in periods
        for activity_id in sorted((voice.id, chat.id))
    ]
    by_key = {(i["period"], i["activity_id"]): i for i in items}
    assert by_key[(str(late), voice.id)]["passed"] is True
    assert by_key[(str(ahead), chat.id)]["passed"] is False
    assert by_key[(str(ahead), voice.id)]["binding_version_id"] == bound["id"]
    assert by_key[(str(ahead), chat.id)]["binding_version_id"] is None
    assert datetime.fromisoformat(by_key[(str(ahead), chat.id)]["deadline"]) == _deadline(ahead)


def test_the_deadlines_start_at_the_current_period_and_stop_at_the_contracts_end(
    client, db, admin
) -> None:
    contract = make_contract(db, make_client(db), starts_on=date(2025, 1, 1))
    activity = make_activity(db, contract)
    current = period_of(utc_now(), _paris())
    contract.ends_on = current.next().next().first_day  # exclusive: current and next in force
    db.flush()
    items = client.get(
        f"/v1/contracts/{contract.id}/deadlines", params={"periods": 6}, headers=admin
    ).json()["items"]
    assert [i["period"] for i in items] == [str(current), str(current.next())]
    assert {i["activity_id"] for i in items} == {activity.id}


def test_another_clients_deadlines_are_not_found(client, db, tenant) -> None:
    _, contract, _, _ = tenant
    other = bearer(db, Role.CLIENT, make_client(db).id)
    response = client.get(f"/v1/contracts/{contract.id}/deadlines", headers=other)
    assert response.status_code == 404
