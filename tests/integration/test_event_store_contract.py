"""The EventStore contract, run on SqlEventStore (this suite's database) and the fake.

``EventStoreContract`` holds the behaviour; each subclass only says how to open a
store and a transaction (eventsourcing's pattern, R9).
"""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from muster.core.db import WRITE_OPTION, make_engine
from muster.core.errors import ConcurrencyConflict
from muster.core.eventlog.chain import GENESIS_HASH, ChainRow, canonical_bytes
from muster.core.eventlog.store import NewEvent, Recorded, SqlEventStore
from tests.fakes import InMemoryEventStore, ThingHappened

OCCURRED_AT = "2026-03-01T07:59:59.000000Z"
RECORDED_AT = "2026-03-01T08:00:00.000000Z"
UNICODE_NAME = 'Zoë 张三 🚒 "quoted" back\\slash\nnew line \u0007 bell'


def _thing(stream_id: str, version: int, *, name: str = "widget") -> NewEvent:
    return NewEvent(
        event=ThingHappened(thing_id=stream_id, name=name, count=version),
        stream_id=stream_id,
        stream_version=version,
        event_id=str(uuid.uuid4()),
        occurred_at=OCCURRED_AT,
        actor_kind="system",
        actor_id="muster",
        actor_department=None,
        metadata={"is_exercise": False},
    )


class Backend:
    """A store plus the transaction control its tests need."""

    def __init__(self, store: Any, conn: Any = None) -> None:
        self.store = store
        self.conn = conn

    def append(self, *new_events: NewEvent) -> list[Recorded]:
        """Append events in the current transaction."""
        return list(
            self.store.append(self.conn, list(new_events), recorded_at=RECORDED_AT)
        )

    def commit(self) -> None:
        """Commit and start the next transaction."""

    def rollback(self) -> None:
        """Roll back and start the next transaction."""

    def chain_rows(self) -> list[ChainRow]:
        """Return the stored (seq, prev_hash, hash, body bytes) rows."""
        return list(self.store.chain_rows(self.conn))


class SqlBackend(Backend):
    """SqlEventStore on a real connection with an explicit write transaction."""

    def commit(self) -> None:
        """Commit and start the next transaction."""
        self.conn.commit()
        self.conn.begin()

    def rollback(self) -> None:
        """Roll back and start the next transaction."""
        self.conn.rollback()
        self.conn.begin()


