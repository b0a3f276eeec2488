"""The portfolio overview: the same figures as the per-contract comparison and, for closed
periods, as the shortfall (pooled contracts included), from stored forecasts only, in a number
of queries that does not grow with the contracts."""

import io
from datetime import date
from decimal import Decimal

from outlook_scenarios import (
    DAILY,
    LONG_AGO,
    THIS_MONTH,
    commit,
    days,
    read_once_forecast,
    stable_history,
)
from sqlalchemy import event, func, select

from app.core.auth import SYSTEM, Role
from app.forecasts.tables import ForecastRun
from app.volumes import service as volumes

from billing_scenarios import PERIOD, VOICE_100K, Stream, arrange, shortfall
from factories import bearer, make_activity, make_client, make_contract

NEXT_MONTH = THIS_MONTH.next()
POOLED_STREAMS = [Stream("voice", "1.20", 50_000, 40_000), Stream("email", "2.00", 10_000, 12_000)]


def _overview(client, headers, **params) -> dict:
    response = client.get("/v1/overview", params={"period": PERIOD, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _only(body: dict, contract_id: str) -> dict:
    [found] = [item for item in body["items"] if item["contract_id"] == contract_id]
    return found


def test_open_period_figures_equal_the_contract_comparison(client, db, stable, tasks) -> None:
    _, activity = stable
    admin = bearer(db, Role.ADMIN)
    commit(client, admin, activity.id, {NEXT_MONTH: 2 * DAILY * days(NEXT_MONTH)}, LONG_AGO)
    compared = read_once_forecast(
        client,
        tasks,
        f"/v1/contracts/{activity.contract_id}/comparison",
        params={"period": str(NEXT_MONTH)},
        headers=admin,
    ).json()
    position = _only(
        _overview(client, bearer(db, Role.OPS), period=str(NEXT_MONTH)), activity.contract_id
    )
    [line] = position["activities"]
    [expected] = compared["activities"]
    assert {name: line[name] for name in expected} == expected
    assert line["forecast_status"] == "stored"
    assert position["expected_shortfall_amount"] == expected["expected_shortfall_amount"]
    assert position["probability_below_trigger"] == expected["probability_below_trigger"]
    assert position["status"] == "open"


def test_a_get_never_fits_a_forecast(client, db, stable) -> None:
    _, activity = stable
    admin = bearer(db, Role.ADMIN)
    commit(client, admin, activity.id, {NEXT_MONTH: DAILY * days(NEXT_MONTH)}, LONG_AGO)
    position = _only(_overview(client, admin, period=str(NEXT_MONTH)), activity.contract_id)
    [line] = position["activities"]
    assert (line["forecast_status"], line["provider_forecast"], line["pace_pct"]) == (
        "not_stored",
        None,
        None,
    )
    assert position["expected_shortfall_amount"] is None
    assert db.scalar(select(func.count()).select_from(ForecastRun)) == 0


def test_closed_period_amount_is_the_shortfall(client, db) -> None:
    admin = bearer(db, Role.ADMIN)
    contract_id, _ = arrange(client, db, admin, [VOICE_100K])
    position = _only(_overview(client, admin), contract_id)
    computed = shortfall(client, contract_id, admin)
    assert position["expected_shortfall_amount"] == computed["net_amount"] == "6000.00"
    assert (position["status"], position["probability_below_trigger"]) == ("under_band", 1.0)
    [line] = position["activities"]
    assert line["actual"] == computed["lines"][0]["actual"]


def test_closed_pooled_contract_is_judged_on_the_pool(client, db) -> None:
    admin = bearer(db, Role.ADMIN)
    shortfalling = [Stream("voice", "1.20", 50_000, 30_000), Stream("email", "2.00", 10_000, 9_000)]
    offset, _ = arrange(client, db, admin, POOLED_STREAMS, evaluation="pooled")
    short, _ = arrange(client, db, admin, shortfalling, evaluation="pooled")
    body = _overview(client, admin)
    for contract_id in (offset, short):
        position = _only(body, contract_id)
        computed = shortfall(client, contract_id, admin)
        assert position["pooled"]["expected_shortfall_amount"] == computed["net_amount"]
        assert position["expected_shortfall_amount"] == computed["net_amount"]
        assert position["pooled"]["status"] == computed["pooled"]["status"]
        assert position["pooled"]["actual_value"] == computed["pooled"]["actual_value"]
    assert _only(body, offset)["expected_shortfall_amount"] == "0.00"
    assert Decimal(_only(body, short)["expected_shortfall_amount"]) > 0


def test_sorted_by_expected_shortfall_and_paged(client, db) -> None:
    admin = bearer(db, Role.ADMIN)
    ids = [
        arrange(client, db, admin, [Stream("voice", "1.20", 100_000, actual)])[0]
        for actual in (85_000, 95_000, 70_000)
    ]
    first = _overview(client, admin, limit=2)
    second = _overview(client, admin, limit=2, cursor=first["next_cursor"])
    assert [item["contract_id"] for item in first["items"] + second["items"]] == [
        ids[2],
        ids[0],
        ids[1],
    ]
    assert second["next_cursor"] is None
    [totals] = first["totals"]
    assert (totals["currency"], totals["contracts"], totals["expected_shortfall_amount"]) == (
        "EUR",
        3,
        "30000.00",
    )


def test_filters_by_status_probability_and_client(client, db) -> None:
    admin = bearer(db, Role.ADMIN)
    under, _ = arrange(client, db, admin, [VOICE_100K])
    within, _ = arrange(client, db, admin, [Stream("voice", "1.20", 100_000, 95_000)])
    assert [i["contract_id"] for i in _overview(client, admin, status="under_band")["items"]] == [
        under
    ]
    assert [i["contract_id"] for i in _overview(client, admin, min_probability=0.5)["items"]] == [
        under
    ]
    client_id = _only(_overview(client, admin), within)["client_id"]
    own = _overview(client, bearer(db, Role.CLIENT, client_id))
    assert [item["contract_id"] for item in own["items"]] == [within]
    assert [i["contract_id"] for i in _overview(client, admin, client_id=client_id)["items"]] == [
        within
    ]


def test_bad_parameters_are_named(client, db) -> None:
    response = client.get(
        "/v1/overview",
        params={"period": "2026-13", "min_probability": 2, "status": "lost"},
        headers=bearer(db, Role.OPS),
    )
    assert response.status_code == 422
    assert {"min_probability", "status"} <= {e["field"] for e in response.json()["errors"]}


def _statements_of(db, request) -> int:
    """How many SQL statements `request()` sends."""
    return len(_sent(db, request))


def _sent(db, request) -> list[str]:
    """The SQL statements `request()` sends."""
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        request()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return statements


def test_queries_do_not_grow_with_the_contracts(client, db) -> None:
    admin = bearer(db, Role.ADMIN)
    counts = []
    for _ in range(2):
        for _ in range(3):
            arrange(client, db, admin, POOLED_STREAMS, evaluation="pooled")
        counts.append(_statements_of(db, lambda: _overview(client, admin)))
    assert counts[0] == counts[1] < 15


def test_the_terms_in_force_are_read_once(client, db) -> None:
    """The rows, the commitments' deadlines and the contracts' judgements share one read of
    the amendments (they were read three times)."""
    admin = bearer(db, Role.ADMIN)
    for evaluation in ("pooled", "per_activity"):
        arrange(client, db, admin, POOLED_STREAMS, evaluation=evaluation)
    sent = _sent(db, lambda: _overview(client, admin))
    assert len([sql for sql in sent if "FROM contract_amendments" in sql]) == 1


def test_open_pooled_contract_values_the_simulated_pool(client, db, tasks) -> None:
    """Both activities committed at twice their level: the pool is almost surely below its
    trigger, by about 0.9 × C$ − F$."""
    admin = bearer(db, Role.ADMIN)
    contract = make_contract(db, make_client(db), starts_on=date(2020, 1, 1), evaluation="pooled")
    prices = {"voice": Decimal("1.20"), "email": Decimal("2.00")}
    for name, price in prices.items():
        activity = make_activity(db, contract, price=price, name=name, interval_minutes=60)
        volumes.ingest_csv(db, SYSTEM, activity.id, io.BytesIO(stable_history(240)))
        commit(client, admin, activity.id, {NEXT_MONTH: 2 * DAILY * days(NEXT_MONTH)}, LONG_AGO)
    read_once_forecast(
        client,
        tasks,
        f"/v1/contracts/{contract.id}/comparison",
        params={"period": str(NEXT_MONTH)},
        headers=admin,
    )
    position = _only(_overview(client, admin, period=str(NEXT_MONTH)), contract.id)
    pooled = position["pooled"]
    assert pooled["probability_below_trigger"] > 0.95
    committed = Decimal(pooled["committed_value"])
    forecast = Decimal(pooled["provider_forecast_value"])
    expected = Decimal("0.9") * committed - forecast
    assert abs(Decimal(pooled["expected_shortfall_amount"]) - expected) < expected * Decimal("0.03")
    assert position["expected_shortfall_amount"] == pooled["expected_shortfall_amount"]


def test_forecast_to_date_is_rounded_like_the_other_quantities(client, db, stable, tasks) -> None:
    """This month, partly elapsed: the forecast pro rata of the time elapsed, to 0.001 unit."""
    _, activity = stable
    admin = bearer(db, Role.ADMIN)
    commit(client, admin, activity.id, {THIS_MONTH: DAILY * days(THIS_MONTH)}, LONG_AGO)
    read_once_forecast(
        client,
        tasks,
        f"/v1/contracts/{activity.contract_id}/comparison",
        params={"period": str(THIS_MONTH)},
        headers=admin,
    )
    position = _only(_overview(client, admin, period=str(THIS_MONTH)), activity.contract_id)
    [line] = position["activities"]
    to_date = Decimal(line["forecast_to_date"])
    assert to_date == to_date.quantize(Decimal("0.001")), line["forecast_to_date"]
    assert 0 <= to_date <= Decimal(line["provider_forecast"]["units"])


def test_an_open_pooled_month_compares_on_the_pool(client, db, tasks) -> None:
    """Voice committed at twice its level (alone almost surely below its trigger), email at
    half (alone never): the pool, valued in money, is mostly above its trigger. Every activity
    row of the contract and of the activity comparisons carries the pool's probability and
    amount, equal to the overview's."""
    admin = bearer(db, Role.ADMIN)
    contract = make_contract(db, make_client(db), starts_on=date(2020, 1, 1), evaluation="pooled")
    ids = {}
    for name, price, percent in (("voice", "1.20", 200), ("email", "2.00", 50)):
        activity = make_activity(db, contract, price=Decimal(price), name=name, interval_minutes=60)
        volumes.ingest_csv(db, SYSTEM, activity.id, io.BytesIO(stable_history(240)))
        committed = percent * DAILY * days(NEXT_MONTH) // 100
        commit(client, admin, activity.id, {NEXT_MONTH: committed}, LONG_AGO)
        ids[name] = activity.id
    compared = read_once_forecast(
        client,
        tasks,
        f"/v1/contracts/{contract.id}/comparison",
        params={"period": str(NEXT_MONTH)},
        headers=admin,
    ).json()
    position = _only(_overview(client, admin, period=str(NEXT_MONTH)), contract.id)
    pooled = position["pooled"]
    assert pooled["probability_below_trigger"] < 0.5
    for line in compared["activities"]:
        assert line["probability_below_trigger"] == pooled["probability_below_trigger"]
        assert line["pooled_shortfall_amount"] == pooled["expected_shortfall_amount"]
        assert line["expected_shortfall_amount"] == "0.00"
    assert compared["totals"]["expected_shortfall_amount"] == pooled["expected_shortfall_amount"]
    by_id = {line["activity_id"]: line for line in position["activities"]}
    for expected in compared["activities"]:
        assert {name: by_id[expected["activity_id"]][name] for name in expected} == expected
    voice = client.get(
        f"/v1/activities/{ids['voice']}/comparison",
        params={"from": str(NEXT_MONTH), "to": str(NEXT_MONTH)},
        headers=admin,
    ).json()["periods"][0]
    assert voice["probability_below_trigger"] == pooled["probability_below_trigger"]
    assert voice["pooled_shortfall_amount"] == pooled["expected_shortfall_amount"]
