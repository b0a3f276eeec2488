"""Aggregations read with one query per kind of row, whatever the number of rows they sum or
of activities they show (issue 17): the number of statements does not grow with them."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.core.auth import Role
from app.volumes.tables import IntervalActual

from billing_scenarios import PERIOD, VOICE_100K, Stream, arrange
from factories import bearer

THREE = [VOICE_100K, Stream("email", "2.00", 10_000, 8_000), Stream("chat", "0.80", 5_000, 4_000)]


@pytest.fixture
def admin(db: Session) -> dict[str, str]:
    return bearer(db, Role.ADMIN)


@contextmanager
def statements(db: Session) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn, _cursor, statement: str, *_args) -> None:
        seen.append(statement)

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_contract_comparison_costs_the_same_for_one_or_three_activities(
    client, db, admin
) -> None:
    reader = bearer(db, Role.OPS)
    counts = []
    for streams in ([VOICE_100K], THREE):
        contract_id, _ = arrange(client, db, admin, streams)
        with statements(db) as seen:
            response = client.get(
                f"/v1/contracts/{contract_id}/comparison", params={"period": PERIOD}, headers=reader
            )
        assert response.status_code == 200, response.text
        assert len(response.json()["activities"]) == len(streams)
        counts.append(len([s for s in seen if "api_keys" not in s]))  # the key: cached after one
    assert counts[0] == counts[1]


def test_volumes_by_day_are_summed_by_the_database(client, db, admin) -> None:
    _, ids = arrange(client, db, admin, [VOICE_100K])
    start = datetime(2026, 9, 30, 22, tzinfo=UTC)  # 1 October, local midnight in Paris
    db.add_all(
        IntervalActual(
            activity_id=ids["voice"],
            interval_start=start + timedelta(minutes=30 * n),
            offered=2,
            handled=1,
            aht_ms=60_000,
        )
        for n in range(48 * 31)
        if n != 14 * 48 + 20  # 15 October 10:00, where `arrange` put its actuals
    )
    db.flush()
    with statements(db) as seen:
        response = client.get(
            f"/v1/activities/{ids['voice']}/volumes",
            params={"start": "2026-10-01", "end": "2026-11-01", "granularity": "day"},
            headers=admin,
        )
    items = response.json()["items"]
    assert len(items) == 31
    assert sum(item["offered"] for item in items) == 2 * (48 * 31 - 1) + VOICE_100K.actual
    reading_intervals = [s for s in seen if "interval_actuals" in s]
    assert len(reading_intervals) == 1
    assert "sum(" in reading_intervals[0].lower()
