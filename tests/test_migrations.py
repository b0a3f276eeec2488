"""The Alembic migrations are the only way the schema changes, and they match the ORM."""

from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, inspect

from app.core.migrations import alembic_config, upgrade_to_head
from app.tables import metadata

from backends import BACKENDS


def _differences(url: str, target: MetaData) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
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
