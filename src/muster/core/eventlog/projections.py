"""Projection sets: event -> read-model functions per part, with their tables (R10).

A projector is a function ``(event, envelope, conn)``. ``AppendRow`` is a projector
too, of a narrower kind: it builds one row from the event and inserts it into a table
that only ``AppendRow`` projectors write and no projector reads (a timeline). Live, it
inserts the row at once, like any projector; replay may instead hand ``project`` a
``RowBuffer``, which holds the rows built by the very same function and inserts them
with one ``executemany`` per batch. Since nothing reads those tables while projecting,
the tables end up the same; ``tests/integration/test_replay_batched.py`` checks it.

``replay_into`` also puts its ``RowBuffer`` on the scratch connection
(``BUFFER_OPTION``, read with ``page_buffer``): a projector may then keep a
``WriteBack`` of the rows it writes (``RowBuffer.held``) and let the buffer write them
at the end of the page, provided no other projector reads or writes that table (the
response part's incident rows, ``response.projection_rows.IncidentRows``). Live, and in
``replay.rebuild``, ``page_buffer`` gives None and projectors write at once.

Imported by the unit of work, replay, and each part's ``projections.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.engine import Connection

from muster.core.eventlog.prepared import Prepared
from muster.core.eventlog.store import Envelope
from muster.core.eventlog.tables import projection_positions
from muster.core.messages import Event

Projector = Callable[[Any, Envelope, Connection], None]
"""A projection function; its first parameter is typed as the event class it handles."""

Row = Mapping[str, object]
RowBuilder = Callable[[Any, Envelope], Row | None]
"""Builds the row an event appends (None: this event appends nothing)."""


class AppendRow:
    """A projector appending one row per event to a table no projector reads."""

    __slots__ = ("build", "statement", "table")

    def __init__(self, table: Table, build: RowBuilder) -> None:
        self.table = table
        self.build = build
        self.statement = Prepared(insert(table))

    def __call__(self, event: Any, envelope: Envelope, conn: Connection) -> None:
        """Insert the event's row now (live projection)."""
        row = self.build(event, envelope)
        if row is not None:
            self.statement.run(conn, row)


BUFFER_OPTION = "muster_row_buffer"
"""Execution option holding replay's ``RowBuffer`` (its own scratch connection only)."""


class WriteBack(Protocol):
    """Rows a projector holds during a page of replay, written by ``flush``."""

    def flush(self, conn: Connection) -> None:
        """Write every held change; the rows then read the same as if written live."""
        ...


W = TypeVar("W", bound=WriteBack)


class RowBuffer:
    """Rows of ``AppendRow`` projectors held back to be inserted in bulk (replay)."""

    __slots__ = ("_held", "_rows")

    def __init__(self) -> None:
        self._rows: dict[AppendRow, list[Row]] = {}
        self._held: dict[type[Any], WriteBack] = {}

    def held(self, kind: type[W]) -> W:
        """Return this buffer's write-back of the given kind (made on first use)."""
        found = self._held.get(kind)
        if found is None:
            found = self._held[kind] = kind()
        return found  # type: ignore[return-value]  # keyed by its own class

    def add(self, projector: AppendRow, event: Event, envelope: Envelope) -> None:
        """Build the event's row now; insert it at the next ``flush``."""
        row = projector.build(event, envelope)
        if row is not None:
            self._rows.setdefault(projector, []).append(row)

    def flush(self, conn: Connection) -> None:
        """Write the held rows: write-backs, then ``AppendRow`` rows in bulk."""
        for held in self._held.values():
            held.flush(conn)
        for projector, rows in self._rows.items():
            start = 0
            while start < len(rows):
                keys = rows[start].keys()
                end = start + 1
                while end < len(rows) and rows[end].keys() == keys:
                    end += 1
                projector.statement.run_many(conn, rows[start:end])
                start = end
            rows.clear()


def page_buffer(conn: Connection) -> RowBuffer | None:
    """Return the ``RowBuffer`` replay put on this connection (None: write at once)."""
    buffer: RowBuffer | None = conn.get_execution_options().get(BUFFER_OPTION)
    return buffer


@dataclass(frozen=True, slots=True)
class ProjectionSet:
    """One part's projections: handlers by event class and the tables they own."""

    name: str
    handlers: Mapping[type[Event], Sequence[Projector]]
    tables: Sequence[Table]

    def project(
        self,
        event: Event,
        envelope: Envelope,
        conn: Connection,
        rows: RowBuffer | None = None,
    ) -> bool:
        """Apply the event to this set's tables; tell whether any handler ran.

        With ``rows``, ``AppendRow`` projectors leave their rows in the buffer
        instead of inserting them; the caller flushes it before it commits.
        """
        projectors = self.handlers.get(type(event))
        if not projectors:
            return False
        for projector in projectors:
            if rows is not None and type(projector) is AppendRow:
                rows.add(projector, event, envelope)
            else:
                projector(event, envelope, conn)
        return True


_UPDATE_POSITION = (
    update(projection_positions)
    .where(projection_positions.c.name == bindparam("projection"))
    .values(position=bindparam("at"))
)
_INSERT_POSITION = insert(projection_positions)


def save_position(conn: Connection, name: str, position: int) -> None:
    """Record how far a projection has consumed the log, in the caller's transaction."""
    result = conn.execute(_UPDATE_POSITION, {"projection": name, "at": position})
    if result.rowcount == 0:
        conn.execute(_INSERT_POSITION, {"name": name, "position": position})


__all__ = [
    "BUFFER_OPTION",
    "AppendRow",
    "ProjectionSet",
    "Projector",
    "Row",
    "RowBuffer",
    "RowBuilder",
    "WriteBack",
    "page_buffer",
    "save_position",
]
