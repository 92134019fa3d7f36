"""Replayed scratch databases for the review pages, cached by the seq replayed to.

Imported by ``muster.review.replay_pages`` (and tests). Building the state at a seq
replays the live log from its start into an in-memory database through the live
projections (``muster.core.eventlog.replay_into``; the live database is only read),
which takes a while on a long log, and a reviewer scrubbing back and forth asks for
the same few positions again. So the process keeps the last ``size`` replayed
databases, keyed by the database they came from and the seq replayed to.

``replay_into`` cannot continue an earlier replay (it needs an empty target and reads
from seq 1), so a later seq is a new replay rather than an extension of a cached one.
The log is append-only and chained, so the state at a seq never changes; a cached
entry is still checked against the live chain hash at its seq (a database rebuilt at
the same URL must not be served from the cache).

Thread-safe: FastAPI runs sync endpoints in threads. One thread builds an entry while
others asking for the same seq wait for it; reads of one entry are serialised (its
in-memory SQLite database is one shared connection); an evicted entry is disposed of
when its last reader is done.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Engine, func, select
from sqlalchemy.engine import Connection

from muster.core.clock import isoformat_utc
from muster.core.eventlog.chain import GENESIS_HASH
from muster.core.eventlog.projections import ProjectionSet
from muster.core.eventlog.replay_into import Replayed, replay_into
from muster.core.eventlog.tables import events

T = TypeVar("T")
StateReader = Callable[[Connection, Replayed], T]

DEFAULT_SIZE = 2


def seq_at(conn: Connection, moment: datetime) -> int:
    """Return the last seq a replay up to ``moment`` includes (0 before the log).

    ``replay_into`` stops before the first event recorded after the moment, so this
    is that event's seq minus one (or the head when every event is before it).
    """
    first_after = conn.execute(
        select(func.min(events.c.seq)).where(
            events.c.recorded_at > isoformat_utc(moment)
        )
    ).scalar_one()
    if first_after is not None:
        return int(first_after) - 1
    head = conn.execute(select(func.max(events.c.seq))).scalar_one()
    return int(head or 0)


def hash_at(conn: Connection, seq: int) -> bytes | None:
    """Return the chain hash at a seq (the genesis hash at 0; None past the head)."""
    if seq == 0:
        return GENESIS_HASH
    found = conn.execute(select(events.c.hash).where(events.c.seq == seq)).scalar()
    return bytes(found) if found is not None else None


@dataclass(eq=False)
class _Entry:
    """One cached replay: built once, read under its own lock."""

    key: tuple[str, int]
    ready: threading.Event = field(default_factory=threading.Event)
    reading: threading.Lock = field(default_factory=threading.Lock)
    replayed: Replayed | None = None
    error: BaseException | None = None
    users: int = 0
    is_evicted: bool = False


class ReplayCache:
    """The last few replayed databases, by (source database, seq replayed to)."""

    def __init__(self, *, size: int = DEFAULT_SIZE) -> None:
        if size < 1:
            raise ValueError("the cache must hold at least one replay")
        self.size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, int], _Entry] = OrderedDict()
        self.builds = 0
        """How many replays were built (tests and operators see the cache work)."""

    def cached_seqs(self, source: Engine) -> list[int]:
        """Return the seqs cached for a source, least recently used first."""
        url = _url(source)
        with self._lock:
            return [seq for (key_url, seq) in self._entries if key_url == url]

    def read_state(
        self,
        source: Engine,
        projections: Sequence[ProjectionSet],
        *,
        seq: int,
        expected_hash: bytes | None = None,
        reader: StateReader[T],
    ) -> T:
        """Call ``reader`` on the state replayed up to ``seq`` and return its result.

        ``seq`` must not be past the head of the log. With ``expected_hash`` (the
        live chain hash at ``seq``) a cached replay whose hash differs is rebuilt.
        """
        entry, is_builder = self._claim(_url(source), seq, expected_hash)
        try:
            if is_builder:
                self._build(entry, source, projections, seq)
            entry.ready.wait()
            if entry.error is not None:
                raise entry.error
            replayed = entry.replayed
            assert replayed is not None  # noqa: S101 - set before ready, without error
            with entry.reading, replayed.engine.connect() as conn:
                return reader(conn, replayed)
        finally:
            self._release(entry)

    def clear(self) -> None:
        """Drop every cached replay (each is disposed of when no one reads it)."""
        with self._lock:
            doomed = list(self._entries.values())
            self._entries.clear()
            for entry in doomed:
                entry.is_evicted = True
            disposable = [entry for entry in doomed if entry.users == 0]
        for entry in disposable:
            _dispose(entry)

    def _claim(
        self, url: str, seq: int, expected_hash: bytes | None
    ) -> tuple[_Entry, bool]:
        key = (url, seq)
        stale: _Entry | None = None
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and _is_stale(entry, expected_hash):
                stale = self._entries.pop(key)
                stale.is_evicted = True
                entry = None
            is_builder = entry is None
            if entry is None:
                entry = _Entry(key=key)
                self._entries[key] = entry
            self._entries.move_to_end(key)
            entry.users += 1
            evicted = self._evict_locked()
            if stale is not None and stale.users == 0:
                evicted.append(stale)
        for old in evicted:
            _dispose(old)
        return entry, is_builder

    def _build(
        self,
        entry: _Entry,
        source: Engine,
        projections: Sequence[ProjectionSet],
        seq: int,
    ) -> None:
        try:
            entry.replayed = replay_into(source, projections, until_seq=seq)
            self.builds += 1
        except BaseException as error:
            entry.error = error
            with self._lock:  # a failed build is not cached: the next asker retries
                if self._entries.get(entry.key) is entry:
                    del self._entries[entry.key]
                entry.is_evicted = True
        finally:
            entry.ready.set()

    def _evict_locked(self) -> list[_Entry]:
        """Drop the least recently used entries beyond the size; return the idle."""
        idle: list[_Entry] = []
        while len(self._entries) > self.size:
            _key, oldest = self._entries.popitem(last=False)
            oldest.is_evicted = True
            if oldest.users == 0:
                idle.append(oldest)
        return idle

    def _release(self, entry: _Entry) -> None:
        with self._lock:
            entry.users -= 1
            is_done = entry.is_evicted and entry.users == 0
        if is_done:
            _dispose(entry)


def _is_stale(entry: _Entry, expected_hash: bytes | None) -> bool:
    replayed = entry.replayed
    if expected_hash is None or replayed is None:
        return False  # still building (its hash is checked by the next asker)
    return replayed.head_hash != expected_hash


def _url(source: Engine) -> str:
    return source.url.render_as_string(hide_password=True)


def _dispose(entry: _Entry) -> None:
    if entry.replayed is not None:
        entry.replayed.engine.dispose()


CACHE = ReplayCache()
"""The process-wide cache the review pages use."""

__all__ = [
    "CACHE",
    "DEFAULT_SIZE",
    "ReplayCache",
    "StateReader",
    "hash_at",
    "seq_at",
]
