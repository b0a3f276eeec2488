"""Comparison of commitments with the provider forecast, and the accuracy scorecard, on a
stable synthetic activity whose true level is known."""

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from outlook_scenarios import DAILY, THIS_MONTH, commit, days, read_once_forecast, stable_history

from app.core.auth import SYSTEM, Role
from app.volumes import service as volumes

from factories import bearer, make_activity, make_client, make_contract


def test_probability_below_trigger_tracks_how_realistic_the_commitment_is(
    client, db, stable, tasks
) -> None:
    _, activity = stable
    admin = bearer(db, Role.ADMIN)
    true, double, half = (
        THIS_MONTH.next(),
        THIS_MONTH.next().next(),
        THIS_MONTH.next().next().next(),
    )
    commit(
        client,
        admin,
        activity.id,
        {
            true: DAILY * days(true),
            double: 2 * DAILY * days(double),
            half: DAILY * days(half) // 2,
        },
        received_at=(datetime.now(UTC) - timedelta(days=90)).isoformat(),
    )
    response = read_once_forecast(
        client,
        tasks,
        f"/v1/activities/{activity.id}/comparison",
        params={"from": str(true), "to": str(half)},
        headers=bearer(db, Role.OPS),
    )
    assert response.status_code == 200, response.text
    rows = {row["period"]: row for row in response.json()["periods"]}
    assert rows[str(true)]["probability_below_trigger"] < 0.5
    assert rows[str(double)]["probability_below_trigger"] > 0.95
    assert rows[str(half)]["probability_below_trigger"] < 0.01
    twice = rows[str(double)]
    expected = (
        Decimal("0.9") * Decimal(twice["committed"]) - Decimal(twice["provider_forecast"]["units"])
    ) * Decimal("1.20")
    assert abs(Decimal(twice["expected_shortfall_amount"]) - expected) < expected * Decimal("0.02")
    assert all(row["status"] == "open" for row in rows.values())


def test_deviation_compares_commitment_with_provider_forecast(client, db, stable, tasks) -> None:
    _, activity = stable
    admin = bearer(db, Role.ADMIN)
    period = THIS_MONTH.next()
    commit(
        client,
        admin,
        activity.id,
        {period: 2 * DAILY * days(period)},
        received_at=(datetime.now(UTC) - timedelta(days=90)).isoformat(),
    )
    [row] = read_once_forecast(
        client,
        tasks,
        f"/v1/activities/{activity.id}/comparison",
        params={"from": str(period), "to": str(period)},
        headers=admin,
    ).json()["periods"]
    forecast = Decimal(row["provider_forecast"]["units"])
    assert Decimal(row["deviation_pct"]) == (
        (Decimal(row["committed"]) - forecast) / forecast * 100
    ).quantize(Decimal("0.01"))


@pytest.mark.parametrize(
    ("overrides", "volume", "share"),
    [
        ({"volume_basis": "offered"}, "offered", 1.0),
        ({"volume_basis": "handled"}, "handled", 0.8),
        ({"billing_unit": "hour", "reference_aht_seconds": Decimal(300)}, "handled", 0.8),
    ],
    ids=["offered contacts", "handled contacts", "production hours"],
)
def test_provider_forecast_counts_what_the_contract_bills(
    client, db, overrides, volume, share, tasks
) -> None:
    """A fifth of the calls are abandoned: a contract billed on handled contacts (or on
    production hours) must be compared with a forecast of handled contacts."""
    contract = make_contract(db, make_client(db), starts_on=date(2020, 1, 1))
    activity = make_activity(db, contract, interval_minutes=60, **overrides)
    history = stable_history(240, handled_share=0.8)
    volumes.ingest_csv(db, SYSTEM, activity.id, io.BytesIO(history))
    db.flush()
    admin = bearer(db, Role.ADMIN)
    period = THIS_MONTH.next()
    [row] = read_once_forecast(
        client,
        tasks,
        f"/v1/activities/{activity.id}/comparison",
        params={"from": str(period), "to": str(period)},
        headers=admin,
    ).json()["periods"]
    forecast_id = row["provider_forecast"]["forecast_id"]
    stored = client.get(f"/v1/forecasts/{forecast_id}", headers=admin).json()
    assert stored["volume"] == volume
    contacts = Decimal(stored["points"][0]["volume"])
    expected = Decimal(share * DAILY * days(period))
    assert abs(contacts - expected) < Decimal("0.03") * expected


