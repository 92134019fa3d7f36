"""Prepared statements for projections: a Core statement compiled once, run as text.

``conn.execute(statement, params)`` looks the compiled form up in SQLAlchemy's cache
and sets up its type processing on every call; on the 2-core benchmark machine that
is ≈ 60 µs, several times the database's own work for a one-row update. Replay runs
a few such statements for every event of the log (docs/benchmarks.md, "Replay"), so
the projections' hot statements are ``Prepared``: compiled by SQLAlchemy for the
connection's dialect (the same SQL ``conn.execute`` would send, on SQLite and
PostgreSQL alike) once per dialect and set of parameter names, then sent with
``conn.exec_driver_sql``, which keeps the connection's transaction, events and error
translation. Bind processors are applied here as SQLAlchemy applies them; a statement
needing more (result processing, Python-side column defaults, expanding or literal
binds, ``RETURNING``) is run by ``conn.execute`` unchanged.

Replay goes one step further on its own scratch connection (``Direct``).

Imported by the parts' ``projections.py`` and ``core.eventlog.projections``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from itertools import chain
from operator import itemgetter
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.selectable import Select

Params = Mapping[str, Any]
Bound = tuple[Any, ...] | dict[str, Any]
_Processor = Callable[[Any], Any] | None

# An INSERT of one row of positional parameters, as SQLAlchemy compiles it.
_ONE_ROW_INSERT = re.compile(r"INSERT INTO [^()]+ \([^()]*\) VALUES (\(\?(?:, \?)*\))")
# Parameters per many-row INSERT: SQLite before 3.32 allows 999 at most.
_MULTI_PARAMETERS = 999

DIRECT_OPTION = "muster_direct"
"""Execution option holding a ``Direct``: prepared statements skip SQLAlchemy."""


class Direct:
    """Runs prepared SQL straight on one connection's DB-API cursor (replay only).

    ``replay_into`` sets it, as the ``DIRECT_OPTION`` of its scratch connection: a
    database of its own, inside the one transaction replay began, with no event
    listeners to skip. The SQL text and parameters are the ones ``exec_driver_sql``
    would send; what is left out is SQLAlchemy's per-call bookkeeping (execution
    context, result object). A driver error is translated as ``conn.execute`` would.
    """

    __slots__ = ("_cursor", "_error", "_multi", "_sqlite")

    def __init__(self, conn: Connection) -> None:
        if not conn.in_transaction():
            raise RuntimeError("Direct needs a connection inside a transaction")
        dbapi = conn.connection.dbapi_connection
        if dbapi is None:  # pragma: no cover - a checked-out connection has one
            raise RuntimeError("connection is closed")
        self._cursor: Any = dbapi.cursor()
        self._error: type[Exception] = conn.dialect.loaded_dbapi.Error
        self._sqlite = conn.dialect.name == "sqlite"
        self._multi: dict[str, tuple[str, int] | None] = {}

    def run(self, sql: str, bound: Bound) -> int:
        """Execute one row; return the rows matched."""
        try:
            self._cursor.execute(sql, bound)
        except self._error as error:
            raise DBAPIError.instance(sql, bound, error, self._error) from error
        return int(self._cursor.rowcount)

    def first(self, sql: str, bound: Bound) -> tuple[Any, ...] | None:
        """Execute a query; return its first row, or None."""
        try:
            self._cursor.execute(sql, bound)
            row = self._cursor.fetchone()
        except self._error as error:
            raise DBAPIError.instance(sql, bound, error, self._error) from error
        return None if row is None else tuple(row)

    def run_many(self, sql: str, bound: list[Bound]) -> None:
        """Execute once per row (``executemany``), or insert many rows at a time.

        On SQLite, a plain ``INSERT ... VALUES (?, ...)`` of many rows goes as
        ``VALUES (...), (...), ...`` statements of up to ``_MULTI_PARAMETERS``
        parameters (≈ 35 % less per row): the same rows, in the same order. A
        failing row fails its statement whole instead of after the rows before
        it, inside the transaction the caller then rolls back either way.
        """
        multi = self._multi_insert(sql) if len(bound) > 1 else None
        try:
            if multi is None:
                self._cursor.executemany(sql, bound)
                return
            many_sql, size = multi
            whole = len(bound) - len(bound) % size
            for start in range(0, whole, size):
                values = list(chain.from_iterable(bound[start : start + size]))
                self._cursor.execute(many_sql, values)
            if whole < len(bound):
                self._cursor.executemany(sql, bound[whole:])
        except self._error as error:
            raise DBAPIError.instance(sql, bound, error, self._error) from error

    def _multi_insert(self, sql: str) -> tuple[str, int] | None:
        """Return the many-row form of a one-row INSERT and its rows (None: none)."""
        if sql in self._multi:
            return self._multi[sql]
        found = _ONE_ROW_INSERT.fullmatch(sql) if self._sqlite else None
        multi: tuple[str, int] | None = None
        if found is not None:
            group = found.group(1)
            size = _MULTI_PARAMETERS // group.count("?")
            if size > 1:
                multi = (sql + f", {group}" * (size - 1), size)
        self._multi[sql] = multi
        return multi

    def close(self) -> None:
        """Close the cursor (the connection stays the caller's)."""
        self._cursor.close()


class _Plan:
    """The SQL text for one dialect and set of parameter names, and how to bind it."""

    __slots__ = ("bind", "paramstyle", "sql")

    def __init__(
        self,
        paramstyle: str,
        sql: str | None = None,
        bind: Callable[[Params], Bound] | None = None,
    ) -> None:
        self.paramstyle = paramstyle
        self.sql = sql
        """None: only ``conn.execute`` can run the statement."""
        self.bind: Callable[[Params], Bound] = bind or _unbindable


class Prepared:
    """A Core statement compiled once per dialect, run with ``exec_driver_sql``."""

    __slots__ = ("_plans", "statement")

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._plans: dict[tuple[type[Dialect], tuple[str, ...]], _Plan] = {}

    def run(self, conn: Connection, params: Params) -> int:
        """Run the statement with one row of parameters; return the rows matched."""
        plan = self._plan(conn.dialect, params)
        if plan.sql is None:
            return int(conn.execute(self.statement, dict(params)).rowcount)
        direct: Direct | None = conn.get_execution_options().get(DIRECT_OPTION)
        if direct is not None:
            return direct.run(plan.sql, plan.bind(params))
        return int(conn.exec_driver_sql(plan.sql, plan.bind(params)).rowcount)

    def first(self, conn: Connection, params: Params) -> tuple[Any, ...] | None:
        """Run a query with one row of parameters; return its first row, or None."""
        plan = self._plan(conn.dialect, params)
        if plan.sql is None:
            row = conn.execute(self.statement, dict(params)).first()
            return None if row is None else tuple(row)
        direct: Direct | None = conn.get_execution_options().get(DIRECT_OPTION)
        if direct is not None:
            return direct.first(plan.sql, plan.bind(params))
        row = conn.exec_driver_sql(plan.sql, plan.bind(params)).first()
        return None if row is None else tuple(row)

    def run_many(self, conn: Connection, rows: Sequence[Params]) -> None:
        """Run the statement once per row (``executemany``); the rows share keys."""
        if not rows:
            return
        plan = self._plan(conn.dialect, rows[0])
        if plan.sql is None:
            conn.execute(self.statement, [dict(row) for row in rows])
            return
        bound = [plan.bind(row) for row in rows]
        direct: Direct | None = conn.get_execution_options().get(DIRECT_OPTION)
        if direct is not None:
            direct.run_many(plan.sql, bound)
        else:
            conn.exec_driver_sql(plan.sql, bound)

    def _plan(self, dialect: Dialect, params: Params) -> _Plan:
        key = (type(dialect), tuple(params))
        plan = self._plans.get(key)
        if plan is None or plan.paramstyle != dialect.paramstyle:
            plan = self._plans[key] = _compile(self.statement, dialect, key[1])
        return plan


def _compile(statement: Executable, dialect: Dialect, keys: tuple[str, ...]) -> _Plan:
    """Compile for the dialect (a plan without SQL: leave it to ``conn.execute``)."""
    refused = _Plan(dialect.paramstyle)
    if isinstance(statement, Select) and not _plain_results(statement, dialect):
        return refused
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))  # type: ignore[attr-defined]
    if not isinstance(compiled, SQLCompiler):
        return refused
    if compiled.effective_returning or compiled.escaped_bind_names:
        return refused
    if compiled.insert_prefetch or compiled.update_prefetch:
        return refused  # Python-side column defaults: SQLAlchemy computes them
    if compiled.positional:
        names = tuple(compiled.positiontup or ())
    else:
        names = tuple(compiled.bind_names.values())
    constants: dict[str, Any] = {}
    processors: list[_Processor] = []
    for name in names:
        bind = compiled.binds.get(name)
        if bind is None or bind.expanding or bind.literal_execute or bind.callable:
            return refused
        if name not in keys:
            if bind.required:
                return refused  # let conn.execute say what is missing
            constants[name] = bind.value
        processors.append(bind.type.dialect_impl(dialect).bind_processor(dialect))
    binder = _binder(names, bool(compiled.positional), constants, tuple(processors))
    return _Plan(dialect.paramstyle, compiled.string, binder)


