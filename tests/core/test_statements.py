"""`Prebuilt` statements run on the driver's cursor and read exactly what SQLAlchemy's own
execution reads, on both databases: every column type the service stores (dates, instants,
exact decimals, JSON, NULLs, aggregates), the parameters bound by their types (an instant, a
list of ids); and where a statement must be seen or completed, SQLAlchemy runs it."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import bindparam, event, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.contracts.tables import Activity, ActivityPrice, Contract
from app.core.repository import one_of_parameter
from app.core.statements import Prebuilt
from app.core.tables import AuditEntry

from factories import make_activity, make_client, make_contract

JOINED = Prebuilt(
    select(
        Contract.id,
        Contract.starts_on,
        Contract.ends_on,
        Contract.created_at,
        Activity.reference_aht_seconds,
        Activity.interval_minutes,
        ActivityPrice.unit_price,
        ActivityPrice.effective_from,
    )
    .join(Activity, Activity.contract_id == Contract.id)
    .outerjoin(ActivityPrice, ActivityPrice.activity_id == Activity.id)
    .where(one_of_parameter(Contract.id, "ids"), Contract.created_at >= bindparam("since"))
    .order_by(Activity.name)
)
AUDIT = Prebuilt(
    select(AuditEntry.entity_id, AuditEntry.changes, AuditEntry.at)
    .where(AuditEntry.entity_id == bindparam("entity"))
    .order_by(AuditEntry.action)
)
TOTALS = Prebuilt(
    select(Activity.contract_id, func.count(), func.sum(Activity.interval_minutes))
    .where(one_of_parameter(Activity.contract_id, "ids"))
    .group_by(Activity.contract_id)
)


def _by_sqlalchemy(db: Session, prebuilt: Prebuilt[Any], parameters: dict[str, Any]) -> list[Any]:
    return [tuple(row) for row in db.connection().execute(prebuilt.statement, parameters)]


@pytest.fixture
def portfolio(db: Session) -> list[str]:
    client = make_client(db)
    first = make_contract(db, client, ends_on=date(2027, 12, 31), reference="A")
    second = make_contract(db, client, reference="B")
    make_activity(db, first, name="a voix", reference_aht_seconds=Decimal("312.250"))
    make_activity(db, first, name="b mail", price=None, interval_minutes=60)
    make_activity(db, second, name="c chat", price=Decimal("0.000001"))
    db.add(AuditEntry(role="admin", action="x", entity_type="t", entity_id=first.id, changes={}))
    db.add(
        AuditEntry(
            role="admin",
            action="y",
            entity_type="t",
            entity_id=first.id,
            changes={"from": "Révision", "n": [1, 2.5, None], "ok": True},
        )
    )
    db.flush()
    return [first.id, second.id]


def test_the_driver_reads_what_sqlalchemy_reads(db: Session, portfolio: list[str]) -> None:
    cases: list[tuple[Any, dict[str, Any]]] = [
        (JOINED, {"ids": portfolio, "since": datetime(2000, 1, 1, tzinfo=UTC)}),
        (JOINED, {"ids": portfolio[1:], "since": datetime(2000, 1, 1, tzinfo=UTC)}),
        (JOINED, {"ids": portfolio, "since": datetime(2999, 1, 1, tzinfo=UTC)}),
        (AUDIT, {"entity": portfolio[0]}),
        (TOTALS, {"ids": portfolio}),
    ]
    for prebuilt, parameters in cases:
        fast = list(prebuilt.rows(db.connection(), parameters))
        assert fast == _by_sqlalchemy(db, prebuilt, parameters)
        assert all(type(row) is tuple for row in fast)  # the driver's rows, not SQLAlchemy's
    rows = JOINED.rows(db.connection(), cases[0][1])
    assert [JOINED.named(row)["unit_price"] for row in rows] == [
        Decimal("1.20"),
        None,
        Decimal("0.000001"),
    ]
    assert isinstance(rows[0][3], datetime) and rows[0][3].tzinfo is not None
    assert rows[0][1:3] == (date(2025, 1, 1), date(2027, 12, 31))
    assert rows[0][4] == Decimal("312.250")
    changes = [row[1] for row in AUDIT.rows(db.connection(), {"entity": portfolio[0]})]
    assert changes == [{}, {"from": "Révision", "n": [1, 2.5, None], "ok": True}]


def test_a_watched_connection_sees_every_statement(db: Session, portfolio: list[str]) -> None:
    """Who listens to the cursor events (the tests that count queries) sees the statement."""
    engine = db.get_bind()
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        rows = TOTALS.rows(db.connection(), {"ids": portfolio})
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(seen) == 1 and "GROUP BY" in seen[0]
    assert sorted((contract, count) for contract, count, _ in rows) == sorted(
        [(portfolio[0], 2), (portfolio[1], 1)]
    )


def test_a_statement_completed_at_execution_is_left_to_sqlalchemy(
    db: Session, portfolio: list[str]
) -> None:
    expanding = Prebuilt(
        select(Contract.id).where(Contract.id.in_(bindparam("ids", expanding=True)))
    )
    assert sorted(row[0] for row in expanding.rows(db.connection(), {"ids": portfolio})) == sorted(
        portfolio
    )


def test_a_driver_error_is_sqlalchemys(db: Session) -> None:
    """Raised as SQLAlchemy's own class (a lost database is an `OperationalError`, which the
    service answers with a 503), with the statement that failed."""
    missing = Prebuilt(select(Contract.id).where(Contract.id == bindparam("id")))
    connection = db.connection()
    with db.begin_nested():
        connection.exec_driver_sql("ALTER TABLE contracts RENAME TO contracts_gone")
        with pytest.raises(DBAPIError) as raised:
            missing.rows(connection, {"id": "ctr_x"})
        assert "contracts" in str(raised.value.statement)
        db.rollback()
