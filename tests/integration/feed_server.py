"""A real HTTP server on 127.0.0.1 for the CAP feed tests, and a harness around it.

``FeedServer`` routes are plain functions from the recorded ``Request`` to a
``Reply``; every request is recorded so that tests can assert what was (and was not)
fetched. ``FeedLab`` adds a recording httpx client and a simulated clock. Used by
``tests/integration/test_cap_feed.py`` only.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import httpx

from muster.core.clock import SimulatedClock
from muster.ingest.feed_state import FeedSource, FeedState
from muster.ingest.feeds import PollResult, poll_feed

START = datetime(2025, 6, 1, 3, 0, tzinfo=UTC)
INTERVAL = 300.0
BACKOFF = 0.01

# Feeds the poller must refuse (refused_xml), and bodies that are not feeds.
REFUSED_FEEDS = {
    "xxe": (
        b'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>&x;</title></feed>'
    ),
    "laughs": (
        b'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;">]><feed xmlns="http://www.w3.org/2005/Atom">&c;</feed>'
    ),
    "xinclude": (
        b'<feed xmlns="http://www.w3.org/2005/Atom">'
        b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd"/>'
        b"</feed>"
    ),
}
NOT_FEEDS = {
    "html5": b"<!DOCTYPE html>\n<html><head><title>W</title></head><body>Hi</html>",
    "xhtml": b"<html><body><p>Not a feed</p></body></html>",
    "other-xml": b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'/>",
    "binary": b"\x00\x01 plainly not XML",
}


@dataclass(frozen=True)
class Request:
    """One request the server received (header names in lower case)."""

    path: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Reply:
    """What a route answers; ``has_length=False`` streams the body until close."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    has_length: bool = True


Route = Callable[[Request], Reply]


class FeedServer:
    """A threaded HTTP/1.0 server on a free port, shut down cleanly on exit."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.stopping = threading.Event()
        self._requests: list[Request] = []
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}
        )

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stopping.set()  # releases slow routes so their threads can be joined
        self._httpd.shutdown()
        self._httpd.server_close()  # joins every request thread
        self._thread.join(timeout=5)

    def url(self, path: str) -> str:
        """Return the absolute URL of ``path`` on this server."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def requests_to(self, path: str) -> list[Request]:
        """Return the requests received for ``path`` (query ignored), oldest first."""
        with self._lock:
            return [r for r in self._requests if urlsplit(r.path).path == path]

    def record(self, request: Request) -> None:
        """Remember a request (called by the handler thread)."""
        with self._lock:
            self._requests.append(request)


def static(
    body: bytes,
    *,
    content_type: str = "application/xml",
    etag: str | None = None,
    last_modified: str | None = None,
) -> Route:
    """Serve fixed bytes; answer 304 when the request's validators match."""

    def route(request: Request) -> Reply:
        validators: dict[str, str] = {}
        if etag is not None:
            validators["ETag"] = etag
        if last_modified is not None:
            validators["Last-Modified"] = last_modified
        if (etag is not None and request.headers.get("if-none-match") == etag) or (
            last_modified is not None
            and request.headers.get("if-modified-since") == last_modified
        ):
            return Reply(status=304, headers=validators)
        return Reply(body=body, headers={"Content-Type": content_type, **validators})

    return route


def failing(times: int, status: int, then: Route) -> Route:
    """Answer ``status`` to the first ``times`` requests, then behave like ``then``."""
    lock = threading.Lock()
    count = [0]

    def route(request: Request) -> Reply:
        with lock:
            count[0] += 1
            is_failing = count[0] <= times
        if is_failing:
            return Reply(status=status, body=b"try later")
        return then(request)

    return route


def slow(server: FeedServer, seconds: float, then: Route) -> Route:
    """Wait ``seconds`` (or until the server stops) before answering like ``then``."""

    def route(request: Request) -> Reply:
        server.stopping.wait(seconds)
        return then(request)

    return route


def redirect(location: str) -> Route:
    """Answer 302 to ``location``."""
    return lambda request: Reply(status=302, headers={"Location": location})


