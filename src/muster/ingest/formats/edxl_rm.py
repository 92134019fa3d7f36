"""Parse EDXL-RM 1.0 resource messages (RequestResource, CommitResource, ...).

No EDXL-RM schema is available, so the message must be well-formed, in the RM message
namespace, and carry ``MessageID``, ``SentDateTime`` and ``MessageContentType``;
everything else is read as found. Quantities, types and schedules are kept as text
(NIMS typing varies by issuer). Imported by ``edxl.py`` and ingest handlers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from muster.ingest.formats import FormatRejected
from muster.ingest.formats._xmltext import (
    child_text,
    children_texts,
    lenient_datetime,
    qualified_name,
    where,
)
from muster.ingest.formats.secure_xml import DEFAULT_MAX_BYTES, parse_xml

RMSG = "urn:oasis:names:tc:emergency:EDXL:RM:1.0:msg"
RM = "urn:oasis:names:tc:emergency:EDXL:RM:1.0"
_M = f"{{{RMSG}}}"
_R = f"{{{RM}}}"
REQUIRED = ("MessageID", "SentDateTime", "MessageContentType")


@dataclass(frozen=True, slots=True)
class EdxlContact:
    """Who speaks for the message: a description, a role, a place."""

    description: str | None
    role: str | None
    location: str | None


@dataclass(frozen=True, slots=True)
class EdxlSchedule:
    """A time or place in a resource's schedule, e.g. RequestedArrival, Committed."""

    schedule_type: str | None
    when: datetime | None
    """Aware when the message gives an offset; else ``None`` (see when_text)."""
    when_text: str | None
    location: str | None


@dataclass(frozen=True, slots=True)
class EdxlResourceItem:
    """One ``ResourceInformation`` block: what is requested, committed or declined."""

    element_id: str | None
    response_type: str | None
    """Accept, Decline, Provisional, ... (answers only)."""
    preceding_element_id: str | None
    resource_id: str | None
    name: str | None
    type_list: tuple[str, str] | None
    """(value list URN, value) of ``TypeStructure``."""
    type_info: tuple[tuple[str, str], ...]
    """Free-form ``TypeInfo`` children as (element name, text)."""
    keywords: tuple[tuple[str, str], ...]
    quantity: str | None
    quantity_unit: str | None
    schedules: tuple[EdxlSchedule, ...]


@dataclass(frozen=True, slots=True)
class EdxlResourceMessage:
    """An EDXL-RM message with its resource items."""

    message_type: str
    """The root element's local name, e.g. ``RequestResource``."""
    message_id: str
    content_type: str
    sent: datetime | None
    sent_text: str
    description: str | None
    originating_message_id: str | None
    preceding_message_id: str | None
    incident_ids: tuple[str, ...]
    contacts: tuple[EdxlContact, ...]
    items: tuple[EdxlResourceItem, ...]
    digest: str


