"""Shared series for the model tests: small, deterministic, built once per session."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from models import ActivitySeries
from models.synthetic import DEMO_PROFILES, generate_intervals

VOICE = DEMO_PROFILES[0]  # Monday to Saturday (half day), closed on Sundays and holidays
PARIS = "Europe/Paris"


def business_days(n: int, start: str = "2024-01-01") -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq=pd.offsets.CustomBusinessDay(), name="day")


@pytest.fixture(scope="session")
def weekly_series() -> pd.Series:
    """Ten weeks of Monday-to-Friday counts: a weekly pattern plus Poisson noise."""
    rng = np.random.default_rng(3)
    pattern = np.tile([1.2, 1.05, 1.0, 0.95, 0.8], 10)
    return pd.Series(rng.poisson(500 * pattern).astype(float), index=business_days(50))


@pytest.fixture(scope="session")
def weekly_exog(weekly_series: pd.Series) -> pd.DataFrame:
    n = weekly_series.size
    return pd.DataFrame(
        {"school": (np.arange(n) // 5 % 4 == 0).astype(float), "rebound": np.eye(n)[7]},
        index=weekly_series.index,
    )


@pytest.fixture(scope="session")
def voice_year() -> pd.DataFrame:
    """A year and a quarter of the demo voice activity, 30-minute intervals."""
    return generate_intervals(VOICE, date(2024, 1, 1), date(2025, 3, 31), seed=5)


def activity(intervals: pd.DataFrame) -> ActivitySeries:
    return ActivitySeries(intervals, PARIS, VOICE.interval_minutes, "FR")
