"""CAP 1.2 parsing over the shared corpus, read in place (shared/corpus/cap/).

Expected identifiers and counts are computed independently of ``parse_cap`` with a
plain namespace-aware XPath over each file (lxml, entities off), and a few of them
are also hard-coded after checking the files by eye (``CAP_EYE_CHECKED``).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from lxml import etree

from muster.core.errors import ValidationFailed
from muster.ingest.formats import CapReference, FormatRejected, parse_cap
from tests.unit.ingest.formats.corpus import (
    CAP_EYE_CHECKED,
    CAP_INVALID_REASONS,
    corpus_files,
)

NS = {
    "cap": "urn:oasis:names:tc:emergency:cap:1.2",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
}


def plain_xpath(path: Path, expression: str) -> object:
    """Evaluate an XPath over a corpus file without Muster's parser."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.parse(str(path), parser).xpath(expression, namespaces=NS)


def rejection(path: Path) -> FormatRejected:
    """Parse a file that must be rejected and return the rejection."""
    with pytest.raises(FormatRejected) as caught:
        parse_cap(path.read_bytes())
    return caught.value


class TestValidAlerts:
    @pytest.mark.parametrize("name", corpus_files("cap/valid"))
    def test_accepts_with_identifier_infos_and_areas(
        self, corpus: Path, name: str
    ) -> None:
        """Every file in cap/valid is accepted with the identifier and counts it has."""
        path = corpus / "cap" / "valid" / name

        alert = parse_cap(path.read_bytes())

        assert alert.identifier == str(
            plain_xpath(path, "normalize-space(/cap:alert/cap:identifier)")
        )
        assert len(alert.infos) == plain_xpath(path, "count(/cap:alert/cap:info)")
        assert sum(len(info.areas) for info in alert.infos) == plain_xpath(
            path, "count(/cap:alert/cap:info/cap:area)"
        )
        assert alert.version == "1.2"

    @pytest.mark.parametrize("name", sorted(CAP_EYE_CHECKED))
    def test_matches_counts_checked_by_eye(self, corpus: Path, name: str) -> None:
        """A few files match identifier and counts read off the file by eye."""
        identifier, infos, areas = CAP_EYE_CHECKED[name]

        alert = parse_cap((corpus / "cap" / "valid" / name).read_bytes())

        assert (alert.identifier, len(alert.infos)) == (identifier, infos)
        assert sum(len(info.areas) for info in alert.infos) == areas

    @pytest.mark.parametrize("name", corpus_files("cap/valid"))
    def test_reports_signature_valid_or_absent(self, corpus: Path, name: str) -> None:
        """Signed valid files report "valid", files without a signature "absent"."""
        path = corpus / "cap" / "valid" / name
        is_signed = plain_xpath(path, "count(/cap:alert/ds:Signature[*]) > 0")

        alert = parse_cap(path.read_bytes())

        assert alert.signature == ("valid" if is_signed else "absent")

    @pytest.mark.parametrize(
        "name", [n for n in corpus_files("cap/valid") if n.startswith("us_ipaws")]
    )
    def test_us_ipaws_signatures_are_valid_and_honest(
        self, corpus: Path, name: str
    ) -> None:
        """IPAWS signatures verify at the alert's sent time; no trust is claimed."""
        data = (corpus / "cap" / "valid" / name).read_bytes()

        alert = parse_cap(data)

        assert alert.signature == "valid"
        assert "the alert's sent time" in alert.signature_detail
        assert "chain is NOT verified" in alert.signature_detail

    def test_notes_sha1_for_the_athoc_cancel(self, corpus: Path) -> None:
        """The AtHoc cancel uses a SHA-1 digest; it is accepted and named."""
        path = corpus / "cap" / "valid" / "us_athoc_ipaws_cancel_no_info_signed.xml"

        alert = parse_cap(path.read_bytes())

        assert alert.signature == "valid"
        assert "sha1" in alert.signature_detail

    def test_honours_the_iso_8859_1_declaration(self, corpus: Path) -> None:
        """The USGS alert declared ISO-8859-1 keeps its accented place name."""
        path = corpus / "cap" / "valid" / "us_usgs_earthquake_iso8859-1.xml"

        alert = parse_cap(path.read_bytes())

        assert "Usulután" in (alert.infos[0].headline or "")

    def test_reads_update_references_and_circle(self, corpus: Path) -> None:
        """The spec's earthquake Update links its earlier alert and keeps its circle."""
        path = corpus / "cap" / "valid" / "spec_a3_trinet_earthquake_update.xml"

        alert = parse_cap(path.read_bytes())

        assert alert.msg_type == "Update"
        assert alert.references == (
            CapReference(
                sender="trinet@caltech.edu",
                identifier="TRI13970876.1",
                sent=datetime(
                    2003, 6, 11, 20, 30, tzinfo=timezone(timedelta(hours=-7))
                ),
            ),
        )
        assert alert.infos[0].areas[0].circles == ((32.9525, -115.5527, 0.0),)

    def test_keeps_closed_polygons_and_geocodes(self, corpus: Path) -> None:
        """The NWS alert's two polygons are closed (lat, lon) rings."""
        path = corpus / "cap" / "valid" / "us_nws_multiple_polygons.xml"

        area = parse_cap(path.read_bytes()).infos[0].areas[0]

        assert len(area.polygons) == 2
        assert all(ring[0] == ring[-1] and len(ring) >= 4 for ring in area.polygons)
        assert all(-90 <= lat <= 90 for ring in area.polygons for lat, _ in ring)

    def test_sent_is_aware_and_digest_is_sha256_of_bytes(self, corpus: Path) -> None:
        """``sent`` carries its offset and ``digest`` is the SHA-256 of the input."""
        data = (
            corpus / "cap" / "valid" / "spec_a2_nws_ksto_thunderstorm.xml"
        ).read_bytes()

        alert = parse_cap(data)

        assert alert.sent.tzinfo is not None
        assert alert.sent.astimezone(UTC).tzinfo is UTC
        assert alert.digest == hashlib.sha256(data).hexdigest()


