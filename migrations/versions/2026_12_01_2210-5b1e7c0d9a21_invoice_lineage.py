"""invoices know what credited and what replaced them

Revision ID: 5b1e7c0d9a21
Revises: efff97c416dd
Create Date: 2026-12-01 22:10:00

Existing corrections are linked from the credit notes and replacements that refer to the
original (`corrects_id`), and the period's generation key moves to the replacement, so that
generating the period again returns the invoice that stands for it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b1e7c0d9a21"
down_revision: str | None = "efff97c416dd"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LINKS = {"credited_by_id": "credit_note", "replaced_by_id": "invoice"}


def upgrade() -> None:
    with op.batch_alter_table("invoices") as batch:  # SQLite rebuilds the table
        for column in _LINKS:
            batch.add_column(sa.Column(column, sa.String(length=40), nullable=True))
            batch.create_foreign_key(
                op.f(f"fk_invoices_{column}_invoices"), "invoices", [column], ["id"]
            )
    invoices = sa.table(
        "invoices",
        sa.column("id"),
        sa.column("kind"),
        sa.column("corrects_id"),
        sa.column("generation_key"),
        *(sa.column(column) for column in _LINKS),
    )
    corrector = invoices.alias("corrector")
    for column, kind in _LINKS.items():
        op.execute(
            invoices.update().values(
                {
                    column: sa.select(corrector.c.id)
                    .where(corrector.c.corrects_id == invoices.c.id, corrector.c.kind == kind)
                    .scalar_subquery()
                }
            )
        )
    connection = op.get_bind()
    handovers = connection.execute(
        sa.select(invoices.c.id, invoices.c.replaced_by_id, invoices.c.generation_key).where(
            invoices.c.replaced_by_id.is_not(None)
        )
    ).all()
    for original_id, replacement_id, key in handovers:  # release first: the key is unique
        connection.execute(
            invoices.update().where(invoices.c.id == original_id).values(generation_key=None)
        )
        connection.execute(
            invoices.update().where(invoices.c.id == replacement_id).values(generation_key=key)
        )


def downgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        for column in _LINKS:
            batch.drop_constraint(op.f(f"fk_invoices_{column}_invoices"), type_="foreignkey")
            batch.drop_column(column)
