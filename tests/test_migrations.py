"""The Alembic migrations are the only way the schema changes, and they match the ORM."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, inspect, text

from app.core.migrations import alembic_config, ours, upgrade_to_head
from app.forecasts.samples import decode
from app.tables import metadata

from backends import BACKENDS


def _differences(url: str, target: MetaData) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": ours}
            )
            return list(compare_metadata(context, target))
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_migrations_at_head_match_the_orm(backend: str, database_url_factory) -> None:
    url = database_url_factory(backend)
    upgrade_to_head(url)
    assert _differences(url, metadata) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_comparison_detects_a_table_missing_from_the_migrations(
    backend: str, database_url_factory
) -> None:
    url = database_url_factory(backend)
    upgrade_to_head(url)
    extended = MetaData()
    for table in metadata.tables.values():
        table.to_metadata(extended)
    Table("not_migrated", extended, Column("id", Integer, primary_key=True))
    assert [diff[0] for diff in _differences(url, extended)] == ["add_table"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_migrations_downgrade_to_base_and_upgrade_again(backend: str, database_url_factory) -> None:
    url = database_url_factory(backend)
    config = alembic_config(url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    engine = create_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    command.upgrade(config, "head")
    assert _differences(url, metadata) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_existing_contracts_get_their_terms_as_first_amendment(
    backend: str, database_url_factory
) -> None:
    url = database_url_factory(backend)
    config = alembic_config(url)
    command.upgrade(config, "5b1e7c0d9a21")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO clients (id, name, country, created_at, updated_at)"
                " VALUES ('cli_1', 'A', 'FR', :now, :now)"
            ),
            {"now": datetime(2026, 1, 1, tzinfo=UTC)},
        )
        connection.execute(
            text(
                "INSERT INTO contracts (id, client_id, reference, currency, timezone, starts_on,"
                " commitment_deadline_days, trigger_ratio, floor_ratio, upper_tolerance,"
                " evaluation, vat_rate, holiday_country, payment_terms_days, created_at,"
                " updated_at) VALUES ('ctr_1', 'cli_1', 'R', 'EUR', 'Europe/Paris', :starts,"
                " 20, '0.85', '0.95', '0.10', 'pooled', '0.2', 'FR', 45, :now, :now)"
            ),
            {"starts": date(2026, 3, 15), "now": datetime(2026, 1, 1, tzinfo=UTC)},
        )
    command.upgrade(config, "head")
    with engine.connect() as connection:
        [row] = connection.execute(
            text(
                "SELECT contract_id, effective_from, trigger_ratio, floor_ratio, evaluation,"
                " commitment_deadline_days, payment_terms_days FROM contract_amendments"
            )
        ).all()
    engine.dispose()
    contract_id, effective_from, trigger, floor, evaluation, deadline, payment = row
    assert (contract_id, str(effective_from), evaluation, deadline, payment) == (
        "ctr_1",
        "2026-03-01",
        "pooled",
        20,
        45,
    )
    assert (Decimal(str(trigger)), Decimal(str(floor))) == (Decimal("0.85"), Decimal("0.95"))


@pytest.mark.parametrize("backend", BACKENDS)
def test_forecast_samples_become_float64_bytes_and_back(backend: str, database_url_factory) -> None:
    url = database_url_factory(backend)
    config = alembic_config(url)
    command.upgrade(config, "3b8e5f2a9d41")
    engine = create_engine(url)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    totals = [[1000.5, 998.1, 1003.7], [2000.0, 0.1, 1e-7]]
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO clients (id, name, country, created_at, updated_at)"
                " VALUES ('cli_1', 'A', 'FR', :now, :now)"
            ),
            {"now": now},
        )
        connection.execute(
            text(
                "INSERT INTO contracts (id, client_id, reference, currency, timezone, starts_on,"
                " commitment_deadline_days, trigger_ratio, floor_ratio, upper_tolerance,"
                " evaluation, vat_rate, holiday_country, payment_terms_days, created_at,"
                " updated_at) VALUES ('ctr_1', 'cli_1', 'R', 'EUR', 'Europe/Paris', :day,"
                " 20, '0.85', '0.95', '0.10', 'pooled', '0.2', 'FR', 45, :now, :now)"
            ),
            {"day": date(2026, 1, 1), "now": now},
        )
        connection.execute(
            text(
                "INSERT INTO activities (id, contract_id, name, channel, interval_minutes,"
                " billing_unit, volume_basis, created_at, updated_at) VALUES ('act_1', 'ctr_1',"
                " 'voice', 'voice', 30, 'contact', 'offered', :now, :now)"
            ),
            {"now": now},
        )
        for run_id, samples in (("fct_1", json.dumps(totals)), ("fct_2", "null"), ("fct_3", None)):
            connection.execute(
                text(
                    'INSERT INTO forecast_runs (id, activity_id, granularity, start, "end",'
                    " method_requested, method, levels, backtest, samples, created_at) VALUES"
                    " (:id, 'act_1', 'month', :day, :day, 'auto', 'ets', '[80]', '[]',"
                    " :samples, :now)"
                ),
                {"id": run_id, "day": date(2026, 1, 1), "samples": samples, "now": now},
            )
    command.upgrade(config, "head")
    with engine.connect() as connection:
        stored: dict[str, Any] = {
            run_id: value
            for run_id, value in connection.execute(text("SELECT id, samples FROM forecast_runs"))
        }
    assert stored["fct_2"] is None and stored["fct_3"] is None
    assert decode(bytes(stored["fct_1"])).tolist() == totals
    command.downgrade(config, "3b8e5f2a9d41")
    with engine.connect() as connection:
        back: dict[str, Any] = {
            run_id: value
            for run_id, value in connection.execute(
                text("SELECT id, samples FROM forecast_runs WHERE samples IS NOT NULL")
            )
        }
    engine.dispose()
    assert {run_id: _json(value) for run_id, value in back.items()} == {"fct_1": totals}


def _json(value: Any) -> Any:
    """A JSON column as the driver gives it: text on SQLite, decoded on PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value
