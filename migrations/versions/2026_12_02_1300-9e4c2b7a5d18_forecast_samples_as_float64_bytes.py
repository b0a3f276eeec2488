"""forecast samples as float64 bytes

Revision ID: 9e4c2b7a5d18
Revises: 3b8e5f2a9d41
Create Date: 2026-12-02 13:00:00

The simulated totals of a forecast run were JSON (a list of totals per point); the overview
reads a portfolio's in one request and spent most of its time parsing them. They become the
float64 matrix's bytes (`app.forecasts.samples`: two little-endian uint32 rows and columns,
then the values row by row), which hold the same numbers exactly. Existing runs are converted
both ways. The column ends up last in the table, where SQLite reads a run's other columns
without walking the totals' overflow pages.
"""

import struct
from collections.abc import Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa
from alembic import op

revision: str = "9e4c2b7a5d18"
down_revision: str | None = "3b8e5f2a9d41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SHAPE = struct.Struct("<II")
_BATCH = 200


def _to_bytes(totals: Any) -> bytes | None:
    if totals is None:
        return None
    matrix = np.asarray(totals, dtype="<f8")
    if matrix.size == 0:
        matrix = matrix.reshape(len(matrix), 0)
    return _SHAPE.pack(*matrix.shape) + np.ascontiguousarray(matrix).tobytes()


def _to_lists(stored: bytes | None) -> list[list[float]] | None:
    if stored is None:
        return None
    rows, columns = _SHAPE.unpack_from(stored)
    values = np.frombuffer(stored, dtype="<f8", count=rows * columns, offset=_SHAPE.size)
    matrix: list[list[float]] = values.reshape(rows, columns).tolist()
    return matrix


def _convert(old: sa.Column[Any], new: sa.Column[Any], change: Any) -> None:
    """Fill `new` from `old` for every run, a batch of runs at a time."""
    runs = sa.table("forecast_runs", sa.column("id", sa.String), old, new)
    connection = op.get_bind()
    ids = list(connection.scalars(sa.select(runs.c.id).where(runs.c[old.name].is_not(None))))
    for first in range(0, len(ids), _BATCH):
        rows = connection.execute(
            sa.select(runs.c.id, runs.c[old.name]).where(runs.c.id.in_(ids[first : first + _BATCH]))
        ).all()
        updates = [{"run_id": run_id, "value": change(value)} for run_id, value in rows]
        if updates:
            connection.execute(
                runs.update()
                .where(runs.c.id == sa.bindparam("run_id"))
                .values({new.name: sa.bindparam("value")}),
                updates,
            )


def upgrade() -> None:
    op.add_column("forecast_runs", sa.Column("sample_matrix", sa.LargeBinary(), nullable=True))
    _convert(
        sa.column("samples", sa.JSON(none_as_null=True)),
        sa.column("sample_matrix", sa.LargeBinary()),
        _to_bytes,
    )
    with op.batch_alter_table("forecast_runs") as batch:  # SQLite rebuilds the table
        batch.drop_column("samples")
        batch.alter_column("sample_matrix", new_column_name="samples")


def downgrade() -> None:
    op.add_column("forecast_runs", sa.Column("sample_lists", sa.JSON(), nullable=True))
    _convert(
        sa.column("samples", sa.LargeBinary()),
        sa.column("sample_lists", sa.JSON(none_as_null=True)),
        _to_lists,
    )
    with op.batch_alter_table("forecast_runs") as batch:
        batch.drop_column("samples")
        batch.alter_column("sample_lists", new_column_name="samples")
