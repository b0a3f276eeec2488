"""Every error path answers RFC 9457 problem+json; a 500 reveals only the request id."""

import logging
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session

from app.core.auth import Role
from app.core.db import Database
from app.core.settings import Settings
from app.main import create_app

from factories import bearer, make_client

PROBLEM = "application/problem+json"
LIMIT = 1_000_000  # the `settings` fixture's max_request_bytes
SECRET_MESSAGE = "s3cr3t-internal-state-do-not-leak"


def _explode() -> None:
    raise RuntimeError(SECRET_MESSAGE)


@pytest.fixture(scope="module")
def _apps() -> dict[str, FastAPI]:
    return {}


@pytest.fixture
def api(settings: Settings, database: Database, _apps: dict[str, FastAPI]) -> Iterator[TestClient]:
    """The real app plus one route with a bug in it; built once per backend for the module
    (`create_app` costs ~40 ms), with the test's database swapped in."""
    app = _apps.get(settings.database_url)
    if app is None:
        app = _apps[settings.database_url] = create_app(settings, database=database)
        app.add_api_route("/v1/boom", _explode, methods=["GET"])
    app.state.database = database
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _admin(db: Session) -> dict[str, str]:
    return bearer(db, Role.ADMIN)


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        chunk = b" " * min(size, total - sent)
        sent += len(chunk)
        yield chunk


# Each case provokes one error status; the shape checks below run over all of them.

Case = Callable[[TestClient, Session], Response]

CASES: dict[str, tuple[int, Case]] = {
    "unknown path": (404, lambda c, db: c.get("/v1/no-such-resource", headers=_admin(db))),
    "unknown id": (404, lambda c, db: c.get("/v1/clients/cli_missing", headers=_admin(db))),
    "wrong method": (405, lambda c, db: c.delete("/v1/clients", headers=_admin(db))),
    "malformed json": (
        400,
        lambda c, db: c.post(
            "/v1/clients",
            content=b'{"name": ',
            headers={**_admin(db), "Content-Type": "application/json"},
        ),
    ),
    "validation": (422, lambda c, db: c.post("/v1/clients", json={}, headers=_admin(db))),
    "no key": (401, lambda c, db: c.get("/v1/clients")),
    "wrong role": (
        403,
        lambda c, db: c.post("/v1/clients", json={"name": "X"}, headers=bearer(db, Role.OPS)),
    ),
    "conflict": (
        409,
        lambda c, db: c.post(
            "/v1/clients",
            json={"name": "Twin", "siren": make_client(db, siren="552081317").siren},
            headers=_admin(db),
        ),
    ),
    "declared too large": (
        413,
        lambda c, db: c.post(
            "/v1/clients",
            content=b" " * (LIMIT + 1),
            headers={**_admin(db), "Content-Type": "application/json"},
        ),
    ),
    "internal error": (500, lambda c, db: c.get("/v1/boom", headers=_admin(db))),
}


@pytest.mark.parametrize("case", list(CASES))
def test_error_has_its_status(api: TestClient, db: Session, case: str) -> None:
    status, send = CASES[case]
    assert send(api, db).status_code == status


@pytest.mark.parametrize("case", list(CASES))
def test_error_is_a_problem_document(api: TestClient, db: Session, case: str) -> None:
    """RFC 9457: the media type, and type, title, status (the response's) and detail."""
    _, send = CASES[case]
    response = send(api, db)
    body = response.json()
    assert response.headers["content-type"] == PROBLEM
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert all(isinstance(body[name], str) and body[name] for name in ("type", "title", "detail"))
    assert body["status"] == response.status_code


def test_errors_of_different_kinds_have_different_types(api: TestClient, db: Session) -> None:
    types = {
        CASES[case][1](api, db).json()["type"]
        for case in (
            "unknown path",
            "wrong method",
            "malformed json",
            "validation",
            "no key",
            "wrong role",
            "conflict",
            "declared too large",
            "internal error",
        )
    }
    assert len(types) == 9


# The specifics of each path


def test_unknown_path_detail_does_not_echo_framework_text(api: TestClient) -> None:
    assert api.get("/v1/no-such-resource").json()["detail"] != "Not Found"


def test_wrong_method_answers_an_allow_header(api: TestClient, db: Session) -> None:
    response = api.delete("/v1/clients", headers=_admin(db))
    assert "POST" in response.headers["Allow"]


def test_wrong_method_lists_every_allowed_method(api: TestClient, db: Session) -> None:
    response = api.delete("/v1/clients", headers=_admin(db))
    allowed = {method.strip() for method in response.headers["Allow"].split(",")}
    assert allowed == {"GET", "POST"}


