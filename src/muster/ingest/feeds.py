"""Poll an Atom or RSS 2.0 feed of CAP alerts: conditional GET, safe parsing, retries.

``poll_feed`` touches no database and never raises for network or feed trouble: it
returns the alert bytes, the problems and the next ``FeedState``, which the ingest
handlers store. Imported by the ingest handlers and the CLI.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin

import httpx

from muster.core.clock import Clock
from muster.core.errors import ValidationFailed
from muster.ingest.feed_state import (
    ALLOWED_SCHEMES,
    FeedEntry,
    FeedErrorKind,
    FeedSource,
    FeedState,
    FeedUnreadable,
    read_feed_entries,
)

MAX_REDIRECTS = 5

Sleep = Callable[[float], None]

# Trouble that will not go away by asking again marks the entry seen (reported once);
# timeouts, connection errors and HTTP errors leave it to be tried at the next poll.
_PERMANENT_KINDS: frozenset[FeedErrorKind] = frozenset(
    {"too_large", "refused_url", "refused_xml", "no_document"}
)
_JITTER = random.SystemRandom()
_NEVER = datetime.min.replace(tzinfo=UTC)  # a feed never polled is the most overdue


@dataclass(frozen=True, kw_only=True, slots=True)
class FetchedDocument:
    """The bytes of one CAP alert found through a feed (fetched, or inline)."""

    url: str
    """Where the bytes came from: the document URL, or the feed URL if inline."""
    entry_id: str
    data: bytes
    fetched_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class FeedError:
    """One problem with a feed or one of its entries; polling never raises for it."""

    url: str
    kind: FeedErrorKind
    message: str


@dataclass(frozen=True, kw_only=True, slots=True)
class PollResult:
    """What one poll found, what went wrong, and the state to store for the next."""

    documents: list[FetchedDocument]
    not_modified: bool
    errors: list[FeedError]
    state: FeedState


class _Failure(Exception):
    """A fetch or a feed failed; carries the error kind and whether to try again."""

    def __init__(
        self, kind: FeedErrorKind, message: str, *, is_retryable: bool = False
    ) -> None:
        super().__init__(message)
        self.kind: FeedErrorKind = kind
        self.message = message
        self.is_retryable = is_retryable


@dataclass(frozen=True, slots=True)
class _Response:
    """A fully read 200 (or 304) answer, after redirects."""

    url: str
    status: int
    data: bytes
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class _Poll:
    """What every request of one poll shares."""

    source: FeedSource
    client: httpx.Client
    clock: Clock
    sleep: Sleep
    jitter: random.Random


@dataclass(kw_only=True, slots=True)
class _Harvest:
    """The documents and problems of one poll's entries."""

    documents: list[FetchedDocument] = field(default_factory=list)
    errors: list[FeedError] = field(default_factory=list)
    handled: list[str] = field(default_factory=list)
    is_complete: bool = True


def poll_feed(
    source: FeedSource,
    state: FeedState,
    *,
    client: httpx.Client,
    clock: Clock,
    sleep: Sleep = time.sleep,
    jitter: random.Random | None = None,
) -> PollResult:
    """Poll a feed once; return its new CAP documents, its problems and the next state.

    Args:
        client: sends every request; its own redirect setting is ignored because
            redirects are followed here, to http and https URLs only.
        sleep: waits between retries (tests pass a recorder).
        jitter: randomness for the backoff (tests may pass a seeded generator).
    """
    jitter = jitter or _JITTER
    poll = _Poll(source=source, client=client, clock=clock, sleep=sleep, jitter=jitter)
    try:
        response = _fetch(poll, source.url, headers=state.conditional_headers())
        if response.status == 304:
            validators = (state.etag, state.last_modified)
            next_state = state.after_success(
                source=source, now=clock.now(), handled=[], validators=validators
            )
            return PollResult(
                documents=[], not_modified=True, errors=[], state=next_state
            )
        entries = read_feed_entries(
            response.data, url=response.url, max_bytes=source.max_document_bytes
        )
    except (_Failure, FeedUnreadable) as failure:
        error = FeedError(url=source.url, kind=failure.kind, message=failure.message)
        next_state = state.after_failure(
            source=source,
            now=clock.now(),
            error=f"{error.kind}: {error.message}",
            jitter=jitter,
        )
        return PollResult(
            documents=[], not_modified=False, errors=[error], state=next_state
        )
    harvest = _harvest(poll, entries, seen=state.seen)
    # Validators are kept only when every entry was dealt with: otherwise the next
    # poll would get a 304 and never return to the entries left for later.
    validators = (response.etag, response.last_modified)
    next_state = state.after_success(
        source=source,
        now=clock.now(),
        handled=harvest.handled,
        validators=validators if harvest.is_complete else (None, None),
    )
    return PollResult(
        documents=harvest.documents,
        not_modified=False,
        errors=harvest.errors,
        state=next_state,
    )


