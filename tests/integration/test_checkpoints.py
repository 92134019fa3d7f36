"""Signed checkpoints: written by the unit of work, verified with the public key, and
checkable in an export with nothing but hashlib and cryptography (VERIFYING.md).
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from sqlalchemy import func, select

from muster.bootstrap import Muster, bootstrap
from muster.core.clock import isoformat_utc
from muster.core.db import WRITE_OPTION
from muster.core.errors import ConfigurationError
from muster.core.eventlog.audit import export_log, verify_log
from muster.core.eventlog.chain import CheckpointRow, checkpoint_message
from muster.core.eventlog.signing import SigningKey
from muster.core.eventlog.tables import events
from muster.core.messages import Actor
from muster.core.uow import write_checkpoint
from muster.response.read_models import incidents
from muster.settings import Settings
from tests import factories


def _given_log_of(muster: Muster, total: int) -> Actor:
    """Fill the log to ``total`` events: a department, a user, then incidents."""
    factories.department(muster, "EMB")
    actor = factories.user(muster, "alice")
    for index in range(total - 3):
        factories.incident(muster, actor, f"Incident {index}")
    return actor


def _checkpoints(muster: Muster) -> list[CheckpointRow]:
    with muster.engine.connect() as conn:
        return muster.store.checkpoint_rows(conn)


def _hash_at(muster: Muster, seq: int) -> bytes:
    with muster.engine.connect() as conn:
        return bytes(
            conn.execute(select(events.c.hash).where(events.c.seq == seq)).scalar_one()
        )


def _head(muster: Muster) -> tuple[int, bytes]:
    with muster.engine.connect() as conn:
        return muster.store.head(conn)


def _public_keys(key: SigningKey) -> dict[str, Ed25519PublicKey]:
    return {key.key_id: key.public_key}


class TestAutomaticCheckpoint:
    def test_written_when_head_reaches_a_multiple_of_checkpoint_every(
        self, muster: Muster
    ) -> None:
        """The commit that brings the head to 50 also stores a checkpoint at 50."""
        actor = _given_log_of(muster, 49)
        assert _checkpoints(muster) == []

        factories.incident(muster, actor, "The fiftieth event")

        (checkpoint,) = _checkpoints(muster)
        assert checkpoint.seq == 50
        assert checkpoint.hash == _hash_at(muster, 50) == _head(muster)[1]
        assert checkpoint.key_id == muster.require_signing_key().key_id

    def test_commit_crossing_the_multiple_checkpoints_its_last_event(
        self, muster: Muster
    ) -> None:
        """A two-event commit going from 49 to 51 is checkpointed at 51."""
        _given_log_of(muster, 49)

        factories.user(muster, "bob")  # UserRegistered + PasswordSet: seqs 50, 51

        assert [row.seq for row in _checkpoints(muster)] == [51]
        assert _checkpoints(muster)[0].hash == _hash_at(muster, 51)

    def test_no_second_checkpoint_until_the_next_multiple(self, muster: Muster) -> None:
        """Events 51..99 add no checkpoint; event 100 adds the second one."""
        actor = _given_log_of(muster, 99)
        assert [row.seq for row in _checkpoints(muster)] == [50]

        factories.incident(muster, actor, "The hundredth event")

        assert [row.seq for row in _checkpoints(muster)] == [50, 100]

    def test_is_written_in_the_appending_transaction(
        self, muster: Muster, settings: Settings, tmp_path: Path
    ) -> None:
        """When a due checkpoint cannot be signed, the events are not stored either."""
        actor = _given_log_of(muster, 49)
        keyless = bootstrap(
            Settings(
                mode="test",
                secret_key=settings.secret_key,
                database_url=settings.database_url,
                data_dir=tmp_path / "no-key",
                checkpoint_every=settings.checkpoint_every,
            )
        )

        try:
            with pytest.raises(ConfigurationError):
                factories.incident(keyless, actor, "Needs a checkpoint")
        finally:
            keyless.engine.dispose()

        assert _head(muster)[0] == 49
        assert _checkpoints(muster) == []
        with muster.engine.connect() as conn:
            count = conn.execute(select(func.count()).select_from(incidents))
            assert count.scalar_one() == 46


class TestCheckpointSignature:
    def test_signatures_verify_with_the_deployment_public_key(
        self, muster: Muster
    ) -> None:
        """Each stored signature is valid over the canonical checkpoint message."""
        _given_log_of(muster, 100)
        key = muster.require_signing_key()

        stored = _checkpoints(muster)

        assert [row.seq for row in stored] == [50, 100]
        for row in stored:
            message = checkpoint_message(
                seq=row.seq,
                hash_=row.hash,
                created_at=row.created_at,
                key_id=row.key_id,
            )
            key.public_key.verify(row.signature, message)  # raises if invalid
        report = verify_log(muster.engine, public_keys=_public_keys(key))
        assert (report.ok, report.events, report.checkpoints) == (True, 100, 2)

    def test_checkpoint_signed_by_another_key_is_refused(self, muster: Muster) -> None:
        """A checkpoint by a key the verifier was not given fails at its seq."""
        _given_log_of(muster, 60)
        deployment_key = muster.require_signing_key()
        other_key = SigningKey(Ed25519PrivateKey.generate())
        seq, hash_ = _head(muster)
        with muster.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn:
            conn.begin()
            write_checkpoint(
                conn,
                muster.store,
                other_key,
                seq=seq,
                hash_=hash_,
                created_at=isoformat_utc(muster.clock.now()),
            )
            conn.commit()

        report = verify_log(muster.engine, public_keys=_public_keys(deployment_key))

        assert report.ok is False
        assert report.first_bad_seq == 60
        assert "unknown key" in report.reason
        both = {**_public_keys(deployment_key), **_public_keys(other_key)}
        assert verify_log(muster.engine, public_keys=both).ok is True


def _verify_export(folder: Path) -> tuple[int, int]:
    """Check an export by VERIFYING.md's rules with hashlib and cryptography only.

    Returns the number of events and checkpoints; raises AssertionError or
    InvalidSignature on the first problem.
    """
    hashes: dict[int, str] = {}
    prev = bytes(32)
    with (folder / "events.jsonl").open(encoding="utf-8") as lines:
        for expected_seq, line in enumerate(lines, start=1):
            row = json.loads(line)
            assert row["seq"] == expected_seq, f"gap or reorder at {expected_seq}"
            assert bytes.fromhex(row["prev_hash"]) == prev, (
                f"broken link at {row['seq']}"
            )
            prev = hashlib.sha256(prev + row["body"].encode("utf-8")).digest()
            assert prev.hex() == row["hash"], f"altered event at {row['seq']}"
            hashes[row["seq"]] = row["hash"]
    key = load_pem_public_key((folder / "public_key.pem").read_bytes())
    assert isinstance(key, Ed25519PublicKey)
    checked = 0
    with (folder / "checkpoints.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            checkpoint = json.loads(line)
            message = json.dumps(
                {
                    name: checkpoint[name]
                    for name in ("created_at", "hash", "key_id", "seq")
                },
                sort_keys=True,
                separators=(",", ":"),
                ensure_ascii=False,
            ).encode("utf-8")
            key.verify(bytes.fromhex(checkpoint["signature"]), message)
            assert hashes.get(checkpoint["seq"]) == checkpoint["hash"], (
                f"log differs at {checkpoint['seq']}"
            )
            checked += 1
    return len(hashes), checked


@pytest.fixture
def exported(muster: Muster, tmp_path: Path) -> Path:
    """Return the folder of an export of a 60-event log with awkward text."""
    _given_log_of(muster, 58)
    actor = factories.user(muster, "bob")  # 61 events after this
    factories.incident(muster, actor, 'Dam "Nord" 河堤 渗漏 \u2028 \\ 🚒')
    folder = tmp_path / "export"
    export_log(
        muster.engine, folder, public_key_pem=muster.require_signing_key().public_pem()
    )
    return folder


class TestExportVerification:
    def test_export_verifies_with_only_hashlib_and_cryptography(
        self, exported: Path
    ) -> None:
        """An export passes VERIFYING.md's rules, re-implemented without Muster."""
        folder = exported

        counts = _verify_export(folder)

        assert counts == (61, 1)

    def test_altered_event_in_export_is_detected(self, exported: Path) -> None:
        """Changing one character of an exported body fails at that event."""
        path = exported / "events.jsonl"
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        lines[41] = lines[41].replace("Incident", "Incidenz", 1)
        path.write_text("".join(lines), encoding="utf-8")

        with pytest.raises(AssertionError, match="altered event at 42"):
            _verify_export(exported)

    def test_forged_checkpoint_in_export_is_detected(self, exported: Path) -> None:
        """A checkpoint whose hash was replaced no longer matches its signature."""
        path = exported / "checkpoints.jsonl"
        checkpoint = json.loads(path.read_text(encoding="utf-8"))
        checkpoint["hash"] = hashlib.sha256(b"another history").hexdigest()
        path.write_text(json.dumps(checkpoint) + "\n", encoding="utf-8")

        with pytest.raises(InvalidSignature):
            _verify_export(exported)

    def test_snippet_in_exported_verifying_md_passes(self, exported: Path) -> None:
        """The verifier printed in the export's VERIFYING.md runs and accepts it."""
        document = (exported / "VERIFYING.md").read_text(encoding="utf-8")
        (snippet,) = re.findall(r"```python\n(.*?)```", document, flags=re.DOTALL)

        result = subprocess.run(
            [sys.executable, "-I", "-c", snippet],
            cwd=exported,
            capture_output=True,
            text=True,
            check=False,
        )

        assert (result.returncode, result.stderr) == (0, "")
        assert result.stdout.strip() == "ok: 61 events"
