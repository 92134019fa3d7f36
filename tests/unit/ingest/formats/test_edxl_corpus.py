"""EDXL-DE 1.0/2.0 and EDXL-RM parsing over the shared corpus, read in place.

Expected ids and counts come from a plain namespace-aware XPath over each file; the
RM expectations are a table checked by eye against the five UICDS messages.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from muster.ingest.formats import (
    FormatRejected,
    parse_cap,
    parse_edxl_de,
    parse_edxl_rm,
)
from tests.unit.ingest.formats.corpus import corpus_files

DE_FOLDERS = ("edxl/de-1.0", "edxl/de-2.0")
DE_SAMPLES = [
    f"{folder}/{name}" for folder in DE_FOLDERS for name in corpus_files(folder)
]
DE_INVALID = {
    "edxl/de-1.0/invalid/au_nsw_rfs_bushfire_edxlde_invalid.xml": "schema",
    "edxl/de-2.0/invalid/fr_ans_samu_hub_xxe.xml": "refused_entity",
}
# file -> (message type, message id, [(name, quantity, response, schedule location)])
RM_EXPECTED = {
    "uicds_CommitResource-Decline.xml": (
        "CommitResource",
        "35b87992-bd22-4ae2-bf07-fa5d5bb4fb80",
        [
            ("Track Dozer #48", None, "Decline", []),
            ("Track Dozer #7", None, "Decline", []),
        ],
    ),
    "uicds_CommitResource.1.xml": (
        "CommitResource",
        "CommitResource.1",
        [
            ("Track Dozer #48", None, "Accept", ["Arlington Waste Facility"]),
            ("Track Dozer #7", None, "Accept", ["Arlington Waste Facility"]),
        ],
    ),
    "uicds_RequestResource.1.xml": (
        "RequestResource",
        "RequestResource.1",
        [(None, "4", None, ["Arlington Waste Facility"])],
    ),
    "uicds_RequestResource.3.xml": (
        "RequestResource",
        "RequestResource.3",
        [
            (
                None,
                "4",
                None,
                [
                    "Arlington Waste Facility "
                    "(US, VA, Arlington, Eisenhower Avenue, 5301, 22204)"
                ],
            )
        ],
    ),
    "uicds_RequestResource.NoLocation.xml": (
        "RequestResource",
        "RequestResource.4",
        [(None, "4", None, [None])],
    ),
}


def local_xpath(path: Path, expression: str) -> object:
    """Evaluate a namespace-agnostic XPath over a corpus file (plain lxml)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.parse(str(path), parser).xpath(expression)


