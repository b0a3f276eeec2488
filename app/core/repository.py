"""The small generic base every domain repository builds on."""

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar, TypeVarTuple

from sqlalchemy import ColumnElement, Row, Select, String, and_, any_, bindparam, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.core.orm import Base
from app.core.pagination import (
    PageParams,
    encode_cursor,
    encode_instant_cursor,
    split_instant_cursor,
)

ModelT = TypeVar("ModelT", bound=Base)
_Columns = TypeVarTuple("_Columns")


def one_of(
    session: Session,
    column: InstrumentedAttribute[str] | InstrumentedAttribute[str | None],
    values: Sequence[str],
) -> ColumnElement[bool]:
    """`column IN values` with the values as one parameter, however many: an array on
    PostgreSQL (`= ANY`), a JSON array on SQLite (`json_each`). One parameter per id cost the
    portfolio overview (900 activities) a fifth of its time on PostgreSQL, where the driver
    parses such a long query again on every call; as one parameter the statement stays the
    same text, cached whole by SQLAlchemy and by the driver.

    One value is plain equality: a single-object read (one contract's shortfall, its terms)
    then builds a comparison instead of a table-valued subquery, whose construction alone
    cost a tenth of such a read."""
    if len(values) == 1:
        return column == values[0]
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(String)))
    listed = func.json_each(bindparam(None, json.dumps(list(values)), type_=String))
    return column.in_(select(listed.table_valued("value").c.value))


class Repository(Generic[ModelT]):
    """Get-or-none, create-with-flush and keyset listing by `id` for one table."""

    model: type[ModelT]

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, object_id: str) -> ModelT | None:
        return self.session.get(self.model, object_id)

    def add(self, obj: ModelT) -> ModelT:
        self.session.add(obj)
        self.session.flush()
        return obj

    def rows(self, statement: Select[*_Columns]) -> Sequence[Row[*_Columns]]:
        """The rows of a select of columns, on the session's connection and transaction, after
        the autoflush `session.execute` would do, without the ORM's per-row result machinery
        (which cost as much as the query when a batch reads ten thousand activities' rows)."""
        if self.session.autoflush:
            self.session.flush()
        return self.session.connection().execute(statement).all()

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
