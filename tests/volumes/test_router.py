"""Interval actuals through the API: validation, all-or-nothing, upsert, local-time reading."""

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.auth import Role
from app.core.pagination import encode_cursor
from app.volumes import parsing
from app.volumes.repository import VolumeRepository
from app.volumes.tables import IntervalActual

from factories import bearer, make_activity, make_client, make_contract

PARIS = ZoneInfo("Europe/Paris")
HEADER = "interval_start,offered,handled,aht_seconds"


@pytest.fixture
def activity(db: Session):
    contract = make_contract(db, make_client(db))
    return make_activity(db, contract)


@pytest.fixture
def admin(db: Session) -> dict[str, str]:
    return bearer(db, Role.ADMIN)


def _csv(lines: list[str]) -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode()


def _post_csv(client: TestClient, activity_id: str, body: bytes, headers: dict[str, str]):
    return client.post(
        f"/v1/activities/{activity_id}/volumes",
        content=body,
        headers={**headers, "Content-Type": "text/csv"},
    )


def _stored(db: Session, activity_id: str) -> list[tuple[datetime, int, int, int | None]]:
    db.expire_all()
    rows = db.execute(
        select(
            IntervalActual.interval_start,
            IntervalActual.offered,
            IntervalActual.handled,
            IntervalActual.aht_ms,
        )
        .where(IntervalActual.activity_id == activity_id)
        .order_by(IntervalActual.interval_start)
    ).all()
    return [(start, offered, handled, aht) for start, offered, handled, aht in rows]


def _count(db: Session, activity_id: str) -> int:
    return db.scalar(select(func.count()).where(IntervalActual.activity_id == activity_id)) or 0


def _half_hours(day: datetime, count: int) -> list[str]:
    """`count` consecutive half-hours from `day` (an aware instant), as RFC 3339 in UTC."""
    first = day.astimezone(UTC)  # elapsed time, not wall-clock time, across DST changes
    return [(first + timedelta(minutes=30 * i)).isoformat() for i in range(count)]


def test_csv_upload_inserts_every_row(client, db, activity, admin) -> None:
    body = _csv(["2026-10-01T08:00:00+02:00,42,40,312.5", "2026-10-01T08:30:00+02:00,10,9,100"])
    response = _post_csv(client, activity.id, body, admin)
    assert response.status_code == 200, response.text
    assert response.json() == {"inserted": 2, "updated": 0, "total": 2}
    assert _stored(db, activity.id)[0][1:] == (42, 40, 312_500)


def test_json_and_csv_store_identical_data(client, db, admin) -> None:
    contract = make_contract(db, make_client(db))
    by_json = make_activity(db, contract, name="json")
    by_csv = make_activity(db, contract, name="csv")
    records = [
        {
            "interval_start": "2026-10-01T06:00:00Z",
            "offered": 12,
            "handled": 11,
            "aht_seconds": 301.25,
        },
        {
            "interval_start": "2026-10-01T08:30:00+02:00",
            "offered": 0,
            "handled": 0,
            "aht_seconds": None,
        },
    ]
    json_response = client.post(
        f"/v1/activities/{by_json.id}/volumes", json={"records": records}, headers=admin
    )
    csv_body = _csv(["2026-10-01T06:00:00Z,12,11,301.25", "2026-10-01T08:30:00+02:00,0,0,"])
    csv_response = _post_csv(client, by_csv.id, csv_body, admin)
    assert json_response.status_code == csv_response.status_code == 200
    assert _stored(db, by_json.id) == _stored(db, by_csv.id)
    assert len(_stored(db, by_json.id)) == 2