class TestDistributionSamples:
    @pytest.mark.parametrize("sample", DE_SAMPLES)
    def test_every_sample_unwraps(self, corpus: Path, sample: str) -> None:
        """Each DE sample yields its id and one entry per content object."""
        path = corpus / sample

        distribution = parse_edxl_de(path.read_bytes())

        assert distribution.version == sample.split("de-")[1][:3]
        assert distribution.distribution_id == local_xpath(
            path, "normalize-space(/*/*[local-name()='distributionID'])"
        )
        assert len(distribution.content_objects) == local_xpath(
            path, "count(//*[local-name()='contentObject'])"
        )
        assert distribution.sender_id
        assert distribution.status == "Actual"

    @pytest.mark.parametrize(
        "sample", [s for s in DE_SAMPLES if "rfs" in s and "de-1.0" in s]
    )
    def test_cap_inside_de_parses(self, corpus: Path, sample: str) -> None:
        """Every CAP 1.2 alert embedded in the RFS envelopes parses on its own."""
        path = corpus / sample
        expected = local_xpath(path, "count(//*[local-name()='alert'])")

        alerts = [
            parse_cap(xml) for xml in parse_edxl_de(path.read_bytes()).cap_payloads()
        ]

        assert len(alerts) == expected
        assert all(alert.version == "1.2" and alert.infos for alert in alerts)

    def test_cap_11_inside_de_is_routed_then_refused(self, corpus: Path) -> None:
        """A CAP 1.1 payload unwraps as kind "cap"; parse_cap refuses its version."""
        data = (corpus / "edxl/de-1.0/opencare_edxlde_cap11.xml").read_bytes()

        payloads = parse_edxl_de(data).cap_payloads()
        with pytest.raises(FormatRejected) as caught:
            parse_cap(payloads[0])

        assert len(payloads) == 1
        assert caught.value.reason == "unsupported_version"

    def test_non_xml_content_is_metadata_only(self, corpus: Path) -> None:
        """GEOFON's JPEG map is described by MIME type and URI, never fetched."""
        data = (corpus / "edxl/de-1.0/geofon_earthquake_edxlde.xml").read_bytes()

        distribution = parse_edxl_de(data)

        (payload,) = distribution.content_objects[0].payloads
        assert (payload.kind, payload.mime_type, payload.xml) == (
            "non_xml",
            "image/jpeg",
            None,
        )
        assert payload.uri
        assert payload.uri.endswith("gfz2009qmpm.jpg")
        assert distribution.target_areas[0].circles == ("-1.67,99.35 100",)
        assert distribution.sent is None
        assert distribution.sent_text

    def test_de2_keeps_addresses_and_names_the_payload(self, corpus: Path) -> None:
        """A DE 2.0 envelope keeps its explicit address and its payload's root name."""
        data = (corpus / "edxl/de-2.0/fr_ans_samu_hub_edxlde2_rs-eda.xml").read_bytes()

        distribution = parse_edxl_de(data)

        assert distribution.explicit_addresses == (("hubex", ("fr.health.samuB",)),)
        assert distribution.kind == "Report"
        assert distribution.language == "fr-FR"
        (payload,) = distribution.content_objects[0].payloads
        assert payload.kind == "{urn:emergency:cisu:3.0}message"
        assert payload.xml is not None
        assert etree.fromstring(payload.xml).tag == payload.kind

    def test_de2_target_areas_are_kept_as_text(self, corpus: Path) -> None:
        """DE 2.0 target areas (grouped under targetAreas) keep their locations."""
        data = (corpus / "edxl/de-2.0/fr_ans_samu_hub_edxlde2_minimal.xml").read_bytes()
        areas = (
            b"</explicitAddress><targetAreas><areaKind>Unknown</areaKind>"
            b"<areaGrouping>Union</areaGrouping><targetArea><geoPoliticalLocation>"
            b" FR-75 </geoPoliticalLocation></targetArea></targetAreas>"
        )

        distribution = parse_edxl_de(data.replace(b"</explicitAddress>", areas, 1))

        assert [area.other for area in distribution.target_areas] == [("FR-75",)]

    def test_de1_keeps_keywords_roles_and_areas(self, corpus: Path) -> None:
        """OpenCare's DE 1.0 metadata (keywords, roles, addresses, areas) is kept."""
        data = (corpus / "edxl/de-1.0/opencare_edxlde_cap11.xml").read_bytes()

        distribution = parse_edxl_de(data)

        assert distribution.keywords[0] == ("keywordUrn1", ("keyword1?",))
        assert distribution.sender_roles[1] == ("roleUrn2", ("manager2",))
        assert distribution.explicit_addresses == (("EA", ("EA-0001", "EA-0002")),)
        assert distribution.target_areas[0].countries == ("TH", "US")


