"""Replay into a separate database: the read models as they stood at a moment.

``replay_into`` reads the live log (and nothing else: the live database is only read)
up to a seq or a moment, and feeds each event through the same projection functions
that run live, into an empty database migrated to the same schema: a temporary SQLite
file or an in-memory SQLite database (``scratch_engine``). It returns the target
engine, the position replayed to and the chain hash at that position, so a report
computed from the replayed state can say which log range and head hash it came from.

In-place rebuilding (truncate and replay the live read models) is ``replay.rebuild``.
Imported by ``muster replay`` (``muster.review.cli``), tests and ``bench/replay.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.pool import StaticPool

from muster.core.clock import isoformat_utc
from muster.core.eventlog.chain import GENESIS_HASH
from muster.core.eventlog.projections import ProjectionSet, save_position
from muster.core.eventlog.store import Recorded, SqlEventStore
from muster.core.migrate import upgrade

ReplayProgress = Callable[[int, int], None]
"""Called after each batch with (events replayed so far, last seq replayed)."""

DEFAULT_BATCH = 2000


@dataclass(frozen=True, slots=True)
class Replayed:
    """The outcome of a replay: where the state stands and what it was built from."""

    engine: Engine
    """The separate database holding the replayed read models."""
    position: int
    """The seq of the last event replayed (0 when none was)."""
    head_hash: bytes
    """The chain hash at ``position`` (the genesis hash at 0)."""
    events: int
    """How many events were replayed (seqs 1..position)."""
    recorded_at: str | None
    """When the last replayed event was recorded (None when none was)."""

    def log_range(self) -> dict[str, object]:
        """Return the log range and head hash, as reports state them."""
        return {
            "first_seq": 1 if self.position else 0,
            "last_seq": self.position,
            "head_hash": self.head_hash.hex(),
            "recorded_at": self.recorded_at,
        }


def scratch_engine(path: Path | None = None) -> Engine:
    """Return an empty SQLite database migrated to the newest schema.

    ``path`` None gives an in-memory database (one shared connection, gone when the
    engine is disposed); a path gives a file (the caller removes it). Durability is
    off: the database is a scratch copy, rebuilt from the log whenever needed.
    """
    if path is None:
        engine = create_engine(
            "sqlite://",
            poolclass=StaticPool,
            connect_args={"check_same_thread": False},
        )
    else:
        engine = create_engine(
            f"sqlite:///{path}", connect_args={"check_same_thread": False}
        )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: object, _record: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("PRAGMA journal_mode=MEMORY")
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.close()

    upgrade(engine)
    return engine


def replay_into(
    source: Engine,
    projections: Sequence[ProjectionSet],
    *,
    target: Engine | None = None,
    until_seq: int | None = None,
    until: datetime | None = None,
    progress: ReplayProgress | None = None,
    batch: int = DEFAULT_BATCH,
) -> Replayed:
    """Replay the source's log up to ``until_seq``/``until`` into a separate database.

    ``target`` must be migrated and its projected tables empty; None makes an
    in-memory one (``scratch_engine``). The replay stops before the first event past
    ``until_seq`` or recorded after ``until`` (the same rule as ``replay.rebuild``),
    so the target holds the read models exactly as live projection left them then.
    """
    engine = target if target is not None else scratch_engine()
    limit_time = isoformat_utc(until) if until is not None else None
    store = SqlEventStore()
    last: Recorded | None = None
    count = 0
    last_seq: dict[str, int] = {}
    with source.connect() as reader, engine.begin() as writer:
        after = 0
        done = False
        while not done:
            page = store.read_all(reader, after=after, limit=batch)
            if not page:
                break
            for recorded in page:
                envelope = recorded.envelope
                if (until_seq is not None and envelope.seq > until_seq) or (
                    limit_time is not None and envelope.recorded_at > limit_time
                ):
                    done = True
                    break
                _project(projections, recorded, writer, last_seq)
                last = recorded
                count += 1
            after = page[-1].envelope.seq
            if progress is not None and last is not None:
                progress(count, last.envelope.seq)
        for projection in projections:
            save_position(writer, projection.name, last_seq.get(projection.name, 0))
    if last is None:
        return Replayed(
            engine=engine,
            position=0,
            head_hash=GENESIS_HASH,
            events=0,
            recorded_at=None,
        )
    return Replayed(
        engine=engine,
        position=last.envelope.seq,
        head_hash=last.hash,
        events=count,
        recorded_at=last.envelope.recorded_at,
    )


def _project(
    projections: Sequence[ProjectionSet],
    recorded: Recorded,
    conn: Connection,
    last_seq: dict[str, int],
) -> None:
    for projection in projections:
        if projection.project(recorded.event, recorded.envelope, conn):
            last_seq[projection.name] = recorded.envelope.seq


__all__ = [
    "DEFAULT_BATCH",
    "ReplayProgress",
    "Replayed",
    "replay_into",
    "scratch_engine",
]