def test_odd_but_valid_cells_store_what_their_plain_spelling_stores(client, db, admin) -> None:
    """Cells outside the plain forms that numpy reads (blanks around, a fraction of a second,
    an offset without a colon, a basic-format date, an exponent, a sign) are read by pandas,
    in a chunk of plain cells, to the same values."""
    contract = make_contract(db, make_client(db))
    plain, odd = make_activity(db, contract, name="plain"), make_activity(db, contract, name="odd")
    plain_lines = [
        "2026-10-01T08:00:00+02:00,42,40,312.5",
        "2026-10-01T08:30:00+02:00,10,9,100",
        "2026-10-01T09:00:00+02:00,3,3,60",
    ]
    odd_lines = [
        " 2026-10-01T06:00:00.000Z , 42 ,4e1,312.50",
        "2026-10-01 08:30:00+0200,+10,9.0, 100",
        "20261001T070000Z,3,3,6e1",
    ]
    assert _post_csv(client, plain.id, _csv(plain_lines), admin).status_code == 200
    assert _post_csv(client, odd.id, _csv(odd_lines), admin).status_code == 200
    assert _stored(db, odd.id) == _stored(db, plain.id)
    assert len(_stored(db, odd.id)) == 3


def test_upload_replaces_an_existing_interval(client, db, activity, admin) -> None:
    _post_csv(client, activity.id, _csv(["2026-10-01T08:00:00+02:00,42,40,300"]), admin)
    response = _post_csv(client, activity.id, _csv(["2026-10-01T08:00:00+02:00,50,45,310"]), admin)
    assert response.json() == {"inserted": 0, "updated": 1, "total": 1}
    assert [row[1:] for row in _stored(db, activity.id)] == [(50, 45, 310_000)]


def test_stored_values_are_exact_before_and_after_2000(client, db, activity, admin) -> None:
    """PostgreSQL's binary COPY counts instants from 2000-01-01; AHT may be unknown (NULL)."""
    lines = [
        "1999-12-31T23:30:00Z,1000000000,999999999,86399.999",
        "2000-01-01T00:00:00Z,0,0,",
        "2026-10-01T08:00:00+02:00,7,7,0.001",
    ]
    assert _post_csv(client, activity.id, _csv(lines), admin).status_code == 200
    assert _stored(db, activity.id) == [
        (datetime(1999, 12, 31, 23, 30, tzinfo=UTC), 1_000_000_000, 999_999_999, 86_399_999),
        (datetime(2000, 1, 1, tzinfo=UTC), 0, 0, None),
        (datetime(2026, 10, 1, 6, tzinfo=UTC), 7, 7, 1),
    ]


def test_chunk_over_stored_intervals_replaces_them_after_a_new_chunk(
    client, db, activity, admin, monkeypatch
) -> None:
    """The first chunk is new (PostgreSQL copies it straight into the table), the second
    overlaps stored intervals (it is upserted)."""
    monkeypatch.setattr(parsing, "CSV_CHUNK_ROWS", 2)
    starts = _half_hours(datetime(2026, 10, 1, tzinfo=PARIS), 4)
    _post_csv(client, activity.id, _csv([f"{start},1,1,100" for start in starts[2:]]), admin)
    body = _csv([f"{start},9,8,200" for start in starts])
    response = _post_csv(client, activity.id, body, admin)
    assert response.json() == {"inserted": 2, "updated": 2, "total": 4}
    assert [row[1:] for row in _stored(db, activity.id)] == [(9, 8, 200_000)] * 4


def test_intervals_stored_since_they_were_looked_up_are_replaced(
    client, db, activity, admin, monkeypatch
) -> None:
    """A concurrent request may store an interval between the lookup and the write: the write
    replaces it rather than failing on the primary key."""
    _post_csv(client, activity.id, _csv(["2026-10-01T08:00:00+02:00,42,40,300"]), admin)
    monkeypatch.setattr(VolumeRepository, "existing_starts", lambda self, _, starts: starts[:0])
    body = _csv(["2026-10-01T08:00:00+02:00,50,45,310", "2026-10-01T08:30:00+02:00,5,5,100"])
    assert _post_csv(client, activity.id, body, admin).status_code == 200
    assert [row[1:] for row in _stored(db, activity.id)] == [(50, 45, 310_000), (5, 5, 100_000)]