def _harvest(poll: _Poll, entries: list[FeedEntry], *, seen: Iterable[str]) -> _Harvest:
    """Collect the documents of unseen entries, within the entry and byte budgets."""
    source = poll.source
    done = set(seen)
    harvest = _Harvest()
    attempted = 0
    collected_bytes = 0
    for entry in entries:
        if entry.key in done:
            continue
        if attempted >= source.max_entries or collected_bytes >= source.max_poll_bytes:
            harvest.is_complete = False
            break
        attempted += 1
        done.add(entry.key)
        try:
            url, data = _document_of(poll, entry)
        except _Failure as failure:
            where = entry.link or source.url
            harvest.errors.append(
                FeedError(url=where, kind=failure.kind, message=failure.message)
            )
            if failure.kind in _PERMANENT_KINDS:
                harvest.handled.append(entry.key)
            else:
                harvest.is_complete = False
            continue
        harvest.documents.append(
            FetchedDocument(
                url=url, entry_id=entry.entry_id, data=data, fetched_at=poll.clock.now()
            )
        )
        harvest.handled.append(entry.key)
        collected_bytes += len(data)
    return harvest


def _document_of(poll: _Poll, entry: FeedEntry) -> tuple[str, bytes]:
    """Return where an entry's alert came from and its bytes (inline or fetched)."""
    if entry.inline is not None:
        return poll.source.url, entry.inline
    if entry.link is None:
        raise _Failure(
            "no_document",
            f"entry {entry.entry_id!r} has neither a CAP link nor an inline CAP alert",
        )
    response = _fetch(poll, entry.link, headers={})
    return response.url, response.data


def _fetch(poll: _Poll, url: str, *, headers: dict[str, str]) -> _Response:
    """GET a URL, retrying timeouts, connection errors and 5xx with backoff."""
    attempt = 0
    while True:
        try:
            return _fetch_once(poll, url, headers=headers)
        except _Failure as failure:
            if not failure.is_retryable or attempt >= poll.source.max_retries:
                raise
        poll.sleep(poll.source.backoff_seconds(attempt, poll.jitter))
        attempt += 1


def _fetch_once(poll: _Poll, url: str, *, headers: dict[str, str]) -> _Response:
    """GET a URL once, following at most MAX_REDIRECTS redirects to http(s) only."""
    source = poll.source
    timeout = httpx.Timeout(source.timeout_seconds)
    # httpx bounds each network wait; this also bounds a server that drips bytes.
    deadline = time.monotonic() + source.timeout_seconds
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        _refuse_scheme(current)
        try:
            with poll.client.stream(
                "GET",
                current,
                headers=headers,
                timeout=timeout,
                follow_redirects=False,
            ) as response:
                if response.has_redirect_location:
                    current = urljoin(current, response.headers["Location"])
                    continue
                return _read_response(
                    response,
                    max_bytes=source.max_document_bytes,
                    deadline=deadline,
                    accepts_not_modified=bool(headers),
                )
        except httpx.TimeoutException as error:
            raise _Failure(
                "timeout",
                f"no answer from {current} within {source.timeout_seconds} s "
                f"({type(error).__name__})",
                is_retryable=True,
            ) from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL, ValueError) as error:
            # ValueError: urljoin on a malformed Location such as "http://[oops".
            raise _Failure(
                "refused_url", f"cannot fetch {current!r}: {error}"
            ) from None
        except httpx.RequestError as error:
            raise _Failure(
                "connection",
                f"{current}: {type(error).__name__}: {error}",
                is_retryable=True,
            ) from None
    raise _Failure("http_status", f"{url}: more than {MAX_REDIRECTS} redirects")


