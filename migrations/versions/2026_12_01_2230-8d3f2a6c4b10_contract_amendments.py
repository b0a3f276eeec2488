"""contract terms are dated amendments

Revision ID: 8d3f2a6c4b10
Revises: 5b1e7c0d9a21
Create Date: 2026-12-01 22:30:00

Every existing contract's current terms become its first amendment, effective from the first
day of the period of its `starts_on`: nothing it has billed is read differently.
"""

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "8d3f2a6c4b10"
down_revision: str | None = "5b1e7c0d9a21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TERMS = (
    "trigger_ratio",
    "floor_ratio",
    "upper_tolerance",
    "evaluation",
    "vat_rate",
    "commitment_deadline_days",
    "payment_terms_days",
)


_RATIO = sa.Numeric(6, 4).with_variant(sa.String(8), "sqlite")


def upgrade() -> None:
    op.create_table(
        "contract_amendments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("contract_id", sa.String(length=40), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("trigger_ratio", _RATIO, nullable=False),
        sa.Column("floor_ratio", _RATIO, nullable=False),
        sa.Column("upper_tolerance", _RATIO, nullable=False),
        sa.Column("evaluation", sa.String(length=16), nullable=False),
        sa.Column("vat_rate", _RATIO, nullable=False),
        sa.Column("commitment_deadline_days", sa.Integer(), nullable=False),
        sa.Column("payment_terms_days", sa.Integer(), nullable=False),
        sa.Column("backdated", sa.Boolean(), nullable=False),
        sa.Column("created_by_key_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_contract_amendments_contract_id_contracts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_amendments")),
    )
    op.create_index(
        "ix_contract_amendments_contract_effective",
        "contract_amendments",
        ["contract_id", "effective_from"],
        unique=False,
    )
    contracts = sa.table(
        "contracts", sa.column("id"), sa.column("starts_on", sa.Date()), *map(sa.column, TERMS)
    )
    # Terms copied as stored (text on SQLite, NUMERIC on PostgreSQL): untyped columns.
    target = sa.table(
        "contract_amendments",
        *map(sa.column, ("id", "contract_id", "backdated", "created_by_key_id", *TERMS)),
        sa.column("effective_from", sa.Date()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    connection = op.get_bind()
    for row in connection.execute(sa.select(contracts)).mappings().all():
        connection.execute(
            target.insert().values(
                id=f"amd_{secrets.token_hex(13).upper()}",
                contract_id=row["id"],
                effective_from=row["starts_on"].replace(day=1),
                backdated=False,
                created_by_key_id=None,
                created_at=now,
                **{name: row[name] for name in TERMS},
            )
        )


def downgrade() -> None:
    op.drop_index("ix_contract_amendments_contract_effective", table_name="contract_amendments")
    op.drop_table("contract_amendments")
