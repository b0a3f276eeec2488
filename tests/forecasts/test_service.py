"""The forecast use case: read, fit with no transaction open, write (one for every caller)."""

import asyncio
import io
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from app.core.auth import SYSTEM
from app.core.transactions import DatabaseTransactions, RequestTransactions, Transactions
from app.forecasts import schemas, service
from app.volumes import service as volumes
from models.synthetic import DEMO_PROFILES, generate_intervals

from factories import make_activity, make_client, make_contract

TODAY = date.today()


class WatchingPool:
    """Runs the task inline, noting whether a transaction was open on the connection then."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.open_during_fit: list[bool] = []

    async def run(self, task: Any, payload: Any) -> Any:
        # The test's outer transaction is always open; a use case's transaction is a savepoint.
        self.open_during_fit.append(self.connection.in_nested_transaction())
        return task(payload)


@pytest.fixture
def activity_id(db: Session) -> str:
    activity = make_activity(db, make_contract(db, make_client(db)))
    history = generate_intervals(
        DEMO_PROFILES[0], TODAY - timedelta(weeks=10), TODAY - timedelta(days=1), seed=3
    )
    body = history.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S+00:00").encode()
    volumes.ingest_csv(db, SYSTEM, activity.id, io.BytesIO(body))
    db.commit()  # ends the arranging savepoint: only the use case's own transactions remain
    return activity.id


def _request() -> schemas.ForecastCreate:
    return schemas.ForecastCreate(
        start=TODAY + timedelta(days=1), end=TODAY + timedelta(days=7), method="snaive"
    )


@pytest.mark.parametrize("kind", ["request", "database"])
def test_the_fit_runs_with_no_transaction_open_and_the_run_is_stored(
    database: Any, db: Session, activity_id: str, kind: str
) -> None:
    session = database.session(write=True)
    transactions: Transactions = (
        RequestTransactions(session) if kind == "request" else DatabaseTransactions(database)
    )
    pool = WatchingPool(database.connection)
    forecast = service.create_forecast(
        transactions,
        pool,  # type: ignore[arg-type]
        SYSTEM,
        activity_id,
        _request(),
    )
    stored = asyncio.run(forecast)
    session.commit()
    assert pool.open_during_fit == [False]
    assert len(service.get_forecast(db, SYSTEM, stored.run.id).points) == 7
