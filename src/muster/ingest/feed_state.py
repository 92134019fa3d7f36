"""The network-free half of the CAP feed poller: its data, and reading a feed.

What the poller is told (``FeedSource``), what it remembers (``FeedState``, as JSON)
and how a feed document becomes entries (``read_feed_entries``). Imported by
``muster.ingest.feeds`` and by whoever stores poller state.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Any, Literal, Self
from urllib.parse import urljoin, urlsplit

from lxml import etree

from muster.core.clock import isoformat_utc, parse_utc
from muster.core.errors import ValidationFailed
from muster.ingest.formats import FormatRejected
from muster.ingest.formats.secure_xml import parse_xml

SEEN_LIMIT = 5_000
"""How many entry keys a feed remembers; the oldest are forgotten first (FIFO)."""

STATE_FORMAT_VERSION = 1
ALLOWED_SCHEMES = frozenset({"http", "https"})
ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"
CAP_NAMESPACES = (
    "urn:oasis:names:tc:emergency:cap:1.2",
    "urn:oasis:names:tc:emergency:cap:1.1",
    "http://www.incident.com/cap/1.0",
)
"""Inline alerts of every CAP version are passed on; the CAP parser decides on them."""
CAP_MEDIA_TYPES = frozenset(
    {"application/cap+xml", "application/common-alerting-protocol+xml"}
)

FeedErrorKind = Literal[
    "timeout",
    "connection",
    "http_status",
    "too_large",
    "not_a_feed",
    "refused_xml",
    "refused_url",
    "no_document",
]
"""Stable machine codes for what went wrong with a feed or one of its entries.

