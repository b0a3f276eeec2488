"""The preview of the month under way: no band is judged before it ends; the actuals to date
are shown next to their projection, made from the provider's stored month forecast, or pro
rata without one."""

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from outlook_scenarios import (
    DAILY,
    LONG_AGO,
    THIS_MONTH,
    commit,
    days,
    read_once_forecast,
    stable_history,
)

from app.core.auth import SYSTEM
from app.core.periods import Period, period_bounds
from app.volumes import service as volumes

from factories import make_activity, make_client, make_contract

PARIS = ZoneInfo("Europe/Paris")


def _this_month() -> tuple[Period, datetime]:
    now = datetime.now(PARIS)
    period = Period(now.year, now.month)
    return period, period_bounds(period, PARIS)[0]


def _preview(client, contract_id: str, period: Period, headers) -> dict:
    response = client.get(
        f"/v1/contracts/{contract_id}/shortfall", params={"period": str(period)}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict = response.json()
    return body


@pytest.mark.parametrize("evaluation", ["per_activity", "pooled"])
def test_an_open_month_is_open_not_under_band(client, db, admin, billing, evaluation) -> None:
    period, start = _this_month()
    contract = make_contract(db, make_client(db), evaluation=evaluation)
    activity = make_activity(db, contract)
    received = (start - timedelta(days=40)).isoformat()
    line = {"period": str(period), "volume": 100_000}
    client.post(
        f"/v1/activities/{activity.id}/commitments",
        json={"received_at": received, "lines": [line]},
        headers=admin,
    )
    record = {"interval_start": start.isoformat(), "offered": 1000, "handled": 1000}
    response = client.post(
        f"/v1/activities/{activity.id}/volumes",
        json={"records": [{**record, "aht_seconds": 300}]},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    preview = _preview(client, contract.id, period, billing)
    [result] = preview["lines"]
    assert preview["provisional"] is True
    assert result["status"] == "open"
    assert result["actual"] == "1000"
    assert Decimal(result["projected_actual"]) > 1000
    assert (result["projection"], result["projection_forecast_id"]) == ("pro_rata", None)
    assert preview["projected_net_amount"] is not None
    if evaluation == "pooled":
        assert preview["pooled"]["status"] == "open"


def test_a_month_not_yet_started_has_no_projection(client, db, admin, billing) -> None:
    contract = make_contract(db, make_client(db))
    make_activity(db, contract)
    future = Period(datetime.now(UTC).year + 2, 1)
    preview = _preview(client, contract.id, future, billing)
    assert preview["projected_net_amount"] is None
    assert [line["status"] for line in preview["lines"]] == ["open"]


def test_a_stored_forecast_projects_the_rest_of_the_month(
    client, db, admin, billing, tasks
) -> None:
    """Actuals to date plus the forecast's share of the time left, not the pro rata."""
    contract = make_contract(db, make_client(db), starts_on=date(2020, 1, 1))
    activity = make_activity(db, contract, interval_minutes=60)
    volumes.ingest_csv(db, SYSTEM, activity.id, io.BytesIO(stable_history(240)))
    commit(client, admin, activity.id, {THIS_MONTH: DAILY * days(THIS_MONTH)}, LONG_AGO)
    compared = read_once_forecast(
        client,
        tasks,
        f"/v1/contracts/{contract.id}/comparison",
        params={"period": str(THIS_MONTH)},
        headers=admin,
    ).json()
    [row] = compared["activities"]
    forecast = row["provider_forecast"]
    [line] = _preview(client, contract.id, THIS_MONTH, billing)["lines"]
    assert (line["projection"], line["projection_forecast_id"]) == (
        "forecast",
        forecast["forecast_id"],
    )
    start, end = period_bounds(THIS_MONTH, PARIS)
    left = Decimal(repr((end - datetime.now(UTC)) / (end - start)))
    expected = Decimal(line["actual"]) + Decimal(forecast["units"]) * left
    assert abs(Decimal(line["projected_actual"]) - expected) < Decimal("0.01") * expected
