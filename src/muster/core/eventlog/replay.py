"""Replay: rebuild read models from the log, up to a position or a moment (R10).

Truncates the chosen projection sets' tables and replays events through the same
projection functions that run live (append-only rows are inserted a page at a time,
see ``core.eventlog.projections.RowBuffer``). Imported by the CLI and tests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import Engine, delete

from muster.core.clock import isoformat_utc
from muster.core.db import WRITE_OPTION
from muster.core.eventlog.projections import ProjectionSet, RowBuffer, save_position
from muster.core.eventlog.store import SqlEventStore

Progress = Callable[[int], None]


def rebuild(
    engine: Engine,
    projections: Sequence[ProjectionSet],
    *,
    until_seq: int | None = None,
    until: datetime | None = None,
    progress: Progress | None = None,
) -> int:
    """Empty the sets' tables and replay the log into them; return events replayed."""
    store = SqlEventStore()
    limit_time = isoformat_utc(until) if until is not None else None
    replayed = 0
    with engine.connect().execution_options(**{WRITE_OPTION: True}) as conn:
        conn.begin()
        for projection in projections:
            for table in reversed(projection.tables):
                conn.execute(delete(table))
        last_seq: dict[str, int] = {}
        rows = RowBuffer()  # timeline-like rows, inserted once per page
        for page in store.read_batches(conn):
            stop = False
            for recorded in page:
                envelope = recorded.envelope
                if (until_seq is not None and envelope.seq > until_seq) or (
                    limit_time is not None and envelope.recorded_at > limit_time
                ):
                    stop = True
                    break
                for projection in projections:
                    if projection.project(recorded.event, envelope, conn, rows):
                        last_seq[projection.name] = envelope.seq
                replayed += 1
                if progress is not None:
                    progress(envelope.seq)
            rows.flush(conn)
            if stop:
                break
        for projection in projections:
            save_position(conn, projection.name, last_seq.get(projection.name, 0))
        conn.commit()
    return replayed


__all__ = ["rebuild"]
