"""Hand-written fakes of Muster's ports, shared by unit and integration tests (R18).

Each fake implements the real Protocol and passes the same contract as the real
adapter (tests/integration/test_event_store_contract.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from muster.core.errors import ConcurrencyConflict
from muster.core.eventlog.chain import GENESIS_HASH, ChainRow, canonical_bytes, link
from muster.core.eventlog.store import Envelope, NewEvent, Recorded, envelope_dict
from muster.core.messages import Event, event_from_data, event_type


@event_type("test.ThingHappened", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class ThingHappened(Event):
    """Something happened to a test thing (test-only event type)."""

    thing_id: str
    name: str
    count: int = 0


@dataclass(frozen=True, slots=True)
class _StoredEvent:
    seq: int
    prev_hash: bytes
    hash: bytes
    body: bytes
    stream_id: str
    stream_version: int
    event_id: str


class InMemoryEventStore:
    """An ``EventStore`` that keeps the chain in a list; the connection is ignored.

    It stores the exact canonical bytes and hashes them with ``chain.py``, like
    ``SqlEventStore``. An append is all-or-nothing: a duplicate stream version (or
    event id) raises ``ConcurrencyConflict`` before anything is stored.
    """

    def __init__(self) -> None:
        self._rows: list[_StoredEvent] = []

    def append(
        self, conn: Any, new_events: Sequence[NewEvent], *, recorded_at: str
    ) -> list[Recorded]:
        """Append events at the head of the chain."""
        del conn
        if not new_events:
            return []
        self._refuse_duplicates(new_events)
        seq, prev_hash = self.head(None)
        staged: list[_StoredEvent] = []
        recorded: list[Recorded] = []
        for new in new_events:
            seq += 1
            envelope = envelope_dict(new, seq=seq, recorded_at=recorded_at)
            body = canonical_bytes(envelope)
            hash_ = link(prev_hash, body)
            staged.append(
                _StoredEvent(
                    seq=seq,
                    prev_hash=prev_hash,
                    hash=hash_,
                    body=body,
                    stream_id=new.stream_id,
                    stream_version=new.stream_version,
                    event_id=new.event_id,
                )
            )
            recorded.append(
                Recorded(envelope=Envelope(**envelope), event=new.event, hash=hash_)
            )
            prev_hash = hash_
        self._rows.extend(staged)
        return recorded

    def read_stream(self, conn: Any, stream_id: str) -> list[Recorded]:
        """Return the events of one stream in stream-version order."""
        del conn
        rows = [row for row in self._rows if row.stream_id == stream_id]
        rows.sort(key=lambda row: row.stream_version)
        return [_recorded(row) for row in rows]

    def read_all(
        self, conn: Any, *, after: int = 0, limit: int | None = None
    ) -> list[Recorded]:
        """Return events after a position, in seq order."""
        del conn
        rows = [row for row in self._rows if row.seq > after]
        if limit is not None:
            rows = rows[:limit]
        return [_recorded(row) for row in rows]

    def head(self, conn: Any) -> tuple[int, bytes]:
        """Return the last seq and its hash (0 and the genesis hash when empty)."""
        del conn
        if not self._rows:
            return 0, GENESIS_HASH
        last = self._rows[-1]
        return last.seq, last.hash

    def chain_rows(self, conn: Any) -> Iterator[ChainRow]:
        """Yield (seq, prev_hash, hash, body bytes) in seq order, as stored."""
        del conn
        for row in self._rows:
            yield row.seq, row.prev_hash, row.hash, row.body

    def _refuse_duplicates(self, new_events: Sequence[NewEvent]) -> None:
        versions = {(row.stream_id, row.stream_version) for row in self._rows}
        event_ids = {row.event_id for row in self._rows}
        for new in new_events:
            key = (new.stream_id, new.stream_version)
            if key in versions or new.event_id in event_ids:
                raise ConcurrencyConflict(
                    "another writer changed the stream first; retry",
                    stream=new.stream_id,
                )
            versions.add(key)
            event_ids.add(new.event_id)


def _recorded(row: _StoredEvent) -> Recorded:
    # Rebuilt from the stored bytes, as SqlEventStore does, so round trips are honest.
    envelope = Envelope(**json.loads(row.body.decode("utf-8")))
    event: Event = event_from_data(envelope.type, envelope.version, envelope.data)
    return Recorded(envelope=envelope, event=event, hash=row.hash)


__all__ = ["InMemoryEventStore", "ThingHappened"]
