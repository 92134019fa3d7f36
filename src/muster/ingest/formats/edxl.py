"""Unwrap EDXL-DE 1.0 and 2.0 envelopes: distribution metadata plus routable payloads.

DE 1.0 is validated by its OASIS XSD (``schemas/edxlde-1_0.xsd``); DE 2.0 has no
schema here, so its required elements and code lists are checked by hand. Every
embedded CAP 1.2 alert is also checked against the CAP XSD, so one broken alert
rejects the envelope (reason ``schema``, XPath of the alert) and the whole envelope
goes to quarantine. Embedded XML is returned re-serialised (UTF-8, unused namespace
declarations removed) with a ``kind``: "cap" for a CAP ``alert`` of any version, so
the caller routes it to ``parse_cap`` (which refuses CAP 1.0/1.1), else the root's
Clark name. Non-XML content (``uri``, base64 ``contentData``) is kept as metadata:
never fetched, never decoded; ``keyXMLContent`` (excerpts) is not returned. A
signature inside an embedded alert signed with inclusive c14n may not verify after
unwrapping (the envelope's namespace context is gone).
Imported by ingest handlers; ``parse_edxl_rm`` is re-exported from ``edxl_rm``.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from muster.ingest.formats import FormatRejected
from muster.ingest.formats._xmltext import (
    child_text,
    children_texts,
    lenient_datetime,
    optional_int,
    qualified_name,
)
from muster.ingest.formats.cap import CAP12, CAP_SCHEMA, OLDER_CAP_VERSIONS
from muster.ingest.formats.edxl_de2 import check_de2
from muster.ingest.formats.edxl_rm import (
    EdxlResourceItem,
    EdxlResourceMessage,
    parse_edxl_rm,
)
from muster.ingest.formats.secure_xml import DEFAULT_MAX_BYTES, parse_xml, validate

DE10 = "urn:oasis:names:tc:emergency:EDXL:DE:1.0"
DE20 = "urn:oasis:names:tc:emergency:EDXL:DE:2.0"
_ROOTS = {f"{{{DE10}}}EDXLDistribution": "1.0", f"{{{DE20}}}edxlDistribution": "2.0"}
_CAP_NAMESPACES = frozenset({CAP12, *OLDER_CAP_VERSIONS})
_CAP_ROOTS = frozenset(f"{{{namespace}}}alert" for namespace in _CAP_NAMESPACES)

ValueList = tuple[str, tuple[str, ...]]
"""(value list URN, values): EDXL keywords, roles and explicit addresses."""


@dataclass(frozen=True, slots=True)
class EdxlTargetArea:
    """A target area as written; EDXL geometry is kept as text, not interpreted."""

    circles: tuple[str, ...]
    polygons: tuple[str, ...]
    countries: tuple[str, ...]
    subdivisions: tuple[str, ...]
    location_codes: tuple[str, ...]
    other: tuple[str, ...]
    """DE 2.0 locations (GML or geopolitical), whitespace-normalised text."""


@dataclass(frozen=True, slots=True)
class EdxlPayload:
    """One item of content: embedded XML to route, or non-XML metadata."""

    kind: str
    """"cap", the embedded root's Clark name, or "non_xml"."""
    xml: bytes | None
    mime_type: str | None = None
    uri: str | None = None
    size: int | None = None
    digest: str | None = None
    content_data: str | None = None
    """Base64 text as received (never decoded here)."""


@dataclass(frozen=True, slots=True)
class EdxlContentObject:
    """One content object with its description and payloads."""

    description: str | None
    keywords: tuple[ValueList, ...]
    incident_id: str | None
    incident_description: str | None
    confidentiality: str | None
    payloads: tuple[EdxlPayload, ...]


@dataclass(frozen=True, slots=True)
class EdxlDistribution:
    """An EDXL-DE envelope: who sent what to whom, and its content objects."""

    version: str
    distribution_id: str
    sender_id: str
    sent: datetime | None
    """Aware when ``dateTimeSent`` carries an offset; else ``None`` (see sent_text)."""
    sent_text: str
    expires: datetime | None
    status: str
    kind: str
    """``distributionType`` (1.0) or ``distributionKind`` (2.0)."""
    combined_confidentiality: str | None
    language: str | None
    sender_roles: tuple[ValueList, ...]
    recipient_roles: tuple[ValueList, ...]
    keywords: tuple[ValueList, ...]
    explicit_addresses: tuple[ValueList, ...]
    target_areas: tuple[EdxlTargetArea, ...]
    content_objects: tuple[EdxlContentObject, ...]
    digest: str

    def cap_payloads(self) -> tuple[bytes, ...]:
        """Return every embedded CAP alert, in order, ready for ``parse_cap``."""
        return tuple(
            payload.xml
            for content in self.content_objects
            for payload in content.payloads
            if payload.kind == "cap" and payload.xml is not None
        )


