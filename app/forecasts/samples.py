"""Simulated totals as stored: one float64 matrix per run (a row of totals per point), as bytes.

The overview reads a portfolio's month forecasts in one request, 900 runs of 1,000 totals: kept
as JSON they were a million numbers to parse and box per request, the largest part of its
time. Kept as the matrix's own bytes they are read as they lie (`numpy.frombuffer`, no copy).
float64 holds the engine's totals exactly, so every figure read from them is unchanged.

Format: two little-endian uint32 (rows, columns), then rows x columns little-endian float64,
row by row. The migration that brought it (`2026_12_02_1300`) writes the same bytes.
"""

import struct
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Dialect, LargeBinary
from sqlalchemy.types import TypeDecorator

FloatArray = npt.NDArray[np.float64]

_SHAPE = struct.Struct("<II")
_FLOAT = np.dtype("<f8")


def encode(totals: Sequence[Sequence[float]] | FloatArray) -> bytes:
    """The stored bytes of a matrix of simulated totals (one row per point)."""
    matrix = np.asarray(totals, dtype=_FLOAT)
    if matrix.size == 0:
        matrix = matrix.reshape(len(matrix), 0)
    if matrix.ndim != 2:
        raise ValueError("simulated totals are a matrix: one row of totals per point")
    rows, columns = matrix.shape
    return _SHAPE.pack(rows, columns) + np.ascontiguousarray(matrix).tobytes()


def decode(stored: bytes | memoryview) -> FloatArray:
    """The matrix `encode` stored, read-only (it is the stored forecast)."""
    rows, columns = _SHAPE.unpack_from(stored)
    if len(stored) != _SHAPE.size + rows * columns * _FLOAT.itemsize:
        raise ValueError(f"stored simulated totals of {len(stored)} bytes are not {rows}x{columns}")
    matrix = np.frombuffer(stored, dtype=_FLOAT, count=rows * columns, offset=_SHAPE.size)
    return matrix.reshape(rows, columns).astype(np.float64, copy=False)


class SampleMatrix(TypeDecorator[FloatArray]):
    """A column of simulated totals (`encode`): takes a matrix or a list of lists, gives a
    read-only float64 matrix."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> bytes | None:
        return None if value is None else encode(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> FloatArray | None:
        return None if value is None else decode(value)

    def compare_values(self, x: Any, y: Any) -> bool:
        if x is None or y is None:
            return x is y
        return bool(np.array_equal(np.asarray(x, dtype=_FLOAT), np.asarray(y, dtype=_FLOAT)))
