"""invoices take partial payments

Revision ID: 2f6a9e1d7c35
Revises: 8d3f2a6c4b10
Create Date: 2026-12-01 22:40:00

Invoices already paid count their total as paid; the others have paid nothing yet.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2f6a9e1d7c35"
down_revision: str | None = "8d3f2a6c4b10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MONEY = sa.Numeric(18, 2).with_variant(sa.String(20), "sqlite")


def upgrade() -> None:
    op.add_column(
        "invoices", sa.Column("amount_paid", _MONEY, nullable=False, server_default="0.00")
    )
    invoices = sa.table(
        "invoices", sa.column("status"), sa.column("amount_paid"), sa.column("total_amount")
    )
    op.execute(
        invoices.update()
        .where(invoices.c.status == "paid")
        .values(amount_paid=invoices.c.total_amount)
    )
    op.create_table(
        "invoice_payments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("invoice_id", sa.String(length=40), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("amount", _MONEY, nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("created_by_key_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_invoice_payments_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_payments")),
    )
    op.create_index(
        op.f("ix_invoice_payments_invoice_id"), "invoice_payments", ["invoice_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_invoice_payments_invoice_id"), table_name="invoice_payments")
    op.drop_table("invoice_payments")
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("amount_paid")
