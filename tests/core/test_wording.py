"""Generated messages read as English: "an issued invoice", "an interval forecast", "1 invalid
value", "2 invalid values"."""

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.core.auth import Role
from app.core.wording import counted, with_article
from app.forecasts.tables import ForecastRun

from factories import bearer, make_activity, make_client, make_contract


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("issued invoice", "an issued invoice"),
        ("draft invoice", "a draft invoice"),
        ("interval forecast", "an interval forecast"),
        ("month forecast", "a month forecast"),
    ],
)
def test_the_article_follows_the_first_letter(phrase: str, expected: str) -> None:
    assert with_article(phrase) == expected


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, "0 invalid values"), (1, "1 invalid value"), (2, "2 invalid values")],
)
def test_a_count_takes_the_noun_in_its_number(count: int, expected: str) -> None:
    assert counted(count, "invalid value") == expected


def test_an_irregular_plural_is_given() -> None:
    assert [counted(n, "activity", "activities") for n in (1, 3)] == ["1 activity", "3 activities"]


def test_a_rejected_upload_counts_its_values_in_words(client: TestClient, db: Session) -> None:
    activity = make_activity(db, make_contract(db, make_client(db)))
    records = [{"interval_start": "2026-01-05T08:00:00+01:00", "offered": "abc", "handled": 0}]
    response = client.post(
        f"/v1/activities/{activity.id}/volumes",
        json={"records": records},
        headers=bearer(db, Role.ADMIN),
    )
    assert response.json()["detail"] == "1 invalid value; nothing was written."


def test_staffing_a_handled_forecast_names_it_grammatically(
    client: TestClient, db: Session
) -> None:
    activity = make_activity(db, make_contract(db, make_client(db)))
    run = ForecastRun(
        activity_id=activity.id,
        granularity="interval",
        start=date(2026, 12, 1),
        end=date(2026, 12, 1),
        method_requested="auto",
        method="ets",
        levels=[80],
        volume="handled",
        backtest=[],
    )
    db.add(run)
    db.flush()
    response = client.get(
        f"/v1/forecasts/{run.id}/staffing",
        params={"service_level_target": "0.8", "answer_time_seconds": "20"},
        headers=bearer(db, Role.ADMIN),
    )
    assert response.status_code == 422
    assert "is an interval forecast of handled contacts" in response.json()["errors"][0]["reason"]
