"""Read functions of the drills part: the drills the live log records.

A drill is its ``drill-{id}`` stream of the live log (``DrillStarted``, then
``DrillCompleted`` once it ended); no read model is kept. Imported by the drill CLI.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.engine import Connection

from muster.core.eventlog.store import SqlEventStore
from muster.core.eventlog.tables import events
from muster.drills.domain.events import DrillCompleted, DrillStarted


@dataclass(frozen=True, slots=True)
class DrillView:
    """A drill as the live log records it."""

    started: DrillStarted
    started_at: str
    started_seq: int
    completed: DrillCompleted | None
    completed_at: str | None
    completed_seq: int | None

    @property
    def drill_id(self) -> str:
        """Return the drill's id."""
        return self.started.drill_id

    @property
    def status(self) -> str:
        """Return completed, ended early, or running (or abandoned)."""
        if self.completed is None:
            return "running"
        return "ended early" if self.completed.ended_early else "completed"


def list_drills(
    conn: Connection, *, store: SqlEventStore | None = None
) -> list[DrillView]:
    """Return every drill of the live log, oldest first."""
    query = (
        select(events.c.stream_id)
        .where(events.c.type == DrillStarted.wire_name)
        .order_by(events.c.seq)
    )
    streams = [str(stream) for (stream,) in conn.execute(query)]
    found = [_drill(conn, stream, store or SqlEventStore()) for stream in streams]
    return [drill for drill in found if drill is not None]


def get_drill(
    conn: Connection, drill_id: str, *, store: SqlEventStore | None = None
) -> DrillView | None:
    """Return one drill, or None."""
    return _drill(conn, f"drill-{drill_id}", store or SqlEventStore())


def _drill(conn: Connection, stream: str, store: SqlEventStore) -> DrillView | None:
    recorded = store.read_stream(conn, stream)
    started = recorded[0].event if recorded else None
    if not isinstance(started, DrillStarted):
        return None
    view = DrillView(
        started=started,
        started_at=recorded[0].envelope.recorded_at,
        started_seq=recorded[0].envelope.seq,
        completed=None,
        completed_at=None,
        completed_seq=None,
    )
    for item in recorded[1:]:
        if isinstance(item.event, DrillCompleted):
            return replace(
                view,
                completed=item.event,
                completed_at=item.envelope.recorded_at,
                completed_seq=item.envelope.seq,
            )
    return view


__all__ = ["DrillView", "get_drill", "list_drills"]
