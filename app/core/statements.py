"""`Prebuilt`: a select built once at import, run on the driver's own cursor.

The reads a request makes on every call (a shortfall makes eight, a comparison ten) are selects
built once with named parameters (see `Repository.rows`). Even compiled and cached, SQLAlchemy's
execution of one still cost about 40 us on SQLite: an execution context, a cursor wrapper,
result metadata and a row object per row, events, for a statement the driver runs in 3 us. A
`Prebuilt` keeps what that machinery computes once per dialect (the SQL text, the order of its
parameters, the bind and result conversions of its columns' types) and runs the statement on
the driver's cursor of the session's connection, in its transaction: 16 us, the same rows.

What it leaves to SQLAlchemy, by running the statement the ordinary way:
- a connection someone listens to (`before_cursor_execute` and the like: the tests that count
  queries) or that echoes its SQL, so that every statement is still seen;
- a statement whose SQL is completed at execution (an expanding `IN`, a literal-execute
  parameter); the service builds none, as lists are bound whole (`repository.one_of`).

A failure of the driver is raised as SQLAlchemy's own exception class (so that a lost database
still answers 503, `core.outage`), and a lost connection is invalidated, as SQLAlchemy does.
"""

import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVarTuple

from sqlalchemy import Connection, Dialect, Select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler

_Columns = TypeVarTuple("_Columns")

Processor = Callable[[Any], Any]


class _Compiled:
    """A statement as compiled for one dialect, with its conversions: the parameters' now,
    the columns' once the driver has described them (PostgreSQL's depend on the types it
    reports)."""

    def __init__(self, compiled: SQLCompiler, dialect: Dialect) -> None:
        self.compiled = compiled
        self.sql = compiled.string
        self.complete = not (compiled.literal_execute_params or compiled.post_compile_params)
        escaped = compiled.escaped_bind_names
        self.binds: dict[str, Processor | None] = {
            escaped.get(name, name): bind.type.dialect_impl(dialect).bind_processor(dialect)
            for bind, name in compiled.bind_names.items()
        }
        self.order = compiled.positiontup if compiled.positional else None
        self.results: list[tuple[int, Processor]] | None = None

    def arguments(self, parameters: Mapping[str, Any] | None) -> Any:
        values = self.compiled.construct_params(parameters)
        for name, process in self.binds.items():
            if process is not None:
                values[name] = process(values[name])
        if self.order is not None:
            return [values[name] for name in self.order]
        return values


class Prebuilt(Generic[*_Columns]):
    """A select of columns, built once, run on the driver's cursor (see the module's
    docstring). Its rows are tuples of the selected columns, converted by their types as
    SQLAlchemy would."""

    def __init__(self, statement: Select[*_Columns]) -> None:
        self.statement = statement
        self.keys: tuple[str, ...] = tuple(statement.selected_columns.keys())
        self._types = [column.type for column in statement.selected_columns]
        self._by_dialect: weakref.WeakKeyDictionary[Dialect, _Compiled] = (
            weakref.WeakKeyDictionary()
        )

    def named(self, row: Sequence[Any]) -> dict[str, Any]:
        """`row` as a dict of the selected columns' names (a dataclass's fields, say)."""
        return dict(zip(self.keys, row, strict=True))

    def rows(
        self, connection: Connection, parameters: Mapping[str, Any] | None = None
    ) -> Sequence[tuple[*_Columns]]:
        """The statement's rows, in the connection's transaction."""
        compiled = self._compiled(connection.dialect)
        if not compiled.complete or _watched(connection):
            return connection.execute(self.statement, parameters).all()
        arguments = compiled.arguments(parameters)
        driver_connection: Any = connection.connection.driver_connection
        cursor = driver_connection.cursor()
        try:
            cursor.execute(compiled.sql, arguments)
            fetched: list[Any] = cursor.fetchall()
            description = cursor.description
        except connection.dialect.loaded_dbapi.Error as error:
            raise _wrapped(connection, compiled.sql, arguments, error, cursor) from error
        finally:
            cursor.close()
        if compiled.results is None:
            compiled.results = self._result_processors(connection.dialect, description)
        if not compiled.results:
            return fetched  # the driver's list of tuples, as it is
        return [_converted(row, compiled.results) for row in fetched]

    def _compiled(self, dialect: Dialect) -> _Compiled:
        compiled = self._by_dialect.get(dialect)
        if compiled is None:
            sql_compiler = self.statement.compile(dialect=dialect)
            assert isinstance(sql_compiler, SQLCompiler)
            compiled = self._by_dialect[dialect] = _Compiled(sql_compiler, dialect)
        return compiled

    def _result_processors(
        self, dialect: Dialect, description: Sequence[Sequence[Any]]
    ) -> list[tuple[int, Processor]]:
        processors: list[tuple[int, Processor]] = []
        for index, (type_, described) in enumerate(zip(self._types, description, strict=True)):
            process = type_.dialect_impl(dialect).result_processor(dialect, described[1])
            if process is not None:
                processors.append((index, process))
        return processors


def _converted(row: Sequence[Any], processors: list[tuple[int, Processor]]) -> Any:
    values = list(row)
    for index, process in processors:
        values[index] = process(values[index])
    return tuple(values)


def _watched(connection: Connection) -> bool:
    """Whether someone listens to the connection's cursor events or reads its echo."""
    dispatch = connection.dispatch
    return bool(
        connection.engine.echo or dispatch.before_cursor_execute or dispatch.after_cursor_execute
    )


def _wrapped(
    connection: Connection, sql: str, arguments: Any, error: Any, cursor: Any
) -> DBAPIError:
    """The driver's `error` as SQLAlchemy raises it, the connection invalidated when it was
    lost (the pool then replaces it, as after a failure of SQLAlchemy's own execution)."""
    dialect = connection.dialect
    lost = dialect.is_disconnect(error, connection.connection.dbapi_connection, cursor)
    if lost:
        connection.invalidate(error)
    wrapped = DBAPIError.instance(
        sql,
        arguments,
        error,
        dialect.loaded_dbapi.Error,
        connection_invalidated=lost,
        dialect=dialect,
    )
    assert isinstance(wrapped, DBAPIError)
    return wrapped
