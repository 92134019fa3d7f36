"""The hash chain: canonical bytes, the link rule, and verification (R8).

``hash = sha256(prev_hash || canonical_bytes)`` where ``canonical_bytes`` is the
RFC 8785 JSON of the event envelope, produced by the ``rfc8785`` package. The genesis
``prev_hash`` is 32 zero bytes. Checkpoints sign ``(seq, hash)`` with Ed25519. The store
is the only caller that appends; this module is the only place that hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

GENESIS_HASH = bytes(32)
PREV_MISMATCH = "prev_hash does not match the previous hash"
CONTENT_MISMATCH = "content does not match its hash"


def canonical_bytes(envelope: Mapping[str, Any]) -> bytes:
    """Return the RFC 8785 canonical JSON bytes of an envelope."""
    return rfc8785.dumps(envelope)


def link(prev_hash: bytes, body: bytes) -> bytes:
    """Return the hash of an event given its predecessor's hash and its bytes."""
    return hashlib.sha256(prev_hash + body).digest()


def checkpoint_message(
    *, seq: int, hash_: bytes, created_at: str, key_id: str
) -> bytes:
    """Return the exact bytes a checkpoint signature covers."""
    return canonical_bytes(
        {"seq": seq, "hash": hash_.hex(), "created_at": created_at, "key_id": key_id}
    )


def key_id(public_key: Ed25519PublicKey) -> str:
    """Return a short, stable identifier of a public key."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def sign_checkpoint(
    private_key: Ed25519PrivateKey, *, seq: int, hash_: bytes, created_at: str
) -> tuple[str, bytes]:
    """Sign a checkpoint; return the key id and the 64-byte signature."""
    identifier = key_id(private_key.public_key())
    message = checkpoint_message(
        seq=seq, hash_=hash_, created_at=created_at, key_id=identifier
    )
    return identifier, private_key.sign(message)


ChainRow = tuple[int, bytes, bytes, bytes]
"""One stored event as the verifier sees it: (seq, prev_hash, hash, body bytes)."""


@dataclass(frozen=True, slots=True)
class CheckpointRow:
    """One stored checkpoint."""

    seq: int
    hash: bytes
    created_at: str
    key_id: str
    signature: bytes


@dataclass(slots=True)
class VerificationReport:
    """What ``verify`` found: counts, and the first bad position if any."""

    events: int = 0
    checkpoints: int = 0
    first_bad_seq: int | None = None
    reason: str = ""
    head_seq: int = 0
    head_hash: bytes = GENESIS_HASH
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Tell whether the whole log and every checkpoint verified."""
        return self.first_bad_seq is None

    def fail(self, seq: int, reason: str) -> None:
        """Record a problem, keeping the lowest bad seq as the first."""
        self.problems.append(f"seq {seq}: {reason}")
        if self.first_bad_seq is None or seq < self.first_bad_seq:
            self.first_bad_seq = seq
            self.reason = reason

    def to_json(self) -> dict[str, Any]:
        """Return the report as ``audit verify --json`` prints it."""
        return {
            "ok": self.ok,
            "events": self.events,
            "checkpoints": self.checkpoints,
            "first_bad_seq": self.first_bad_seq,
            "reason": self.reason or None,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash.hex(),
        }


def verify_rows(
    rows: Iterable[ChainRow],
    report: VerificationReport,
    *,
    keep: frozenset[int] = frozenset(),
) -> dict[int, bytes]:
    """Walk the chain row by row; record the first break; return the hashes at ``keep``.

    The reference verifier: checks seq continuity, every prev_hash link and every
    content hash. Stops at the first break, since every later link is suspect.
    """
    expected_seq = 1
    running = GENESIS_HASH
    verified: dict[int, bytes] = {}
    for seq, prev_hash, stored_hash, body in rows:
        if seq != expected_seq:
            report.fail(expected_seq, "missing or reordered event")
            return verified
        if prev_hash != running:
            report.fail(seq, "prev_hash does not match the previous event's hash")
            return verified
        running = hashlib.sha256(running + body).digest()
        if running != stored_hash:
            report.fail(seq, "content does not match its hash")
            return verified
        if seq in keep:
            verified[seq] = running
        report.events += 1
        expected_seq += 1
    report.head_seq = expected_seq - 1
    report.head_hash = running
    return verified