class EventStoreContract:
    """Behaviour every EventStore must show; subclasses provide ``backend``."""

    @pytest.fixture
    def backend(self) -> Backend:
        """Return the store under test (overridden by each subclass)."""
        raise NotImplementedError

    def test_head_of_empty_store_is_genesis(self, backend: Backend) -> None:
        """An empty store's head is seq 0 with the 32-zero-byte genesis hash."""
        store = backend.store

        head = store.head(backend.conn)

        assert head == (0, GENESIS_HASH)

    def test_append_assigns_consecutive_seqs_and_links_hashes(
        self, backend: Backend
    ) -> None:
        """Appends get seqs 1, 2, 3, ... and each prev_hash is the previous hash."""
        first = backend.append(_thing("thing-a", 1), _thing("thing-b", 1))
        backend.commit()

        second = backend.append(_thing("thing-a", 2), _thing("thing-c", 1))
        backend.commit()

        recorded = first + second
        assert [item.envelope.seq for item in recorded] == [1, 2, 3, 4]
        rows = backend.chain_rows()
        assert [row[0] for row in rows] == [1, 2, 3, 4]
        assert [row[1] for row in rows] == [GENESIS_HASH] + [
            row[2] for row in rows[:-1]
        ]
        assert [row[2] for row in rows] == [item.hash for item in recorded]
        assert backend.store.head(backend.conn) == (4, recorded[-1].hash)

    def test_empty_append_changes_nothing(self, backend: Backend) -> None:
        """Appending no events returns nothing and leaves the head alone."""
        store = backend.store

        recorded = backend.append()

        assert recorded == []
        assert store.head(backend.conn) == (0, GENESIS_HASH)

    def test_read_stream_returns_only_that_stream_in_version_order(
        self, backend: Backend
    ) -> None:
        """Interleaved streams read back separately, each in stream-version order."""
        backend.append(_thing("thing-a", 1, name="a1"), _thing("thing-b", 1))
        backend.append(_thing("thing-a", 2, name="a2"))
        backend.append(_thing("thing-b", 2), _thing("thing-a", 3, name="a3"))
        backend.commit()

        stream = backend.store.read_stream(backend.conn, "thing-a")

        assert [item.envelope.stream_version for item in stream] == [1, 2, 3]
        assert [item.envelope.seq for item in stream] == [1, 3, 5]
        assert [item.event for item in stream] == [
            ThingHappened(thing_id="thing-a", name=name, count=count)
            for count, name in enumerate(("a1", "a2", "a3"), start=1)
        ]
        assert backend.store.read_stream(backend.conn, "thing-z") == []

    def test_read_all_returns_events_after_a_position(self, backend: Backend) -> None:
        """read_all(after=k) starts at seq k+1 and honours the limit."""
        backend.append(*[_thing(f"thing-{index}", 1) for index in range(5)])
        backend.commit()

        after_two = backend.store.read_all(backend.conn, after=2)

        assert [item.envelope.seq for item in after_two] == [3, 4, 5]
        limited = backend.store.read_all(backend.conn, after=2, limit=1)
        assert [item.envelope.seq for item in limited] == [3]
        assert backend.store.read_all(backend.conn, after=5) == []
        everything = backend.store.read_all(backend.conn)
        assert [item.envelope.stream_id for item in everything] == [
            f"thing-{index}" for index in range(5)
        ]

    def test_duplicate_stream_version_conflicts_and_appends_nothing(
        self, backend: Backend
    ) -> None:
        """A batch reusing a taken stream version is refused as a whole."""
        (original,) = backend.append(_thing("thing-a", 1, name="first"))
        backend.commit()

        with pytest.raises(ConcurrencyConflict):
            backend.append(_thing("thing-b", 1), _thing("thing-a", 1, name="second"))
        backend.rollback()

        assert backend.store.head(backend.conn) == (1, original.hash)
        assert backend.store.read_stream(backend.conn, "thing-b") == []
        (only,) = backend.store.read_stream(backend.conn, "thing-a")
        assert only.event == original.event

    def test_duplicate_version_within_one_batch_conflicts(
        self, backend: Backend
    ) -> None:
        """Two events claiming the same stream version in one batch are refused."""
        batch = (_thing("thing-a", 1), _thing("thing-a", 1))

        with pytest.raises(ConcurrencyConflict):
            backend.append(*batch)
        backend.rollback()

        assert backend.store.head(backend.conn) == (0, GENESIS_HASH)

    def test_unicode_payload_round_trips_exactly(self, backend: Backend) -> None:
        """Non-ASCII, quotes, backslashes and control characters come back unchanged."""
        backend.append(_thing("thing-u", 1, name=UNICODE_NAME))
        backend.commit()

        (read,) = backend.store.read_stream(backend.conn, "thing-u")

        assert read.event == ThingHappened(
            thing_id="thing-u", name=UNICODE_NAME, count=1
        )
        assert read.envelope.data["name"] == UNICODE_NAME
        assert read.envelope.recorded_at == RECORDED_AT

    def test_stored_body_bytes_hash_to_stored_hash(self, backend: Backend) -> None:
        """Each stored body is the canonical envelope and hashes to the stored hash."""
        recorded = backend.append(
            _thing("thing-u", 1, name=UNICODE_NAME), _thing("thing-u", 2)
        )
        backend.commit()

        rows = backend.chain_rows()

        for (_seq, prev_hash, hash_, body), item in zip(rows, recorded, strict=True):
            assert body == canonical_bytes(dataclasses.asdict(item.envelope))
            assert hashlib.sha256(prev_hash + body).digest() == hash_
        assert "张三 🚒".encode() in rows[0][3]


class TestSqlEventStore(EventStoreContract):
    """The contract on SqlEventStore, on SQLite or PostgreSQL as the suite runs."""

    @pytest.fixture
    def backend(self, database_url: str) -> Iterator[Backend]:
        """Return SqlEventStore inside an open write transaction on a fresh database."""
        engine = make_engine(database_url)
        conn = engine.connect().execution_options(**{WRITE_OPTION: True})
        conn.begin()
        yield SqlBackend(SqlEventStore(), conn)
        conn.close()
        engine.dispose()


class TestInMemoryEventStore(EventStoreContract):
    """The contract on the in-memory fake used by unit tests."""

    @pytest.fixture
    def backend(self) -> Backend:
        """Return a fresh in-memory store."""
        return Backend(InMemoryEventStore())
