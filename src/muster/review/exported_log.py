"""An exported event log (``muster audit export``) as a record source, verified first.

``open_exported_log`` takes the export folder or its ``events.jsonl`` and walks the
whole chain with the reference verifier (``muster.core.eventlog.chain.verify_rows``:
no gap, every link, every content hash); when the folder also holds
``checkpoints.jsonl`` and ``public_key.pem``, the signed checkpoints must match too.
A broken file is refused with ``ChainBroken`` naming the file and the first bad seq,
before any figure is computed. The returned ``ExportedLog`` then yields the events'
envelopes and hashes, as ``muster.review.metrics_queries`` reads them from the
database (the body is the same canonical JSON text in both). Imported by the
scorecard and bulletin CLIs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from muster.core.errors import ChainBroken, ConfigurationError, NotFound
from muster.core.eventlog.chain import (
    GENESIS_HASH,
    ChainRow,
    CheckpointRow,
    VerificationReport,
    link,
    verify_checkpoints,
    verify_rows,
)
from muster.core.eventlog.signing import load_public_key
from muster.core.eventlog.store import Envelope

EVENTS_FILE = "events.jsonl"
CHECKPOINTS_FILE = "checkpoints.jsonl"
PUBLIC_KEY_FILE = "public_key.pem"


@dataclass(frozen=True, slots=True)
class ExportedLog:
    """A verified exported log: where it is, its head and what was checked."""

    path: Path
    head_seq: int
    head_hash: bytes
    checkpoints: int

    def entries(self) -> Iterator[tuple[Envelope, bytes]]:
        """Yield (envelope, hash) of every event in seq order.

        The links are checked again while reading, so a file changed after it was
        verified is refused rather than measured.
        """
        changed = f"{self.path} changed after it was verified"
        running = GENESIS_HASH
        for seq, prev_hash, stored_hash, body in _rows(self.path):
            if prev_hash != running:
                raise ChainBroken(seq, changed)
            running = link(running, body)
            if running != stored_hash:
                raise ChainBroken(seq, changed)
            yield Envelope(**json.loads(body)), stored_hash
        if running != self.head_hash:
            raise ChainBroken(self.head_seq, changed)


def open_exported_log(path: Path) -> ExportedLog:
    """Verify an exported log (folder or events.jsonl) and return it, or refuse it."""
    events = path / EVENTS_FILE if path.is_dir() else path
    if not events.is_file():
        raise NotFound(f"no exported log at {path}", path=str(path))
    report = VerificationReport()
    checkpoints = _checkpoints(events.parent)
    keep = frozenset(row.seq for row in checkpoints)
    verified = verify_rows(_rows(events), report, keep=keep)
    if checkpoints and report.ok:
        key = load_public_key((events.parent / PUBLIC_KEY_FILE).read_bytes())
        verify_checkpoints(
            checkpoints,
            verified=verified,
            public_keys={row.key_id: key for row in checkpoints},
            report=report,
        )
    if not report.ok and report.first_bad_seq is not None:
        raise ChainBroken(report.first_bad_seq, f"{events}: {report.reason}")
    return ExportedLog(
        path=events,
        head_seq=report.head_seq,
        head_hash=report.head_hash,
        checkpoints=report.checkpoints,
    )


def _rows(events: Path) -> Iterator[ChainRow]:
    """Yield the chain rows of events.jsonl; refuse a line that is not one."""
    with events.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            try:
                row = json.loads(line)
                yield (
                    int(row["seq"]),
                    bytes.fromhex(row["prev_hash"]),
                    bytes.fromhex(row["hash"]),
                    str(row["body"]).encode("utf-8"),
                )
            except (ValueError, KeyError, TypeError) as error:
                # Nothing after an unreadable line can be proved: refuse as broken.
                reason = f"{events} line {number} is not an exported event ({error})"
                raise ChainBroken(number, reason) from error


def _checkpoints(folder: Path) -> list[CheckpointRow]:
    """Return the export's checkpoints when it has them and their public key."""
    file = folder / CHECKPOINTS_FILE
    if not file.is_file() or not (folder / PUBLIC_KEY_FILE).is_file():
        return []
    rows = []
    try:
        for line in file.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            rows.append(
                CheckpointRow(
                    seq=int(item["seq"]),
                    hash=bytes.fromhex(item["hash"]),
                    created_at=str(item["created_at"]),
                    key_id=str(item["key_id"]),
                    signature=bytes.fromhex(item["signature"]),
                )
            )
    except (ValueError, KeyError, TypeError) as error:
        raise ConfigurationError(
            f"{file} is not a list of checkpoints ({error})"
        ) from error
    return rows


__all__ = ["EVENTS_FILE", "ExportedLog", "open_exported_log"]