def parse_edxl_de(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> EdxlDistribution:
    """Parse and check an EDXL-DE 1.0 or 2.0 envelope; raise ``FormatRejected``."""
    root = parse_xml(data, max_bytes=max_bytes)
    version = _ROOTS.get(str(root.tag))
    if version is None:
        hint = "; it is a CAP alert: use parse_cap" if root.tag in _CAP_ROOTS else ""
        raise FormatRejected(
            f"the root element {qualified_name(root)} is not an EDXL-DE 1.0 or 2.0 "
            f"distribution{hint}",
            reason="not_edxl",
            line=root.sourceline,
        )
    if version == "1.0":
        validate(root, schema_file="edxlde-1_0.xsd", label="EDXL-DE 1.0")
    else:
        check_de2(root)
    namespace = DE10 if version == "1.0" else DE20
    _check_embedded_cap(root)
    return _distribution(
        root, _Names(namespace, version), hashlib.sha256(data).hexdigest()
    )


@dataclass(frozen=True, slots=True)
class _Names:
    """Element names for one DE version."""

    namespace: str
    version: str

    def __call__(self, local: str) -> str:
        """Return the Clark name of ``local`` in this version's namespace."""
        return f"{{{self.namespace}}}{local}"


def _check_embedded_cap(root: etree._Element) -> None:
    """Validate every embedded CAP 1.2 alert against the CAP XSD."""
    for alert in root.iter(f"{{{CAP12}}}alert"):
        parent = alert.getparent()
        if parent is None or etree.QName(parent).localname != "embeddedXMLContent":
            continue
        try:
            validate(alert, schema_file=CAP_SCHEMA, label="CAP 1.2 (OASIS XSD)")
        except FormatRejected as rejection:
            # lxml reports paths relative to the alert; give the envelope's path.
            path = alert.getroottree().getpath(alert)
            inner = (rejection.xpath or "").split("/", 2)
            raise FormatRejected(
                f"an embedded alert is {rejection.message}",
                reason="schema",
                line=rejection.line,
                xpath=path + ("/" + inner[2] if len(inner) == 3 else ""),
            ) from None


def _distribution(root: etree._Element, n: _Names, digest: str) -> EdxlDistribution:
    """Build the distribution after its structure was checked."""
    described = root if n.version == "1.0" else root.find(n("descriptor"))
    meta = root if described is None else described
    sent_text = child_text(root, n("dateTimeSent")) or ""
    kind_tag = "distributionType" if n.version == "1.0" else "distributionKind"
    area_path = n("targetArea")
    if n.version == "2.0":  # 2.0 groups areas: descriptor/targetAreas/targetArea
        area_path = f"{n('targetAreas')}/{area_path}"
    return EdxlDistribution(
        version=n.version,
        distribution_id=child_text(root, n("distributionID")) or "",
        sender_id=child_text(root, n("senderID")) or "",
        sent=lenient_datetime(sent_text),
        sent_text=sent_text,
        expires=lenient_datetime(child_text(root, n("dateTimeExpires"))),
        status=child_text(root, n("distributionStatus")) or "",
        kind=child_text(root, n(kind_tag)) or "",
        combined_confidentiality=child_text(meta, n("combinedConfidentiality")),
        language=child_text(meta, n("language")),
        sender_roles=_value_lists(meta, n("senderRole")),
        recipient_roles=_value_lists(meta, n("recipientRole")),
        keywords=_value_lists(meta, n("keyword")),
        explicit_addresses=_addresses(meta, n),
        target_areas=tuple(_area(area, n) for area in meta.iterfind(area_path)),
        content_objects=tuple(_content(c, n) for c in root.iterfind(_content_path(n))),
        digest=digest,
    )


def _content_path(n: _Names) -> str:
    """Where content objects sit: under the root (1.0) or under ``content`` (2.0)."""
    if n.version == "1.0":
        return n("contentObject")
    return f"{n('content')}/{n('contentObject')}"


def _value_lists(parent: etree._Element, tag: str) -> tuple[ValueList, ...]:
    """Read value lists (``valueListUrn`` or ``valueListURI``, then ``value``s)."""
    lists = []
    for element in parent.iterfind(tag):
        urn = ""
        values: list[str] = []
        for child in element:
            local = etree.QName(child).localname
            text = (child.text or "").strip()
            if local.lower().startswith("valuelistur"):
                urn = text
            elif local == "value" and text:
                values.append(text)
        lists.append((urn, tuple(values)))
    return tuple(lists)


def _addresses(parent: etree._Element, n: _Names) -> tuple[ValueList, ...]:
    """Read explicit addresses as (scheme, values)."""
    return tuple(
        (
            child_text(address, n("explicitAddressScheme")) or "",
            children_texts(address, n("explicitAddressValue")),
        )
        for address in parent.iterfind(n("explicitAddress"))
    )


def _area(area: etree._Element, n: _Names) -> EdxlTargetArea:
    """Read one target area; DE 2.0 locations are kept as normalised text."""
    other = tuple(
        " ".join(" ".join(child.itertext()).split())
        for child in area
        if etree.QName(child).namespace != n.namespace
        or etree.QName(child).localname == "geoPoliticalLocation"
    )
    return EdxlTargetArea(
        circles=children_texts(area, n("circle")),
        polygons=children_texts(area, n("polygon")),
        countries=children_texts(area, n("country")),
        subdivisions=children_texts(area, n("subdivision")),
        location_codes=children_texts(area, n("locCodeUN")),
        other=other,
    )


def _content(content: etree._Element, n: _Names) -> EdxlContentObject:
    """Read one content object and its payloads."""
    described = content if n.version == "1.0" else content.find(n("contentDescriptor"))
    meta = content if described is None else described
    return EdxlContentObject(
        description=child_text(meta, n("contentDescription")),
        keywords=_value_lists(meta, n("contentKeyword")),
        incident_id=child_text(meta, n("incidentID")),
        incident_description=child_text(meta, n("incidentDescription")),
        confidentiality=child_text(meta, n("confidentiality")),
        payloads=_payloads(content, n),
    )


def _payloads(content: etree._Element, n: _Names) -> tuple[EdxlPayload, ...]:
    """Collect embedded XML roots and non-XML descriptions of a content object."""
    xml_tag = n("xmlContent") if n.version == "1.0" else n("contentXML")
    embedded = [
        element
        for holder in content.iterfind(f"{xml_tag}/{n('embeddedXMLContent')}")
        for element in holder
        if isinstance(element.tag, str)
    ]
    payloads = [_xml_payload(element) for element in embedded]
    non_xml_tag = n("nonXMLContent") if n.version == "1.0" else n("otherContent")
    payloads.extend(_non_xml(item, n) for item in content.iterfind(non_xml_tag))
    return tuple(payloads)


def _xml_payload(element: etree._Element) -> EdxlPayload:
    """Re-serialise one embedded document and name its kind."""
    name = etree.QName(element)
    is_cap = name.localname == "alert" and name.namespace in _CAP_NAMESPACES
    detached = copy.deepcopy(element)
    detached.tail = None
    etree.cleanup_namespaces(detached)
    return EdxlPayload(
        kind="cap" if is_cap else qualified_name(element),
        xml=etree.tostring(detached, encoding="UTF-8", xml_declaration=True),
    )


def _non_xml(item: etree._Element, n: _Names) -> EdxlPayload:
    """Describe non-XML content; the URI is never fetched, the data never decoded."""
    return EdxlPayload(
        kind="non_xml",
        xml=None,
        mime_type=child_text(item, n("mimeType")),
        uri=child_text(item, n("uri")),
        size=optional_int(item, n("size"), what="content size"),
        digest=child_text(item, n("digest")),
        content_data=child_text(item, n("contentData")),
    )


__all__ = [
    "EdxlContentObject",
    "EdxlDistribution",
    "EdxlPayload",
    "EdxlResourceItem",
    "EdxlResourceMessage",
    "EdxlTargetArea",
    "parse_edxl_de",
    "parse_edxl_rm",
]