class TestDistributionRejections:
    def test_table_covers_every_invalid_sample(self, corpus: Path) -> None:
        """Every file in the DE invalid/ folders has an expected reason."""
        found = {
            str(path.relative_to(corpus))
            for folder in DE_FOLDERS
            for path in (corpus / folder / "invalid").glob("*.xml")
        }

        assert found == set(DE_INVALID)

    @pytest.mark.parametrize("sample", sorted(DE_INVALID))
    def test_invalid_samples_are_rejected(self, corpus: Path, sample: str) -> None:
        """Invalid envelopes are refused with their specific reason."""
        with pytest.raises(FormatRejected) as caught:
            parse_edxl_de((corpus / sample).read_bytes())

        assert caught.value.reason == DE_INVALID[sample]

    def test_broken_embedded_alert_is_located_in_the_envelope(
        self, corpus: Path
    ) -> None:
        """The failing embedded alert is named by its XPath inside the envelope."""
        sample = "edxl/de-1.0/invalid/au_nsw_rfs_bushfire_edxlde_invalid.xml"

        with pytest.raises(FormatRejected) as caught:
            parse_edxl_de((corpus / sample).read_bytes())

        assert (caught.value.xpath or "").startswith("/edxlde:EDXLDistribution/")
        assert "embedded alert" in caught.value.message

    def test_de2_without_expiry_is_refused(self, corpus: Path) -> None:
        """A DE 2.0 envelope missing dateTimeExpires fails the structure check."""
        data = (corpus / "edxl/de-2.0/fr_ans_samu_hub_edxlde2_minimal.xml").read_bytes()
        start = data.index(b"<dateTimeExpires>")
        end = data.index(b"</dateTimeExpires>") + len(b"</dateTimeExpires>")

        with pytest.raises(FormatRejected) as caught:
            parse_edxl_de(data[:start] + data[end:])

        assert caught.value.reason == "schema"
        assert "dateTimeExpires" in caught.value.message

    def test_cap_alert_is_not_an_envelope(self, corpus: Path) -> None:
        """A bare CAP alert given to parse_edxl_de is refused with a hint."""
        data = (corpus / "cap/valid/spec_a1_dhs_homeland_security.xml").read_bytes()

        with pytest.raises(FormatRejected) as caught:
            parse_edxl_de(data)

        assert caught.value.reason == "not_edxl"
        assert "parse_cap" in caught.value.message


class TestResourceMessages:
    def test_table_covers_every_rm_sample(self, corpus: Path) -> None:
        """Every EDXL-RM sample has an expected outcome in the table."""
        assert corpus_files("edxl/rm") == sorted(RM_EXPECTED)

    @pytest.mark.parametrize("name", sorted(RM_EXPECTED))
    def test_rm_samples_parse_with_their_items(self, corpus: Path, name: str) -> None:
        """Each RM message yields its type, id and resource items."""
        message_type, message_id, items = RM_EXPECTED[name]

        message = parse_edxl_rm((corpus / "edxl/rm" / name).read_bytes())

        assert (message.message_type, message.message_id) == (message_type, message_id)
        assert [
            (
                item.name,
                item.quantity,
                item.response_type,
                [schedule.location for schedule in item.schedules],
            )
            for item in message.items
        ] == items
        assert message.incident_ids in ((), ("uicds-incident-id",))

    def test_request_keeps_type_and_contact(self, corpus: Path) -> None:
        """A request keeps its NIMS typing, schedule type and requester."""
        data = (corpus / "edxl/rm/uicds_RequestResource.1.xml").read_bytes()

        message = parse_edxl_rm(data)

        (item,) = message.items
        assert item.type_list == ("http://nimsonline.org/2.0", "NIMS Typing Version X")
        assert ("Resource", "Track Dozer") in item.type_info
        assert item.schedules[0].schedule_type == "RequestedArrival"
        assert message.contacts[0].role == "Requester"

    def test_missing_message_id_is_refused(self, corpus: Path) -> None:
        """An RM message without MessageID fails the required-element check."""
        data = (corpus / "edxl/rm/uicds_RequestResource.1.xml").read_bytes()
        data = data.replace(b"<rmsg:MessageID>RequestResource.1</rmsg:MessageID>", b"")

        with pytest.raises(FormatRejected) as caught:
            parse_edxl_rm(data)

        assert (caught.value.reason, "MessageID" in caught.value.message) == (
            "schema",
            True,
        )

    def test_envelope_is_not_a_resource_message(self, corpus: Path) -> None:
        """An EDXL-DE envelope given to parse_edxl_rm is refused as not_edxl."""
        data = (corpus / "edxl/de-1.0/geofon_earthquake_edxlde.xml").read_bytes()

        with pytest.raises(FormatRejected) as caught:
            parse_edxl_rm(data)

        assert caught.value.reason == "not_edxl"
