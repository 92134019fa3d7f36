"""What a published CAP alert says, read back from its XML for the public-warning
messages (pure: stdlib ``xml.etree``).

``alerting.AlertPublished`` carries the exact CAP document that went out; the e-mail
and SMS texts are taken from it (each info block's language, headline, description
and instruction; the areas' GB/T 2260 geocodes for subscribers' districts), so a
subscriber reads what was published, never a later state of a read model. The XML
is Muster's own (validated when it was published); a document that cannot be read
gives no texts and the caller falls back to the event's headline. Imported by
``warning_audience``.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree import ElementTree

CAP12 = "urn:oasis:names:tc:emergency:cap:1.2"
ADMIN_CODE = "GB/T 2260"
"""The geocode valueName of an administrative division (the districts' codes)."""

_C = f"{{{CAP12}}}"


@dataclass(frozen=True, slots=True)
class InfoTexts:
    """One info block's texts, in its language."""

    language: str
    headline: str
    description: str
    instruction: str


@dataclass(frozen=True, slots=True)
class CapTexts:
    """The texts and administrative areas of one CAP alert."""

    infos: tuple[InfoTexts, ...]
    admin_codes: frozenset[str]

    def info(self, language: str) -> InfoTexts | None:
        """Return the info block in a language, or None."""
        return next((i for i in self.infos if i.language == language), None)


def read_cap_texts(xml: str) -> CapTexts:
    """Return the alert's info texts and GB/T 2260 area codes (empty if unreadable)."""
    try:
        # Muster's own published document (checked by its CAP ingest when it was
        # published), not outside input; expat resolves no external entities.
        root = ElementTree.fromstring(xml.encode("utf-8"))  # noqa: S314
    except ElementTree.ParseError:
        return CapTexts(infos=(), admin_codes=frozenset())
    infos = tuple(
        InfoTexts(
            language=_text(info, "language") or "en-US",
            headline=_text(info, "headline"),
            description=_text(info, "description"),
            instruction=_text(info, "instruction"),
        )
        for info in root.iter(f"{_C}info")
    )
    codes = frozenset(
        _text(geocode, "value")
        for geocode in root.iter(f"{_C}geocode")
        if _text(geocode, "valueName") == ADMIN_CODE and _text(geocode, "value")
    )
    return CapTexts(infos=infos, admin_codes=codes)


def _text(element: ElementTree.Element, name: str) -> str:
    return (element.findtext(f"{_C}{name}") or "").strip()


__all__ = ["ADMIN_CODE", "CAP12", "CapTexts", "InfoTexts", "read_cap_texts"]