def test_closed_period_shows_realised_figures(client, db, stable) -> None:
    _, activity = stable
    admin = bearer(db, Role.ADMIN)
    closed = THIS_MONTH.previous()
    commit(
        client,
        admin,
        activity.id,
        {closed: 2 * DAILY * days(closed)},
        received_at=(datetime.now(UTC) - timedelta(days=120)).isoformat(),
    )
    [row] = client.get(
        f"/v1/activities/{activity.id}/comparison",
        params={"from": str(closed), "to": str(closed)},
        headers=admin,
    ).json()["periods"]
    assert (row["status"], row["probability_below_trigger"]) == ("under_band", 1.0)
    expected_units = Decimal("0.9") * Decimal(row["committed"]) - Decimal(row["actual"])
    assert Decimal(row["expected_shortfall_units"]) == expected_units


def test_contract_comparison_totals_money_over_activities(client, db, stable, tasks) -> None:
    _, activity = stable
    admin = bearer(db, Role.ADMIN)
    period = THIS_MONTH.next()
    commit(
        client,
        admin,
        activity.id,
        {period: DAILY * days(period)},
        received_at=(datetime.now(UTC) - timedelta(days=90)).isoformat(),
    )
    body = read_once_forecast(
        client,
        tasks,
        f"/v1/contracts/{activity.contract_id}/comparison",
        params={"period": str(period)},
        headers=admin,
    ).json()
    [line] = body["activities"]
    assert Decimal(body["totals"]["committed_value"]) == Decimal(line["committed"]) * Decimal(
        "1.20"
    )
    assert body["totals"]["expected_shortfall_amount"] == line["expected_shortfall_amount"]


def test_scorecard_compares_commitments_and_provider_forecasts_with_actuals(
    client, db, stable, tasks
) -> None:
    _, activity = stable
    admin = bearer(db, Role.ADMIN)
    first, last = THIS_MONTH.previous().previous(), THIS_MONTH.previous()
    commit(
        client,
        admin,
        activity.id,
        {first: int(1.3 * DAILY * days(first)), last: int(1.3 * DAILY * days(last))},
        received_at=(datetime.now(UTC) - timedelta(days=150)).isoformat(),
    )
    response = read_once_forecast(
        client,
        tasks,
        f"/v1/activities/{activity.id}/scorecard",
        params={"from": str(first), "to": str(last)},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["commitment"]["periods"] == body["provider"]["periods"] == 2
    assert 20 < Decimal(body["commitment"]["bias_pct"]) < 40
    assert Decimal(body["provider"]["mape_pct"]) < Decimal(body["commitment"]["mape_pct"])
    assert all(row["provider_forecast_id"] for row in body["periods"])


def test_client_key_reads_only_its_own_comparison(client, db, stable) -> None:
    customer, activity = stable
    period = str(THIS_MONTH.previous())
    params = {"from": period, "to": period}
    url = f"/v1/activities/{activity.id}/comparison"
    own = client.get(url, params=params, headers=bearer(db, Role.CLIENT, customer.id))
    other = client.get(
        url, params=params, headers=bearer(db, Role.CLIENT, make_client(db, name="X").id)
    )
    assert (own.status_code, other.status_code) == (200, 404)


def test_reversed_range_is_refused(client, db, stable) -> None:
    _, activity = stable
    response = client.get(
        f"/v1/activities/{activity.id}/comparison",
        params={"from": "2026-12", "to": "2026-01"},
        headers=bearer(db, Role.ADMIN),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "to"
