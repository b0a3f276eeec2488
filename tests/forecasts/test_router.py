"""Provider forecasts through the API: runs stored with their backtests, special days, jobs,
bad requests, and the time limit that leaves the worker pool usable."""

import io
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.contracts.tables import Activity, Contract
from app.core.auth import SYSTEM, Role
from app.forecasts.pool import ForecastPool
from app.forecasts.tables import ForecastJob
from app.volumes import service as volumes
from models.synthetic import DEMO_PROFILES, generate_intervals

from factories import bearer, make_activity, make_client, make_contract

TODAY = date.today()
VOICE = DEMO_PROFILES[0]


@pytest.fixture
def admin(db: Session) -> dict[str, str]:
    return bearer(db, Role.ADMIN)


def _activity_with_history(db: Session, weeks: int = 16):
    """A voice activity with `weeks` of synthetic history up to yesterday."""
    activity = make_activity(db, make_contract(db, make_client(db)))
    history = generate_intervals(
        VOICE, TODAY - timedelta(weeks=weeks), TODAY - timedelta(days=1), seed=3
    )
    body = history.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S+00:00").encode()
    volumes.ingest_csv(db, SYSTEM, activity.id, io.BytesIO(body))
    db.flush()
    return activity


@pytest.fixture
def activity(db: Session):
    return _activity_with_history(db)


def _forecast(client: TestClient, activity_id: str, headers, **body):
    return client.post(f"/v1/activities/{activity_id}/forecasts", json=body, headers=headers)


def _next_monday() -> date:
    return TODAY + timedelta(days=7 - TODAY.weekday())