class _Server(ThreadingHTTPServer):
    # Non-daemon request threads, so that server_close() joins them all.
    daemon_threads = False
    owner: FeedServer

    def handle_error(self, request: object, client_address: object) -> None:
        """Stay quiet: the only errors here are clients that hung up (timeouts)."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        """Record the request and answer from the matching route (404 otherwise)."""
        owner = self.server.owner
        request = Request(
            path=self.path, headers={k.lower(): v for k, v in self.headers.items()}
        )
        owner.record(request)
        route = owner.routes.get(urlsplit(self.path).path)
        reply = route(request) if route else Reply(status=404, body=b"no such path")
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.has_length:
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if reply.status != 304:
                self.wfile.write(reply.body)
        except ConnectionError:
            pass  # the client gave up first (timeout tests)

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output clean."""


def atom_feed(*entries: str) -> bytes:
    """Return an Atom feed document holding ``entries`` (from ``atom_entry``)."""
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:georss="http://www.georss.org/georss">'
        "<title>CAP warnings</title><id>urn:test:feed</id>"
        "<updated>2025-06-01T03:00:00Z</updated>"
        f"{''.join(entries)}</feed>"
    ).encode()


def atom_entry(
    entry_id: str,
    *,
    href: str | None = None,
    media_type: str = "application/cap+xml",
    content: str = "",
) -> str:
    """Return one Atom <entry>: a link to ``href`` and/or inline ``content``."""
    link = f'<link rel="alternate" type="{media_type}" href="{href}"/>' if href else ""
    body = f'<content type="application/cap+xml">{content}</content>' if content else ""
    return (
        f"<entry><id>{entry_id}</id><title>Alert</title>"
        f"<updated>2025-06-01T03:00:00Z</updated>{link}{body}</entry>"
    )


def rss_feed(*items: str) -> bytes:
    """Return an RSS 2.0 document whose channel holds ``items``."""
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        "<title>CAP warnings</title><link>http://example.org/</link>"
        f"<description>Alerts</description>{''.join(items)}</channel></rss>"
    ).encode()


class FeedLab:
    """A feed server with the corpus under /cap/, a recording client, a clock."""

    def __init__(self, corpus: Path) -> None:
        self.corpus = corpus
        self.server = FeedServer()
        self.clock = SimulatedClock(START)
        self.requested: list[str] = []  # every URL the client was asked to fetch
        self.sleeps: list[float] = []  # every backoff the poller slept
        self._client = httpx.Client(
            trust_env=False, event_hooks={"request": [self._record]}
        )
        for path in corpus.glob("*.xml"):
            self.server.routes[f"/cap/{path.name}"] = static(path.read_bytes())

    def __enter__(self) -> Self:
        self.server.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._client.close()
        self.server.__exit__(kind, error, traceback)

    def serve(self, path: str, route: Route) -> None:
        """Answer requests for ``path`` with ``route``."""
        self.server.routes[path] = route

    def url(self, path: str) -> str:
        """Return the absolute URL of ``path`` on the server."""
        return self.server.url(path)

    def cap(self, name: str) -> bytes:
        """Return the bytes of a valid corpus file."""
        return (self.corpus / name).read_bytes()

    def source(self, path: str, **overrides: Any) -> FeedSource:
        """Return a source for ``path``: 2 s timeout, tiny backoff, 300 s interval."""
        source = FeedSource(
            url=self.url(path),
            dataset_code="cap-warnings",
            interval_seconds=INTERVAL,
            timeout_seconds=2.0,
            backoff_base_seconds=BACKOFF,
        )
        return replace(source, **overrides)

    def poll(self, source: FeedSource, state: FeedState | None = None) -> PollResult:
        """Poll ``source`` once with this lab's client, clock and sleep recorder."""
        return poll_feed(
            source,
            state or FeedState(),
            client=self._client,
            clock=self.clock,
            sleep=self._sleep,
            jitter=random.Random(7),
        )

    def linked_feed(self, names: tuple[str, ...]) -> bytes:
        """Return an Atom feed with one entry linking to each named corpus file."""
        return atom_feed(
            *(
                atom_entry(f"urn:alert:{name}", href=self.url(f"/cap/{name}"))
                for name in names
            )
        )

    def _record(self, request: httpx.Request) -> None:
        self.requested.append(str(request.url))

    def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        time.sleep(seconds)


def without_declaration(document: bytes) -> str:
    """Return an XML document's text without its XML declaration (to embed it)."""
    return re.sub(r"^\ufeff?<\?xml[^>]*\?>", "", document.decode("utf-8")).strip()