def _binder(
    names: tuple[str, ...],
    positional: bool,
    constants: dict[str, Any],
    processors: tuple[_Processor, ...],
) -> Callable[[Params], Bound]:
    """Return the function turning one row of parameters into the driver's."""
    if positional and not constants:  # the common case: a C call per row, and ...
        if len(names) == 1:
            return _one_value(names[0], processors[0])
        pick = itemgetter(*names)
        if not any(processors):
            return pick
        processed = tuple(
            (index, process)
            for index, process in enumerate(processors)
            if process is not None
        )
        return _processed(pick, processed)  # ... the few typed values processed

    def bind(params: Params) -> Bound:
        values = [params[name] if name in params else constants[name] for name in names]
        for index, process in enumerate(processors):
            if process is not None and values[index] is not None:
                values[index] = process(values[index])
        if positional:
            return tuple(values)
        return dict(zip(names, values, strict=True))

    return bind


def _one_value(name: str, process: _Processor) -> Callable[[Params], Bound]:
    def bind(params: Params) -> Bound:
        value = params[name]
        return (value if process is None or value is None else process(value),)

    return bind


def _processed(
    pick: Callable[[Params], tuple[Any, ...]],
    processed: tuple[tuple[int, Callable[[Any], Any]], ...],
) -> Callable[[Params], Bound]:
    def bind(params: Params) -> Bound:
        values = list(pick(params))
        for index, process in processed:
            if values[index] is not None:
                values[index] = process(values[index])
        return tuple(values)

    return bind


def _unbindable(params: Params) -> Bound:
    raise RuntimeError("this statement runs through conn.execute")


def _plain_results(statement: Select[Any], dialect: Dialect) -> bool:
    """Tell whether every selected column comes back from the driver as it is."""
    for column in statement.selected_columns:
        try:
            processor = column.type.dialect_impl(dialect).result_processor(
                dialect, None
            )
        except (TypeError, KeyError):  # needs the driver's type code: leave it be
            return False
        if processor is not None:
            return False
    return True


__all__ = ["DIRECT_OPTION", "Direct", "Params", "Prepared"]