@dataclass(slots=True)
class SegmentResult:
    """What ``verify_segment`` found in a run of events first..last."""

    checked: int = 0
    first_bad_seq: int | None = None
    reason: str = ""
    end_hash: bytes = GENESIS_HASH
    kept: dict[int, bytes] = field(default_factory=dict)


def verify_segment(
    batches: Iterable[Sequence[ChainRow]],
    *,
    first: int,
    last: int,
    start_hash: bytes,
    keep: frozenset[int] = frozenset(),
) -> SegmentResult:
    """Verify events first..last, given in ascending seq order in batches.

    Same rules as ``verify_rows``, arranged for speed: a batch whose first and last
    seq span exactly its length has no gap (seqs are a unique key, read in order),
    so the hot loop checks only links and hashes. ``start_hash`` is the hash the
    event at ``first`` must link to; segments of one log can run in parallel.
    """
    sha256 = hashlib.sha256
    result = SegmentResult(end_hash=start_hash)
    running = start_hash
    expected = first
    for batch in batches:
        gap = _first_gap(batch, expected)
        rows = batch if gap is None else batch[: gap - expected]
        for seq, prev_hash, stored_hash, body in rows:
            if prev_hash != running:
                return _failed(result, rows, expected, seq, keep, PREV_MISMATCH)
            running = sha256(running + body).digest()
            if running != stored_hash:
                return _failed(result, rows, expected, seq, keep, CONTENT_MISMATCH)
        _keep_verified(result, rows, expected, len(rows), keep)
        result.checked += len(rows)
        result.end_hash = running
        if gap is not None:
            return _stop(result, gap, "missing or reordered event")
        expected += len(batch)
    if expected <= last:
        return _stop(result, expected, "missing event")
    return result


def _failed(
    result: SegmentResult,
    rows: Sequence[ChainRow],
    expected: int,
    seq: int,
    keep: frozenset[int],
    reason: str,
) -> SegmentResult:
    verified = seq - expected  # rows of this batch that matched before the break
    _keep_verified(result, rows, expected, verified, keep)
    result.checked += verified
    return _stop(result, seq, reason)


def _stop(result: SegmentResult, seq: int, reason: str) -> SegmentResult:
    result.first_bad_seq = seq
    result.reason = reason
    return result


def _keep_verified(
    result: SegmentResult,
    rows: Sequence[ChainRow],
    expected: int,
    verified: int,
    keep: frozenset[int],
) -> None:
    # The first ``verified`` rows matched, so their stored hashes are the verified ones.
    for seq in keep:
        if expected <= seq < expected + verified:
            result.kept[seq] = bytes(rows[seq - expected][2])


def _first_gap(batch: Sequence[ChainRow], expected: int) -> int | None:
    if batch[0][0] == expected and batch[-1][0] == expected + len(batch) - 1:
        return None
    for offset, row in enumerate(batch):
        if row[0] != expected + offset:
            return expected + offset
    return None  # pragma: no cover - unreachable once the span check failed


def verify_checkpoints(
    checkpoints: Iterable[CheckpointRow],
    *,
    verified: Mapping[int, bytes],
    public_keys: Mapping[str, Ed25519PublicKey],
    report: VerificationReport,
) -> None:
    """Check each checkpoint's signature and that it matches the verified chain."""
    for checkpoint in checkpoints:
        report.checkpoints += 1
        public_key = public_keys.get(checkpoint.key_id)
        if public_key is None:
            report.fail(
                checkpoint.seq, f"checkpoint signed by unknown key {checkpoint.key_id}"
            )
            continue
        message = checkpoint_message(
            seq=checkpoint.seq,
            hash_=checkpoint.hash,
            created_at=checkpoint.created_at,
            key_id=checkpoint.key_id,
        )
        try:
            public_key.verify(checkpoint.signature, message)
        except InvalidSignature:
            report.fail(checkpoint.seq, "checkpoint signature is invalid")
            continue
        chain_hash = verified.get(checkpoint.seq)
        if chain_hash is None:
            if report.ok:
                report.fail(checkpoint.seq, "checkpoint beyond the end of the log")
            continue
        if chain_hash != checkpoint.hash:
            report.fail(checkpoint.seq, "log differs from the signed checkpoint")


__all__ = [
    "GENESIS_HASH",
    "ChainRow",
    "CheckpointRow",
    "VerificationReport",
    "canonical_bytes",
    "checkpoint_message",
    "key_id",
    "link",
    "sign_checkpoint",
    "verify_checkpoints",
    "verify_rows",
]
