"""Liveness, readiness and metrics endpoints for the operators."""

from fastapi.testclient import TestClient

from app.core.db import Database, create_db_engine
from app.core.settings import Settings
from app.main import create_app


def test_healthz_answers_without_authentication(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ready_when_the_schema_is_at_head(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


def test_readyz_is_unavailable_when_migrations_are_pending(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    app = create_app(Settings(database_url=url), database=Database(create_db_engine(url)))
    with TestClient(app) as unmigrated:
        response = unmigrated.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "plancher db upgrade" in response.json()["detail"]


def test_readyz_is_unavailable_when_the_database_is_unreachable(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}"
    app = create_app(Settings(database_url=url), database=Database(create_db_engine(url)))
    with TestClient(app) as unreachable:
        response = unreachable.get("/readyz")
    assert response.status_code == 503
    assert "unreachable" in response.json()["detail"]


def test_metrics_count_requests_by_route_template(client: TestClient) -> None:
    client.get("/v1/clients/cli_x")  # 401, but counted under its template
    body = client.get("/metrics").text
    assert 'route="/v1/clients/{client_id}"' in body
    assert "plancher_http_request_duration_seconds_bucket" in body


def test_every_endpoint_answers_503_with_retry_after_while_the_database_is_unreachable(
    tmp_path,
) -> None:
    url = f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}"
    app = create_app(Settings(database_url=url), database=Database(create_db_engine(url)))
    auth = {"Authorization": "Bearer pk_whatever"}
    with TestClient(app) as unreachable:
        responses = [
            unreachable.get("/v1/clients", headers=auth),
            unreachable.post("/v1/clients", json={"name": "X"}, headers=auth),
            unreachable.get("/v1/overview?period=2026-10", headers=auth),
        ]
    for response in responses:
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["retry-after"].isdigit()
        assert "Traceback" not in response.text
