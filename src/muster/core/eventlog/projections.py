"""Projection sets: event -> read-model functions per part, with their tables (R10).

Imported by the unit of work, replay, and each part's ``projections.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.engine import Connection

from muster.core.eventlog.store import Envelope
from muster.core.eventlog.tables import projection_positions
from muster.core.messages import Event

Projector = Callable[[Any, Envelope, Connection], None]
"""A projection function; its first parameter is typed as the event class it handles."""


@dataclass(frozen=True, slots=True)
class ProjectionSet:
    """One part's projections: handlers by event class and the tables they own."""

    name: str
    handlers: Mapping[type[Event], Sequence[Projector]]
    tables: Sequence[Table]

    def project(self, event: Event, envelope: Envelope, conn: Connection) -> bool:
        """Apply the event to this set's tables; tell whether any handler ran."""
        projectors = self.handlers.get(type(event))
        if not projectors:
            return False
        for projector in projectors:
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


__all__ = ["ProjectionSet", "Projector", "save_position"]
