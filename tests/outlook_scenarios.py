"""A stable synthetic activity whose true level is known, shared by the comparison and
overview tests: one noon interval a day, Poisson(1 000) contacts."""

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from fastapi.testclient import TestClient

from app.core.periods import Period
from app.core.queue import LocalQueue

PARIS = ZoneInfo("Europe/Paris")
DAILY = 1_000
TODAY = date.today()
THIS_MONTH = Period(TODAY.year, TODAY.month)
LONG_AGO = (datetime.now(UTC) - timedelta(days=90)).isoformat()
"""A receipt time before every deadline of the months the tests commit to."""


def stable_history(days: int, seed: int = 11, handled_share: float = 1.0) -> bytes:
    """One noon interval a day, every day, Poisson(1 000) contacts: a flat, stable activity
    (of which `handled_share` are handled)."""
    rng = np.random.default_rng(seed)
    first = TODAY - timedelta(days=days)
    starts = [
        datetime(d.year, d.month, d.day, 12, tzinfo=PARIS).astimezone(UTC)
        for d in (first + timedelta(days=i) for i in range(days))
    ]
    offered = rng.poisson(DAILY, days)
    handled = rng.binomial(offered, handled_share)
    frame = pd.DataFrame(
        {"interval_start": starts, "offered": offered, "handled": handled, "aht_seconds": 300}
    )
    return frame.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S+00:00").encode()


def days(period: Period) -> int:
    return (period.next().first_day - period.first_day).days


def commit(client, headers, activity_id, lines: dict[Period, int], received_at: str):
    response = client.post(
        f"/v1/activities/{activity_id}/commitments",
        json={
            "received_at": received_at,
            "lines": [{"period": str(p), "volume": v} for p, v in lines.items()],
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text


def read_once_forecast(client: TestClient, tasks: LocalQueue, url: str, **kwargs: Any) -> Any:
    """A comparison or scorecard read once the forecasts it lacked are stored: the first read
    fits nothing, queues them and says `pending`; once the queue has run them, the same read
    shows them."""
    first = client.get(url, **kwargs)
    assert first.status_code == 200, first.text
    assert first.json()["forecast_status"] == "pending"
    tasks.drain()
    second = client.get(url, **kwargs)
    assert second.status_code == 200, second.text
    assert second.json()["forecast_status"] == "stored"
    return second
