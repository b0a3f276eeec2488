"""The `plancher` console script: keys, migrations, demo data, the OpenAPI document."""

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from app.cli import cli
from app.core.db import Database, create_db_engine
from app.core.settings import Settings, get_settings
from app.core.tables import IdempotencyRecord
from app.main import create_app


@pytest.fixture
def sqlite_url(tmp_path, monkeypatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("PLANCHER_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def _run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def _secret(output: str) -> str:
    return next(line.split()[1] for line in output.splitlines() if line.startswith("secret:"))


def _app(url: str) -> TestClient:
    return TestClient(create_app(Settings(database_url=url), Database(create_db_engine(url))))


def test_created_key_authenticates_and_revoked_key_does_not(sqlite_url: str) -> None:
    _run("db", "upgrade")
    output = _run("keys", "create", "--role", "ops")
    key_id = next(line.split()[2] for line in output.splitlines() if line.startswith("key id:"))
    headers = {"Authorization": f"Bearer {_secret(output)}"}
    with _app(sqlite_url) as api:
        assert api.get("/v1/clients", headers=headers).status_code == 200
        _run("keys", "revoke", key_id)
        assert api.get("/v1/clients", headers=headers).status_code == 401


def test_client_key_requires_an_existing_client(sqlite_url: str) -> None:
    _run("db", "upgrade")
    missing = CliRunner().invoke(cli, ["keys", "create", "--role", "client"])
    unknown = CliRunner().invoke(
        cli, ["keys", "create", "--role", "client", "--client-id", "cli_nope"]
    )
    assert missing.exit_code != 0 and unknown.exit_code != 0


def test_key_list_never_shows_secrets(sqlite_url: str) -> None:
    _run("db", "upgrade")
    secret = _secret(_run("keys", "create", "--role", "billing"))
    listing = _run("keys", "list")
    assert "billing" in listing and secret not in listing


def test_demo_is_reusable_and_its_key_reads_the_demo_contract(sqlite_url: str) -> None:
    _run("db", "upgrade")
    _run("demo")
    output = _run("demo")
    lines = output.splitlines()
    contract_id = next(line.split()[2] for line in lines if line.startswith("demo contract"))
    secret = next(line.split()[2] for line in lines if line.startswith("admin key"))
    with _app(sqlite_url) as api:
        headers = {"Authorization": f"Bearer {secret}"}
        activities = api.get(f"/v1/contracts/{contract_id}/activities", headers=headers).json()
        contracts = api.get("/v1/contracts", headers=headers).json()
    assert len(activities["items"]) == 3
    assert len(contracts["items"]) == 1


def test_openapi_command_writes_the_apps_document(tmp_path) -> None:
    target = tmp_path / "openapi.json"
    _run("openapi", "--output", str(target))
    from app.cli import openapi_document

    assert target.read_text(encoding="utf-8") == openapi_document()


def _first_activity(url: str) -> str:
    import sqlite3

    connection = sqlite3.connect(url.removeprefix("sqlite:///"))
    [(activity_id,)] = connection.execute(
        "SELECT id FROM activities WHERE name = 'Service client voix'"
    ).fetchall()
    connection.close()
    return activity_id


def test_import_volumes_upserts_a_csv_file(sqlite_url: str, tmp_path) -> None:
    _run("db", "upgrade")
    _run("demo")
    csv_file = tmp_path / "actuals.csv"
    csv_file.write_text(
        "interval_start,offered,handled,aht_seconds\n2020-01-06T08:00:00+01:00,5,5,100\n"
    )
    output = _run("import-volumes", str(csv_file), "--activity", _first_activity(sqlite_url))
    assert "1 inserted, 0 updated" in output


def test_import_volumes_rejects_a_bad_file_and_names_the_line(sqlite_url: str, tmp_path) -> None:
    _run("db", "upgrade")
    _run("demo")
    csv_file = tmp_path / "actuals.csv"
    csv_file.write_text(
        "interval_start,offered,handled,aht_seconds\n2020-01-06T08:10:00+01:00,5,5,100\n"
    )
    result = CliRunner().invoke(
        cli, ["import-volumes", str(csv_file), "--activity", _first_activity(sqlite_url)]
    )
    assert result.exit_code == 1
    assert "line 2: interval_start" in result.output


def test_forecast_command_prints_and_stores_a_forecast(sqlite_url: str) -> None:
    _run("db", "upgrade")
    _run("demo")
    start = date.today() + timedelta(days=1)
    output = _run(
        "forecast",
        "--activity",
        _first_activity(sqlite_url),
        "--start",
        str(start),
        "--end",
        str(start + timedelta(days=2)),
        "--method",
        "snaive",
    )
    assert output.startswith("forecast fct_") and "method snaive" in output
    assert len(output.strip().splitlines()) == 4


def test_forecast_command_runs_a_contract_job(sqlite_url: str) -> None:
    _run("db", "upgrade")
    lines = _run("demo").splitlines()
    contract_id = next(line.split()[2] for line in lines if line.startswith("demo contract"))
    start = date.today() + timedelta(days=1)
    output = _run(
        "forecast",
        "--contract",
        contract_id,
        "--start",
        str(start),
        "--end",
        str(start),
        "--method",
        "snaive",
    )
    assert "completed: 3 activities" in output


def _age_idempotency_record(url: str, key: str, hours: float) -> None:
    with Database(create_db_engine(url)).session(write=True) as session:
        record = session.scalars(
            select(IdempotencyRecord).where(IdempotencyRecord.idempotency_key == key)
        ).one()
        record.created_at -= timedelta(hours=hours)
        session.commit()


def _idempotency_keys(url: str) -> set[str]:
    with Database(create_db_engine(url)).session(write=False) as session:
        return set(session.scalars(select(IdempotencyRecord.idempotency_key)))


def test_expired_idempotency_records_are_purged_at_start_up_and_by_command(
    sqlite_url: str,
) -> None:
    _run("db", "upgrade")
    headers = {"Authorization": f"Bearer {_secret(_run('keys', 'create', '--role', 'admin'))}"}
    with _app(sqlite_url) as api:
        for key, name in (("old", "Ancien"), ("new", "Récent")):
            response = api.post(
                "/v1/clients", json={"name": name}, headers={**headers, "Idempotency-Key": key}
            )
            assert response.status_code == 201
    _age_idempotency_record(sqlite_url, "old", hours=25)
    with _app(sqlite_url) as restarted:  # the start-up purges
        assert restarted.get("/healthz").status_code == 200
    assert _idempotency_keys(sqlite_url) == {"new"}
    _age_idempotency_record(sqlite_url, "new", hours=25)
    assert "1 expired idempotency record purged" in _run("db", "purge-idempotency")
    assert _idempotency_keys(sqlite_url) == set()


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        ((), {}, "http://127.0.0.1:8000"),
        (("--port", "8765"), {}, "http://127.0.0.1:8765"),
        ((), {"PLANCHER_HOST": "0.0.0.0", "PLANCHER_PORT": "9100"}, "http://127.0.0.1:9100"),
        (("--host", "plancher.example"), {}, "http://plancher.example:8000"),
    ],
)
def test_the_demo_prints_the_url_actually_served(
    sqlite_url: str, monkeypatch, args: tuple[str, ...], env: dict[str, str], expected: str
) -> None:
    """`plancher demo` takes the address `plancher serve` listens on (the same options and
    variables), so that its examples are not on port 8000 whatever is served."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    _run("db", "upgrade")
    output = _run("demo", *args)
    urls = {word.strip("'") for word in output.split() if word.strip("'").startswith("http")}
    assert urls and all(url.startswith(expected + "/") for url in urls), urls
    assert f"{expected}/docs" in output
