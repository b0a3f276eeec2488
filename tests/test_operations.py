"""Liveness, readiness and metrics endpoints for the operators."""

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core import middleware
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


def _sample(body: str, name: str, labels: str) -> float:
    """The value of the metric sample `name{labels}` in a Prometheus exposition (0 without
    one: the process's registry holds what the earlier tests counted, or not yet)."""
    found = re.search(rf"^{name}{{{re.escape(labels)}}} (\S+)$", body, re.MULTILINE)
    return 0.0 if found is None else float(found.group(1))


def test_requests_are_counted_and_timed_with_their_children_looked_up_once(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each request counts once under its labels, while `labels()` (a lookup under a lock)
    runs once per label values, not per request."""
    looked_up: list[tuple[Any, ...]] = []

    def watched(real: Any) -> Any:
        def labels(*values: Any) -> Any:
            looked_up.append(values)
            return real(*values)

        return labels

    for metric in (middleware.REQUESTS, middleware.LATENCY):
        monkeypatch.setattr(metric, "labels", watched(metric.labels))
    before = client.get("/metrics").text
    labels = 'method="GET",route="/v1/contracts/{contract_id}",status="401"'
    for _ in range(3):
        assert client.get("/v1/contracts/ctr_x").status_code == 401
    after = client.get("/metrics").text
    timed = 'method="GET",route="/v1/contracts/{contract_id}"'
    counted, count = (
        _sample(after, name, series) - _sample(before, name, series)
        for name, series in (
            ("plancher_http_requests_total", labels),
            ("plancher_http_request_duration_seconds_count", timed),
        )
    )
    assert (counted, count) == (3, 3)
    contract_reads = [values for values in looked_up if values[1] == "/v1/contracts/{contract_id}"]
    assert len(contract_reads) <= 2  # the counter's child and the histogram's, at most once


def test_a_generated_request_id_is_128_bits_in_hex(client: TestClient) -> None:
    assert re.fullmatch(r"[0-9a-f]{32}", client.get("/healthz").headers["X-Request-ID"])


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
