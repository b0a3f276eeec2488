"""A read request gets its objects by id as detached snapshots (issue 17): every column as the
ORM loads it, nothing tracked by the session; a write request still gets the session's own
objects, which it changes."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from conftest import SavepointDatabase
from fastapi.testclient import TestClient
from sqlalchemy import String, bindparam, inspect, select
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, deferred, mapped_column

from app.contracts.repository import ActivityRepository, ClientRepository, ContractRepository
from app.contracts.tables import ActivityPrice, Client, ContractAmendment
from app.core.auth import AdminKey, ReaderKey, Role
from app.core.db import SessionDep
from app.core.domain_router import DomainRouter
from app.core.repository import Repository
from app.core.settings import Settings
from app.core.snapshots import PrebuiltObjects, mark_read_only, snapshots_of
from app.main import create_app

from factories import bearer, make_activity, make_client, make_contract


def _columns(obj: Any) -> dict[str, Any]:
    return {
        attribute.key: getattr(obj, attribute.key) for attribute in inspect(obj).mapper.column_attrs
    }


@pytest.fixture
def reading(database: SavepointDatabase) -> Session:
    session = database.session(write=False)
    mark_read_only(session)
    return session


def test_a_snapshot_reads_every_column_as_the_orm_does(db: Session, reading: Session) -> None:
    client = make_client(db)
    contract = make_contract(db, client)
    activity = make_activity(db, contract, reference_aht_seconds=None)
    repositories: list[tuple[Repository[Any], Any]] = [
        (ClientRepository(reading), client),
        (ContractRepository(reading), contract),
        (ActivityRepository(reading), activity),
    ]
    for repository, stored in repositories:
        db.expire(stored)  # read back from the database, as the ORM does
        snapshot = repository.get(stored.id)
        assert snapshot is not None and snapshot is not stored
        assert type(snapshot) is type(stored)
        assert _columns(snapshot) == _columns(stored)
        assert inspect(snapshot).detached
    assert len(reading.identity_map) == 0  # nothing tracked
    assert ContractRepository(reading).get("ctr_unknown") is None


def test_a_relationship_a_snapshot_did_not_load_raises(db: Session, reading: Session) -> None:
    activity = make_activity(db, make_contract(db, make_client(db)))
    snapshot = ActivityRepository(reading).get(activity.id)
    assert snapshot is not None
    with pytest.raises(InvalidRequestError):
        _ = snapshot.prices


AMENDMENTS = PrebuiltObjects(
    select(ContractAmendment)
    .where(ContractAmendment.contract_id == bindparam("contract_id"))
    .order_by(ContractAmendment.effective_from)
)


def _amendment(contract_id: str, effective_from: date, floor_ratio: str) -> ContractAmendment:
    return ContractAmendment(
        contract_id=contract_id,
        effective_from=effective_from,
        trigger_ratio=Decimal("0.9"),
        floor_ratio=Decimal(floor_ratio),
        upper_tolerance=Decimal("0.1"),
        evaluation="per_activity",
        vat_rate=Decimal("0.2"),
        commitment_deadline_days=30,
        payment_terms_days=30,
        backdated=True,
    )


def test_a_select_built_once_reads_snapshots_in_a_read_request(
    db: Session, reading: Session
) -> None:
    contract = make_contract(db, make_client(db))
    db.add_all(
        [
            _amendment(contract.id, date(2026, 3, 1), "0.8"),
            _amendment(contract.id, date(2025, 1, 1), "0.9"),
        ]
    )
    db.flush()
    parameters = {"contract_id": contract.id}
    stored = AMENDMENTS.all(db, parameters)
    assert [one.floor_ratio for one in stored] == [Decimal("0.9"), Decimal("0.8")]
    assert not inspect(stored[0]).detached
    snapshots = AMENDMENTS.all(reading, parameters)
    assert [_columns(one) for one in snapshots] == [_columns(one) for one in stored]
    assert all(inspect(one).detached for one in snapshots)


def test_an_activity_with_its_prices_is_read_as_snapshots(db: Session, reading: Session) -> None:
    activity = make_activity(db, make_contract(db, make_client(db)))
    db.add(
        ActivityPrice(
            activity_id=activity.id, effective_from=date(2024, 1, 1), unit_price=Decimal("9")
        )
    )
    db.flush()
    stored = ActivityRepository(db).get_with_prices(activity.id)
    snapshot = ActivityRepository(reading).get_with_prices(activity.id)
    assert stored is not None and snapshot is not None and inspect(snapshot).detached
    assert [_columns(price) for price in snapshot.prices] == [
        _columns(price) for price in stored.prices
    ]
    assert [price.unit_price for price in snapshot.prices] == [Decimal("9"), Decimal("1.20")]
    assert ActivityRepository(reading).get_with_prices("act_unknown") is None


def test_the_activities_of_contracts_are_read_as_snapshots(db: Session, reading: Session) -> None:
    first, second = (make_contract(db, make_client(db)) for _ in range(2))
    for contract, names in ((first, ["b", "a"]), (second, ["c"])):
        for name in names:
            make_activity(db, contract, name=name, price=None if name == "b" else Decimal("2"))
    ids = [first.id, second.id]
    stored = ActivityRepository(db).for_contracts(ids)
    snapshots = ActivityRepository(reading).for_contracts(ids)
    assert all(inspect(activity).detached for activity in snapshots)
    assert [_columns(one) for one in snapshots] == [_columns(one) for one in stored]
    assert [[p.unit_price for p in one.prices] for one in snapshots] == [
        [p.unit_price for p in one.prices] for one in stored
    ]
    assert sorted(len(one.prices) for one in snapshots) == [0, 1, 1]
    assert ActivityRepository(reading).for_contracts([]) == []


def test_a_session_not_marked_gets_the_orms_objects(db: Session) -> None:
    contract = make_contract(db, make_client(db))
    assert ContractRepository(db).get(contract.id) is contract


class _Other(DeclarativeBase):
    """A registry of the test's own, so that its model stays out of the service's metadata
    (and of the check that the migrations match it)."""


class _WithDeferred(_Other):
    __tablename__ = "with_deferred"
    id: Mapped[str] = mapped_column(String(10), primary_key=True)
    body: Mapped[str] = deferred(mapped_column(String(10)))


def test_a_model_with_a_column_loaded_on_demand_keeps_the_orms_get() -> None:
    assert snapshots_of(_WithDeferred) is None  # type: ignore[type-var]
    assert snapshots_of(Client) is not None


def test_a_get_reads_snapshots_and_a_write_the_sessions_objects(
    settings: Settings, database: SavepointDatabase, db: Session
) -> None:
    probe = DomainRouter(tags=["test"])

    def tracked(session: Session, contract_id: str) -> dict[str, bool]:
        contract = ContractRepository(session).get(contract_id)
        assert contract is not None
        return {"detached": inspect(contract).detached}

    @probe.get("/snapshot-probe/{contract_id}")
    def read_probe(contract_id: str, session: SessionDep, actor: ReaderKey) -> dict[str, bool]:
        return tracked(session, contract_id)

    @probe.post("/snapshot-probe/{contract_id}")
    def write_probe(contract_id: str, session: SessionDep, actor: AdminKey) -> dict[str, bool]:
        return tracked(session, contract_id)

    app = create_app(settings, database=database)
    app.include_router(probe)
    contract = make_contract(db, make_client(db))
    headers = bearer(db, Role.ADMIN)
    client = TestClient(app)
    path = f"/v1/snapshot-probe/{contract.id}"
    assert client.get(path, headers=headers).json() == {"detached": True}
    assert client.post(path, headers=headers).json() == {"detached": False}
