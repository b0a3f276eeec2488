"""The small generic base every domain repository builds on."""

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar, TypeVarTuple

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Dialect,
    Select,
    String,
    and_,
    bindparam,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator, TypeEngine

from app.core.orm import Base
from app.core.pagination import (
    PageParams,
    encode_cursor,
    encode_instant_cursor,
    split_instant_cursor,
)
from app.core.snapshots import read_only, snapshots_of
from app.core.statements import Prebuilt

ModelT = TypeVar("ModelT", bound=Base)
_Columns = TypeVarTuple("_Columns")


class _IdList(TypeDecorator[Sequence[str]]):
    """A list of ids bound as one parameter: an array on PostgreSQL, a JSON array (text) on
    SQLite, which reads it with `json_each`."""

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(String))
        return dialect.type_descriptor(String())

    def process_bind_param(self, value: Sequence[str] | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return list(value) if dialect.name == "postgresql" else json.dumps(list(value))


class _OneOf(ColumnElement[bool]):
    """`column` among the ids of one `_IdList` parameter, rendered per dialect when the
    statement is compiled (`_one_of_on_postgresql`, `_one_of_elsewhere`). Being one element
    with its own cache key, it costs a statement nothing to build, and a statement built once
    with it stays valid on both databases."""

    __visit_name__ = "plancher_one_of"
    inherit_cache = True
    _traverse_internals = [  # noqa: RUF012  (SQLAlchemy's own attribute: a list)
        ("column", InternalTraversal.dp_clauseelement),
        ("values", InternalTraversal.dp_clauseelement),
    ]
    _is_implicitly_boolean = True  # no `= 1` after it in a WHERE on SQLite
    type = Boolean()

    def __init__(self, column: ColumnElement[Any], values: BindParameter[Sequence[str]]) -> None:
        self.column = column
        self.values = values


@compiles(_OneOf, "postgresql")
def _one_of_on_postgresql(element: _OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    column, values = compiler.process(element.column, **kw), compiler.process(element.values, **kw)
    return f"{column} = ANY ({values})"


@compiles(_OneOf)
def _one_of_elsewhere(element: _OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    column, values = compiler.process(element.column, **kw), compiler.process(element.values, **kw)
    return f"{column} IN (SELECT value FROM json_each({values}))"


_ID_LIST = _IdList()

IdColumn = InstrumentedAttribute[str] | InstrumentedAttribute[str | None]


def one_of(column: IdColumn, values: Sequence[str]) -> ColumnElement[bool]:
    """`column IN values` with the values as one parameter, however many: an array on
    PostgreSQL (`= ANY`), a JSON array on SQLite (`json_each`). One parameter per id cost the
    portfolio overview (900 activities) a fifth of its time on PostgreSQL, where the driver
    parses such a long query again on every call; as one parameter the statement stays the
    same text, cached whole by SQLAlchemy and by the driver."""
    return _OneOf(column.expression, bindparam(None, list(values), type_=_ID_LIST))


def one_of_parameter(column: IdColumn, name: str) -> ColumnElement[bool]:
    """`one_of` with the ids left to the parameter `name` (a list of ids), for a statement
    built once (see `Repository.rows`)."""
    return _OneOf(column.expression, bindparam(name, type_=_ID_LIST))


class Repository(Generic[ModelT]):
    """Get-or-none, create-with-flush and keyset listing by `id` for one table."""

    model: type[ModelT]

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, object_id: str) -> ModelT | None:
        """The object of this id, or None; in a read request, a detached snapshot
        (`core.snapshots`)."""
        if read_only(self.session):
            snapshots = snapshots_of(self.model)
            if snapshots is not None:
                return snapshots.get(self.session, object_id)
        return self.session.get(self.model, object_id)

    def add(self, obj: ModelT) -> ModelT:
        self.session.add(obj)
        self.session.flush()
        return obj

    def rows(
        self,
        statement: Prebuilt[*_Columns],
        parameters: Mapping[str, Any] | None = None,
    ) -> Sequence[tuple[*_Columns]]:
        """The rows of a select of columns, on the session's connection and transaction, after
        the autoflush `session.execute` would do, without the ORM's per-row result machinery
        (which cost as much as the query when a batch reads ten thousand activities' rows).

        A read made on every request runs a statement built once, at import, with its values
        as named `parameters` (`bindparam`, `one_of_parameter`), and `Prebuilt`: built per
        call, SQLAlchemy constructs every element and then computes the cache key of the whole
        tree, which cost 80-100 us a query, five times running it (a shortfall makes ten); and
        a `Prebuilt` runs on the driver's cursor (`core.statements`)."""
        if self.session.autoflush:
            self.session.flush()
        return statement.rows(self.session.connection(), parameters)

    def select(self) -> Select[ModelT]:
        return select(self.model)

    def page(
        self,
        statement: Select[ModelT],
        params: PageParams,
        *,
        by: InstrumentedAttribute[datetime] | None = None,
        newest_first: bool = False,
    ) -> tuple[Sequence[ModelT], str | None]:
        """One page of `statement` and the cursor of the next page (or None).

        Keyset paging: in `id` order, or with `by` in (instant, id) order, oldest first or
        `newest_first` (commitment versions by receipt, invoices by update, for systems that
        sync). A page is "after the last row seen", so it is stable while rows are added."""
        # Every table's primary key is a time-ordered string `id` (app.core.ids); the bound of
        # ModelT cannot say so, hence getattr.
        id_column: Any = getattr(self.model, "id")  # noqa: B009
        keys = [id_column] if by is None else [by, id_column]
        if params.after is not None:
            statement = statement.where(_beyond(keys, params.after, newest_first))
        order = [key.desc() if newest_first else key for key in keys]
        rows = self.session.scalars(statement.order_by(*order).limit(params.limit + 1)).all()
        if len(rows) <= params.limit:
            return rows, None
        final = rows[params.limit - 1]
        last_id: str = getattr(final, "id")  # noqa: B009
        if by is None:
            return rows[: params.limit], encode_cursor(last_id)
        return rows[: params.limit], encode_instant_cursor(getattr(final, by.key), last_id)


def _beyond(keys: list[Any], after: str, newest_first: bool) -> ColumnElement[bool]:
    """Rows after the cursor's row in the order of `keys`: (id), or (instant, id)."""

    def past(column: Any, value: Any) -> ColumnElement[bool]:
        beyond: ColumnElement[bool] = column < value if newest_first else column > value
        return beyond

    if len(keys) == 1:
        return past(keys[0], after)
    instant, id_column = keys
    at, last_id = split_instant_cursor(after)
    return or_(past(instant, at), and_(instant == at, past(id_column, last_id)))
