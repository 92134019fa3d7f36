"""The hash chain: fixed vectors, link rule, verification of rows and checkpoints.

The hex digests below were computed once outside ``chain.py`` (``hashlib`` in a Python
shell, cross-checked with ``sha256sum``) and pasted here; they must never change.
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from muster.core.eventlog.chain import (
    GENESIS_HASH,
    ChainRow,
    CheckpointRow,
    VerificationReport,
    canonical_bytes,
    checkpoint_message,
    key_id,
    link,
    sign_checkpoint,
    verify_checkpoints,
    verify_rows,
)

CREATED_AT = "2026-01-02T03:04:05.000000Z"
# Sorted keys at every depth, no whitespace, raw UTF-8, 1.0 written as 1, only the
# quote and newline escaped; "é" (U+00E9) < "😀" (UTF-16 0xD83D...) < "ｚ" (U+FF5A).
EXPECTED_CANONICAL = (
    '{"data":{"name":"Zoë 张三","nested":{"a":null,"b":[1,2.5,true,1]}},'
    '"note":"line\\nbreak \\"q\\"","seq":1,"type":"test.ThingHappened",'
    '"é":1,"😀":2,"ｚ":3}'
).encode()


def _bodies(count: int) -> list[bytes]:
    return [
        canonical_bytes({"seq": seq, "data": {"n": seq}}) for seq in range(1, 1 + count)
    ]


def _chain(bodies: list[bytes]) -> list[ChainRow]:
    rows: list[ChainRow] = []
    prev = GENESIS_HASH
    for seq, body in enumerate(bodies, start=1):
        current = link(prev, body)
        rows.append((seq, prev, current, body))
        prev = current
    return rows


def _verify(rows: list[ChainRow]) -> VerificationReport:
    report = VerificationReport()
    verify_rows(rows, report)
    return report


def _checkpoint(
    key: Ed25519PrivateKey, *, seq: int, hash_: bytes, created_at: str = CREATED_AT
) -> CheckpointRow:
    identifier, signature = sign_checkpoint(
        key, seq=seq, hash_=hash_, created_at=created_at
    )
    return CheckpointRow(
        seq=seq,
        hash=hash_,
        created_at=created_at,
        key_id=identifier,
        signature=signature,
    )


def _verify_with_checkpoints(
    rows: list[ChainRow],
    checkpoints: list[CheckpointRow],
    *,
    key: Ed25519PrivateKey,
) -> VerificationReport:
    report = VerificationReport()
    verified = verify_rows(
        rows, report, keep=frozenset(checkpoint.seq for checkpoint in checkpoints)
    )
    public_key = key.public_key()
    verify_checkpoints(
        checkpoints,
        verified=verified,
        public_keys={key_id(public_key): public_key},
        report=report,
    )
    return report


class TestCanonicalBytes:
    def test_matches_rfc8785_vector_with_unicode_and_nested_keys(self) -> None:
        """Keys sort by UTF-16 units at every depth; text stays raw UTF-8, no spaces."""
        envelope = {
            "type": "test.ThingHappened",
            "seq": 1,
            "data": {
                "name": "Zoë 张三",
                "nested": {"b": [1, 2.5, True, 1.0], "a": None},
            },
            "note": 'line\nbreak "q"',
            "\uff5a": 3,  # FULLWIDTH z: after the emoji in UTF-16 (0xFF5A > 0xD83D)
            "\U0001f600": 2,  # emoji: the surrogate pair 0xD83D 0xDE00
            "\u00e9": 1,
        }

        result = canonical_bytes(envelope)

        assert result == EXPECTED_CANONICAL

    def test_same_envelope_in_any_key_order_gives_same_bytes(self) -> None:
        """Canonical bytes do not depend on the order keys were inserted."""
        first = {"a": 1, "b": {"y": 2, "x": 1}}
        second = {"b": {"x": 1, "y": 2}, "a": 1}

        result = (canonical_bytes(first), canonical_bytes(second))

        assert result[0] == result[1] == b'{"a":1,"b":{"x":1,"y":2}}'


class TestLink:
    def test_genesis_link_matches_fixed_digest(self) -> None:
        """link(GENESIS, b"muster") is sha256 of 32 zero bytes followed by b"muster"."""
        prev_hash = GENESIS_HASH

        result = link(prev_hash, b"muster")

        assert GENESIS_HASH == b"\x00" * 32
        assert result.hex() == (
            "50ae6434300c42e006d3de065ec97113f8fd4571267234a017c1e8f6fac80475"
        )

    def test_three_event_chain_head_matches_fixed_digest(self) -> None:
        """Three linked canonical envelopes end at a known head hash."""
        bodies = [
            canonical_bytes({"seq": seq, "data": {"word": word}})
            for seq, word in enumerate(("one", "two", "three"), start=1)
        ]

        rows = _chain(bodies)

        assert bodies[0] == b'{"data":{"word":"one"},"seq":1}'
        assert [row[2].hex() for row in rows] == [
            "3e37d31078671ee561b2b1f730b7e643ce68dc56ce4364a92223f3545956b96e",
            "19663b139c80155ff823f634741f833b5d6f484622e95161f8934316e24655d7",
            "bac8da9a0c6b17351e49269e965ab7a379c6968397a1b3e2953ebb24b966d4a4",
        ]

    def test_link_is_sha256_of_prev_hash_then_body(self) -> None:
        """The link rule is exactly sha256(prev_hash || body)."""
        prev_hash = hashlib.sha256(b"anything").digest()

        result = link(prev_hash, b"body")

        assert result == hashlib.sha256(prev_hash + b"body").digest()


class TestVerifyRows:
    def test_intact_chain_verifies(self) -> None:
        """An untouched chain is ok and reports its length and head."""
        rows = _chain(_bodies(5))

        report = _verify(rows)

        assert report.ok is True
        assert report.first_bad_seq is None
        assert (report.events, report.head_seq, report.head_hash) == (5, 5, rows[-1][2])

    def test_empty_chain_verifies(self) -> None:
        """An empty log is ok with the genesis head."""
        rows: list[ChainRow] = []

        report = _verify(rows)

        assert (report.ok, report.events, report.head_seq) == (True, 0, 0)
        assert report.head_hash == GENESIS_HASH

    def test_flipped_byte_in_body_reports_that_seq(self) -> None:
        """One flipped bit in event 3's body is reported at seq 3."""
        rows = _chain(_bodies(5))
        seq, prev_hash, hash_, body = rows[2]
        flipped = bytearray(body)
        flipped[len(body) // 2] ^= 0x01
        rows[2] = (seq, prev_hash, hash_, bytes(flipped))

        report = _verify(rows)

        assert report.ok is False
        assert report.first_bad_seq == 3
        assert report.reason == "content does not match its hash"

    def test_wrong_prev_hash_reports_that_seq(self) -> None:
        """A prev_hash that is not the predecessor's hash is reported at its seq."""
        rows = _chain(_bodies(5))
        seq, _prev_hash, hash_, body = rows[3]
        rows[3] = (seq, hashlib.sha256(b"forged").digest(), hash_, body)

        report = _verify(rows)

        assert report.first_bad_seq == 4
        assert "prev_hash" in report.reason

    def test_missing_seq_reports_the_missing_seq(self) -> None:
        """A deleted event 2 is reported at seq 2, where the gap starts."""
        rows = _chain(_bodies(5))
        del rows[1]

        report = _verify(rows)

        assert report.first_bad_seq == 2
        assert "missing or reordered" in report.reason
        assert report.events == 1

    def test_reordered_rows_report_first_out_of_place_seq(self) -> None:
        """Rows 1, 2, 4, 3, 5 are reported at seq 3, the first position out of place."""
        rows = _chain(_bodies(5))
        rows[2], rows[3] = rows[3], rows[2]

        report = _verify(rows)

        assert report.first_bad_seq == 3
        assert "missing or reordered" in report.reason

    def test_chain_not_starting_at_genesis_reports_seq_one(self) -> None:
        """A first event whose prev_hash is not 32 zero bytes is reported at seq 1."""
        rows = _chain(_bodies(3))
        _seq, _prev, hash_, body = rows[0]
        rows[0] = (1, b"\x01" * 32, hash_, body)

        report = _verify(rows)

        assert report.first_bad_seq == 1

    def test_returns_verified_hashes_at_kept_positions(self) -> None:
        """The hashes of the requested seqs come back for checkpoint comparison."""
        rows = _chain(_bodies(5))
        report = VerificationReport()

        verified = verify_rows(rows, report, keep=frozenset({2, 5, 9}))

        assert verified == {2: rows[1][2], 5: rows[4][2]}


class TestVerifyCheckpoints:
    def test_valid_checkpoints_verify(self) -> None:
        """Checkpoints signed by the known key over the chain's hashes are ok."""
        key = Ed25519PrivateKey.generate()
        rows = _chain(_bodies(6))
        checkpoints = [
            _checkpoint(key, seq=3, hash_=rows[2][2]),
            _checkpoint(key, seq=6, hash_=rows[5][2]),
        ]

        report = _verify_with_checkpoints(rows, checkpoints, key=key)

        assert report.ok is True
        assert (report.events, report.checkpoints) == (6, 2)

    def test_signature_covers_canonical_seq_hash_created_at_key_id(self) -> None:
        """The signed message is the RFC 8785 JSON of seq, hex hash, time and key id."""
        key = Ed25519PrivateKey.generate()
        hash_ = hashlib.sha256(b"x").digest()

        checkpoint = _checkpoint(key, seq=7, hash_=hash_)

        message = (
            f'{{"created_at":"{CREATED_AT}","hash":"{hash_.hex()}",'
            f'"key_id":"{checkpoint.key_id}","seq":7}}'
        ).encode()
        signed = checkpoint_message(
            seq=7, hash_=hash_, created_at=CREATED_AT, key_id=checkpoint.key_id
        )
        assert signed == message
        key.public_key().verify(checkpoint.signature, message)

    def test_tampered_signature_reports_checkpoint_seq(self) -> None:
        """A checkpoint whose signature has one flipped byte is reported at its seq."""
        key = Ed25519PrivateKey.generate()
        rows = _chain(_bodies(6))
        good = _checkpoint(key, seq=4, hash_=rows[3][2])
        signature = bytearray(good.signature)
        signature[10] ^= 0xFF
        bad = CheckpointRow(
            seq=4,
            hash=good.hash,
            created_at=good.created_at,
            key_id=good.key_id,
            signature=bytes(signature),
        )

        report = _verify_with_checkpoints(rows, [bad], key=key)

        assert report.first_bad_seq == 4
        assert report.reason == "checkpoint signature is invalid"

    def test_checkpoint_by_unknown_key_reports_checkpoint_seq(self) -> None:
        """A checkpoint signed by a key the verifier does not know is refused."""
        deployment_key = Ed25519PrivateKey.generate()
        other_key = Ed25519PrivateKey.generate()
        rows = _chain(_bodies(6))
        foreign = _checkpoint(other_key, seq=5, hash_=rows[4][2])

        report = _verify_with_checkpoints(rows, [foreign], key=deployment_key)

        assert report.first_bad_seq == 5
        assert "unknown key" in report.reason

    def test_checkpoint_with_rewritten_key_id_reports_checkpoint_seq(self) -> None:
        """Changing a checkpoint's key id to another known key breaks its signature."""
        key = Ed25519PrivateKey.generate()
        rows = _chain(_bodies(6))
        good = _checkpoint(key, seq=2, hash_=rows[1][2])
        other_public = Ed25519PrivateKey.generate().public_key()
        relabelled = CheckpointRow(
            seq=2,
            hash=good.hash,
            created_at=good.created_at,
            key_id=key_id(other_public),
            signature=good.signature,
        )
        report = VerificationReport()
        verified = verify_rows(rows, report, keep=frozenset({2}))

        verify_checkpoints(
            [relabelled],
            verified=verified,
            public_keys={
                key_id(key.public_key()): key.public_key(),
                key_id(other_public): other_public,
            },
            report=report,
        )

        assert report.first_bad_seq == 2
        assert report.reason == "checkpoint signature is invalid"

    def test_validly_signed_hash_that_differs_from_chain_reports_checkpoint_seq(
        self,
    ) -> None:
        """A validly signed checkpoint over a hash the chain lacks is refused."""
        key = Ed25519PrivateKey.generate()
        rows = _chain(_bodies(6))
        other_history = _checkpoint(key, seq=3, hash_=hashlib.sha256(b"fork").digest())

        report = _verify_with_checkpoints(rows, [other_history], key=key)

        assert report.first_bad_seq == 3
        assert report.reason == "log differs from the signed checkpoint"

    def test_checkpoint_beyond_end_reports_checkpoint_seq(self) -> None:
        """A checkpoint at seq 6 over a log cut back to 4 events is reported at 6."""
        key = Ed25519PrivateKey.generate()
        rows = _chain(_bodies(6))
        checkpoint = _checkpoint(key, seq=6, hash_=rows[5][2])
        truncated = rows[:4]

        report = _verify_with_checkpoints(truncated, [checkpoint], key=key)

        assert report.first_bad_seq == 6
        assert report.reason == "checkpoint beyond the end of the log"

    def test_chain_break_before_checkpoint_is_the_first_bad_seq(self) -> None:
        """After a chain break, later checkpoints add no earlier failure."""
        key = Ed25519PrivateKey.generate()
        rows = _chain(_bodies(6))
        checkpoints = [
            _checkpoint(key, seq=2, hash_=rows[1][2]),
            _checkpoint(key, seq=6, hash_=rows[5][2]),
        ]
        del rows[3]

        report = _verify_with_checkpoints(rows, checkpoints, key=key)

        assert report.first_bad_seq == 4
        assert len(report.problems) == 1
        assert report.problems[0].startswith("seq 4: missing or reordered")
