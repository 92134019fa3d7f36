"""Signature policy on altered copies of corpus alerts (altered in memory only)."""

from __future__ import annotations

from pathlib import Path

import pytest

from muster.ingest.formats import FormatRejected, parse_cap

IPAWS = "cap/valid/us_ipaws_nv_dps_cancel_signed.xml"
CANADA = "cap/signature-edge/ca_environment_canada_signed.xml"
UNSIGNED = "cap/valid/spec_a2_nws_ksto_thunderstorm.xml"


def refused(data: bytes) -> FormatRejected:
    """Parse bytes that must be refused; return the rejection."""
    with pytest.raises(FormatRejected) as caught:
        parse_cap(data)
    return caught.value


class TestTampering:
    def test_changed_content_breaks_the_signature(self, corpus: Path) -> None:
        """One changed word in a signed IPAWS alert rejects it as signature_invalid."""
        data = (corpus / IPAWS).read_bytes().replace(b"AlertSense", b"AlertSensE")

        error = refused(data)

        assert error.reason == "signature_invalid"
        assert "changed since" in error.message

    def test_changed_naads_signature_names_which_one_failed(self, corpus: Path) -> None:
        """With two signatures, the one that fails is named in the rejection."""
        data = (corpus / CANADA).read_bytes()
        value = data.index(b"<SignatureValue>") + len(b"<SignatureValue>")
        first = data[value : value + 1]
        replaced = b"A" if first != b"A" else b"B"
        tampered = data[:value] + replaced + data[value + 1 :]

        error = refused(tampered)

        assert error.reason == "signature_invalid"
        assert "Id='NAADS Signature'" in error.message

    def test_partial_reference_is_refused(self, corpus: Path) -> None:
        """A signature that does not sign the whole alert (URI != "") is refused."""
        data = (
            (corpus / IPAWS)
            .read_bytes()
            .replace(b'<ds:Reference URI="">', b'<ds:Reference URI="#part">')
        )

        error = refused(data)

        assert error.reason == "signature_invalid"
        assert "whole alert" in error.message

    def test_signature_without_key_is_refused(self, corpus: Path) -> None:
        """A signature with neither certificate nor key cannot be checked: refused."""
        data = (corpus / IPAWS).read_bytes()
        start, end = data.index(b"<ds:KeyInfo>"), data.index(b"</ds:KeyInfo>")
        stripped = data[:start] + data[end + len(b"</ds:KeyInfo>") :]

        error = refused(stripped)

        assert error.reason == "signature_invalid"
        assert "neither a certificate nor a key" in error.message


class TestVerificationSwitch:
    def test_unverified_signatures_are_reported_unchecked(self, corpus: Path) -> None:
        """With verification off, a tampered signed alert parses as "unchecked"."""
        data = (corpus / IPAWS).read_bytes().replace(b"AlertSense", b"AlertSensE")

        alert = parse_cap(data, verify_signatures=False)

        assert (alert.signature, alert.source) == ("unchecked", "AlertSensE")

    def test_unsigned_alert_is_absent_either_way(self, corpus: Path) -> None:
        """An unsigned alert reports "absent" whether or not verification runs."""
        data = (corpus / UNSIGNED).read_bytes()

        results = {
            parse_cap(data, verify_signatures=v).signature for v in (True, False)
        }

        assert results == {"absent"}
