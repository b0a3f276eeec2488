"""Tests for the throwaway PostgreSQL server helper (tests/pg_server.py)."""

from __future__ import annotations

import os
import pwd
import socket
import stat

import psycopg
import pytest

from pg_server import PG_BIN_ENV, PostgresServer, PostgresServerError, find_pg_bin_dir


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.integration
def test_server_creates_database_and_answers_queries() -> None:
    with PostgresServer() as pg:
        assert pg.running
        assert pg.port is not None
        assert stat.S_IMODE(os.stat(pg.data_dir).st_mode) == 0o700

        url = pg.create_database("plancher_smoke")
        assert url == f"postgresql+psycopg://postgres@127.0.0.1:{pg.port}/plancher_smoke"
        assert pg.url("plancher_smoke") == url

        with psycopg.connect(pg.dsn("plancher_smoke"), connect_timeout=10) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
            assert conn.execute("show fsync").fetchone() == ("off",)
            assert conn.execute("show max_connections").fetchone() == ("200",)
            assert conn.execute("select current_database(), current_user").fetchone() == (
                "plancher_smoke",
                "postgres",
            )
            assert conn.execute("show server_encoding").fetchone() == ("UTF8",)


@pytest.mark.integration
def test_stop_removes_directory_and_closes_port() -> None:
    pg = PostgresServer().start()
    try:
        root, port = pg.root_dir, pg.port
        assert root is not None and root.is_dir()
        assert port is not None and _accepts(port)
    finally:
        pg.stop()

    assert not root.exists()
    assert not _accepts(port)
    assert not pg.running
    with pytest.raises(PostgresServerError):
        pg.url("postgres")
    pg.stop()  # idempotent


def test_bad_bin_override_fails_clearly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]
) -> None:
    monkeypatch.setenv(PG_BIN_ENV, str(tmp_path))
    with pytest.raises(PostgresServerError, match=r"PLANCHER_PG_BIN.*initdb"):
        find_pg_bin_dir()


def test_root_without_postgres_user_fails_clearly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]
) -> None:
    def no_such_user(name: str) -> None:
        raise KeyError(name)

    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(pwd, "getpwnam", no_such_user)
    with pytest.raises(PostgresServerError, match=r"no 'postgres' system user"):
        PostgresServer(bin_dir=tmp_path).start()
