"""1,000 randomized tamperings of a real log: each is detected at the right seq (R8).

A ~300-event log is built through the real bus. Each round tampers with the log, runs
``verify_log`` and checks that it fails at the seq the test derives from what it
changed. SQLite: every round works on a fresh file copy of the log. PostgreSQL: one
``CREATE DATABASE ... TEMPLATE`` per round took 0.2-0.5 s here (over 3 minutes for the
set), so each round commits its tampering, verifies, then commits the exact inverse;
every 100 rounds the log must verify ok and equal the original row for row.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
import shutil
import string
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from sqlalchemy import Engine, delete, event, insert, update

from muster.bootstrap import Muster
from muster.core.clock import isoformat_utc
from muster.core.db import WRITE_OPTION, make_engine
from muster.core.eventlog.audit import verify_log
from muster.core.eventlog.chain import (
    GENESIS_HASH,
    CheckpointRow,
    VerificationReport,
    verify_checkpoints,
    verify_rows,
)
from muster.core.eventlog.store import SqlEventStore
from muster.core.eventlog.tables import checkpoints, events
from muster.core.uow import write_checkpoint
from tests import factories

ROUNDS = 1000
SEED = 2026
INCIDENTS = 298  # + 3 departments + 3 users x 2 events = a 307-event log

EDIT_BODY = "edit_body"
DELETE_ROW = "delete_row"
INSERT_NAIVE = "insert_naive"
INSERT_FORGED = "insert_forged"
SWAP_ROWS = "swap_rows"
CHECKPOINT_HASH = "checkpoint_hash"
CHECKPOINT_SIGNATURE = "checkpoint_signature"
CHECKPOINT_SEQ = "checkpoint_seq"
KINDS = (
    EDIT_BODY,
    DELETE_ROW,
    INSERT_NAIVE,
    INSERT_FORGED,
    SWAP_ROWS,
    CHECKPOINT_HASH,
    CHECKPOINT_SIGNATURE,
    CHECKPOINT_SEQ,
)
ALPHANUMERIC = string.ascii_letters + string.digits


@dataclass(frozen=True, slots=True)
class Details:
    """What a tampering changed, in the terms ``expected_first_bad`` needs."""

    seq: int  # the event seq, insert position or checkpoint seq that was touched
    head: int  # the last seq of the untouched log
    checkpoint_seqs: frozenset[int]  # seqs of the untouched log's checkpoints
    other_seq: int = 0  # swap: the second row (greater than seq)
    new_seq: int = 0  # checkpoint_seq: the seq the checkpoint was moved to


def expected_first_bad(kind: str, details: Details) -> int:
    """Return the seq that verification must name first for a tampering.

    Rules (the verifier walks seq 1..N, stops at the first break, then checks
    checkpoints; a checkpoint at or after a break adds no earlier failure):

    - edit_body at s: rows before s are intact; row s's bytes no longer hash to its
      stored hash -> s.
    - delete_row s: seqs 1..s-1 are intact and s is missing -> s. When s was the
      head, the chain itself is intact, but the final checkpoint at the old head
      (written by this test) now lies beyond the end of the log -> its seq, = s.
    - insert_naive at p (later rows shifted up by one, forged row with random
      prev_hash and hash at p, 1 <= p <= N+1): row p's prev_hash is not the hash of
      p-1 -> p.
    - insert_forged at p (forged row at p with prev_hash = hash of p-1 and
      hash = sha256(prev_hash || body), 1 <= p <= N): row p verifies, so the break is
      the shifted original row at p+1, whose prev_hash is still hash(p-1) -> p+1;
      except when a checkpoint sits at p: the chain's hash at p is now the forged
      hash, which differs from the signed one -> p. (An append at N+1 is a valid
      extension of the chain, so it is not a tampering and is never generated.)
    - swap_rows a < b (body, prev_hash and hash exchanged, seqs kept): row a carries
      prev_hash = hash(b-1), not hash(a-1) -> a.
    - checkpoint_hash / checkpoint_signature at c: the signature no longer matches
      the signed message, and the chain is intact -> c.
    - checkpoint_seq c -> c': the seq is part of the signed message, so the
      signature fails and the checkpoint is reported at the seq it now has -> c'.
    """
    if kind == INSERT_FORGED:
        return (
            details.seq if details.seq in details.checkpoint_seqs else details.seq + 1
        )
    if kind == CHECKPOINT_SEQ:
        return details.new_seq
    if kind in KINDS:
        return details.seq
    raise ValueError(f"unknown tampering {kind!r}")


@dataclass(frozen=True, slots=True)
class Tampering:
    """One tampering: its kind, what it touched, the statements and their inverse."""

    kind: str
    details: Details
    statements: list[Any] = field(default_factory=list)
    undo: list[Any] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Log:
    """The untouched log as stored: rows by seq and checkpoints."""

    rows: dict[int, tuple[bytes, bytes, str]]  # seq -> (prev_hash, hash, body text)
    checkpoints: list[CheckpointRow]

    @property
    def head(self) -> int:
        """Return the last seq."""
        return max(self.rows)

    @property
    def checkpoint_seqs(self) -> frozenset[int]:
        """Return the seqs that carry a checkpoint."""
        return frozenset(checkpoint.seq for checkpoint in self.checkpoints)

    def content(self, seq: int) -> dict[str, Any]:
        """Return the stored columns of one event, ready for INSERT or UPDATE."""
        prev_hash, hash_, body = self.rows[seq]
        return {"body": body, "prev_hash": prev_hash, "hash": hash_}

    def details(self, seq: int, **extra: int) -> Details:
        """Return the details of a tampering at seq."""
        return Details(
            seq=seq, head=self.head, checkpoint_seqs=self.checkpoint_seqs, **extra
        )


def _target_seq(rng: random.Random, log: Log, *, last: int) -> int:
    """Return a seq in 1..last, a boundary (ends, checkpoints +-1) one time in four."""
    if rng.random() < 0.25:
        near = {1, 2, last - 1, last} | {
            seq + step for seq in log.checkpoint_seqs for step in (-1, 0, 1)
        }
        return rng.choice(sorted(seq for seq in near if 1 <= seq <= last))
    return rng.randint(1, last)


def _edge_case(tampering: Tampering) -> str | None:
    """Name the boundary a tampering hits, if it hits one the rules treat apart."""
    kind, details = tampering.kind, tampering.details
    if kind == DELETE_ROW and details.seq == details.head:
        return "delete the head (caught by the final checkpoint)"
    if kind == INSERT_NAIVE and details.seq == details.head + 1:
        return "append a naive row after the head"
    if kind == INSERT_FORGED and details.seq in details.checkpoint_seqs:
        return "forge a consistent row at a checkpoint seq"
    if kind in (EDIT_BODY, DELETE_ROW, INSERT_NAIVE) and details.seq == 1:
        return "tamper with the first event"
    return None


def _string_positions(body: str) -> list[int]:
    """Return the positions of ASCII letters and digits inside JSON strings."""
    positions: list[int] = []
    inside = escaped = False
    for index, char in enumerate(body):
        if escaped:
            escaped = False  # \uXXXX digits are left alone: no \u escapes in our bodies
        elif char == "\\":
            escaped = True
        elif char == '"':
            inside = not inside
        elif inside and char in ALPHANUMERIC:
            positions.append(index)
    return positions


def _edit_body(rng: random.Random, log: Log) -> Tampering:
    # One ASCII character inside a JSON string changes: still valid JSON (PostgreSQL
    # stores body as json) and still valid UTF-8; generated columns just recompute.
    seq = _target_seq(rng, log, last=log.head)
    body = log.rows[seq][2]
    position = rng.choice(_string_positions(body))
    replacement = rng.choice(ALPHANUMERIC.replace(body[position], ""))
    edited = body[:position] + replacement + body[position + 1 :]
    where = events.c.seq == seq
    return Tampering(
        EDIT_BODY,
        log.details(seq),
        [update(events).where(where).values(body=edited)],
        [update(events).where(where).values(body=body)],
    )


def _delete_row(rng: random.Random, log: Log) -> Tampering:
    seq = _target_seq(rng, log, last=log.head)
    return Tampering(
        DELETE_ROW,
        log.details(seq),
        [delete(events).where(events.c.seq == seq)],
        [insert(events).values(seq=seq, **log.content(seq))],
    )


def _forged_body(rng: random.Random, seq: int) -> str:
    incident_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    envelope: dict[str, Any] = {
        "seq": seq,
        "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "type": "response.IncidentOpened",
        "version": 1,
        "stream_id": f"incident-{incident_id}",
        "stream_version": 1,
        "occurred_at": "2026-05-01T00:00:00.000000Z",
        "recorded_at": "2026-05-01T00:00:00.000000Z",
        "actor_kind": "user",
        "actor_id": "forger",
        "actor_department": "EMB",
        "data": {
            "incident_id": incident_id,
            "title": "伪造的事件 forged",
            "category": "NATURAL_DISASTER",
            "latitude": 28.2,
            "longitude": 112.9,
            "description": "",
            "reporting_department": "EMB",
        },
        "metadata": {},
    }
    return rfc8785.dumps(envelope).decode("utf-8")


def _insert(
    rng: random.Random, log: Log, *, forged: bool, position: int | None = None
) -> Tampering:
    # Make room at p by moving seqs >= p up by one (through negative values, so the
    # primary key never collides mid-statement), then insert the forged row at p.
    if position is None:
        position = _target_seq(rng, log, last=log.head if forged else log.head + 1)
    body = _forged_body(rng, position)
    if forged:
        prev_hash = GENESIS_HASH if position == 1 else log.rows[position - 1][1]
        hash_ = hashlib.sha256(prev_hash + body.encode("utf-8")).digest()
    else:
        prev_hash, hash_ = rng.randbytes(32), rng.randbytes(32)
    statements = [
        update(events).where(events.c.seq >= position).values(seq=-events.c.seq - 1),
        update(events).where(events.c.seq < 0).values(seq=-events.c.seq),
        insert(events).values(seq=position, body=body, prev_hash=prev_hash, hash=hash_),
    ]
    undo = [
        delete(events).where(events.c.seq == position),
        update(events).where(events.c.seq > position).values(seq=1 - events.c.seq),
        update(events).where(events.c.seq < 0).values(seq=-events.c.seq),
    ]
    kind = INSERT_FORGED if forged else INSERT_NAIVE
    return Tampering(kind, log.details(position), statements, undo)


def _swap_rows(rng: random.Random, log: Log) -> Tampering:
    first, second = sorted(rng.sample(range(1, log.head + 1), 2))

    def assign(*, first_gets: int, second_gets: int) -> list[Any]:
        # Park the first row on an empty object, so that the unique event_id and
        # (stream_id, stream_version) generated columns never hold a duplicate.
        return [
            update(events).where(events.c.seq == first).values(body="{}"),
            update(events)
            .where(events.c.seq == second)
            .values(**log.content(second_gets)),
            update(events)
            .where(events.c.seq == first)
            .values(**log.content(first_gets)),
        ]

    return Tampering(
        SWAP_ROWS,
        log.details(first, other_seq=second),
        assign(first_gets=second, second_gets=first),
        assign(first_gets=first, second_gets=second),
    )


def _edit_checkpoint(rng: random.Random, log: Log, *, kind: str) -> Tampering:
    checkpoint = rng.choice(log.checkpoints)
    details = log.details(checkpoint.seq)
    if kind == CHECKPOINT_HASH:
        column, original = "hash", checkpoint.hash
    elif kind == CHECKPOINT_SIGNATURE:
        column, original = "signature", checkpoint.signature
    else:
        free = [
            seq for seq in range(1, log.head + 21) if seq not in log.checkpoint_seqs
        ]
        new_seq = rng.choice(free)
        return Tampering(
            kind,
            log.details(checkpoint.seq, new_seq=new_seq),
            [_set_checkpoint(checkpoint.seq, seq=new_seq)],
            [_set_checkpoint(new_seq, seq=checkpoint.seq)],
        )
    changed = bytearray(original)
    changed[rng.randrange(len(changed))] ^= rng.randint(1, 255)
    return Tampering(
        kind,
        details,
        [_set_checkpoint(checkpoint.seq, **{column: bytes(changed)})],
        [_set_checkpoint(checkpoint.seq, **{column: original})],
    )


def _set_checkpoint(at: int, **values: Any) -> Any:
    return update(checkpoints).where(checkpoints.c.seq == at).values(**values)


def plan_tampering(rng: random.Random, log: Log) -> Tampering:
    """Pick a kind of tampering and its target at random."""
    kind = rng.choice(KINDS)
    if kind == EDIT_BODY:
        return _edit_body(rng, log)
    if kind == DELETE_ROW:
        return _delete_row(rng, log)
    if kind in (INSERT_NAIVE, INSERT_FORGED):
        return _insert(rng, log, forged=kind == INSERT_FORGED)
    if kind == SWAP_ROWS:
        return _swap_rows(rng, log)
    return _edit_checkpoint(rng, log, kind=kind)


class _FileCopies:
    """SQLite: every tampering gets a fresh file copy of the untouched log."""

    def __init__(self, template_url: str, folder: Path) -> None:
        self.template = Path(template_url.removeprefix("sqlite:///"))
        self.target = folder / "tampered.db"
        engine = make_engine(template_url)
        with engine.connect() as conn:
            # Fold the WAL into the main file so that copying one file copies it all.
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        # One engine for every copy keeps its compiled-statement cache; each round
        # disposes its pool before the file is replaced.
        self.engine = make_engine(f"sqlite:///{self.target}")
        event.listen(self.engine, "connect", _skip_fsync)

    @contextlib.contextmanager
    def intact(self) -> Iterator[Engine]:
        """Yield an engine on a fresh copy of the untouched log."""
        self.engine.dispose()
        for suffix in ("-wal", "-shm"):
            Path(f"{self.target}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(self.template, self.target)
        yield self.engine

    @contextlib.contextmanager
    def tampered(self, tampering: Tampering) -> Iterator[Engine]:
        """Yield an engine on a fresh copy with the tampering committed."""
        with self.intact() as engine:
            _execute(engine, tampering.statements)
            yield engine

    def close(self) -> None:
        """Release the engine; the copy itself lives in tmp_path."""
        self.engine.dispose()


def _skip_fsync(dbapi_connection: Any, _record: object) -> None:
    # Runs after make_engine's own hook: a throwaway copy needs no durable commits.
    dbapi_connection.execute("PRAGMA synchronous=OFF")


class _UndoInPlace:
    """PostgreSQL: commit the tampering, let the caller verify, commit its inverse."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)

    @contextlib.contextmanager
    def intact(self) -> Iterator[Engine]:
        """Yield the engine of the log, which must be untouched between rounds."""
        yield self.engine

    @contextlib.contextmanager
    def tampered(self, tampering: Tampering) -> Iterator[Engine]:
        """Yield the engine with the tampering committed; undo it afterwards."""
        _execute(self.engine, tampering.statements)
        try:
            yield self.engine
        finally:
            _execute(self.engine, tampering.undo)

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()


