"""task queue (procrastinate on PostgreSQL), forecast job activities, stored invoice runs

Revision ID: 7c4e1b9d2f60
Revises: 2f6a9e1d7c35
Create Date: 2026-12-01 23:50:00

procrastinate (pinned to 3.10.x in pyproject.toml) keeps its jobs, workers and events in tables
of its own, created here from the schema the installed release ships, so that `plancher db
upgrade` is the one set-up step. Moving to another procrastinate minor release takes a migration
that applies its `sql/migrations` files. SQLite has no task queue (the server runs tasks itself).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c4e1b9d2f60"
down_revision: str | None = "2f6a9e1d7c35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DROP_PROCRASTINATE = """
DO $$
DECLARE item record;
BEGIN
    FOR item IN SELECT tablename FROM pg_tables
                 WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate%'
    LOOP
        EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', item.tablename);
    END LOOP;
    FOR item IN SELECT p.oid::regprocedure AS signature
                  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                 WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate%'
    LOOP
        EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', item.signature);
    END LOOP;
    FOR item IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                 WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate%'
                   AND t.typtype IN ('e', 'c')
    LOOP
        EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', item.typname);
    END LOOP;
END
$$;
"""


def _driver_execute(sql: str) -> None:
    """Run SQL as is (no bind-parameter parsing) in the migration's transaction."""
    op.get_bind().connection.driver_connection.execute(sql)  # type: ignore[union-attr]


def upgrade() -> None:
    op.add_column("forecast_jobs", sa.Column("activity_ids", sa.JSON(), nullable=True))
    op.create_table(
        "invoice_runs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("contracts", sa.Integer(), nullable=False),
        sa.Column("batches", sa.Integer(), nullable=False),
        sa.Column("batches_done", sa.JSON(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("existing", sa.Integer(), nullable=False),
        sa.Column("no_shortfall", sa.Integer(), nullable=False),
        sa.Column("invoice_ids", sa.JSON(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("created_by_key_id", sa.String(length=40), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_runs")),
    )
    op.create_index(op.f("ix_invoice_runs_period"), "invoice_runs", ["period"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        from procrastinate.schema import SchemaManager

        _driver_execute(SchemaManager.get_schema())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _driver_execute(_DROP_PROCRASTINATE)
    op.drop_index(op.f("ix_invoice_runs_period"), table_name="invoice_runs")
    op.drop_table("invoice_runs")
    with op.batch_alter_table("forecast_jobs") as batch:
        batch.drop_column("activity_ids")
