"""The activities of many contracts as plain rows (what the portfolio overview reads) carry
the same figures as the ORM activities, prices included, in the same order."""

from datetime import date
from decimal import Decimal
from typing import Any

from app.contracts import service as contracts
from app.contracts.tables import ActivityPrice

from factories import make_activity, make_client, make_contract


def test_rows_equal_the_orm_activities_and_their_prices(db) -> None:
    contract_ids = []
    for _ in range(2):
        contract = make_contract(db, make_client(db))
        contract_ids.append(contract.id)
        make_activity(db, contract, name="voix")
        hours = make_activity(
            db,
            contract,
            name="heures",
            billing_unit="hour",
            volume_basis="handled",
            reference_aht_seconds=Decimal("301.5"),
            price=Decimal("28.50"),
        )
        db.add(
            ActivityPrice(
                activity_id=hours.id, effective_from=date(2026, 1, 1), unit_price=Decimal("29.10")
            )
        )
        make_activity(db, contract, name="sans prix", price=None)
    db.flush()
    db.expire_all()
    rows = contracts.activity_rows(db, contract_ids)
    orm = contracts.activities_of(db, contract_ids)
    assert len(rows) == 6
    assert [_facts(row) for row in rows] == [_facts(activity) for activity in orm]
    assert sum(len(row.prices) for row in rows) == 6


def _facts(activity: Any) -> tuple[Any, ...]:
    """What a batch reader needs of an activity, from a plain row or an ORM activity alike."""
    return (
        activity.id,
        activity.contract_id,
        activity.name,
        activity.billing_unit,
        activity.volume_basis,
        activity.reference_aht_seconds,
        [(price.effective_from, price.unit_price) for price in activity.prices],
    )