def _execute(engine: Engine, statements: list[Any]) -> None:
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(statement)


def _build_log(muster: Muster) -> None:
    for code in ("EMB", "FIRE", "HEALTH"):
        factories.department(muster, code)
    actors = [
        factories.user(muster, name, department_code=code)
        for name, code in (("alice", "EMB"), ("bob", "FIRE"), ("carol", "HEALTH"))
    ]
    for index in range(INCIDENTS):
        title = f"河堤渗漏 {index}" if index % 7 == 0 else f"Road flooding {index}"
        factories.incident(muster, actors[index % len(actors)], title)
    with muster.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn:
        conn.begin()
        seq, hash_ = muster.store.head(conn)
        write_checkpoint(
            conn,
            muster.store,
            muster.require_signing_key(),
            seq=seq,
            hash_=hash_,
            created_at=isoformat_utc(muster.clock.now()),
        )
        conn.commit()


def _read_log(engine: Engine) -> Log:
    store = SqlEventStore()
    with engine.connect() as conn:
        rows = {
            seq: (prev_hash, hash_, body.decode("utf-8"))
            for seq, prev_hash, hash_, body in store.chain_rows(conn)
        }
        return Log(rows=rows, checkpoints=store.checkpoint_rows(conn))


@pytest.mark.slow
class TestRandomizedTampering:
    def test_every_tampering_is_detected_at_the_expected_seq(
        self, muster: Muster, database_url: str, tmp_path: Path
    ) -> None:
        """1,000 seeded tamperings each fail verification at the derived seq."""
        _build_log(muster)
        key = muster.require_signing_key()
        public_keys = {key.key_id: key.public_key}
        log = _read_log(muster.engine)
        muster.engine.dispose()
        workspace: Any = (
            _UndoInPlace(database_url)
            if database_url.startswith("postgresql")
            else _FileCopies(database_url, tmp_path)
        )
        rng = random.Random(SEED)
        kinds: Counter[str] = Counter()
        edges: Counter[str | None] = Counter()
        missed: list[str] = []

        try:
            for round_ in range(ROUNDS):
                if round_ % 100 == 0:
                    missed.extend(_untouched_problems(workspace, log, public_keys))
                tampering = plan_tampering(rng, log)
                kinds[tampering.kind] += 1
                edges[_edge_case(tampering)] += 1
                with workspace.tampered(tampering) as engine:
                    report = verify_log(engine, public_keys=public_keys)
                expected = expected_first_bad(tampering.kind, tampering.details)
                if report.ok or report.first_bad_seq != expected:
                    missed.append(
                        f"round {round_}: {tampering.kind} {tampering.details}: "
                        f"expected {expected}, got {report.first_bad_seq} "
                        f"{report.problems}"
                    )
            missed.extend(_untouched_problems(workspace, log, public_keys))
        finally:
            workspace.close()

        assert len(log.rows) == 3 + 6 + INCIDENTS
        assert len(log.checkpoints) == 7
        assert missed == [], "\n".join(missed[:20])
        assert sorted(kinds) == sorted(KINDS)
        assert min(kinds.values()) >= 90
        assert len(edges) == 5  # each boundary case above, plus None


