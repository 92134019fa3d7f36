"""Structure checks for EDXL-DE 2.0, which has no schema in Muster's corpus.

Checks what the OASIS DE 2.0 (CS02) schema requires of the envelope: the six
envelope elements, in order, non-empty; status and kind from the code lists; each
content object holding exactly one ``contentXML`` (with one embedded root) or
``otherContent`` (with a ``mimeType``). Imported by ``edxl.py`` only.
"""

from __future__ import annotations

from lxml import etree

from muster.ingest.formats import FormatRejected
from muster.ingest.formats._xmltext import where

DE20 = "urn:oasis:names:tc:emergency:EDXL:DE:2.0"
_D = f"{{{DE20}}}"
ENVELOPE = (
    "distributionID",
    "senderID",
    "dateTimeSent",
    "dateTimeExpires",
    "distributionStatus",
    "distributionKind",
)
STATUSES = frozenset(
    {"Actual", "Exercise", "System", "Test", "Unknown", "NoAppropriateDefault"}
)
KINDS = frozenset(
    {
        "Report",
        "Update",
        "Cancel",
        "Request",
        "Response",
        "Dispatch",
        "Ack",
        "Error",
        "SensorConfiguration",
        "SensorControl",
        "SensorStatus",
        "SensorDetection",
        "Unknown",
        "NoAppropriateDefault",
    }
)


def _structure(element: etree._Element, message: str) -> FormatRejected:
    """Build a ``schema`` rejection located at ``element``."""
    line, path = where(element)
    return FormatRejected(
        f"not valid EDXL-DE 2.0: {message}", reason="schema", line=line, xpath=path
    )


def check_de2(root: etree._Element) -> None:
    """Raise ``FormatRejected`` (reason ``schema``) unless the envelope is sound."""
    children = [child for child in root if isinstance(child.tag, str)]
    for position, local in enumerate(ENVELOPE):
        if position >= len(children) or children[position].tag != f"{_D}{local}":
            raise _structure(
                root, f"element {position + 1} of the envelope must be <{local}>"
            )
        if not (children[position].text or "").strip():
            raise _structure(children[position], f"<{local}> is empty")
    status = (children[4].text or "").strip()
    if status not in STATUSES:
        raise _structure(children[4], f"distributionStatus {status!r} is not allowed")
    kind = (children[5].text or "").strip()
    if kind not in KINDS:
        raise _structure(children[5], f"distributionKind {kind!r} is not allowed")
    for content in root.iterfind(f"{_D}content"):
        objects = content.findall(f"{_D}contentObject")
        if not objects:
            raise _structure(content, "<content> needs at least one <contentObject>")
        for content_object in objects:
            _check_content_object(content_object)


def _check_content_object(content_object: etree._Element) -> None:
    """A content object carries one contentXML or one otherContent."""
    xml = content_object.findall(f"{_D}contentXML")
    other = content_object.findall(f"{_D}otherContent")
    if len(xml) + len(other) != 1:
        raise _structure(
            content_object, "a contentObject needs one contentXML or otherContent"
        )
    if other:
        if not (other[0].findtext(f"{_D}mimeType") or "").strip():
            raise _structure(other[0], "otherContent needs a mimeType")
        return
    embedded = xml[0].findall(f"{_D}embeddedXMLContent")
    roots = (
        []
        if len(embedded) != 1
        else [child for child in embedded[0] if isinstance(child.tag, str)]
    )
    if len(roots) != 1:
        raise _structure(
            xml[0], "contentXML needs one embeddedXMLContent with one XML element"
        )
