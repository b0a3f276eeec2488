"""schedule runs: the occurrences the embedded runner claimed

Revision ID: 3b8e5f2a9d41
Revises: 7c4e1b9d2f60
Create Date: 2026-12-02 03:30:00

On SQLite the server runs the schedules itself (`app.core.scheduler`); one row per schedule
holds the latest occurrence claimed, so that servers sharing a database run it once and a
server started again knows what it missed. The table exists on PostgreSQL too (one schema for
both), where procrastinate keeps its own record and the table stays empty.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3b8e5f2a9d41"
down_revision: str | None = "7c4e1b9d2f60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "schedule_runs",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_schedule_runs")),
    )


def downgrade() -> None:
    op.drop_table("schedule_runs")
