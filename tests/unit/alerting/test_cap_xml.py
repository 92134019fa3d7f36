"""CAP 1.2 output: XSD-valid, accepted by Muster's ingest and by capparselib."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from lxml import etree

from muster.alerting.cap_xml import alert_xml, cap_datetime, validate_alert
from muster.alerting.domain.errors import AlertInvalid
from muster.alerting.domain.model import Area
from muster.ingest.formats import parse_cap
from muster.ingest.formats.cap import CAP12
from tests.unit.alerting import samples

C = f"{{{CAP12}}}"
KINDS = {
    "alert": samples.alert(),
    "update": samples.update(),
    "cancel": samples.cancel(),
    "exercise": samples.exercise(),
}
ALERT_ORDER = [
    "identifier", "sender", "sent", "status", "msgType", "scope", "note",
    "incidents", "info", "info",
]  # fmt: skip
INFO_ORDER = [
    "language", "category", "event", "responseType", "responseType", "urgency",
    "severity", "certainty", "eventCode", "effective", "expires", "senderName",
    "headline", "description", "instruction", "web", "contact", "parameter",
    "area", "area", "area",
]  # fmt: skip


def local_names(element: etree._Element) -> list[str]:
    """Return the local names of an element's children, in order."""
    return [etree.QName(child).localname for child in element]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_given_each_kind_of_alert_when_written_then_the_xsd_and_ingest_accept_it(
    kind: str,
) -> None:
    """Alert, Update, Cancel and Exercise alerts pass the OASIS XSD and parse_cap."""
    content = KINDS[kind]

    xml = alert_xml(content, samples.SENT)

    validate_alert(xml)
    parsed = parse_cap(xml)
    assert (parsed.identifier, parsed.sender, parsed.status, parsed.msg_type) == (
        content.identifier,
        content.sender,
        content.status,
        content.msg_type,
    )
    assert parsed.signature == "absent"


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_given_each_kind_of_alert_when_capparselib_reads_it_then_it_keeps_the_fields(
    kind: str,
) -> None:
    """The peer parser capparselib validates and reads what Muster writes."""
    content = KINDS[kind]

    parsed = samples.capparselib_dict(alert_xml(content, samples.SENT))

    assert str(parsed["cap_id"]) == content.identifier
    assert str(parsed["cap_sender"]) == content.sender
    assert str(parsed["cap_message_type"]) == content.msg_type
    assert str(parsed["cap_status"]) == content.status
    infos = parsed["cap_info"]
    assert isinstance(infos, list)
    assert [str(info["cap_language"]) for info in infos] == ["zh-CN", "en"]
    assert [str(info["cap_headline"]) for info in infos] == [
        info.headline for info in content.infos
    ]
    assert [
        [str(area["area_description"]) for area in info["cap_area"]] for info in infos
    ] == [[area.description for area in content.areas]] * 2


def test_given_an_alert_when_written_then_elements_follow_the_xsd_order() -> None:
    """Alert and info children come in the order CAP-v1.2.xsd fixes."""
    root = etree.fromstring(alert_xml(samples.alert(), samples.SENT))

    assert local_names(root) == ALERT_ORDER
    assert local_names(root[-2]) == INFO_ORDER
    assert local_names(root[-2][-3]) == ["areaDesc", "polygon"]
    assert local_names(root[-2][-2]) == ["areaDesc", "circle"]
    assert local_names(root[-2][-1]) == ["areaDesc", "geocode", "geocode"]


def test_given_two_languages_when_read_back_then_every_info_block_has_every_area() -> (
    None
):
    """CAP puts areas inside info: each language carries polygon, circle, geocodes."""
    parsed = parse_cap(alert_xml(samples.alert(), samples.SENT))

    assert [info.language for info in parsed.infos] == ["zh-CN", "en"]
    for info in parsed.infos:
        urban, riverside, county = info.areas
        assert urban.polygons == (
            ((30.2, 120.1), (30.3, 120.1), (30.3, 120.25), (30.2, 120.1)),
        )
        assert riverside.circles == ((30.25, 120.3, 5.5),)
        assert county.geocodes == (("GB/T 2260", "330112"), ("ISO 3166-2", "CN-ZJ"))


def test_given_an_info_block_when_read_back_then_its_fields_round_trip() -> None:
    """Every info field Muster writes comes back unchanged from parse_cap."""
    content = samples.alert()
    chinese = content.infos[0]

    info = parse_cap(alert_xml(content, samples.SENT)).infos[0]

    assert info.categories == chinese.categories
    assert info.event == chinese.event
    assert info.response_types == chinese.response_types
    assert (info.urgency, info.severity, info.certainty) == ("Expected", "Severe",
                                                             "Likely")  # fmt: skip
    assert info.event_codes == chinese.event_codes
    assert info.parameters == chinese.parameters
    assert info.effective == datetime(2026, 7, 1, 9, 30, tzinfo=UTC)
    assert info.expires == datetime(2026, 7, 2, 9, 30, tzinfo=UTC)
    assert (info.sender_name, info.headline, info.description) == (
        chinese.sender_name,
        chinese.headline,
        chinese.description,
    )
    assert (info.instruction, info.web, info.contact) == (
        chinese.instruction,
        chinese.web,
        chinese.contact,
    )


