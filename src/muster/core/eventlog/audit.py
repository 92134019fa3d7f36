"""Operator audit functions: verify the whole log, export it for third parties.

Imported by the CLI and tests; reads the log only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine

from muster.core.eventlog.chain import (
    VerificationReport,
    verify_checkpoints,
    verify_rows,
)
from muster.core.eventlog.store import SqlEventStore

VERIFYING_MD = Path(__file__).with_name("VERIFYING.md")


def verify_log(
    engine: Engine, *, public_keys: Mapping[str, Ed25519PublicKey]
) -> VerificationReport:
    """Recompute the whole chain and check every checkpoint signature."""
    store = SqlEventStore()
    report = VerificationReport()
    with engine.connect() as conn:
        checkpoint_rows = store.checkpoint_rows(conn)
        keep = frozenset(row.seq for row in checkpoint_rows)
        verified = verify_rows(store.chain_rows(conn), report, keep=keep)
        verify_checkpoints(
            checkpoint_rows, verified=verified, public_keys=public_keys, report=report
        )
    return report


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