def _refuse_scheme(url: str) -> None:
    """Refuse any URL that is not http or https (file:, ftp:, data: ...)."""
    scheme = url.partition(":")[0].strip().lower()  # urlsplit may raise on junk
    if scheme not in ALLOWED_SCHEMES:
        raise _Failure(
            "refused_url",
            f"only http and https URLs are fetched; refused {url!r}",
        )


def _read_response(
    response: httpx.Response,
    *,
    max_bytes: int,
    deadline: float,
    accepts_not_modified: bool,
) -> _Response:
    """Check the status; read at most ``max_bytes`` of body before the deadline."""
    status = response.status_code
    if status == 304 and accepts_not_modified:
        data = b""
    elif status != 200:
        raise _Failure(
            "http_status",
            f"{response.url}: HTTP {status} {response.reason_phrase}".rstrip(),
            is_retryable=status >= 500,
        )
    else:
        data = _read_limited(response, max_bytes=max_bytes, deadline=deadline)
    return _Response(
        url=str(response.url),
        status=status,
        data=data,
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
    )


def _read_limited(
    response: httpx.Response, *, max_bytes: int, deadline: float
) -> bytes:
    """Stream the body, stopping as soon as it exceeds ``max_bytes`` or the deadline."""
    too_large = _Failure(
        "too_large", f"{response.url}: larger than the limit of {max_bytes} bytes"
    )
    declared = response.headers.get("Content-Length", "")
    if declared.isdecimal() and int(declared) > max_bytes:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        if time.monotonic() > deadline:
            raise _Failure(
                "timeout", f"{response.url}: body not read in time", is_retryable=True
            )
        chunks.append(chunk)
    return b"".join(chunks)


class FeedScheduler:
    """Tell which feeds are due, from each feed's stored state (keyed by feed URL)."""

    def __init__(
        self,
        sources: Iterable[FeedSource],
        states: Mapping[str, FeedState] | None = None,
    ) -> None:
        self._sources: dict[str, FeedSource] = {}
        for source in sources:
            if source.url in self._sources:
                raise ValidationFailed(f"feed listed twice: {source.url}")
            self._sources[source.url] = source
        self._states = dict(states or {})

    def state_for(self, source: FeedSource) -> FeedState:
        """Return the stored state of a feed (a fresh one if never polled)."""
        return self._states.get(source.url, FeedState())

    def record(self, source: FeedSource, state: FeedState) -> None:
        """Remember the state a poll of ``source`` returned."""
        self._states[source.url] = state

    def due(self, now: datetime) -> list[FeedSource]:
        """Return the feeds to poll at ``now``, the longest overdue first."""
        waiting = [s for s in self._sources.values() if self.state_for(s).is_due(now)]
        return sorted(waiting, key=lambda s: self.state_for(s).next_poll_at or _NEVER)

    def next_due_at(self) -> datetime | None:
        """Return the earliest planned poll; ``None`` if none or a new feed."""
        planned = [
            self.state_for(source).next_poll_at for source in self._sources.values()
        ]
        if not planned or any(moment is None for moment in planned):
            return None
        return min(moment for moment in planned if moment is not None)


__all__ = [
    "MAX_REDIRECTS",
    "FeedError",
    "FeedScheduler",
    "FetchedDocument",
    "PollResult",
    "poll_feed",
]