def test_daily_forecast_is_stored_with_points_and_backtest(client, activity, admin) -> None:
    start = _next_monday()
    response = _forecast(
        client,
        activity.id,
        admin,
        granularity="day",
        method="ets",
        start=str(start),
        end=str(start + timedelta(days=6)),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["method"] == "ets" and len(body["points"]) == 7
    assert [score["alias"] for score in body["backtest"]] == ["ets"]
    again = client.get(f"/v1/forecasts/{body['id']}", headers=admin).json()
    assert again["points"] == body["points"]


def test_points_start_at_local_midnight_with_ordered_bounds(client, activity, admin) -> None:
    start = _next_monday()
    body = _forecast(
        client,
        activity.id,
        admin,
        method="snaive",
        start=str(start),
        end=str(start + timedelta(days=2)),
    ).json()
    for point in body["points"]:
        assert point["period_start"].endswith(("T00:00:00+01:00", "T00:00:00+02:00"))
        values = [
            float(point[k]) for k in ("lower_95", "lower_80", "volume", "upper_80", "upper_95")
        ]
        assert values == sorted(values) and values[0] >= 0


def test_auto_returns_every_candidates_backtest_scores(client, activity, admin) -> None:
    start = _next_monday()
    body = _forecast(
        client,
        activity.id,
        admin,
        method="auto",
        start=str(start),
        end=str(start + timedelta(days=13)),
    ).json()
    aliases = {score["alias"] for score in body["backtest"]}
    assert {"snaive", "ets", "arima", "prophet", "ensemble"} <= aliases
    # auto follows its selection: the best candidate alone, or the ties combined (ensemble),
    # whose pooled WAPE may be above the best's.
    scored = {
        s["alias"]: s["wape"]
        for s in body["backtest"]
        if s["alias"] != "ensemble" and s["wape"] is not None
    }
    selection = body["selection"]
    assert selection["best"] == min(scored, key=scored.__getitem__)
    assert body["method"] == ("ensemble" if len(selection["members"]) > 1 else selection["best"])


def test_auto_interval_forecast_reports_both_interval_approaches(client, activity, admin) -> None:
    start = _next_monday()
    body = _forecast(
        client,
        activity.id,
        admin,
        granularity="interval",
        method="auto",
        start=str(start),
        end=str(start + timedelta(days=2)),
    ).json()
    by_level = {(s["level"], s["alias"]): s for s in body["backtest"]}
    profile, direct = by_level[("interval", "profile")], by_level[("interval", "direct")]
    assert profile["wape"] is not None and direct["wape"] is not None
    assert ("day", "prophet") in by_level
    if body["method"] == "direct":  # alone only when better than the profiles
        assert direct["wape"] < profile["wape"]
    assert "half-life" in profile["detail"] and direct["detail"] is None
    again = client.get(f"/v1/forecasts/{body['id']}", headers=admin).json()
    assert again["backtest"] == body["backtest"]


def test_handled_contacts_can_be_forecast(client, activity, admin) -> None:
    start = _next_monday()
    bodies = {
        volume: _forecast(
            client,
            activity.id,
            admin,
            method="ets",
            volume=volume,
            start=str(start),
            end=str(start + timedelta(days=6)),
        ).json()
        for volume in ("offered", "handled")
    }
    assert {v: b["volume"] for v, b in bodies.items()} == {
        "offered": "offered",
        "handled": "handled",
    }
    totals = {v: sum(float(p["volume"]) for p in b["points"]) for v, b in bodies.items()}
    assert totals["handled"] < totals["offered"]
    stored = client.get(f"/v1/forecasts/{bodies['handled']['id']}", headers=admin).json()
    assert stored["volume"] == "handled"


def test_the_direct_interval_model_can_be_asked_for_intervals_only(client, activity, admin) -> None:
    start = _next_monday()
    window = {"start": str(start), "end": str(start + timedelta(days=1)), "method": "direct"}
    intervals = _forecast(client, activity.id, admin, granularity="interval", **window)
    assert intervals.status_code == 201, intervals.text
    assert intervals.json()["method"] == intervals.json()["method_requested"] == "direct"
    days = _forecast(client, activity.id, admin, granularity="day", **window)
    assert days.status_code == 422
    [error] = days.json()["errors"]
    assert error["field"] == "method" and "interval" in error["reason"]


def test_future_closed_special_day_forecasts_zero(client, activity, admin) -> None:
    monday = _next_monday()
    response = client.post(
        f"/v1/activities/{activity.id}/special-days",
        headers=admin,
        json={"day": str(monday), "kind": "closed", "reason": "inventaire"},
    )
    assert response.status_code == 201
    body = _forecast(
        client,
        activity.id,
        admin,
        method="snaive",
        start=str(monday),
        end=str(monday + timedelta(days=1)),
    ).json()
    assert float(body["points"][0]["volume"]) == 0
    assert float(body["points"][1]["volume"]) > 0


def test_multiplier_special_day_needs_a_multiplier(client, activity, admin) -> None:
    response = client.post(
        f"/v1/activities/{activity.id}/special-days",
        headers=admin,
        json={"day": str(_next_monday()), "kind": "multiplier"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "multiplier"


def test_special_day_is_unique_per_day_and_can_be_deleted(client, activity, admin) -> None:
    url = f"/v1/activities/{activity.id}/special-days"
    body = {"day": str(_next_monday()), "kind": "multiplier", "multiplier": "1.5"}
    created = client.post(url, json=body, headers=admin).json()
    assert client.post(url, json=body, headers=admin).status_code == 409
    assert client.delete(f"{url}/{created['id']}", headers=admin).status_code == 204
    assert client.get(url, headers=admin).json() == []


def test_ops_key_cannot_mark_special_days(client, db, activity) -> None:
    response = client.post(
        f"/v1/activities/{activity.id}/special-days",
        json={"day": str(_next_monday()), "kind": "closed"},
        headers=bearer(db, Role.OPS),
    )
    assert response.status_code == 403


def test_end_before_start_is_named(client, activity, admin) -> None:
    response = _forecast(client, activity.id, admin, start="2027-01-10", end="2027-01-01")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "end"


def test_unknown_method_is_named(client, activity, admin) -> None:
    response = _forecast(
        client,
        activity.id,
        admin,
        method="crystal-ball",
        start=str(_next_monday()),
        end=str(_next_monday()),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "method"


def test_horizon_beyond_the_maximum_is_named(client, activity, admin) -> None:
    start = _next_monday()
    response = _forecast(
        client,
        activity.id,
        admin,
        granularity="interval",
        method="snaive",
        start=str(start),
        end=str(start + timedelta(days=400)),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] in {"end", "horizon"}


def test_activity_without_history_gets_the_minimum_stated(client, db, admin) -> None:
    empty = make_activity(db, make_contract(db, make_client(db)))
    response = _forecast(
        client, empty.id, admin, start=str(_next_monday()), end=str(_next_monday())
    )
    assert response.status_code == 422
    assert "at least" in response.json()["detail"]


def test_forecast_over_the_time_limit_is_a_problem_and_the_pool_survives(
    client, activity, admin
) -> None:
    app = client.app
    pool = app.state.forecast_pool
    start = _next_monday()
    try:
        app.state.forecast_pool = ForecastPool(1, timeout_seconds=0.001)
        slow = _forecast(
            client,
            activity.id,
            admin,
            method="auto",
            start=str(start),
            end=str(start + timedelta(days=6)),
        )
        app.state.forecast_pool.timeout_seconds = 120
        after = _forecast(
            client, activity.id, admin, method="snaive", start=str(start), end=str(start)
        )
    finally:
        app.state.forecast_pool.shutdown()
        app.state.forecast_pool = pool
    assert slow.status_code == 503
    assert slow.headers["content-type"] == "application/problem+json"
    assert after.status_code == 201


def test_other_clients_key_cannot_read_the_forecast(client, db, activity, admin) -> None:
    start = _next_monday()
    forecast_id = _forecast(
        client, activity.id, admin, method="snaive", start=str(start), end=str(start)
    ).json()["id"]
    stranger = bearer(db, Role.CLIENT, make_client(db, name="Other").id)
    assert client.get(f"/v1/forecasts/{forecast_id}", headers=stranger).status_code == 404


def test_job_forecasts_every_activity_of_the_contract(client, db, admin, tasks) -> None:
    with_history = _activity_with_history(db, weeks=8)
    without = make_activity(db, _contract_of(db, with_history), name="Nouveau")
    start = _next_monday()
    response = client.post(
        "/v1/forecast-jobs",
        headers=admin,
        json={
            "contract_id": with_history.contract_id,
            "granularity": "day",
            "method": "snaive",
            "start": str(start),
            "end": str(start + timedelta(days=2)),
        },
    )
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    tasks.drain()
    job = client.get(f"/v1/forecast-jobs/{response.json()['id']}", headers=admin).json()
    assert (job["status"], job["done"], job["total"]) == ("partial", 2, 2)
    results = {r["activity_id"]: r for r in job["results"]}
    assert results[with_history.id]["forecast_id"].startswith("fct_")
    assert "at least" in results[without.id]["error"]


def _contract_of(db: Session, activity: Activity) -> Contract:
    contract = db.get(Contract, activity.contract_id)
    assert contract is not None
    return contract


def test_unfinished_jobs_are_resumed_at_start_up(client, db, admin) -> None:
    """A job a previous process left running goes on from where it stopped: the activity
    already recorded is not forecast again."""
    first, second = _activity_with_history(db, weeks=8), _activity_with_history(db, weeks=8)
    start = _next_monday()
    request = {"granularity": "day", "method": "snaive", "start": str(start), "end": str(start)}
    job = ForecastJob(
        status="running",
        request=request,
        activity_ids=[first.id, second.id],
        total=2,
        done=1,
        results=[{"activity_id": first.id, "forecast_id": None, "error": "earlier"}],
    )
    old = ForecastJob(status="queued", request=request, total=1, done=0, results=[])
    db.add_all([job, old])
    db.flush()
    # Entering runs the start-up (which resumes), leaving the shutdown (which lets tasks end).
    with TestClient(client.app) as restarted:
        assert restarted.get("/healthz").status_code == 200
    db.expire_all()
    resumed = client.get(f"/v1/forecast-jobs/{job.id}", headers=admin).json()
    assert (resumed["status"], resumed["done"]) == ("partial", 2)
    assert [r["activity_id"] for r in resumed["results"]] == [first.id, second.id]
    assert resumed["results"][1]["forecast_id"].startswith("fct_")
    assert db.get(ForecastJob, old.id).status == "interrupted"


def test_ops_key_cannot_start_forecasts(client, db, activity) -> None:
    ops = bearer(db, Role.OPS)
    start = str(_next_monday())
    forecast = _forecast(client, activity.id, ops, start=start, end=start)
    job = client.post("/v1/forecast-jobs", json={"start": start, "end": start}, headers=ops)
    assert (forecast.status_code, job.status_code) == (403, 403)


def test_a_forecast_lists_every_day_it_assumed_closed_with_the_reason(
    client, activity, admin
) -> None:
    start = _next_monday()
    body = _forecast(
        client,
        activity.id,
        admin,
        method="snaive",
        start=str(start),
        end=str(start + timedelta(days=20)),
    ).json()
    closed = {a["day"] for a in body["assumptions"] if a["closed"]}
    zero_days = {p["period_start"][:10] for p in body["points"] if float(p["volume"]) == 0}
    assert closed == zero_days
    sundays = [a for a in body["assumptions"] if date.fromisoformat(a["day"]).weekday() == 6]
    assert len(sundays) == 3
    assert {a["reason"] for a in sundays} == {"closed_weekday"}
    assert sundays[0]["detail"] == "no volume on Sundays in the last 91 days"
    stored = client.get(f"/v1/forecasts/{body['id']}", headers=admin).json()
    assert stored["assumptions"] == body["assumptions"]


def test_auto_says_what_it_chose_and_why(client, activity, admin) -> None:
    start = _next_monday()
    body = _forecast(
        client, activity.id, admin, start=str(start), end=str(start + timedelta(days=13))
    ).json()
    selection = body["selection"]
    assert body["method"] == ("ensemble" if len(selection["members"]) > 1 else selection["best"])
    assert selection["margins"][0]["alias"] == selection["best"]
    assert selection["margins"][0]["margin"] == 0
    assert {m["alias"] for m in selection["margins"] if m["tied"]} >= set(selection["members"])
    assert "ties" in selection["rule"]


def test_a_holiday_can_be_marked_open(client, activity, admin) -> None:
    day = _next_monday() + timedelta(days=3)
    response = client.post(
        f"/v1/activities/{activity.id}/special-days",
        json={"day": str(day), "kind": "open", "reason": "worked this year"},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    assert response.json()["kind"] == "open"