``refused_url``: a link or redirect to a scheme other than http/https (never fetched).
``no_document``: an entry with neither a CAP link nor an inline CAP alert.
"""
_REJECTION_KINDS: dict[str, FeedErrorKind] = {
    "refused_dtd": "refused_xml",
    "refused_entity": "refused_xml",
    "refused_xinclude": "refused_xml",
    "too_large": "too_large",
}
_ATOM = f"{{{ATOM_NAMESPACE}}}"
_ALERT_TAGS = tuple(f"{{{namespace}}}alert" for namespace in CAP_NAMESPACES)
_HTML_MARKERS = (b"<!doctype html", b"<html")


@dataclass(frozen=True, kw_only=True, slots=True)
class FeedSource:
    """One Atom or RSS 2.0 feed of CAP alerts and how politely to poll it."""

    url: str
    dataset_code: str
    interval_seconds: float
    timeout_seconds: float = 10.0
    max_retries: int = 3
    backoff_base_seconds: float = 2.0
    max_backoff_seconds: float = 300.0
    max_document_bytes: int = 5 * 1024 * 1024
    max_entries: int = 500
    max_poll_bytes: int = 50 * 1024 * 1024
    """Bytes of documents one poll may collect; the rest wait for the next poll."""

    def __post_init__(self) -> None:
        if urlsplit(self.url).scheme.lower() not in ALLOWED_SCHEMES:
            raise ValidationFailed(
                f"a feed URL must be http or https: {self.url!r}", url=self.url
            )
        for spec in fields(self):  # every number but max_retries is positive
            value = getattr(self, spec.name)
            is_number = isinstance(value, int | float) and spec.name != "max_retries"
            if is_number and not value > 0:  # "not >" also refuses NaN
                raise ValidationFailed(f"{spec.name} must be positive")
        if self.max_retries < 0:
            raise ValidationFailed("max_retries must not be negative")

    def backoff_seconds(self, attempt: int, jitter: random.Random) -> float:
        """Return a full-jitter delay: uniform in [0, min(cap, base * 2**attempt)]."""
        ceiling = min(
            self.max_backoff_seconds,
            self.backoff_base_seconds * 2.0 ** min(attempt, 64),
        )
        return jitter.uniform(0.0, ceiling)


@dataclass(frozen=True, kw_only=True, slots=True)
class FeedState:
    """What a feed's poller remembers between polls; persist it with ``to_json``."""

    etag: str | None = None
    last_modified: str | None = None
    seen: tuple[str, ...] = ()
    """Keys (entry id, else document URL) of entries already handled, oldest first."""
    consecutive_failures: int = 0
    next_poll_at: datetime | None = None
    """Aware UTC time of the next poll; ``None`` means due now."""
    last_error: str | None = None

    def with_seen(self, keys: Iterable[str]) -> Self:
        """Return a copy that also remembers ``keys``, keeping the newest SEEN_LIMIT."""
        known = set(self.seen)
        added = [key for key in dict.fromkeys(keys) if key not in known]
        return replace(self, seen=(*self.seen, *added)[-SEEN_LIMIT:])

    def conditional_headers(self) -> dict[str, str]:
        """Return the If-None-Match / If-Modified-Since headers for the next GET."""
        headers: dict[str, str] = {}
        if self.etag and self.etag.isascii():  # httpx sends header values as ASCII
            headers["If-None-Match"] = self.etag
        if self.last_modified and self.last_modified.isascii():
            headers["If-Modified-Since"] = self.last_modified
        return headers

    def after_success(
        self,
        *,
        source: FeedSource,
        now: datetime,
        handled: Iterable[str],
        validators: tuple[str | None, str | None],
    ) -> Self:
        """Return the state after a poll that read the feed: next poll in interval."""
        etag, last_modified = validators
        return replace(
            self.with_seen(handled),
            etag=etag,
            last_modified=last_modified,
            consecutive_failures=0,
            next_poll_at=now + timedelta(seconds=source.interval_seconds),
            last_error=None,
        )

    def after_failure(
        self,
        *,
        source: FeedSource,
        now: datetime,
        error: str,
        jitter: random.Random,
    ) -> Self:
        """Return the state after a failed poll: next poll after a growing backoff."""
        failures = self.consecutive_failures + 1
        # At least one base delay, so that a zero draw does not hammer the server.
        delay = max(
            source.backoff_base_seconds, source.backoff_seconds(failures, jitter)
        )
        return replace(
            self,
            consecutive_failures=failures,
            next_poll_at=now + timedelta(seconds=delay),
            last_error=error,
        )

    def is_due(self, now: datetime) -> bool:
        """Say whether the feed should be polled at ``now``."""
        return self.next_poll_at is None or self.next_poll_at <= now

    def to_json(self) -> str:
        """Serialise to a JSON object (times as ISO-8601 UTC)."""
        return json.dumps(
            {
                "version": STATE_FORMAT_VERSION,
                "etag": self.etag,
                "last_modified": self.last_modified,
                "seen": list(self.seen),
                "consecutive_failures": self.consecutive_failures,
                "next_poll_at": self.next_poll_at and isoformat_utc(self.next_poll_at),
                "last_error": self.last_error,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Self:
        """Read what ``to_json`` wrote; raise ``ValidationFailed`` if malformed."""
        try:
            raw = json.loads(text)
            if not isinstance(raw, dict) or raw.get("version") != STATE_FORMAT_VERSION:
                raise ValueError("not a version 1 feed state object")
            seen = raw.get("seen", [])
            failures = raw.get("consecutive_failures", 0)
            if not isinstance(seen, list) or not all(isinstance(s, str) for s in seen):
                raise ValueError("seen must be a list of strings")
            if not isinstance(failures, int) or isinstance(failures, bool):
                raise ValueError("consecutive_failures must be an integer")
            next_poll_at = _optional_text(raw, "next_poll_at")
            return cls(
                etag=_optional_text(raw, "etag"),
                last_modified=_optional_text(raw, "last_modified"),
                seen=tuple(seen[-SEEN_LIMIT:]),
                consecutive_failures=max(0, failures),
                next_poll_at=None if next_poll_at is None else parse_utc(next_poll_at),
                last_error=_optional_text(raw, "last_error"),
            )
        except ValueError as error:  # JSONDecodeError is a ValueError too
            raise ValidationFailed(f"unreadable feed state: {error}") from None


def _optional_text(raw: dict[str, Any], key: str) -> str | None:
    """Return ``raw[key]`` if it is a string or absent/null; refuse anything else."""
    value = raw.get(key)
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"{key} must be a string or null")


class FeedUnreadable(ValidationFailed):
    """A feed document could not be read as a safe Atom or RSS 2.0 feed."""

    code = "feed_unreadable"

    def __init__(self, kind: FeedErrorKind, message: str) -> None:
        super().__init__(message, kind=kind)
        self.kind: FeedErrorKind = kind


@dataclass(frozen=True, kw_only=True, slots=True)
class FeedEntry:
    """One feed entry: its seen-key, its id, and where its CAP alert is."""

    key: str
    """Entry id, else the CAP link, else a digest of the entry."""
    entry_id: str
    link: str | None
    inline: bytes | None


def read_feed_entries(data: bytes, *, url: str, max_bytes: int) -> list[FeedEntry]:
    """Parse an Atom or RSS 2.0 feed safely and list its entries in document order.

    Relative links are resolved against ``url``; raise ``FeedUnreadable`` otherwise.
    """
    try:
        root = parse_xml(data, max_bytes=max_bytes)
    except FormatRejected as rejection:
        kind = _REJECTION_KINDS.get(rejection.reason, "not_a_feed")
        raise _unreadable(data, url=url, kind=kind, message=str(rejection)) from None
    if root.tag == f"{_ATOM}feed":
        return [
            _atom_entry(element, base=url)
            for element in root.iterchildren(f"{_ATOM}entry")
        ]
    channel = root.find("channel") if root.tag == "rss" else None
    if channel is None:
        raise _unreadable(
            data,
            url=url,
            kind="not_a_feed",
            message=f"the root is {root.tag!r}, not Atom <feed> or RSS <rss><channel>",
        )
    return [_rss_entry(item, base=url) for item in channel.iterchildren("item")]


def _unreadable(
    data: bytes, *, url: str, kind: FeedErrorKind, message: str
) -> FeedUnreadable:
    """Name an HTML page as such (its <!DOCTYPE html> is not an XML attack)."""
    if any(marker in data[:1024].lower() for marker in _HTML_MARKERS):
        return FeedUnreadable("not_a_feed", f"{url} is an HTML page, not a feed")
    return FeedUnreadable(kind, f"{url}: {message}")


def _atom_entry(element: etree._Element, *, base: str) -> FeedEntry:
    """Read an Atom entry: <id>, CAP <link> or <content src>, or an inline alert."""
    candidates = [
        (link.get("href"), link.get("type"), link.get("rel") or "alternate")
        for link in element.iterchildren(f"{_ATOM}link")
    ]
    content = element.find(f"{_ATOM}content")
    if content is not None and content.get("src"):
        candidates.append((content.get("src"), content.get("type"), "alternate"))
    return _entry(
        element,
        entry_id=_text(element.find(f"{_ATOM}id")),
        link=_best_link(candidates, base=base),
    )


def _rss_entry(item: etree._Element, *, base: str) -> FeedEntry:
    """Read an RSS item: <guid>, a CAP <enclosure> or <link>, or an inline alert."""
    candidates = [
        (enclosure.get("url"), enclosure.get("type"), "enclosure")
        for enclosure in item.iterchildren("enclosure")
    ]
    link = _text(item.find("link"))
    if link:
        candidates.append((link, None, "alternate"))
    return _entry(
        item, entry_id=_text(item.find("guid")), link=_best_link(candidates, base=base)
    )


def _entry(element: etree._Element, *, entry_id: str, link: str | None) -> FeedEntry:
    """Build an entry; its seen-key is its id, else its link, else its digest."""
    inline = _inline_alert(element)
    key = entry_id or link
    if not key:
        digest = hashlib.sha256(etree.tostring(element, with_tail=False)).hexdigest()
        key = f"sha256:{digest}"
    return FeedEntry(key=key, entry_id=entry_id or key, link=link, inline=inline)


def _best_link(
    candidates: list[tuple[str | None, str | None, str]], *, base: str
) -> str | None:
    """Pick the link most likely to be the CAP file, made absolute against ``base``.

    A CAP media type wins (rel="alternate" first); an untyped or XML alternate link
    comes next; HTML pages and other media types are never fetched.
    """
    ranked: list[tuple[int, str]] = []
    for href, media_type, rel in candidates:
        if not href or not href.strip():
            continue
        media = (media_type or "").split(";")[0].strip().lower()
        if media in CAP_MEDIA_TYPES:
            ranked.append((0 if rel == "alternate" else 1, href.strip()))
        elif rel == "alternate" and (not media or media.endswith("xml")):
            ranked.append((2, href.strip()))
    if not ranked:
        return None
    href = min(ranked, key=lambda pair: pair[0])[1]
    try:
        return urljoin(base, href)
    except ValueError:
        return href  # refused with a clear error when it is fetched


def _inline_alert(element: etree._Element) -> bytes | None:
    """Return the first CAP <alert> embedded in an entry, as a standalone document.

    Namespaces declared only by the feed are dropped unless the alert uses them:
    inherited declarations would change an enveloped signature's canonical form.
    """
    for alert in element.iter(*_ALERT_TAGS):
        standalone = copy.deepcopy(alert)
        standalone.tail = None
        etree.cleanup_namespaces(standalone, keep_ns_prefixes=_own_prefixes(alert))
        return etree.tostring(standalone, encoding="UTF-8", xml_declaration=True)
    return None


def _own_prefixes(alert: etree._Element) -> list[str]:
    """Return the namespace prefixes declared inside the alert itself."""
    own: set[str] = set()
    for element in alert.iter():
        parent = element.getparent()
        inherited = {} if parent is None else parent.nsmap
        own.update(
            prefix
            for prefix, uri in element.nsmap.items()
            if prefix is not None and inherited.get(prefix) != uri
        )
    return sorted(own)


def _text(element: etree._Element | None) -> str:
    """Return an element's stripped text, or "" if it is missing."""
    return (element.text or "").strip() if element is not None else ""


__all__ = [
    "ATOM_NAMESPACE",
    "CAP_MEDIA_TYPES",
    "CAP_NAMESPACES",
    "SEEN_LIMIT",
    "FeedEntry",
    "FeedErrorKind",
    "FeedSource",
    "FeedState",
    "FeedUnreadable",
    "read_feed_entries",
]
