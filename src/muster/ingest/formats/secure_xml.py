"""The one way Muster turns untrusted bytes into an XML tree, and validates it by XSD.

``parse_xml`` never resolves entities, never loads a DTD, never touches the network or
the disk, and refuses documents that carry a DOCTYPE, entity declarations or XInclude
elements. ``validate`` checks a tree against a schema shipped in ``schemas/``, each
compiled once per process. Imported by the other format modules only.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from importlib import resources
from typing import Literal

from lxml import etree

from muster.ingest.formats import FormatRejected

DEFAULT_MAX_BYTES = 10_000_000
XINCLUDE_NAMESPACES = (
    "http://www.w3.org/2001/XInclude",
    "http://www.w3.org/2003/XInclude",
)
_Refusal = Literal["refused_entity", "refused_dtd"]
_DECLARATION_MARKERS: tuple[tuple[str, _Refusal, str], ...] = (
    ("<!ENTITY", "refused_entity", "entity declarations"),
    ("<!DOCTYPE", "refused_dtd", "a DTD"),
)
_ENCODINGS_OF_MARKERS = ("ascii", "utf-16-le", "utf-16-be")


def make_parser() -> etree.XMLParser:
    """Return a parser that resolves nothing and keeps comments (for signatures)."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
    )


def parse_xml(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """Parse untrusted bytes into a root element, or raise ``FormatRejected``.

    The XML declaration's encoding is honoured (lxml reads it from the bytes).
    """
    if len(data) > max_bytes:
        raise FormatRejected(
            f"the document is {len(data)} bytes; the limit is {max_bytes}",
            reason="too_large",
        )
    try:
        root = etree.fromstring(data, make_parser())
    except etree.XMLSyntaxError as error:
        raise _syntax_rejection(data, error) from None
    except (ValueError, TypeError) as error:
        # lxml raises ValueError e.g. for an unknown encoding name in the declaration.
        raise FormatRejected(
            f"not readable as XML: {error}", reason="not_xml"
        ) from None
    if root is None:
        raise FormatRejected("the document is empty", reason="not_xml")
    _refuse_declarations(root)
    _refuse_xinclude(root)
    return root


def _syntax_rejection(data: bytes, error: etree.XMLSyntaxError) -> FormatRejected:
    """Explain a parse failure; a declaration anywhere is named as the cause."""
    for marker, reason, kind in _DECLARATION_MARKERS:
        if any(marker.encode(code) in data for code in _ENCODINGS_OF_MARKERS):
            return FormatRejected(
                f"the document carries {kind}, which Muster refuses "
                f"(and it is not well-formed: {error.msg})",
                reason=reason,
                line=error.lineno or None,
            )
    return FormatRejected(
        f"not well-formed XML: {error.msg}",
        reason="not_xml",
        line=error.lineno or None,
    )


def _refuse_declarations(root: etree._Element) -> None:
    """Refuse any DOCTYPE; name entity declarations when the DTD has some."""
    docinfo = root.getroottree().docinfo
    internal = docinfo.internalDTD
    if internal is not None and any(True for _ in internal.iterentities()):
        raise FormatRejected(
            "the document declares entities (possible XXE or entity expansion); "
            "Muster never resolves entities and refuses such documents",
            reason="refused_entity",
            line=1,
        )
    if docinfo.doctype or internal is not None or docinfo.externalDTD is not None:
        raise FormatRejected(
            "the document has a DOCTYPE; Muster refuses DTDs in exchanged XML",
            reason="refused_dtd",
            line=1,
        )


def _refuse_xinclude(root: etree._Element) -> None:
    """Refuse XInclude elements anywhere (they are never processed)."""
    for element in root.iter(*(f"{{{ns}}}*" for ns in XINCLUDE_NAMESPACES)):
        raise FormatRejected(
            "the document contains an XInclude element; Muster never includes "
            "other documents and refuses such input",
            reason="refused_xinclude",
            line=element.sourceline,
            xpath=element.getroottree().getpath(element),
        )


@dataclass(frozen=True, slots=True)
class _CompiledSchema:
    """A compiled schema and the lock that guards its error log."""

    schema: etree.XMLSchema
    # lxml keeps the error log on the validator object, so two threads validating
    # at once would read each other's errors: one lock per schema.
    lock: threading.Lock


_COMPILED: dict[str, _CompiledSchema] = {}
_COMPILE_LOCK = threading.Lock()


def _compiled(filename: str) -> _CompiledSchema:
    """Compile a schema shipped in ``schemas/`` once per process, on first use."""
    with _COMPILE_LOCK:
        found = _COMPILED.get(filename)
        if found is None:
            folder = resources.files("muster.ingest.formats") / "schemas"
            document = etree.fromstring((folder / filename).read_bytes(), make_parser())
            found = _CompiledSchema(etree.XMLSchema(document), threading.Lock())
            _COMPILED[filename] = found
        return found


def validate(root: etree._Element, *, schema_file: str, label: str) -> None:
    """Validate ``root`` against a shipped schema; raise reason ``schema`` if not."""
    compiled = _compiled(schema_file)
    with compiled.lock:
        if compiled.schema.validate(root):
            return
        error = compiled.schema.error_log[0]
    raise FormatRejected(
        f"not valid {label}: {error.message}",
        reason="schema",
        line=error.line or None,
        xpath=error.path or None,
    )
