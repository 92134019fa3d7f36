"""A drill's sandbox: an SQLite copy of the live log that a drill continues (ADR 0013).

``create_sandbox`` migrates ``<data_dir>/drills/<drill_id>.db``, copies every row of
the live log into it verbatim (same seq, body and hashes: the drill's chain continues
the live chain, so ``muster audit verify`` works on it) together with the state kept
outside the log (``state_tables``: credentials, the ingest batch store, workers'
cursors and secrets; ADR 0003, 0006, 0009), from one snapshot of the live database;
rebuilds the read models from the live log up to the copied head through the live
projections (``core.eventlog.replay_into``); creates the drill's own
checkpoint-signing key and signs a checkpoint of the copied head with it. The live
database is only read.

Copying rows is the one place outside the unit of work that inserts into a log table:
it writes the exact stored bytes of another chain, never new events. Only the stored
columns are copied; the rest are generated from ``body`` (ADR 0002).
Imported by ``muster.drills.runner`` and ``muster.drills.cli``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, Table, Text, cast, insert, select
from sqlalchemy.engine import Connection

from muster.bootstrap import PROJECTIONS
from muster.core.clock import Clock, isoformat_utc
from muster.core.db import WRITE_OPTION, make_engine, metadata
from muster.core.errors import ConfigurationError
from muster.core.eventlog.replay_into import replay_into
from muster.core.eventlog.signing import SigningKey, create_signing_key
from muster.core.eventlog.store import SqlEventStore
from muster.core.eventlog.tables import events
from muster.core.migrate import upgrade
from muster.core.uow import write_checkpoint
from muster.settings import Settings

COPY_BATCH = 2000
_LOG_TABLES = frozenset({"events", "checkpoints", "projection_positions"})
CopyProgress = Callable[[int, int], None]
"""Called after each copied batch with (last seq copied, live head seq)."""


@dataclass(frozen=True, slots=True)
class Sandbox:
    """A drill's sandbox database and the settings of its deployment."""

    drill_id: str
    path: Path
    key_path: Path
    settings: Settings
    """The live settings with the sandbox's database, signing key and drill id."""
    live_head_seq: int
    live_head_hash: bytes


def sandbox_folder(settings: Settings) -> Path:
    """Return the folder holding a deployment's drill sandboxes."""
    return settings.data_dir / "drills"


def sandbox_settings(settings: Settings, drill_id: str) -> Settings:
    """Return the settings of a drill's sandbox deployment (the live ones otherwise)."""
    folder = sandbox_folder(settings).resolve()
    return settings.model_copy(
        update={
            "database_url": f"sqlite:///{folder / f'{drill_id}.db'}",
            "signing_key_file": folder / f"{drill_id}.key.pem",
            "drill_id": drill_id,
        }
    )


def create_sandbox(
    live: Engine,
    settings: Settings,
    *,
    drill_id: str,
    clock: Clock,
    progress: CopyProgress | None = None,
) -> Sandbox:
    """Create the sandbox of a drill from the live log as it stands now."""
    if settings.drill_id is not None:
        raise ConfigurationError("a drill cannot start inside another drill's sandbox")
    target = sandbox_settings(settings, drill_id)
    path = Path(target.effective_database_url.removeprefix("sqlite:///"))
    key_path = target.effective_signing_key_file
    if path.exists() or key_path.exists():
        raise ConfigurationError(f"drill sandbox {path} already exists", path=str(path))
    engine = make_engine(target.effective_database_url)
    try:
        upgrade(engine)
        head_seq, head_hash = _copy_log(live, engine, progress)
        replay_into(live, PROJECTIONS, target=engine, until_seq=head_seq)
        sign_head(engine, create_signing_key(key_path), clock=clock)
    except BaseException:
        engine.dispose()
        remove_sandbox(path, key_path)
        raise
    engine.dispose()
    return Sandbox(
        drill_id=drill_id,
        path=path,
        key_path=key_path,
        settings=target,
        live_head_seq=head_seq,
        live_head_hash=head_hash,
    )


def sign_head(engine: Engine, key: SigningKey, *, clock: Clock) -> int:
    """Sign a checkpoint of the sandbox's head with the drill's key, unless the head
    is empty or already signed; return the head's seq."""
    store = SqlEventStore()
    with engine.connect().execution_options(**{WRITE_OPTION: True}) as conn:
        conn.begin()
        seq, hash_ = store.head(conn)
        if seq and seq > store.last_checkpoint_seq(conn):
            created_at = isoformat_utc(clock.now())
            write_checkpoint(
                conn, store, key, seq=seq, hash_=hash_, created_at=created_at
            )
        conn.commit()
    return seq


def remove_sandbox(path: Path, key_path: Path) -> None:
    """Delete a sandbox database (with its WAL files) and its key."""
    for item in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), key_path):
        with contextlib.suppress(FileNotFoundError):
            item.unlink()


def state_tables() -> list[Table]:
    """Return the tables that hold state outside the log: every table no projection
    set owns (credentials, the ingest batch store, workers' cursors and secrets),
    except the log's own, in dependency order."""
    owned = {table.name for projection in PROJECTIONS for table in projection.tables}
    return [
        table
        for table in metadata.sorted_tables
        if table.name not in owned and table.name not in _LOG_TABLES
    ]


def _copy_log(
    live: Engine, sandbox: Engine, progress: CopyProgress | None
) -> tuple[int, bytes]:
    """Copy the live log's stored rows up to its head, and the state kept outside
    the log, from one snapshot of the live database; return the head."""
    store = SqlEventStore()
    reader = live.connect()
    if live.dialect.name == "postgresql":
        # One snapshot, so batch-store rows and cursors agree with the copied head
        # (SQLite's read transaction already is one in WAL mode).
        reader = reader.execution_options(isolation_level="REPEATABLE READ")
    with reader, reader.begin():
        head_seq, head_hash = store.head(reader)
        with sandbox.connect().execution_options(**{WRITE_OPTION: True}) as writer:
            writer.begin()
            _copy_events(reader, writer, head_seq, progress)
            for table in state_tables():
                _copy_table(reader, writer, table)
            writer.commit()
    return head_seq, head_hash


def _copy_events(
    reader: Connection, writer: Connection, head_seq: int, progress: CopyProgress | None
) -> None:
    query = select(
        events.c.seq, cast(events.c.body, Text), events.c.prev_hash, events.c.hash
    ).order_by(events.c.seq)
    after = 0
    while after < head_seq:
        page = reader.execute(
            query.where(events.c.seq > after, events.c.seq <= head_seq).limit(
                COPY_BATCH
            )
        ).all()
        if not page:
            break
        writer.execute(
            insert(events),
            [
                {
                    "seq": seq,
                    "body": body,
                    "prev_hash": bytes(prev),
                    "hash": bytes(hash_),
                }
                for seq, body, prev, hash_ in page
            ],
        )
        after = int(page[-1][0])
        if progress is not None:
            progress(after, head_seq)


def _copy_table(reader: Connection, writer: Connection, table: Table) -> None:
    result = reader.execution_options(yield_per=COPY_BATCH).execute(select(table))
    for part in result.partitions():
        writer.execute(insert(table), [dict(row._mapping) for row in part])


__all__ = [
    "COPY_BATCH",
    "CopyProgress",
    "Sandbox",
    "create_sandbox",
    "remove_sandbox",
    "sandbox_folder",
    "sandbox_settings",
    "sign_head",
    "state_tables",
]
