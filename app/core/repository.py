"""The small generic base every domain repository builds on."""

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.core.orm import Base
from app.core.pagination import PageParams, encode_cursor

ModelT = TypeVar("ModelT", bound=Base)


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

    def select(self) -> Select[ModelT]:
        return select(self.model)

    def page(
        self, statement: Select[ModelT], params: PageParams
    ) -> tuple[Sequence[ModelT], str | None]:
        """One page of `statement` in id order, and the cursor of the next page (or None)."""
        # Every table's primary key is a time-ordered string `id` (app.core.ids); the bound of
        # ModelT cannot say so, hence getattr.
        id_column: Any = getattr(self.model, "id")  # noqa: B009
        if params.after is not None:
            statement = statement.where(id_column > params.after)
        rows = self.session.scalars(statement.order_by(id_column).limit(params.limit + 1)).all()
        if len(rows) > params.limit:
            last_id: str = getattr(rows[params.limit - 1], "id")  # noqa: B009
            return rows[: params.limit], encode_cursor(last_id)
        return rows, None