def test_malformed_json_is_a_400_not_a_422(api: TestClient, db: Session) -> None:
    response = api.post(
        "/v1/clients",
        content=b'{"name": "Acme",}',
        headers={**_admin(db), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer plk_unknown"}, {"Authorization": "Basic YTpi"}],
    ids=["no key", "unknown key", "other scheme"],
)
def test_a_caller_without_a_valid_key_gets_401_whatever_the_body(
    api: TestClient, headers: dict[str, str]
) -> None:
    """The key is checked before the body is read: body errors tell such a caller nothing."""
    response = api.post(
        "/v1/clients",
        content=b'{"name": ',
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert "JSON" not in response.json()["detail"]


def test_validation_problem_lists_each_bad_field(api: TestClient, db: Session) -> None:
    response = api.post(
        "/v1/clients", json={"name": "", "siren": "123", "country": "XX"}, headers=_admin(db)
    )
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"name", "siren", "country"}


def test_validation_errors_give_location_and_reason(api: TestClient, db: Session) -> None:
    response = api.post("/v1/clients", json={"name": "Acme", "siren": "123"}, headers=_admin(db))
    [error] = response.json()["errors"]
    assert error["location"] == "body"
    assert error["field"] == "siren"
    assert error["reason"]


def test_validation_of_a_query_parameter_is_located_in_the_query(
    api: TestClient, db: Session
) -> None:
    response = api.get("/v1/clients", params={"limit": "many"}, headers=_admin(db))
    assert response.json()["errors"][0]["location"] == "query"


def test_declared_oversize_body_is_refused_without_authentication(api: TestClient) -> None:
    """Content-Length alone decides: the body is refused before anything reads it."""
    response = api.post(
        "/v1/clients", content=b" " * (LIMIT + 1), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


def test_body_exactly_at_the_limit_is_not_refused_as_too_large(
    api: TestClient, db: Session
) -> None:
    body = b'{"name": "Acme"}'
    padded = body + b" " * (LIMIT - len(body))
    response = api.post(
        "/v1/clients", content=padded, headers={**_admin(db), "Content-Type": "application/json"}
    )
    assert response.status_code == 201


def test_streamed_oversize_body_is_413(api: TestClient, db: Session) -> None:
    response = api.post(
        "/v1/clients",
        content=_chunks(LIMIT + 1),
        headers={**_admin(db), "Content-Type": "application/json"},
    )
    assert response.status_code == 413


def test_streamed_oversize_body_is_refused_as_a_problem(api: TestClient, db: Session) -> None:
    """The streamed body is refused with a problem too."""
    response = api.post(
        "/v1/clients",
        content=_chunks(LIMIT + 1),
        headers={**_admin(db), "Content-Type": "application/json"},
    )
    assert response.headers["content-type"] == PROBLEM
    assert response.status_code >= 400


def test_streamed_oversize_body_with_idempotency_key_is_413(api: TestClient, db: Session) -> None:
    """With an Idempotency-Key the route reads the body itself, so the 413 gets through."""
    response = api.post(
        "/v1/clients",
        content=_chunks(LIMIT + 1),
        headers={**_admin(db), "Content-Type": "application/json", "Idempotency-Key": "big-1"},
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM


def test_streamed_body_within_the_limit_is_accepted(api: TestClient, db: Session) -> None:
    def body() -> Iterator[bytes]:
        yield b'{"name": '
        yield b'"Acme"}'

    response = api.post(
        "/v1/clients", content=body(), headers={**_admin(db), "Content-Type": "application/json"}
    )
    assert response.status_code == 201


# 500: a bug answers with the request id and nothing else


def test_internal_error_body_reveals_no_exception_text(api: TestClient) -> None:
    response = api.get("/v1/boom")
    assert SECRET_MESSAGE not in response.text
    assert "RuntimeError" not in response.text
    assert "Traceback" not in response.text


def test_internal_error_body_has_only_the_problem_members(api: TestClient) -> None:
    body = api.get("/v1/boom").json()
    assert set(body) <= {"type", "title", "status", "detail", "instance"}


def test_internal_error_detail_quotes_the_response_request_id(api: TestClient) -> None:
    response = api.get("/v1/boom")
    request_id = response.headers["X-Request-ID"]
    assert request_id in response.json()["detail"]


def test_request_id_is_generated_when_the_caller_sends_none(api: TestClient) -> None:
    first = api.get("/v1/boom").headers["X-Request-ID"]
    second = api.get("/v1/boom").headers["X-Request-ID"]
    assert first and second and first != second


def test_internal_error_echoes_the_callers_request_id(api: TestClient) -> None:
    response = api.get("/v1/boom", headers={"X-Request-ID": "wfm-7f3a.42"})
    assert response.headers["X-Request-ID"] == "wfm-7f3a.42"


def test_internal_error_detail_quotes_the_callers_request_id(api: TestClient) -> None:
    response = api.get("/v1/boom", headers={"X-Request-ID": "wfm-7f3a.42"})
    assert "wfm-7f3a.42" in response.json()["detail"]


def test_unsafe_caller_request_id_is_replaced(api: TestClient) -> None:
    """A request id goes into logs: one with spaces or control-like text is not trusted."""
    response = api.get("/v1/boom", headers={"X-Request-ID": "evil id; rm -rf"})
    assert response.headers["X-Request-ID"] != "evil id; rm -rf"
    assert "evil" not in response.json()["detail"]


def test_internal_error_is_logged_with_the_request_id(
    api: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        api.get("/v1/boom", headers={"X-Request-ID": "trace-500-1"})
    assert any("trace-500-1" in record.getMessage() for record in caplog.records)


def test_internal_error_log_keeps_the_exception(
    api: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    """The traceback the body hides must reach the operator."""
    with caplog.at_level(logging.ERROR):
        api.get("/v1/boom", headers={"X-Request-ID": "trace-500-2"})
    [record] = [r for r in caplog.records if "trace-500-2" in r.getMessage()]
    assert record.exc_info is not None
    assert record.exc_info[0] is RuntimeError


def test_successful_response_echoes_the_callers_request_id(api: TestClient, db: Session) -> None:
    response = api.get("/v1/clients", headers={**_admin(db), "X-Request-ID": "ok-1"})
    assert response.headers["X-Request-ID"] == "ok-1"
