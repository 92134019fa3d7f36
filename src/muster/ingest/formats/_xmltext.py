"""Small readers shared by the format modules: child text, lists, dates, locations.

Private to ``muster.ingest.formats``; stdlib and lxml only.
"""

from __future__ import annotations

import re
from datetime import datetime

from lxml import etree

from muster.ingest.formats import FormatRejected

_QUOTED_OR_WORD = re.compile(r'"([^"]*)"|(\S+)')


def where(element: etree._Element) -> tuple[int | None, str]:
    """Return the source line and the XPath of an element, for rejections."""
    return element.sourceline, element.getroottree().getpath(element)


def child_text(parent: etree._Element, tag: str) -> str | None:
    """Return the stripped text of the first ``tag`` child; ``None`` if none/empty."""
    child = parent.find(tag)
    if child is None:
        return None
    return (child.text or "").strip() or None


def children_texts(parent: etree._Element, tag: str) -> tuple[str, ...]:
    """Return the stripped, non-empty texts of every ``tag`` child, in order."""
    texts = ((child.text or "").strip() for child in parent.iterfind(tag))
    return tuple(text for text in texts if text)


def split_quoted(text: str | None) -> tuple[str, ...]:
    """Split a CAP list: whitespace-separated, multi-word items in double quotes."""
    if not text:
        return ()
    return tuple(
        item
        for quoted, word in _QUOTED_OR_WORD.findall(text)
        if (item := quoted or word)
    )


def aware_datetime(text: str, *, element: etree._Element, what: str) -> datetime:
    """Parse an ISO 8601 date-time that must carry a UTC offset."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        line, path = where(element)
        raise FormatRejected(
            f"{what} {text.strip()!r} is not a date-time with a UTC offset",
            reason="semantic",
            line=line,
            xpath=path,
        )
    return value


def optional_int(parent: etree._Element, tag: str, *, what: str) -> int | None:
    """Read an optional whole number (at most 18 digits); ``None`` when absent."""
    child = parent.find(tag)
    text = "" if child is None else (child.text or "").strip()
    if child is None or not text:
        return None
    if not re.fullmatch(r"[+-]?\d{1,18}", text):
        line, path = where(child)
        raise FormatRejected(
            f"{what} {text!r} is not a whole number",
            reason="semantic",
            line=line,
            xpath=path,
        )
    return int(text)


class Children:
    """The element children of one element in one namespace, grouped by local name.

    One pass over the children instead of one ``find`` per field: building a CAP
    alert reads about twenty fields per ``info`` and six per ``area``.
    """

    __slots__ = ("_by_name", "element")

    def __init__(self, element: etree._Element, namespace: str) -> None:
        prefix = f"{{{namespace}}}"
        by_name: dict[str, list[etree._Element]] = {}
        for child in element:
            tag = child.tag
            if isinstance(tag, str) and tag.startswith(prefix):
                by_name.setdefault(tag[len(prefix) :], []).append(child)
        self.element = element
        self._by_name = by_name

    def all(self, name: str) -> list[etree._Element]:
        """Every child called ``name``, in document order."""
        return self._by_name.get(name, [])

    def first(self, name: str) -> etree._Element | None:
        """The first child called ``name``, or ``None``."""
        found = self._by_name.get(name)
        return found[0] if found else None

    def text(self, name: str) -> str | None:
        """The stripped text of the first ``name`` child; ``None`` if none or empty."""
        found = self._by_name.get(name)
        return (found[0].text or "").strip() or None if found else None

    def texts(self, name: str) -> tuple[str, ...]:
        """The stripped, non-empty texts of every ``name`` child."""
        texts = ((child.text or "").strip() for child in self.all(name))
        return tuple(text for text in texts if text)

    def required(self, name: str) -> str:
        """The text of a child that must be present and non-empty."""
        value = self.text(name)
        if value is None:
            line, path = where(self.element)
            raise FormatRejected(
                f"{name} is missing or empty", reason="semantic", line=line, xpath=path
            )
        return value

    def moment(self, name: str) -> datetime | None:
        """An optional date-time child with a UTC offset; ``None`` when absent."""
        child = self.first(name)
        if child is None or not (child.text or "").strip():
            return None
        return aware_datetime(child.text or "", element=child, what=name)


def lenient_datetime(text: str | None) -> datetime | None:
    """Parse an envelope date-time; ``None`` when absent, invalid or without offset."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def qualified_name(element: etree._Element) -> str:
    """Return ``{namespace}local`` (Clark notation) of an element as text."""
    return str(element.tag)