BAD_ROWS = [
    ("2026-10-01T08:00:00,1,1,100", "interval_start", "needs a UTC offset"),
    ("yesterday+02:00,1,1,100", "interval_start", "not an RFC 3339 date-time"),
    ("2026-10-01T08:10:00+02:00,1,1,100", "interval_start", "not on the 30-minute grid"),
    ("2099-10-01T08:00:00+02:00,1,1,100", "interval_start", "in the future"),
    (",1,1,100", "interval_start", "required"),
    ("  ,1,1,100", "interval_start", "required"),
    ("2026-10-01T08:00:00+02:00,-1,0,", "offered", "must be >= 0"),
    ("2026-10-01T08:00:00+02:00,1.5,1,100", "offered", "whole number"),
    ("2026-10-01T08:00:00+02:00,many,1,100", "offered", "not a number"),
    ("2026-10-01T08:00:00+02:00,1,,100", "handled", "required"),
    ("2026-10-01T08:00:00+02:00, ,1,100", "offered", "required"),
    ("2026-10-01T08:00:00+02:00,3,2,  ", "aht_seconds", "required when handled > 0"),
    ("2026-10-01T08:00:00+02:00,3,2,", "aht_seconds", "required when handled > 0"),
    ("2026-10-01T08:00:00+02:00,3,2,-5", "aht_seconds", "must be >= 0"),
    ("2026-10-01T08:00:00+02:00,3,2,86400", "aht_seconds", "below 86400"),
    ("2026-10-01T08:00:00+02:00,3,2,slow", "aht_seconds", "not a number"),
]


@pytest.mark.parametrize(("line", "field", "reason"), BAD_ROWS)
def test_bad_row_is_named_with_its_line_and_field(
    client, db, activity, admin, line: str, field: str, reason: str
) -> None:
    body = _csv(["2026-10-01T07:00:00+02:00,5,5,100", line])
    response = _post_csv(client, activity.id, body, admin)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    [error] = response.json()["errors"]
    assert (error["row"], error["field"]) == (3, field)
    assert reason in error["reason"]


@pytest.mark.parametrize(("line", "field", "reason"), BAD_ROWS)
def test_rejected_request_writes_nothing(client, db, activity, admin, line, field, reason) -> None:
    body = _csv(["2026-10-01T07:00:00+02:00,5,5,100", line, "2026-10-01T09:00:00+02:00,5,5,100"])
    _post_csv(client, activity.id, body, admin)
    assert _count(db, activity.id) == 0


@pytest.mark.parametrize("stored", [False, True])
def test_bad_row_in_a_later_chunk_writes_nothing(
    client, db, activity, admin, monkeypatch, stored: bool
) -> None:
    """Earlier chunks were written already, copied straight into the table or upserted over
    stored intervals: the rejection rolls them back, stored intervals keep their values."""
    monkeypatch.setattr(parsing, "CSV_CHUNK_ROWS", 2)
    starts = _half_hours(datetime(2026, 10, 1, tzinfo=PARIS), 4)
    if stored:
        _post_csv(client, activity.id, _csv([f"{start},1,1,100" for start in starts]), admin)
    lines = [f"{start},9,8,200" for start in starts] + ["2026-10-01T08:10:00+02:00,1,1,100"]
    assert _post_csv(client, activity.id, _csv(lines), admin).status_code == 422
    assert [row[1:] for row in _stored(db, activity.id)] == [(1, 1, 100_000)] * (4 if stored else 0)


def test_duplicate_interval_in_one_request_is_an_error(client, db, activity, admin) -> None:
    body = _csv(["2026-10-01T06:00:00Z,5,5,100", "2026-10-01T08:00:00+02:00,6,6,100"])
    response = _post_csv(client, activity.id, body, admin)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["row"], error["field"]) == (3, "interval_start")
    assert "appears earlier" in error["reason"]


def test_every_bad_row_is_listed(client, db, activity, admin) -> None:
    body = _csv(["2026-10-01T08:00:00+02:00,-1,0,", "2026-10-01T08:30:00+02:00,1,x,", "bad,1,1,1"])
    errors = _post_csv(client, activity.id, body, admin).json()["errors"]
    assert [(e["row"], e["field"]) for e in errors] == [
        (2, "offered"),
        (3, "handled"),
        (4, "interval_start"),
    ]