def _untouched_problems(
    workspace: Any, log: Log, public_keys: dict[str, Any]
) -> list[str]:
    with workspace.intact() as engine:
        report = verify_log(engine, public_keys=public_keys)
        stored = _read_log(engine)
    problems = []
    if not report.ok or report.events != len(log.rows):
        problems.append(f"untouched log fails: {report.problems}")
    if stored != log:
        problems.append("untouched log differs from the original rows")
    return problems


@pytest.fixture
def forged_at_checkpoint(muster: Muster) -> Muster:
    """Return a 55-event log with a self-consistent forged event inserted at seq 50.

    Events 1..50 (the forged one included) link and hash correctly; the break in the
    chain is at 51, but the checkpoint signed at 50 covers another hash.
    """
    factories.department(muster, "EMB")
    actor = factories.user(muster, "alice")
    for index in range(52):
        factories.incident(muster, actor, f"Incident {index}")
    log = _read_log(muster.engine)
    assert (log.head, log.checkpoint_seqs) == (55, {50})
    tampering = _insert(random.Random(SEED), log, forged=True, position=50)
    _execute(muster.engine, tampering.statements)
    return muster


class TestConsistentForgeryAtCheckpoint:
    def test_reference_verifier_reports_the_checkpoint_seq(
        self, forged_at_checkpoint: Muster
    ) -> None:
        """verify_rows + verify_checkpoints name seq 50, whose signed hash differs."""
        muster = forged_at_checkpoint
        key = muster.require_signing_key()
        report = VerificationReport()

        with muster.engine.connect() as conn:
            stored = muster.store.checkpoint_rows(conn)
            verified = verify_rows(
                muster.store.chain_rows(conn),
                report,
                keep=frozenset(row.seq for row in stored),
            )
        verify_checkpoints(
            stored,
            verified=verified,
            public_keys={key.key_id: key.public_key},
            report=report,
        )

        assert report.first_bad_seq == 50
        assert report.reason == "log differs from the signed checkpoint"

    def test_verify_log_reports_the_checkpoint_seq(
        self, forged_at_checkpoint: Muster
    ) -> None:
        """verify_log names seq 50 too, like the reference verifier (not 51)."""
        muster = forged_at_checkpoint
        key = muster.require_signing_key()

        report = verify_log(muster.engine, public_keys={key.key_id: key.public_key})

        assert report.first_bad_seq == 50
        assert report.reason == "log differs from the signed checkpoint"