class TestInvalidAlerts:
    def test_reason_table_covers_every_invalid_file(self, corpus: Path) -> None:
        """Each file in cap/invalid has an expected reason (and nothing else does)."""
        names = {path.name for path in (corpus / "cap" / "invalid").glob("*.xml")}

        assert names == set(CAP_INVALID_REASONS)

    @pytest.mark.parametrize("name", sorted(CAP_INVALID_REASONS))
    def test_rejects_with_its_specific_reason(self, corpus: Path, name: str) -> None:
        """Every invalid file is rejected with the reason (and XSD line) expected."""
        reason, line = CAP_INVALID_REASONS[name]

        error = rejection(corpus / "cap" / "invalid" / name)

        assert isinstance(error, ValidationFailed)
        assert (error.reason, error.line if line else None) == (reason, line)

    def test_empty_references_are_named(self, corpus: Path) -> None:
        """An Update with empty <references/> is refused as semantic, naming them."""
        error = rejection(corpus / "cap" / "invalid" / "empty_references_canada.xml")

        assert error.reason == "semantic"
        assert "references" in error.message
        assert error.xpath == "/*/*[10]"

    def test_xxe_attack_is_refused_before_anything_resolves(self, corpus: Path) -> None:
        """The XXE/XInclude sample is refused for its entity declarations."""
        error = rejection(corpus / "cap" / "invalid" / "xxe_xinclude_attack.xml")

        assert error.reason == "refused_entity"
        assert "root:" not in str(error)

    def test_wrapper_root_is_explained(self, corpus: Path) -> None:
        """SMHI's <alerts> wrapper is refused and its 17 alerts are counted."""
        error = rejection(
            corpus / "cap" / "invalid" / "se_smhi_alerts_wrapper_root.xml"
        )

        assert error.reason == "not_cap"
        assert "17 CAP alert(s)" in error.message


class TestOtherVersions:
    @pytest.mark.parametrize("name", corpus_files("cap/other-versions"))
    def test_rejects_cap_1_0_and_1_1_clearly(self, corpus: Path, name: str) -> None:
        """CAP 1.0/1.1 documents are refused as an unsupported version."""
        error = rejection(corpus / "cap" / "other-versions" / name)

        assert error.reason == "unsupported_version"
        assert "Muster accepts CAP 1.2" in error.message
        assert "convert upstream" in error.message


class TestSignatureEdge:
    def test_covers_every_signature_edge_file(self, corpus: Path) -> None:
        """The two signature-edge files are the ones these tests decide about."""
        names = corpus_files("cap/signature-edge")

        assert names == [
            "ca_environment_canada_signed.xml",
            "us_noaa_wcatwc_tsunami_update_circle_signed.xml",
        ]

    def test_empty_signature_placeholder_counts_as_absent(self, corpus: Path) -> None:
        """An empty <Signature/> makes no verifiable claim: reported as absent."""
        folder = corpus / "cap" / "signature-edge"
        data = (folder / "us_noaa_wcatwc_tsunami_update_circle_signed.xml").read_bytes()

        alert = parse_cap(data)

        assert alert.signature == "absent"
        assert "placeholder" in alert.signature_detail
        assert alert.msg_type == "Update"

    def test_each_of_canadas_two_signatures_is_verified(self, corpus: Path) -> None:
        """NAADS and Environment Canada signatures each verify, the other set aside."""
        data = corpus / "cap" / "signature-edge" / "ca_environment_canada_signed.xml"

        alert = parse_cap(data.read_bytes())

        assert alert.signature == "valid"
        assert "signature 1 of 2 (Id='NAADS Signature'): valid" in (
            alert.signature_detail
        )
        assert "signature 2 of 2 (Id='Environment Canada'): valid" in (
            alert.signature_detail
        )
        assert "sha1" in alert.signature_detail
