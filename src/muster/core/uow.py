"""The unit of work: the only way into the log (R7).

One transaction appends events to the chain, runs the synchronous projections, records
projection positions, writes a signed checkpoint when one is due, and commits.
Imported by bootstrap and by handlers (as a type).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from muster.core.clock import Clock, isoformat_utc
from muster.core.db import WRITE_OPTION
from muster.core.errors import ConfigurationError
from muster.core.eventlog.chain import CheckpointRow, sign_checkpoint
from muster.core.eventlog.projections import ProjectionSet, save_position
from muster.core.eventlog.signing import SigningKey
from muster.core.eventlog.store import NewEvent, Recorded, SqlEventStore
from muster.core.messages import Actor, Event

NOTIFY_CHANNEL = "muster_events"


@dataclass(frozen=True, slots=True)
class LogContext:
    """What every unit of work shares: engine, store, clock, projections, signing."""

    engine: Engine
    store: SqlEventStore
    clock: Clock
    projections: Sequence[ProjectionSet]
    signing_key: SigningKey | None
    checkpoint_every: int
    on_commit: Callable[[int], None] | None = None
    default_metadata: Mapping[str, Any] | None = None
    """Envelope metadata of every event of this deployment, over any caller's (a
    drill sandbox: ``{"is_exercise": true, "drill_id": ...}``, ADR 0013)."""


class UnitOfWork:
    """One transaction: append + chain + projections (+ checkpoint), then commit."""

    def __init__(
        self,
        context: LogContext,
        *,
        actor: Actor,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.context = context
        self.actor = actor
        self.clock = context.clock
        # The deployment's metadata wins: no caller can take an event out of a drill.
        self.metadata = {**(metadata or {}), **(context.default_metadata or {})}
        self.new_events: list[Event] = []
        self.recorded: list[Recorded] = []
        self._conn: Connection | None = None
        self._committed = False
        self._touched: dict[str, int] = {}

    def __enter__(self) -> Self:
        conn = self.context.engine.connect().execution_options(**{WRITE_OPTION: True})
        conn.begin()
        self._conn = conn
        self.new_events = []
        self.recorded = []
        self._committed = False
        self._touched = {}
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        conn = self._conn
        self._conn = None
        if conn is None:
            return
        try:
            if not self._committed:
                conn.rollback()
        finally:
            conn.close()

    @property
    def conn(self) -> Connection:
        """Return the open transaction's connection (for reading own read models)."""
        if self._conn is None:
            raise RuntimeError("unit of work used outside its 'with' block")
        return self._conn

    def stream_version(self, stream_id: str) -> int:
        """Return a stream's current version (0 when it has no events)."""
        return self.context.store.stream_version(self.conn, stream_id)

    def append(
        self, stream_id: str, events: Sequence[Event], *, expected_version: int
    ) -> list[Recorded]:
        """Append events to a stream whose current version must be expected_version."""
        return self.append_many([(stream_id, events, expected_version)])

    def append_many(
        self, batches: Sequence[tuple[str, Sequence[Event], int]]
    ) -> list[Recorded]:
        """Append to several streams at once: (stream, events, expected version).

        One chain-head read and one insert for all of them (a timer tick may touch
        hundreds of task streams); projections then run event by event, in order.
        """
        now = isoformat_utc(self.clock.now())
        new = [
            NewEvent(
                event=event,
                stream_id=stream_id,
                stream_version=expected_version + index,
                event_id=str(uuid.uuid4()),
                occurred_at=now,
                actor_kind=self.actor.kind,
                actor_id=self.actor.id,
                actor_department=self.actor.department,
                metadata=self.metadata,
            )
            for stream_id, events, expected_version in batches
            for index, event in enumerate(events, start=1)
        ]
        recorded = self.context.store.append(self.conn, new, recorded_at=now)
        for item in recorded:
            for projection in self.context.projections:
                if projection.project(item.event, item.envelope, self.conn):
                    self._touched[projection.name] = item.envelope.seq
        self.new_events.extend(item.event for item in recorded)
        self.recorded.extend(recorded)
        return recorded

    def commit(self) -> None:
        """Record projection positions, checkpoint if due, notify, and commit."""
        conn = self.conn
        for name, position in self._touched.items():
            save_position(conn, name, position)
        if self.recorded:
            first = self.recorded[0].envelope.seq
            last = self.recorded[-1]
            every = self.context.checkpoint_every
            if (first - 1) // every != last.envelope.seq // every:
                self._checkpoint(conn, last.envelope.seq, last.hash)
            if conn.dialect.name == "postgresql":
                # Reaches every worker's listener only when this transaction commits.
                conn.execute(
                    text("SELECT pg_notify(:channel, :payload)"),
                    {"channel": NOTIFY_CHANNEL, "payload": str(last.envelope.seq)},
                )
        conn.commit()
        self._committed = True
        if self.recorded and self.context.on_commit is not None:
            self.context.on_commit(self.recorded[-1].envelope.seq)

    def _checkpoint(self, conn: Connection, seq: int, hash_: bytes) -> None:
        key = self.context.signing_key
        if key is None:
            raise ConfigurationError(
                "a checkpoint is due but there is no signing key; run `muster init`"
            )
        write_checkpoint(
            conn,
            self.context.store,
            key,
            seq=seq,
            hash_=hash_,
            created_at=isoformat_utc(self.clock.now()),
        )


class SharedUnitOfWork(UnitOfWork):
    """A unit of work several handlers enter in turn; only the outermost commit counts.

    Handlers open ``with uow:`` and call ``uow.commit()`` as usual; nested inside a
    batch both are no-ops, and the batch commits or rolls back everything at once
    (``MessageBus.handle_batch``: a pack loads completely or not at all).
    """

    def __init__(
        self,
        context: LogContext,
        *,
        actor: Actor,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(context, actor=actor, metadata=metadata)
        self._depth = 0

    def __enter__(self) -> Self:
        if self._depth == 0:
            super().__enter__()
        self._depth += 1
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if self._depth == 0:
            super().__exit__(exc_type, exc, traceback)

    def commit(self) -> None:
        """Commit only when called by the outermost block."""
        if self._depth == 1:
            super().commit()


def write_checkpoint(
    conn: Connection,
    store: SqlEventStore,
    key: SigningKey,
    *,
    seq: int,
    hash_: bytes,
    created_at: str,
) -> CheckpointRow:
    """Sign and store a checkpoint of the chain at seq."""
    identifier, signature = sign_checkpoint(
        key.private_key, seq=seq, hash_=hash_, created_at=created_at
    )
    row = CheckpointRow(
        seq=seq,
        hash=hash_,
        created_at=created_at,
        key_id=identifier,
        signature=signature,
    )
    store.add_checkpoint(conn, row)
    return row


__all__ = [
    "NOTIFY_CHANNEL",
    "LogContext",
    "SharedUnitOfWork",
    "UnitOfWork",
    "write_checkpoint",
]
