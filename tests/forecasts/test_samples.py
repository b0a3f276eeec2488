"""Simulated totals are stored as float64 bytes and read back as the very numbers written."""

from datetime import date

import numpy as np
import pytest
from sqlalchemy import select, text

from app.forecasts.repository import ForecastRepository
from app.forecasts.samples import decode, encode
from app.forecasts.tables import ForecastRun

from factories import make_activity, make_client, make_contract


def test_totals_round_trip_exactly() -> None:
    totals = [[0.1, 12345.6, 1e-300, 2.0**53 + 2], [7.5, -0.0, 3.3, 1e300]]
    matrix = decode(encode(totals))
    assert matrix.shape == (2, 4)
    assert matrix.tolist() == totals


def test_a_run_without_totals_per_point_keeps_its_rows() -> None:
    assert decode(encode([[], []])).shape == (2, 0)
    assert decode(encode([])).shape == (0, 0)


def test_totals_read_back_cannot_be_changed() -> None:
    with pytest.raises(ValueError):
        decode(encode([[1.0, 2.0]]))[0, 0] = 3.0


def test_ragged_totals_are_refused() -> None:
    with pytest.raises(ValueError):
        encode([1.0, 2.0])  # type: ignore[list-item]


def test_truncated_bytes_are_refused() -> None:
    with pytest.raises(ValueError, match="not 1x2"):
        decode(encode([[1.0, 2.0]])[:-1])


def _month_run(db, activity_id: str, end: date, samples: object) -> ForecastRun:
    """A stored month forecast run from January 2026 to `end` with these totals."""
    run = ForecastRun(
        activity_id=activity_id,
        granularity="month",
        start=date(2026, 1, 1),
        end=end,
        method_requested="auto",
        method="ets",
        levels=[80],
        volume="offered",
        backtest=[],
        samples=samples,
    )
    db.add(run)
    db.flush()
    return run


def test_a_stored_run_gives_back_its_totals(db) -> None:
    activity = make_activity(db, make_contract(db, make_client(db)))
    totals = np.random.default_rng(1).normal(1000, 50, (2, 1000)).round(1)
    run = _month_run(db, activity.id, date(2026, 2, 28), totals.tolist())
    db.expire_all()
    stored = db.scalar(select(ForecastRun.samples).where(ForecastRun.id == run.id))
    assert stored is not None and stored.dtype == np.float64
    assert np.array_equal(stored, totals)
    size = db.scalar(
        text("SELECT length(samples) FROM forecast_runs WHERE id = :id"), {"id": run.id}
    )
    assert size == 8 + 8 * totals.size


def test_the_batch_read_gives_back_the_totals_as_stored(db) -> None:
    """On PostgreSQL the batch read fetches the bytes in the binary protocol, past the ORM."""
    activity = make_activity(db, make_contract(db, make_client(db)))
    totals = np.random.default_rng(2).normal(500, 20, (1, 1000)).round(1)
    run = _month_run(db, activity.id, date(2026, 1, 31), totals)
    [(key, found)] = (
        ForecastRepository(db)
        .latest_month_runs([activity.id], date(2026, 1, 1), date(2026, 1, 31))
        .items()
    )
    assert key == (activity.id, "offered") and found.id == run.id
    assert found.samples is not None and np.array_equal(found.samples, totals)