def test_error_list_is_capped_at_a_thousand_with_the_total(client, db, activity, admin) -> None:
    starts = _half_hours(datetime(2025, 1, 1, tzinfo=PARIS), 1500)
    body = _csv([f"{start},-1,0," for start in starts])
    problem = _post_csv(client, activity.id, body, admin).json()
    assert len(problem["errors"]) == 1000
    assert problem["error_count"] == 1500


def test_json_errors_name_the_record_index(client, db, activity, admin) -> None:
    records = [
        {"interval_start": "2026-10-01T06:00:00Z", "offered": 1, "handled": 1, "aht_seconds": 9},
        {"interval_start": "2026-10-01T06:30:00Z", "offered": -3, "handled": 0, "colour": "red"},
    ]
    response = client.post(
        f"/v1/activities/{activity.id}/volumes", json={"records": records}, headers=admin
    )
    fields = {(e["row"], e["field"]) for e in response.json()["errors"]}
    assert fields == {(1, "records.1.offered"), (1, "records.1.colour")}
    assert _count(db, activity.id) == 0


def test_wrong_csv_header_is_reported_on_line_one(client, activity, admin) -> None:
    response = _post_csv(client, activity.id, b"start,offered,handled\n", admin)
    [error] = response.json()["errors"]
    assert response.status_code == 422 and error["row"] == 1 and error["field"] == "header"


def test_json_body_without_records_is_refused(client, activity, admin) -> None:
    response = client.post(f"/v1/activities/{activity.id}/volumes", json=[1], headers=admin)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "records"


def test_other_media_types_are_refused(client, activity, admin) -> None:
    response = client.post(
        f"/v1/activities/{activity.id}/volumes",
        content=b"<xml/>",
        headers={**admin, "Content-Type": "application/xml"},
    )
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"


def test_body_over_the_configured_size_is_refused(client, activity, admin) -> None:
    body = _csv(["2026-10-01T08:00:00+02:00,1,1,100"] * 40_000)
    response = _post_csv(client, activity.id, body, admin)
    assert response.status_code == 413


def test_ops_key_cannot_upload(client, db, activity) -> None:
    response = _post_csv(client, activity.id, _csv([]), bearer(db, Role.OPS))
    assert response.status_code == 403


def test_other_clients_key_does_not_see_the_activity(client, db, activity) -> None:
    stranger = make_client(db, name="Other")
    headers = bearer(db, Role.CLIENT, stranger.id)
    response = client.get(
        f"/v1/activities/{activity.id}/volumes?start=2026-10-01&end=2026-10-02", headers=headers
    )
    assert response.status_code == 404