def test_given_an_update_when_written_then_references_are_space_separated_triples() -> (
    None
):
    """An Update's references name the earlier alert as sender,identifier,sent."""
    parsed = parse_cap(alert_xml(samples.cancel(), samples.SENT))

    assert [(r.sender, r.identifier, r.sent) for r in parsed.references] == [
        (samples.SENDER, "muster-2026-0001", datetime(2026, 7, 1, 8, tzinfo=UTC)),
        (samples.SENDER, "muster-2026-0002", datetime(2026, 7, 1, 9, 30, tzinfo=UTC)),
    ]
    root = etree.fromstring(alert_xml(samples.cancel(), samples.SENT))
    assert root.findtext(f"{C}references") == (
        f"{samples.SENDER},muster-2026-0001,2026-07-01T08:00:00+00:00 "
        f"{samples.SENDER},muster-2026-0002,2026-07-01T09:30:00+00:00"
    )


def test_given_times_with_fractions_when_written_then_they_take_cap_form() -> None:
    """sent, effective and expires carry whole seconds and an offset, never "Z"."""
    root = etree.fromstring(alert_xml(samples.alert(), "2026-07-01T09:30:00.987654Z"))

    assert root.findtext(f"{C}sent") == "2026-07-01T09:30:00+00:00"
    assert root.findtext(f"{C}info/{C}effective") == "2026-07-01T17:30:00+08:00"
    assert root.findtext(f"{C}info/{C}expires") == "2026-07-02T17:30:00+08:00"


def test_given_an_aware_time_when_formatted_then_the_offset_is_kept() -> None:
    """cap_datetime keeps the offset it is given and drops fractions."""
    beijing = timezone(timedelta(hours=8))
    moment = datetime(2026, 7, 1, 17, 30, 5, 999, tzinfo=beijing)

    assert cap_datetime(moment.isoformat()) == "2026-07-01T17:30:05+08:00"
    assert cap_datetime("2026-07-01T09:30:05-00:00") == "2026-07-01T09:30:05+00:00"


def test_given_a_time_without_offset_when_written_then_it_is_refused() -> None:
    """A naive time cannot be placed on the CAP timeline."""
    with pytest.raises(AlertInvalid, match="UTC offset"):
        alert_xml(samples.alert(), "2026-07-01T09:30:00")


def test_given_markup_characters_when_written_then_they_are_escaped() -> None:
    """< & > and quotes in text survive as text, not markup."""
    tricky = '<b>暴雨</b> & "quotes"'
    content = samples.alert(infos=(replace(samples.infos()[0], headline=tricky),))

    parsed = parse_cap(alert_xml(content, samples.SENT))

    assert parsed.infos[0].headline == tricky


def test_given_a_control_character_when_written_then_the_field_is_named() -> None:
    """Text XML cannot carry is refused as AlertInvalid naming the field."""
    content = samples.alert(note="bell \x07")

    with pytest.raises(AlertInvalid) as caught:
        alert_xml(content, samples.SENT)

    assert caught.value.params["field"] == "note"


def test_given_a_malformed_reference_when_written_then_it_is_refused() -> None:
    """A reference must be sender,identifier,sent."""
    content = samples.update(references=("only-two,parts",))

    with pytest.raises(AlertInvalid) as caught:
        alert_xml(content, samples.SENT)

    assert caught.value.params["field"] == "references"


def test_given_content_muster_refuses_when_written_then_check_content_speaks() -> None:
    """alert_xml runs the domain's own checks first (an open polygon here)."""
    content = samples.alert(areas=(Area("open", polygons=("1,1 2,2 3,3 4,4",)),))

    with pytest.raises(AlertInvalid) as caught:
        alert_xml(content, samples.SENT)

    assert caught.value.params["field"] == "polygon"


def test_given_a_scope_outside_cap_when_validated_then_the_xsd_message_is_given() -> (
    None
):
    """validate_alert raises AlertInvalid with the XSD's own message."""
    xml = alert_xml(samples.alert(scope="Everyone"), samples.SENT)

    with pytest.raises(AlertInvalid) as caught:
        validate_alert(xml)

    assert caught.value.params["reason"] == "schema"
    assert "scope" in caught.value.message
    assert "Everyone" in caught.value.message


def test_given_a_restricted_alert_without_restriction_then_the_cap_rules_refuse() -> (
    None
):
    """Rules the XSD cannot express (Restricted needs a restriction) are checked."""
    xml = alert_xml(samples.alert(scope="Restricted"), samples.SENT)

    with pytest.raises(AlertInvalid) as caught:
        validate_alert(xml)

    assert caught.value.params["reason"] == "semantic"


def test_given_an_incident_with_spaces_when_written_then_it_is_quoted() -> None:
    """CAP lists are space-separated: an item with a space is double-quoted."""
    content = samples.alert(incidents=("inc-1", "flood 2026"))

    parsed = parse_cap(alert_xml(content, samples.SENT))

    assert parsed.incidents == ("inc-1", "flood 2026")


def test_given_an_alert_when_written_then_it_is_utf8_with_a_declaration() -> None:
    """The bytes are UTF-8 (Chinese text unescaped) with an XML declaration."""
    xml = alert_xml(samples.alert(), samples.SENT)

    assert xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert "暴雨".encode() in xml
