"""What a read request gets by id: a detached snapshot of the row, not an object of the ORM's
unit of work.

`Session.get` cost about 100 us a call on SQLite (building the statement and its cache key,
the ORM's execution and loading, the identity map), for one indexed row the driver reads in a
few: a contract read made two such calls, a shortfall or a comparison three. A request that
only reads changes nothing, so it needs none of what a session tracks: the route class marks
its session (`mark_read_only`), and `Repository.get` then reads the row with a `Prebuilt`
select of the model's columns and makes the object from it detached, as an object read
before its session closed: every column loaded, nothing tracked. About 28 us. A select of a
few objects built once (`PrebuiltObjects`: a contract's amendments) is read the same way.

What a snapshot is not: a change made to it is never saved (a read request makes none), and
a relationship not loaded raises (as `lazy="raise"` does in the session) rather than loads.
A model with a column loaded on demand (deferred) keeps the ORM's `get`.
"""

from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, bindparam, inspect, select
from sqlalchemy.orm import Mapper, Session, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_dict

from app.core.orm import Base
from app.core.statements import Prebuilt

ModelT = TypeVar("ModelT", bound=Base)

_READ_ONLY = "plancher_read_only"


def mark_read_only(session: Session) -> None:
    """The session serves a request that only reads: its gets by id are snapshots."""
    session.info[_READ_ONLY] = True


def read_only(session: Session) -> bool:
    return bool(session.info.get(_READ_ONLY))


class Snapshots(Generic[ModelT]):
    """The rows of one model as detached objects: by primary key, or those of a select."""

    def __init__(self, mapper: Mapper[ModelT]) -> None:
        [key] = mapper.primary_key
        attributes = list(mapper.column_attrs)
        self.keys = [attribute.key for attribute in attributes]
        self.columns = [attribute.columns[0].label(attribute.key) for attribute in attributes]
        self.by_id: Prebuilt[Any] = Prebuilt(select(*self.columns).where(key == bindparam("id")))
        self._manager = mapper.class_manager

    def get(self, session: Session, object_id: str) -> ModelT | None:
        rows = self.by_id.rows(session.connection(), {"id": object_id})
        return self.made(rows[0]) if rows else None

    def made(self, row: Sequence[Any]) -> ModelT:
        """The detached object of a row of `columns`."""
        snapshot: ModelT = self._manager.new_instance()
        instance_dict(snapshot).update(zip(self.keys, row, strict=True))
        make_transient_to_detached(snapshot)  # its key from its id, every column as loaded
        return snapshot

    def of(self, statement: Select[ModelT]) -> Select[Any]:
        """The columns of `statement`'s objects, with its criteria and its order."""
        return statement.with_only_columns(*self.columns)


_BY_MODEL: dict[type[Base], Snapshots[Any] | None] = {}


def snapshots_of(model: type[ModelT]) -> Snapshots[ModelT] | None:
    """The model's `Snapshots`, or None for a model they do not suit (a composite key, a
    column loaded on demand, a column that is an expression)."""
    if model not in _BY_MODEL:
        mapper: Mapper[ModelT] = inspect(model)
        plain = len(mapper.primary_key) == 1 and all(
            not attribute.deferred and len(attribute.columns) == 1
            for attribute in mapper.column_attrs
        )
        _BY_MODEL[model] = Snapshots(mapper) if plain else None
    snapshots: Snapshots[ModelT] | None = _BY_MODEL[model]
    return snapshots


def _model_of(statement: Select[ModelT]) -> type[ModelT]:
    model: type[ModelT] = statement.column_descriptions[0]["entity"]
    return model


class PrebuiltObjects(Generic[ModelT]):
    """A select of a few of one model's objects built once (as a `Prebuilt`, with its values
    as named parameters): in a read request, its rows as snapshots read on the driver's
    cursor; elsewhere, the session's objects. Its select carries no loader options (they
    would apply only to the session's objects): the snapshots' relationships are left
    unloaded, for the caller to set.

    For a few rows (a contract's amendments) the ORM's execution is most of the cost, and
    this saves it. For many it is not: a page of 50 invoices was read no faster as snapshots
    (the conversions of their JSON, decimal and instant columns, which both pay, are most
    of it, and the ORM's loading is compiled), so pages stay with the ORM."""

    def __init__(self, statement: Select[ModelT]) -> None:
        self.statement = statement
        snapshots = snapshots_of(_model_of(statement))
        self._as_snapshots = (
            None if snapshots is None else (snapshots, Prebuilt(snapshots.of(statement)))
        )

    def all(self, session: Session, parameters: Mapping[str, Any]) -> Sequence[ModelT]:
        if self._as_snapshots is None or not read_only(session):
            return session.scalars(self.statement, parameters).all()
        snapshots, columns = self._as_snapshots
        return [snapshots.made(row) for row in columns.rows(session.connection(), parameters)]
