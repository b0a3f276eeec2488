"""The stable activity of the outlook tests."""

import io
from datetime import date
from decimal import Decimal

import pytest
from outlook_scenarios import stable_history
from sqlalchemy.orm import Session

from app.core.auth import SYSTEM
from app.volumes import service as volumes

from factories import make_activity, make_client, make_contract


@pytest.fixture
def stable(db: Session):
    customer = make_client(db)
    contract = make_contract(db, customer, starts_on=date(2020, 1, 1))
    activity = make_activity(db, contract, price=Decimal("1.20"), interval_minutes=60)
    volumes.ingest_csv(db, SYSTEM, activity.id, io.BytesIO(stable_history(240)))
    db.flush()
    return customer, activity
