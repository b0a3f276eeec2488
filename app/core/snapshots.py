"""What a read request gets by id: a detached snapshot of the row, not an object of the ORM's
unit of work.

`Session.get` cost about 100 us a call on SQLite (building the statement and its cache key,
the ORM's execution and loading, the identity map), for one indexed row the driver reads in a
few: a contract read made two such calls, a shortfall or a comparison three. A request that
only reads changes nothing, so it needs none of what a session tracks: the route class marks
its session (`mark_read_only`), and `Repository.get` then reads the row with a `Prebuilt`
select of the model's columns and makes the object from it detached, as an object read
before its session closed: every column loaded, nothing tracked. About 28 us.

What a snapshot is not: a change made to it is never saved (a read request makes none), and
a relationship not loaded raises (as `lazy="raise"` does in the session) rather than loads.
A model with a column loaded on demand (deferred) keeps the ORM's `get`.
"""

from typing import Any, Generic, TypeVar

from sqlalchemy import bindparam, inspect, select
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
    """The rows of one model by primary key, as detached objects."""

    def __init__(self, model: type[ModelT], mapper: Mapper[ModelT]) -> None:
        [key] = mapper.primary_key
        attributes = list(mapper.column_attrs)
        self.keys = [attribute.key for attribute in attributes]
        self.statement: Prebuilt[Any] = Prebuilt(
            select(*(attribute.columns[0].label(attribute.key) for attribute in attributes)).where(
                key == bindparam("id")
            )
        )
        self._manager = mapper.class_manager
        self.model = model

    def get(self, session: Session, object_id: str) -> ModelT | None:
        rows = self.statement.rows(session.connection(), {"id": object_id})
        if not rows:
            return None
        snapshot: ModelT = self._manager.new_instance()
        instance_dict(snapshot).update(zip(self.keys, rows[0], strict=True))
        make_transient_to_detached(snapshot)  # its key from its id, every column as loaded
        return snapshot


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
        _BY_MODEL[model] = Snapshots(model, mapper) if plain else None
    snapshots: Snapshots[ModelT] | None = _BY_MODEL[model]
    return snapshots
