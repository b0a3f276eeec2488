"""Alembic, driven from code: `plancher db upgrade`, `plancher serve` and `/readyz` use it."""

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

PROJECT_ROOT = Path(os.environ.get("PLANCHER_PROJECT_ROOT") or Path(__file__).resolve().parents[2])
"""Where `alembic.ini` and `migrations/` live: the checkout, or the image's working directory
when the package is installed as a wheel (the Dockerfile sets PLANCHER_PROJECT_ROOT)."""


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")


def head_revision() -> str | None:
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def ours(name: str | None, type_: str, _parent_names: object = None) -> bool:
    """Alembic's `include_name`: the schema compared with the ORM leaves out procrastinate's
    tables, which its own schema (applied by our migration) owns."""
    return not (type_ == "table" and name is not None and name.startswith("procrastinate_"))
