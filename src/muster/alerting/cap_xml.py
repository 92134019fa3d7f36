"""Write an alert's content as a CAP 1.2 document, and check it as a receiver would.

``alert_xml`` builds the XML (UTF-8, elements in the order the OASIS XSD fixes, every
area repeated inside every info block, as CAP puts ``area`` inside ``info``);
``validate_alert`` runs Muster's own CAP ingest over it (secure parse, the official
CAP-v1.2.xsd, the CAP rules the XSD cannot express, any signature), so what Muster
publishes is exactly what Muster would accept. Imported by ``signing`` (the publish
renderer), the benchmark and the tests.

Times: CAP's dateTime form, ``YYYY-MM-DDThh:mm:ss+hh:mm`` with no fractional seconds
and no "Z" (the XSD's pattern). ``cap_datetime`` normalises any ISO 8601 time with an
offset to that form and keeps the offset it was given, so a ``sent`` written by the
handlers (UTC, "+00:00") is the same string in the XML, in the event and in the
``references`` of later alerts.
"""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from muster.alerting.domain.errors import AlertInvalid
from muster.alerting.domain.model import AlertContent, Area, Info, check_content
from muster.ingest.formats import FormatRejected, parse_cap
from muster.ingest.formats.cap import CAP12

_C = f"{{{CAP12}}}"
_NSMAP = {None: CAP12}


def cap_datetime(text: str) -> str:
    """Return an ISO 8601 time with an offset in CAP form; refuse one without."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise AlertInvalid(
            f"{text!r} is not a date-time with a UTC offset", field="time"
        )
    return moment.replace(microsecond=0).isoformat()


def alert_xml(content: AlertContent, sent: str) -> bytes:
    """Return the CAP 1.2 alert for ``content`` sent at ``sent``, as UTF-8 bytes.

    Raises ``AlertInvalid`` for content Muster's rules refuse (``check_content``) and
    for text XML cannot carry (control characters). The XSD itself is checked by
    ``validate_alert``.
    """
    check_content(content)
    alert = etree.Element(f"{_C}alert", nsmap=_NSMAP)
    _add(alert, "identifier", content.identifier)
    _add(alert, "sender", content.sender)
    _add(alert, "sent", cap_datetime(sent))
    _add(alert, "status", content.status)
    _add(alert, "msgType", content.msg_type)
    _add(alert, "scope", content.scope)
    if content.note:
        _add(alert, "note", content.note)
    if content.references:
        _add(alert, "references", " ".join(_reference(r) for r in content.references))
    if content.incidents:
        _add(alert, "incidents", " ".join(_quoted(i) for i in content.incidents))
    for info in content.infos:
        _info(alert, info, content.areas)
    return etree.tostring(alert, xml_declaration=True, encoding="UTF-8")


def validate_alert(xml: bytes) -> None:
    """Check ``xml`` with Muster's CAP ingest; raise ``AlertInvalid`` with its reason.

    This is the official OASIS CAP 1.2 XSD (``ingest/formats/schemas``), then the
    CAP rules (references, geometry, scope), then any enveloped signature.
    """
    try:
        parse_cap(xml)
    except FormatRejected as rejected:
        raise AlertInvalid(
            f"the alert is not valid CAP 1.2: {rejected.message}",
            field="cap",
            reason=rejected.reason,
            line=rejected.line,
            xpath=rejected.xpath,
        ) from None


def _info(alert: etree._Element, info: Info, areas: tuple[Area, ...]) -> None:
    """Append one info block, in XSD order, with every area."""
    block = _child(alert, "info")
    _add(block, "language", info.language)
    for category in info.categories:
        _add(block, "category", category)
    _add(block, "event", info.event)
    for response_type in info.response_types:
        _add(block, "responseType", response_type)
    _add(block, "urgency", info.urgency)
    _add(block, "severity", info.severity)
    _add(block, "certainty", info.certainty)
    _pairs(block, "eventCode", info.event_codes)
    if info.effective:
        _add(block, "effective", cap_datetime(info.effective))
    if info.expires:
        _add(block, "expires", cap_datetime(info.expires))
    for name, text in (
        ("senderName", info.sender_name),
        ("headline", info.headline),
        ("description", info.description),
        ("instruction", info.instruction),
        ("web", info.web),
        ("contact", info.contact),
    ):
        if text:
            _add(block, name, text)
    _pairs(block, "parameter", info.parameters)
    for area in areas:
        _area(block, area)


def _area(block: etree._Element, area: Area) -> None:
    """Append one area: description, polygons, circles, geocodes."""
    element = _child(block, "area")
    _add(element, "areaDesc", area.description)
    for polygon in area.polygons:
        _add(element, "polygon", " ".join(polygon.split()))
    for circle in area.circles:
        _add(element, "circle", " ".join(circle.split()))
    _pairs(element, "geocode", area.geocodes)


def _pairs(
    parent: etree._Element, name: str, pairs: tuple[tuple[str, str], ...]
) -> None:
    """Append ``valueName``/``value`` elements (eventCode, parameter, geocode)."""
    for value_name, value in pairs:
        pair = _child(parent, name)
        _add(pair, "valueName", value_name)
        _add(pair, "value", value)


def _child(parent: etree._Element, name: str) -> etree._Element:
    """Append an empty CAP element."""
    element: etree._Element = etree.SubElement(parent, f"{_C}{name}")
    return element


def _add(parent: etree._Element, name: str, text: str) -> None:
    """Append a CAP element holding ``text``; name the field XML cannot carry."""
    element = _child(parent, name)
    try:
        element.text = text
    except ValueError:
        raise AlertInvalid(
            f"{name} holds characters XML cannot carry (control characters)",
            field=name,
        ) from None


def _reference(text: str) -> str:
    """Return one ``sender,identifier,sent`` reference with its time in CAP form."""
    parts = text.strip().split(",")
    if len(parts) != 3 or not all(parts):
        raise AlertInvalid(
            f"reference {text!r} is not sender,identifier,sent", field="references"
        )
    sender, identifier, sent = parts
    return f"{sender},{identifier},{cap_datetime(sent)}"


def _quoted(item: str) -> str:
    """Quote a list item holding white space (CAP's space-separated lists)."""
    cleaned = " ".join(item.replace('"', "").split())
    return f'"{cleaned}"' if " " in cleaned else cleaned


__all__ = ["alert_xml", "cap_datetime", "validate_alert"]
