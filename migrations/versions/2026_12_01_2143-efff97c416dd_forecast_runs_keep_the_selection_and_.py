"""forecast runs keep the selection and the calendar assumptions

Revision ID: efff97c416dd
Revises: 429c0792518b
Create Date: 2026-12-01 21:43:43.451316
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "efff97c416dd"
down_revision: str | None = "429c0792518b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("forecast_runs", sa.Column("selection", sa.JSON(), nullable=True))
    op.add_column("forecast_runs", sa.Column("assumptions", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("forecast_runs") as batch:  # SQLite rebuilds the table
        batch.drop_column("assumptions")
        batch.drop_column("selection")
