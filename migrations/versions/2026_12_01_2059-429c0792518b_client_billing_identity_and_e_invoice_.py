"""client billing identity and e-invoice documents

Revision ID: 429c0792518b
Revises: c1dfc123f78f
Create Date: 2026-12-01 20:59:43.573228
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "429c0792518b"
down_revision: str | None = "c1dfc123f78f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invoice_documents",
        sa.Column("invoice_id", sa.String(length=40), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_invoice_documents_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("invoice_id", "format", name=op.f("pk_invoice_documents")),
    )
    op.add_column("clients", sa.Column("vat_number", sa.String(length=20), nullable=True))
    op.add_column("clients", sa.Column("electronic_address", sa.String(length=100), nullable=True))
    op.add_column("clients", sa.Column("address_line1", sa.String(length=200), nullable=True))
    op.add_column("clients", sa.Column("address_line2", sa.String(length=200), nullable=True))
    op.add_column("clients", sa.Column("address_postcode", sa.String(length=16), nullable=True))
    op.add_column("clients", sa.Column("address_city", sa.String(length=100), nullable=True))
    op.add_column("clients", sa.Column("address_country", sa.String(length=2), nullable=True))


def downgrade() -> None:
    # Batch mode: SQLite drops columns by rebuilding the table.
    with op.batch_alter_table("clients") as batch:
        for column in (
            "address_country",
            "address_city",
            "address_postcode",
            "address_line2",
            "address_line1",
            "electronic_address",
            "vat_number",
        ):
            batch.drop_column(column)
    op.drop_table("invoice_documents")