def _daily(client, activity_id, headers, start, end, granularity="day"):
    response = client.get(
        f"/v1/activities/{activity_id}/volumes",
        params={"start": start, "end": end, "granularity": granularity},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_autumn_dst_day_sums_twenty_five_hours(client, db, activity, admin) -> None:
    day_start = datetime(2025, 10, 26, tzinfo=PARIS)
    lines = [f"{start},1,1,60" for start in _half_hours(day_start, 50)]
    lines.append("2025-10-27T00:00:00+01:00,7,7,60")
    assert _post_csv(client, activity.id, _csv(lines), admin).status_code == 200
    items = _daily(client, activity.id, admin, "2025-10-26", "2025-10-28")
    assert [(i["period_start"], i["offered"]) for i in items] == [
        ("2025-10-26T00:00:00+02:00", 50),
        ("2025-10-27T00:00:00+01:00", 7),
    ]


def test_spring_dst_day_sums_twenty_three_hours(client, db, activity, admin) -> None:
    day_start = datetime(2025, 3, 30, tzinfo=PARIS)
    lines = [f"{start},1,1,60" for start in _half_hours(day_start, 46)]
    lines.append("2025-03-31T00:00:00+02:00,7,7,60")
    _post_csv(client, activity.id, _csv(lines), admin)
    items = _daily(client, activity.id, admin, "2025-03-30", "2025-04-01")
    assert [(i["period_start"], i["offered"]) for i in items] == [
        ("2025-03-30T00:00:00+01:00", 46),
        ("2025-03-31T00:00:00+02:00", 7),
    ]


def test_midnight_on_the_first_counts_in_its_own_month(client, db, activity, admin) -> None:
    lines = ["2025-10-31T23:30:00+01:00,3,3,60", "2025-11-01T00:00:00+01:00,5,5,60"]
    _post_csv(client, activity.id, _csv(lines), admin)
    items = _daily(client, activity.id, admin, "2025-10-01", "2025-12-01", "month")
    assert [(i["period_start"], i["offered"]) for i in items] == [
        ("2025-10-01T00:00:00+02:00", 3),
        ("2025-11-01T00:00:00+01:00", 5),
    ]


def test_weeks_start_on_local_monday(client, db, activity, admin) -> None:
    lines = ["2025-10-26T23:30:00+01:00,1,1,60", "2025-10-27T00:00:00+01:00,2,2,60"]
    _post_csv(client, activity.id, _csv(lines), admin)
    items = _daily(client, activity.id, admin, "2025-10-20", "2025-11-03", "week")
    assert [(i["period_start"], i["offered"]) for i in items] == [
        ("2025-10-20T00:00:00+02:00", 1),
        ("2025-10-27T00:00:00+01:00", 2),
    ]


def test_aht_aggregates_as_handled_weighted_mean(client, db, activity, admin) -> None:
    lines = [
        "2026-10-01T08:00:00+02:00,10,10,300",
        "2026-10-01T08:30:00+02:00,40,30,100",
        "2026-10-01T09:00:00+02:00,5,0,",
    ]
    _post_csv(client, activity.id, _csv(lines), admin)
    [day] = _daily(client, activity.id, admin, "2026-10-01", "2026-10-02")
    assert (day["offered"], day["handled"], day["aht_seconds"]) == (55, 40, "150")


def test_interval_level_pages_through_every_interval_once(client, db, activity, admin) -> None:
    starts = _half_hours(datetime(2026, 10, 1, 8, tzinfo=PARIS), 5)
    _post_csv(client, activity.id, _csv([f"{s},{i},{i},60" for i, s in enumerate(starts)]), admin)
    seen, cursor = [], None
    for _ in range(5):
        params = {"start": "2026-10-01", "end": "2026-10-02", "granularity": "interval", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get(
            f"/v1/activities/{activity.id}/volumes", params=params, headers=admin
        ).json()
        seen += [item["offered"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [0, 1, 2, 3, 4]


def test_another_lists_cursor_on_the_interval_read_is_a_named_problem(
    client, activity, admin
) -> None:
    """Every cursor is base64, so an id cursor of another list decodes; it is no instant."""
    params = {"start": "2026-10-01", "end": "2026-10-02", "granularity": "interval"}
    response = client.get(
        f"/v1/activities/{activity.id}/volumes",
        params={**params, "cursor": encode_cursor("act_01")},
        headers=admin,
    )
    assert response.status_code == 422, response.text
    assert [(e["location"], e["field"]) for e in response.json()["errors"]] == [("query", "cursor")]


def test_reading_with_end_before_start_is_refused(client, activity, admin) -> None:
    response = client.get(
        f"/v1/activities/{activity.id}/volumes",
        params={"start": "2026-10-02", "end": "2026-10-01"},
        headers=admin,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "end"


def test_json_records_payload_documented_in_openapi(client) -> None:
    spec = client.get("/openapi.json").json()
    content = spec["paths"]["/v1/activities/{activity_id}/volumes"]["post"]["requestBody"][
        "content"
    ]
    assert {"application/json", "text/csv"} <= set(content)
    assert json.dumps(content["application/json"]["schema"]).count("VolumeUpload") == 1