def parse_edxl_rm(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> EdxlResourceMessage:
    """Parse an EDXL-RM 1.0 message; raise ``FormatRejected`` with the reason."""
    root = parse_xml(data, max_bytes=max_bytes)
    if etree.QName(root).namespace != RMSG:
        raise FormatRejected(
            f"the root element {qualified_name(root)} is not an EDXL-RM 1.0 message "
            f"(namespace {RMSG})",
            reason="not_edxl",
            line=root.sourceline,
        )
    _require_message_fields(root)
    sent_text = child_text(root, f"{_M}SentDateTime") or ""
    return EdxlResourceMessage(
        message_type=etree.QName(root).localname,
        message_id=child_text(root, f"{_M}MessageID") or "",
        content_type=child_text(root, f"{_M}MessageContentType") or "",
        sent=lenient_datetime(sent_text),
        sent_text=sent_text,
        description=child_text(root, f"{_M}MessageDescription"),
        originating_message_id=child_text(root, f"{_M}OriginatingMessageID"),
        preceding_message_id=child_text(root, f"{_M}PrecedingMessageID"),
        incident_ids=tuple(
            text
            for incident in root.iterfind(f"{_M}IncidentInformation")
            for text in children_texts(incident, f"{_R}IncidentID")
        ),
        contacts=tuple(_contact(c) for c in root.iterfind(f"{_M}ContactInformation")),
        items=tuple(_item(i) for i in root.iterfind(f"{_M}ResourceInformation")),
        digest=hashlib.sha256(data).hexdigest(),
    )


def _require_message_fields(root: etree._Element) -> None:
    """Refuse a message without its id, sent time or content type."""
    for local in REQUIRED:
        if child_text(root, f"{_M}{local}") is None:
            line, path = where(root)
            raise FormatRejected(
                f"not valid EDXL-RM 1.0: <{local}> is missing or empty",
                reason="schema",
                line=line,
                xpath=path,
            )


def _contact(contact: etree._Element) -> EdxlContact:
    """Read one contact."""
    return EdxlContact(
        description=child_text(contact, f"{_R}ContactDescription"),
        role=child_text(contact, f"{_R}ContactRole"),
        location=_location(contact.find(f"{_R}ContactLocation")),
    )


def _item(item: etree._Element) -> EdxlResourceItem:
    """Read one resource information block."""
    response = item.find(f"{_M}ResponseInformation")
    resource = item.find(f"{_M}Resource")
    quantity, unit = _quantity(item.find(f"{_M}AssignmentInformation/{_M}Quantity"))
    return EdxlResourceItem(
        element_id=child_text(item, f"{_M}ResourceInfoElementID"),
        response_type=None
        if response is None
        else child_text(response, f"{_R}ResponseType"),
        preceding_element_id=None
        if response is None
        else child_text(response, f"{_R}PrecedingResourceInfoElementID"),
        resource_id=None
        if resource is None
        else child_text(resource, f"{_M}ResourceID"),
        name=None if resource is None else child_text(resource, f"{_M}Name"),
        type_list=_type_list(resource),
        type_info=_type_info(resource),
        keywords=()
        if resource is None
        else tuple(
            (
                child_text(keyword, f"{_R}ValueListURN") or "",
                child_text(keyword, f"{_R}Value") or "",
            )
            for keyword in resource.iterfind(f"{_M}Keyword")
        ),
        quantity=quantity,
        quantity_unit=unit,
        schedules=tuple(
            _schedule(s) for s in item.iterfind(f"{_M}ScheduleInformation")
        ),
    )


def _type_list(resource: etree._Element | None) -> tuple[str, str] | None:
    """Read ``TypeStructure`` as (value list URN, value)."""
    structure = None if resource is None else resource.find(f"{_M}TypeStructure")
    if structure is None:
        return None
    return (
        child_text(structure, f"{_R}ValueListURN") or "",
        child_text(structure, f"{_R}Value") or "",
    )


def _type_info(resource: etree._Element | None) -> tuple[tuple[str, str], ...]:
    """Read the free-form ``TypeInfo`` children."""
    info = None if resource is None else resource.find(f"{_M}TypeInfo")
    if info is None:
        return ()
    return tuple(
        (etree.QName(child).localname, (child.text or "").strip())
        for child in info
        if isinstance(child.tag, str)
    )


def _quantity(quantity: etree._Element | None) -> tuple[str | None, str | None]:
    """Read ``QuantityText`` or ``MeasuredQuantity`` (amount and unit)."""
    if quantity is None:
        return None, None
    text = child_text(quantity, f"{_R}QuantityText")
    measured = quantity.find(f"{_R}MeasuredQuantity")
    if measured is None:
        return text, None
    amount = child_text(measured, f"{_R}Amount")
    unit = measured.find(f"{_R}UnitOfMeasure")
    unit_text = None if unit is None else _joined_text(unit)
    return amount or text, unit_text


def _schedule(schedule: etree._Element) -> EdxlSchedule:
    """Read one schedule entry."""
    when_text = child_text(schedule, f"{_M}DateTime")
    return EdxlSchedule(
        schedule_type=child_text(schedule, f"{_M}ScheduleType"),
        when=lenient_datetime(when_text),
        when_text=when_text,
        location=_location(schedule.find(f"{_M}Location")),
    )


def _location(location: etree._Element | None) -> str | None:
    """Describe a location: its description, then its address parts."""
    if location is None:
        return None
    description = child_text(location, f"{_R}LocationDescription")
    address = location.find(f"{_R}Address")
    parts = [] if address is None else _address_parts(address)
    if description and parts:
        return f"{description} ({', '.join(parts)})"
    return description or (", ".join(parts) or None)


def _address_parts(address: etree._Element) -> list[str]:
    """Collect the text (or ``NameCode``) of every leaf of an xAL address."""
    parts = []
    for element in address.iter():
        if not isinstance(element.tag, str) or len(element):
            continue
        text = (element.text or "").strip()
        code = next(
            (v for k, v in element.attrib.items() if str(k).endswith("NameCode")), ""
        )
        if text or code:
            parts.append(text or code)
    return parts


def _joined_text(element: etree._Element) -> str | None:
    """Join an element's non-empty texts with spaces."""
    return " ".join(t.strip() for t in element.itertext() if t.strip()) or None
