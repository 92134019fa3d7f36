"""Parse one CAP 1.2 alert from bytes into frozen dataclasses, or reject it cleanly.

Order of checks: safe parse (``secure_xml``), root element and version, the official
OASIS CAP 1.2 XSD (``schemas/CAP-v1.2.xsd``), signatures (``signatures.py``), then the
CAP 1.2 rules the XSD cannot express (``cap_rules.py``). Imported by ingest handlers.

Decisions:

- CAP 1.0 and 1.1 are rejected with reason ``unsupported_version``: Muster accepts
  CAP 1.2 only (convert upstream). Parsing them "with a version note" would need a
  second schema and model for a format their issuers have long replaced.
- A ``<alerts>`` wrapper holding several alerts, a wrong namespace or a root other
  than ``alert`` is rejected with reason ``not_cap`` (one alert per document).
- Signatures: see ``signatures.py``. A signature that fails rejects the alert with
  ``signature_invalid``; an empty ``<Signature/>`` placeholder reports "absent"; with
  ``verify_signatures=False`` a present signature reports "unchecked".
- Resources (``<resource>``) are described, never fetched; ``derefUri`` is kept as
  text.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from muster.ingest.formats import FormatRejected
from muster.ingest.formats._xmltext import (
    Children,
    aware_datetime,
    optional_int,
    split_quoted,
)
from muster.ingest.formats.cap_rules import (
    CapReference,
    Point,
    check_scope,
    read_altitude_ceiling,
    read_circle,
    read_polygon,
    read_references,
)
from muster.ingest.formats.secure_xml import DEFAULT_MAX_BYTES, parse_xml, validate
from muster.ingest.formats.signatures import (
    SignatureReport,
    SignatureStatus,
    check_signatures,
    unchecked_report,
)

CAP12 = "urn:oasis:names:tc:emergency:cap:1.2"
OLDER_CAP_VERSIONS: dict[str, str] = {
    "urn:oasis:names:tc:emergency:cap:1.1": "1.1",
    "urn:oasis:names:tc:emergency:cap:1.0": "1.0",
    "http://www.incident.com/cap/1.0": "1.0",
}
EDXL_NAMESPACES = (
    "urn:oasis:names:tc:emergency:EDXL:DE:1.0",
    "urn:oasis:names:tc:emergency:EDXL:DE:2.0",
)
CAP_SCHEMA = "CAP-v1.2.xsd"
_C = f"{{{CAP12}}}"
_VALUE_NAME = f"{_C}valueName"
_VALUE = f"{_C}value"

Pair = tuple[str, str]


@dataclass(frozen=True, slots=True)
class CapResource:
    """A file the alert points to (image, audio, map); described, never fetched."""

    description: str
    mime_type: str
    size: int | None
    uri: str | None
    deref_uri: str | None
    digest: str | None


@dataclass(frozen=True, slots=True)
class CapArea:
    """Where an info block applies: polygons, circles and geocodes (WGS 84)."""

    description: str
    polygons: tuple[tuple[Point, ...], ...]
    """Each polygon is closed: its first (lat, lon) equals its last."""
    circles: tuple[tuple[float, float, float], ...]
    """(lat, lon, radius_km)."""
    geocodes: tuple[Pair, ...]
    altitude: float | None
    ceiling: float | None


@dataclass(frozen=True, slots=True)
class CapInfo:
    """One ``<info>`` block: the alert in one language."""

    language: str
    categories: tuple[str, ...]
    event: str
    response_types: tuple[str, ...]
    urgency: str
    severity: str
    certainty: str
    audience: str | None
    event_codes: tuple[Pair, ...]
    effective: datetime | None
    onset: datetime | None
    expires: datetime | None
    sender_name: str | None
    headline: str | None
    description: str | None
    instruction: str | None
    web: str | None
    contact: str | None
    parameters: tuple[Pair, ...]
    resources: tuple[CapResource, ...]
    areas: tuple[CapArea, ...]


@dataclass(frozen=True, slots=True)
class CapAlert:
    """A CAP 1.2 alert that passed the XSD, the CAP rules and its signatures."""

    identifier: str
    sender: str
    sent: datetime
    status: str
    msg_type: str
    source: str | None
    scope: str
    restriction: str | None
    addresses: tuple[str, ...]
    codes: tuple[str, ...]
    note: str | None
    references: tuple[CapReference, ...]
    incidents: tuple[str, ...]
    infos: tuple[CapInfo, ...]
    version: str
    signature: SignatureStatus
    signature_detail: str
    digest: str
    """SHA-256 (hex) of the raw bytes received, for duplicate detection."""


def parse_cap(
    data: bytes,
    *,
    verify_signatures: bool = True,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> CapAlert:
    """Parse and check one CAP 1.2 alert; raise ``FormatRejected`` with the reason."""
    root = parse_xml(data, max_bytes=max_bytes)
    check_root(root)
    validate(root, schema_file=CAP_SCHEMA, label="CAP 1.2 (OASIS CAP-v1.2.xsd)")
    sent_element = root.find(f"{_C}sent")
    sent = aware_datetime(
        "" if sent_element is None else sent_element.text or "",
        element=root if sent_element is None else sent_element,
        what="sent",
    )
    if verify_signatures:
        report = check_signatures(root, sent=sent, source=data)
    else:
        report = unchecked_report(root)
    return _alert(
        root, sent=sent, report=report, digest=hashlib.sha256(data).hexdigest()
    )


def check_root(root: etree._Element) -> None:
    """Accept only ``{CAP 1.2}alert`` as root; explain any other root precisely."""
    name = etree.QName(root)
    if name.namespace == CAP12 and name.localname == "alert":
        return
    line = root.sourceline
    version = OLDER_CAP_VERSIONS.get(name.namespace or "")
    if version is not None:
        raise FormatRejected(
            f"CAP {version} is not accepted; Muster accepts CAP 1.2 — convert upstream",
            reason="unsupported_version",
            line=line,
            xpath="/*",
        )
    raise FormatRejected(_not_cap_message(root, name), reason="not_cap", line=line)


def _not_cap_message(root: etree._Element, name: etree.QName) -> str:
    """Say what the document is instead of a CAP 1.2 alert."""
    if name.namespace == CAP12:
        inner = len(root.findall(f"{_C}alert"))
        return (
            f"the root element is <{name.localname}>, not <alert>; it holds {inner} "
            "CAP alert(s): send each alert as its own document"
        )
    if name.namespace in EDXL_NAMESPACES:
        return "this is an EDXL-DE envelope: unwrap it with parse_edxl_de"
    return (
        f"the root element is {{{name.namespace or ''}}}{name.localname}, not a CAP "
        f"1.2 alert (namespace {CAP12})"
    )


def _alert(
    root: etree._Element, *, sent: datetime, report: SignatureReport, digest: str
) -> CapAlert:
    """Build the alert after the XSD passed; apply the CAP rules on the way."""
    fields = Children(root, CAP12)
    msg_type = fields.text("msgType") or ""
    scope = fields.text("scope") or ""
    restriction = fields.text("restriction")
    addresses = split_quoted(fields.text("addresses"))
    check_scope(root, scope=scope, restriction=restriction, addresses=addresses)
    return CapAlert(
        identifier=fields.required("identifier"),
        sender=fields.required("sender"),
        sent=sent,
        status=fields.text("status") or "",
        msg_type=msg_type,
        source=fields.text("source"),
        scope=scope,
        restriction=restriction,
        addresses=addresses,
        codes=fields.texts("code"),
        note=fields.text("note"),
        references=read_references(
            fields.first("references"), msg_type=msg_type, alert=root
        ),
        incidents=split_quoted(fields.text("incidents")),
        infos=tuple(_info(Children(info, CAP12)) for info in fields.all("info")),
        version="1.2",
        signature=report.status,
        signature_detail=report.detail,
        digest=digest,
    )


def _info(fields: Children) -> CapInfo:
    """Build one info block."""
    return CapInfo(
        language=fields.text("language") or "en-US",
        categories=fields.texts("category"),
        event=fields.text("event") or "",
        response_types=fields.texts("responseType"),
        urgency=fields.text("urgency") or "",
        severity=fields.text("severity") or "",
        certainty=fields.text("certainty") or "",
        audience=fields.text("audience"),
        event_codes=_pairs(fields.all("eventCode")),
        effective=fields.moment("effective"),
        onset=fields.moment("onset"),
        expires=fields.moment("expires"),
        sender_name=fields.text("senderName"),
        headline=fields.text("headline"),
        description=fields.text("description"),
        instruction=fields.text("instruction"),
        web=fields.text("web"),
        contact=fields.text("contact"),
        parameters=_pairs(fields.all("parameter")),
        resources=tuple(
            _resource(Children(item, CAP12)) for item in fields.all("resource")
        ),
        areas=tuple(_area(Children(area, CAP12)) for area in fields.all("area")),
    )


def _pairs(elements: list[etree._Element]) -> tuple[Pair, ...]:
    """Read the ``valueName``/``value`` children of each element."""
    pairs = []
    for element in elements:
        name = value = ""
        for child in element:
            if child.tag == _VALUE_NAME:
                name = (child.text or "").strip()
            elif child.tag == _VALUE:
                value = (child.text or "").strip()
        pairs.append((name, value))
    return tuple(pairs)


def _resource(fields: Children) -> CapResource:
    """Describe one resource; nothing is fetched."""
    return CapResource(
        description=fields.text("resourceDesc") or "",
        mime_type=fields.text("mimeType") or "",
        size=optional_int(fields.element, f"{_C}size", what="resource size"),
        uri=fields.text("uri"),
        deref_uri=fields.text("derefUri"),
        digest=fields.text("digest"),
    )


def _area(fields: Children) -> CapArea:
    """Build one area with its checked geometry."""
    altitude, ceiling = read_altitude_ceiling(
        fields.first("altitude"), fields.first("ceiling")
    )
    return CapArea(
        description=fields.text("areaDesc") or "",
        polygons=tuple(read_polygon(p) for p in fields.all("polygon")),
        circles=tuple(read_circle(c) for c in fields.all("circle")),
        geocodes=_pairs(fields.all("geocode")),
        altitude=altitude,
        ceiling=ceiling,
    )


__all__ = [
    "CAP12",
    "CapAlert",
    "CapArea",
    "CapInfo",
    "CapReference",
    "CapResource",
    "SignatureStatus",
    "check_root",
    "parse_cap",
]
