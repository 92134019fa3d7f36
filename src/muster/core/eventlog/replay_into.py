"""Replay into a separate database: the read models as they stood at a moment.

``replay_into`` reads the live log (and nothing else: the live database is only read)
up to a seq or a moment, and feeds each event through the same projection functions
that run live, into an empty database migrated to the same schema: a temporary SQLite
file or an in-memory SQLite database (``scratch_engine``). It returns the target
engine, the position replayed to and the chain hash at that position, so a report
computed from the replayed state can say which log range and head hash it came from.

The scratch database is replay's own, so replay writes it the cheap way: prepared
statements on its DB-API cursor (``prepared.Direct``), rows held and written a page
at a time (``projections.RowBuffer``: timeline rows, the response part's incident
rows), and the plain indexes of append-only tables built once at the end. What it
holds afterwards is what live projection wrote (docs/benchmarks.md, "Replay").

In-place rebuilding (truncate and replay the live read models) is ``replay.rebuild``.
Imported by ``muster replay`` (``muster.review.cli``), tests and ``bench/replay.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.pool import StaticPool

from muster.core.clock import isoformat_utc
from muster.core.eventlog.chain import GENESIS_HASH
from muster.core.eventlog.prepared import DIRECT_OPTION, Direct
from muster.core.eventlog.projections import (
    BUFFER_OPTION,
    AppendRow,
    ProjectionSet,
    RowBuffer,
    save_position,
)
from muster.core.eventlog.store import Recorded, SqlEventStore
from muster.core.messages import Event
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
        # A replay is one long transaction: a page cache large enough for the read
        # models (256 MB at most, allocated as used) keeps SQLite from spilling
        # dirty pages to the file half-way through it.
        cursor.execute("PRAGMA cache_size=-262144")
        cursor.execute("PRAGMA temp_store=MEMORY")
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

    ``target`` must be migrated, its projected tables empty, and be replay's own
    (prepared statements run on its DB-API cursor: ``prepared.Direct``); None makes
    an in-memory one (``scratch_engine``). The replay stops before the first event
    past ``until_seq`` or recorded after ``until`` (the same rule as
    ``replay.rebuild``), so the target holds the read models exactly as live
    projection left them then. Timeline-like rows (``AppendRow``) and rows held by
    projectors (``RowBuffer.held``) are written a page of ``batch`` events at a time.
    """
    engine = target if target is not None else scratch_engine()
    limit_time = isoformat_utc(until) if until is not None else None
    store = SqlEventStore()
    with source.connect() as reader, reader.begin(), engine.connect() as writer:
        deferred = _drop_indexes(writer, _append_only_tables(projections))
        try:
            with writer.begin():
                last, count = _replay(
                    store.read_batches(reader, batch=batch),
                    projections,
                    writer,
                    stop_after=(until_seq, limit_time),
                    progress=progress,
                )
        finally:
            _create_indexes(writer, deferred)
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


def _replay(
    pages: Iterator[Iterator[Recorded]],
    projections: Sequence[ProjectionSet],
    writer: Connection,
    *,
    stop_after: tuple[int | None, str | None],
    progress: ReplayProgress | None,
) -> tuple[Recorded | None, int]:
    """Project the pages and save the positions, in the writer's transaction."""
    # The scratch connection is replay's alone: prepared statements skip
    # SQLAlchemy's per-call bookkeeping on it (core/eventlog/prepared.py), and
    # projectors may hold rows until the end of a page (projections.RowBuffer).
    direct = Direct(writer)
    rows = RowBuffer()
    last_seq: dict[str, int] = {}
    writer.execution_options(**{DIRECT_OPTION: direct, BUFFER_OPTION: rows})
    try:
        last, count = _replay_pages(
            pages,
            projections,
            writer,
            rows,
            stop_after=stop_after,
            progress=progress,
            last_seq=last_seq,
        )
    finally:
        direct.close()
        writer.execution_options(**{DIRECT_OPTION: None, BUFFER_OPTION: None})
    for projection in projections:
        save_position(writer, projection.name, last_seq.get(projection.name, 0))
    return last, count


def _append_only_tables(projections: Sequence[ProjectionSet]) -> set[str]:
    """Return the tables written by ``AppendRow`` projectors (read by none)."""
    return {
        projector.table.name
        for projection in projections
        for projectors in projection.handlers.values()
        for projector in projectors
        if isinstance(projector, AppendRow)
    }


def _drop_indexes(writer: Connection, tables: set[str]) -> list[str]:
    """Drop the plain indexes of append-only tables; return the SQL making them.

    Replay fills those tables without reading them (``AppendRow``): on the scratch
    SQLite database, building each index once at the end is cheaper than keeping it
    up to date row by row. Unique indexes stay (they check the rows).
    """
    if writer.dialect.name != "sqlite" or not tables:
        return []
    marks = ", ".join("?" for _ in tables)
    quote = writer.dialect.identifier_preparer.quote
    with writer.begin():
        found = writer.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index'"  # noqa: S608
            f" AND sql IS NOT NULL AND tbl_name IN ({marks}) ORDER BY name",
            tuple(sorted(tables)),
        ).all()
        deferred = [
            (name, sql)
            for name, sql in found
            if not sql.upper().startswith("CREATE UNIQUE")
        ]
        for name, _sql in deferred:
            writer.exec_driver_sql(f"DROP INDEX {quote(name)}")
    return [sql for _name, sql in deferred]


def _create_indexes(writer: Connection, statements: list[str]) -> None:
    """Create the indexes ``_drop_indexes`` dropped, as the schema had them."""
    if statements:
        with writer.begin():
            for sql in statements:
                writer.exec_driver_sql(sql)


def _replay_pages(
    pages: Iterator[Iterator[Recorded]],
    projections: Sequence[ProjectionSet],
    conn: Connection,
    rows: RowBuffer,
    *,
    stop_after: tuple[int | None, str | None],
    progress: ReplayProgress | None,
    last_seq: dict[str, int],
) -> tuple[Recorded | None, int]:
    """Project pages until the limit; return the last event projected and the count."""
    until_seq, limit_time = stop_after
    routes: dict[type[Event], list[ProjectionSet]] = {}
    last: Recorded | None = None
    count = 0
    for page in pages:
        stop = False
        for recorded in page:
            envelope = recorded.envelope
            if (until_seq is not None and envelope.seq > until_seq) or (
                limit_time is not None and envelope.recorded_at > limit_time
            ):
                stop = True
                break
            event = recorded.event
            sets = routes.get(type(event))
            if sets is None:  # the sets handling this class, found once per class
                sets = routes[type(event)] = [
                    p for p in projections if type(event) in p.handlers
                ]
            for projection in sets:
                if projection.project(event, envelope, conn, rows):
                    last_seq[projection.name] = envelope.seq
            last = recorded
            count += 1
        rows.flush(conn)  # the page's held rows; timeline rows one executemany each
        if progress is not None and last is not None:
            progress(count, last.envelope.seq)
        if stop:
            break
    return last, count


__all__ = [
    "DEFAULT_BATCH",
    "ReplayProgress",
    "Replayed",
    "replay_into",
    "scratch_engine",
]
