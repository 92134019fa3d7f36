"""Operator audit functions: verify the whole log, export it for third parties.

Imported by the CLI and tests; reads the log only.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from muster.core.db import make_engine
from muster.core.eventlog.chain import (
    GENESIS_HASH,
    SegmentResult,
    VerificationReport,
    verify_checkpoints,
    verify_segment,
)
from muster.core.eventlog.store import SqlEventStore

VERIFYING_MD = Path(__file__).with_name("VERIFYING.md")
PARALLEL_THRESHOLD = 50_000  # below this, starting a second process costs more


def verify_log(
    engine: Engine,
    *,
    public_keys: Mapping[str, Ed25519PublicKey],
    workers: int = 1,
) -> VerificationReport:
    """Recompute the whole chain and check every checkpoint signature.

    Large logs are split into ``workers`` seq ranges verified in parallel processes;
    each range starts from the stored prev_hash of its first event, and the parent
    checks that it equals the hash the previous range ended on.
    """
    store = SqlEventStore()
    report = VerificationReport()
    with engine.connect() as conn:
        checkpoint_rows = store.checkpoint_rows(conn)
        keep = frozenset(row.seq for row in checkpoint_rows)
        highest = store.max_seq(conn)
        ranges = _split(highest, workers if highest >= PARALLEL_THRESHOLD else 1)
        starts = [GENESIS_HASH] + [
            store.prev_hash_at(conn, first) or GENESIS_HASH for first, _ in ranges[1:]
        ]
        if len(ranges) == 1:
            results = [_verify_range_on(conn, ranges[0], starts[0], keep)]
        else:
            results = _verify_parallel(engine, ranges, starts, keep)
    _combine(report, ranges, starts, results)
    verify_checkpoints(
        checkpoint_rows,
        verified={
            seq: hash_
            for result in results
            for seq, hash_ in result.kept.items()
            if report.first_bad_seq is None or seq < report.first_bad_seq
        },
        public_keys=public_keys,
        report=report,
    )
    return report


def _combine(
    report: VerificationReport,
    ranges: list[tuple[int, int]],
    starts: list[bytes],
    results: list[SegmentResult],
) -> None:
    """Fold segment results into the report, in seq order, up to the first break."""
    for index, result in enumerate(results):
        if index > 0 and results[index - 1].end_hash != starts[index]:
            report.fail(ranges[index][0], "prev_hash does not match the previous hash")
            return
        report.events += result.checked
        if result.first_bad_seq is not None:
            report.fail(result.first_bad_seq, result.reason)
            return
        report.head_seq, report.head_hash = ranges[index][1], result.end_hash


def _split(last: int, parts: int) -> list[tuple[int, int]]:
    if last < 1:
        return [(1, 0)]
    size = -(-last // parts)
    return [(start, min(start + size - 1, last)) for start in range(1, last + 1, size)]


def _verify_range_on(
    conn: Connection, bounds: tuple[int, int], start_hash: bytes, keep: frozenset[int]
) -> SegmentResult:
    first, last = bounds
    batches = SqlEventStore().segment_batches(conn, first=first, last=last)
    return verify_segment(
        batches, first=first, last=last, start_hash=start_hash, keep=keep
    )


def _verify_range(
    url: str, bounds: tuple[int, int], start_hash: bytes, keep: frozenset[int]
) -> SegmentResult:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return _verify_range_on(conn, bounds, start_hash, keep)
    finally:
        engine.dispose()


def _verify_parallel(
    engine: Engine,
    ranges: list[tuple[int, int]],
    starts: list[bytes],
    keep: frozenset[int],
) -> list[SegmentResult]:
    url = engine.url.render_as_string(hide_password=False)
    # fork: the children need only the URL and start in milliseconds (CLI context).
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=len(ranges) - 1, mp_context=context) as pool:
        futures = [
            pool.submit(_verify_range, url, bounds, start, keep)
            for bounds, start in zip(ranges[1:], starts[1:], strict=True)
        ]
        # The first range runs here while the children work on the others.
        first = _verify_range(url, ranges[0], starts[0], keep)
        return [first, *(future.result() for future in futures)]


def export_log(
    engine: Engine, out_dir: Path, *, public_key_pem: bytes
) -> tuple[int, int]:
    """Write events.jsonl, checkpoints.jsonl, the public key and VERIFYING.md."""
    store = SqlEventStore()
    out_dir.mkdir(parents=True, exist_ok=True)
    events_count = 0
    with (
        engine.connect() as conn,
        (out_dir / "events.jsonl").open("w", encoding="utf-8") as handle,
    ):
        for seq, prev_hash, hash_, body in store.chain_rows(conn):
            record = {
                "seq": seq,
                "prev_hash": prev_hash.hex(),
                "hash": hash_.hex(),
                "body": body.decode("utf-8"),
            }
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            events_count += 1
        checkpoint_rows = store.checkpoint_rows(conn)
    with (out_dir / "checkpoints.jsonl").open("w", encoding="utf-8") as handle:
        for row in checkpoint_rows:
            record = {
                "seq": row.seq,
                "hash": row.hash.hex(),
                "created_at": row.created_at,
                "key_id": row.key_id,
                "signature": row.signature.hex(),
            }
            handle.write(json.dumps(record) + "\n")
    (out_dir / "public_key.pem").write_bytes(public_key_pem)
    (out_dir / "VERIFYING.md").write_text(
        VERIFYING_MD.read_text(encoding="utf-8"), encoding="utf-8"
    )
    return events_count, len(checkpoint_rows)


__all__ = ["export_log", "verify_log"]
