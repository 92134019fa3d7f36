"""The CAP feed poller against a real local HTTP server serving the corpus in place.

Covers Atom, RSS 2.0 and inline alerts, conditional GET, seen entries, retries with
backoff, timeouts, size limits, refused XML, non-feeds and non-http links. Times come
from a ``SimulatedClock``; backoffs are a few milliseconds.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

import muster
from muster.core.errors import ValidationFailed
from muster.ingest.feed_state import SEEN_LIMIT, FeedSource, FeedState
from muster.ingest.feeds import FeedScheduler
from muster.ingest.formats import parse_cap
from tests.integration.feed_server import (
    BACKOFF,
    INTERVAL,
    NOT_FEEDS,
    REFUSED_FEEDS,
    START,
    FeedLab,
    Reply,
    atom_entry,
    atom_feed,
    failing,
    redirect,
    rss_feed,
    slow,
    static,
    without_declaration,
)

LINKED = (
    "spec_a2_nws_ksto_thunderstorm.xml",
    "au_bom_warning.xml",
    "us_usgs_earthquake_iso8859-1.xml",
)
ETAG = '"feed-v1"'
LAST_MODIFIED = "Sun, 01 Jun 2025 03:00:00 GMT"


@pytest.fixture(scope="session")
def corpus() -> Path:
    """Return the shared valid-CAP folder (read in place), failing if it is absent."""
    folder = Path(muster.__file__).resolve().parents[3] / "shared" / "corpus" / "cap"
    if not (folder / "valid").is_dir():
        pytest.fail(f"CAP corpus not found at {folder}; check out ../shared/corpus")
    return folder / "valid"


@pytest.fixture
def lab(corpus: Path) -> Iterator[FeedLab]:
    """Start a feed server on a free 127.0.0.1 port; stop it cleanly afterwards."""
    with FeedLab(corpus) as running:
        yield running


class TestAtomFeed:
    def test_fetches_linked_alerts_and_records_state(self, lab: FeedLab) -> None:
        """Three linked corpus files arrive byte for byte; the state is updated."""
        feed = lab.linked_feed(LINKED)
        lab.serve("/feed", static(feed, etag=ETAG, last_modified=LAST_MODIFIED))

        result = lab.poll(lab.source("/feed"))

        assert [d.data for d in result.documents] == [lab.cap(n) for n in LINKED]
        assert [d.entry_id for d in result.documents] == list(result.state.seen)
        assert result.state.seen == tuple(f"urn:alert:{n}" for n in LINKED)
        assert {d.fetched_at for d in result.documents} == {START}
        assert (result.errors, result.not_modified) == ([], False)
        assert (result.state.etag, result.state.last_modified) == (ETAG, LAST_MODIFIED)
        assert result.state.next_poll_at == START + timedelta(seconds=INTERVAL)
        assert (result.state.consecutive_failures, result.state.last_error) == (0, None)

    def test_second_poll_is_conditional_and_not_modified(self, lab: FeedLab) -> None:
        """The next poll sends the validators, gets 304 and fetches nothing."""
        feed = lab.linked_feed(LINKED)
        lab.serve("/feed", static(feed, etag=ETAG, last_modified=LAST_MODIFIED))
        source = lab.source("/feed")
        first = lab.poll(source)
        lab.clock.advance(timedelta(seconds=INTERVAL))

        second = lab.poll(source, first.state)

        assert (second.not_modified, second.documents, second.errors) == (True, [], [])
        conditional = lab.server.requests_to("/feed")[-1].headers
        assert conditional["if-none-match"] == ETAG
        assert conditional["if-modified-since"] == LAST_MODIFIED
        assert all(len(lab.server.requests_to(f"/cap/{n}")) == 1 for n in LINKED)
        interval = timedelta(seconds=INTERVAL)
        assert second.state.next_poll_at == lab.clock.now() + interval

    def test_seen_entries_are_not_fetched_again(self, lab: FeedLab) -> None:
        """When the feed grows, only the new entry's alert is fetched."""
        lab.serve("/feed", static(lab.linked_feed(LINKED[:2])))
        source = lab.source("/feed")
        first = lab.poll(source)
        lab.serve("/feed", static(lab.linked_feed(LINKED)))

        second = lab.poll(source, first.state)

        assert [d.entry_id for d in second.documents] == [f"urn:alert:{LINKED[2]}"]
        assert all(len(lab.server.requests_to(f"/cap/{n}")) == 1 for n in LINKED)

    def test_entry_budget_defers_the_rest_to_the_next_poll(self, lab: FeedLab) -> None:
        """Over max_entries, the rest waits, and validators are dropped to get it."""
        lab.serve("/feed", static(lab.linked_feed(LINKED), etag=ETAG))
        source = lab.source("/feed", max_entries=2)
        first = lab.poll(source)

        second = lab.poll(source, first.state)

        assert (len(first.documents), first.state.etag) == (2, None)
        assert [d.entry_id for d in second.documents] == [f"urn:alert:{LINKED[2]}"]
        assert second.state.etag == ETAG


class TestOtherFeedShapes:
    def test_rss_items_by_link_and_by_enclosure(self, lab: FeedLab) -> None:
        """RSS 2.0 items point to CAP files by <link> or by a CAP <enclosure>."""
        first, second = LINKED[:2]
        enclosure = f'url="{lab.url(f"/cap/{second}")}" type="application/cap+xml"'
        lab.serve(
            "/rss",
            static(
                rss_feed(
                    f"<item><link>/cap/{first}</link><guid>g1</guid></item>",
                    f"<item><guid>g2</guid><enclosure {enclosure}/></item>",
                )
            ),
        )

        result = lab.poll(lab.source("/rss"))

        assert [(d.entry_id, d.data) for d in result.documents] == [
            ("g1", lab.cap(first)),
            ("g2", lab.cap(second)),
        ]

    def test_inline_alert_keeps_its_signature(self, lab: FeedLab) -> None:
        """An alert embedded in an entry is returned standalone; it still verifies."""
        original = lab.cap("us_ipaws_nv_dps_cancel_signed.xml")
        entry = atom_entry("urn:inline:1", content=without_declaration(original))
        lab.serve("/inline", static(atom_feed(entry)))

        result = lab.poll(lab.source("/inline"))

        [document] = result.documents
        alert = parse_cap(document.data)
        assert (document.url, document.entry_id) == (lab.url("/inline"), "urn:inline:1")
        assert alert.identifier == parse_cap(original).identifier
        assert alert.signature == "valid"
        assert lab.requested == [lab.url("/inline")]

    def test_entry_without_an_alert_is_reported_once(self, lab: FeedLab) -> None:
        """An entry linking only an HTML page is a no_document error, then seen."""
        page = atom_entry("urn:page", href="/page.html", media_type="text/html")
        lab.serve("/feed", static(atom_feed(page)))
        source = lab.source("/feed")

        first = lab.poll(source)
        second = lab.poll(source, first.state)

        assert [e.kind for e in first.errors] == ["no_document"]
        assert (second.errors, lab.server.requests_to("/page.html")) == ([], [])


class TestRetries:
    def test_feed_503_twice_is_retried_with_backoff(self, lab: FeedLab) -> None:
        """Two 503s, then 200: the poll succeeds after two short jittered waits."""
        lab.serve("/flaky", failing(2, 503, static(lab.linked_feed(LINKED))))

        result = lab.poll(lab.source("/flaky"))

        assert (len(result.documents), result.errors) == (3, [])
        assert len(lab.server.requests_to("/flaky")) == 3
        assert len(lab.sleeps) == 2
        assert all(0 <= s <= BACKOFF * 2**i for i, s in enumerate(lab.sleeps))

    def test_document_404_waits_for_next_poll(self, lab: FeedLab) -> None:
        """A 404 document is asked once, left unseen, and fetched on the next poll."""
        lab.serve("/late.xml", failing(1, 404, static(lab.cap(LINKED[0]))))
        entry = atom_entry("urn:late", href="/late.xml")
        lab.serve("/feed", static(atom_feed(entry), etag=ETAG))
        source = lab.source("/feed")
        first = lab.poll(source)

        second = lab.poll(source, first.state)

        assert [(e.kind, e.url) for e in first.errors] == [
            ("http_status", lab.url("/late.xml"))
        ]
        assert (first.state.seen, first.state.etag, lab.sleeps) == ((), None, [])
        assert [d.data for d in second.documents] == [lab.cap(LINKED[0])]
        assert len(lab.server.requests_to("/late.xml")) == 2

    def test_failures_back_off_and_success_resets(self, lab: FeedLab) -> None:
        """Each failed poll counts up and backs off; a good poll resets the count."""
        lab.serve("/down", failing(6, 503, static(lab.linked_feed(LINKED))))
        source = lab.source("/down", max_retries=1)
        state = FeedState()
        for failures in (1, 2, 3):
            state = lab.poll(source, state).state
            assert state.consecutive_failures == failures
            assert "503" in (state.last_error or "")
            assert state.next_poll_at is not None
            delay = (state.next_poll_at - lab.clock.now()).total_seconds()
            assert BACKOFF <= delay <= BACKOFF * 2**failures
            lab.clock.advance(timedelta(seconds=1))

        recovered = lab.poll(source, state).state

        assert (recovered.consecutive_failures, recovered.last_error) == (0, None)
        assert recovered.next_poll_at == lab.clock.now() + timedelta(seconds=INTERVAL)

    def test_closed_port_is_a_connection_error(self, lab: FeedLab) -> None:
        """Nobody listening: the poll reports ``connection`` and does not raise."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        source = lab.source("/feed", url=f"http://127.0.0.1:{port}/feed", max_retries=1)

        result = lab.poll(source)

        assert [e.kind for e in result.errors] == ["connection"]
        assert result.state.consecutive_failures == 1


class TestLimits:
    def test_slow_feed_times_out_in_bounded_time(self, lab: FeedLab) -> None:
        """A server slower than the timeout yields ``timeout``, after each attempt."""
        lab.serve("/slow", slow(lab.server, 5.0, static(lab.linked_feed(LINKED))))
        source = lab.source("/slow", timeout_seconds=0.2, max_retries=1)
        started = time.monotonic()

        result = lab.poll(source)

        assert time.monotonic() - started < 2.0
        assert [e.kind for e in result.errors] == ["timeout"]
        assert len(lab.server.requests_to("/slow")) == 2
        assert result.state.consecutive_failures == 1

    def test_oversize_documents_are_too_large(self, lab: FeedLab) -> None:
        """A document over the limit is too_large, declared or streamed; seen once."""
        big = b"<alert>" + b"x" * 20_000 + b"</alert>"
        lab.serve("/declared.xml", static(big))
        lab.serve("/streamed.xml", lambda request: Reply(body=big, has_length=False))
        entries = (
            atom_entry("urn:declared", href="/declared.xml"),
            atom_entry("urn:streamed", href="/streamed.xml"),
        )
        lab.serve("/feed", static(atom_feed(*entries)))

        result = lab.poll(lab.source("/feed", max_document_bytes=10_000))

        assert [(e.kind, e.url) for e in result.errors] == [
            ("too_large", lab.url("/declared.xml")),
            ("too_large", lab.url("/streamed.xml")),
        ]
        assert result.state.seen == ("urn:declared", "urn:streamed")

    def test_oversize_feed_fails_the_poll(self, lab: FeedLab) -> None:
        """A feed document over the limit fails the poll as too_large."""
        lab.serve("/feed", static(lab.linked_feed(LINKED)))

        result = lab.poll(lab.source("/feed", max_document_bytes=100))

        assert [e.kind for e in result.errors] == ["too_large"]
        assert result.state.consecutive_failures == 1


class TestRefusals:
    @pytest.mark.parametrize("name", REFUSED_FEEDS)
    def test_dtd_entity_xinclude_refused(self, lab: FeedLab, name: str) -> None:
        """DOCTYPE, entity declarations and XInclude are refused, never resolved."""
        lab.serve("/evil", static(REFUSED_FEEDS[name]))

        result = lab.poll(lab.source("/evil"))

        assert [e.kind for e in result.errors] == ["refused_xml"]
        assert "root:" not in repr(result)  # nothing of /etc/passwd leaked
        assert (result.documents, result.state.consecutive_failures) == ([], 1)

    @pytest.mark.parametrize("name", NOT_FEEDS)
    def test_non_feed_is_not_a_feed(self, lab: FeedLab, name: str) -> None:
        """HTML pages, other XML and garbage are reported as not_a_feed."""
        lab.serve("/page", static(NOT_FEEDS[name], content_type="text/html"))

        result = lab.poll(lab.source("/page"))

        assert [e.kind for e in result.errors] == ["not_a_feed"]

    def test_file_link_is_refused_and_never_requested(self, lab: FeedLab) -> None:
        """An entry linking file:///etc/passwd is an error; the others still arrive."""
        entries = (
            atom_entry("urn:passwd", href="file:///etc/passwd"),
            atom_entry("urn:ok", href=f"/cap/{LINKED[0]}"),
        )
        lab.serve("/feed", static(atom_feed(*entries)))

        result = lab.poll(lab.source("/feed"))

        assert [(e.kind, e.url) for e in result.errors] == [
            ("refused_url", "file:///etc/passwd")
        ]
        assert [d.data for d in result.documents] == [lab.cap(LINKED[0])]
        assert all(url.startswith("http://127.0.0.1:") for url in lab.requested)
        assert "urn:passwd" in result.state.seen

    def test_redirects_are_followed_to_http_only(self, lab: FeedLab) -> None:
        """An http redirect is followed; one to file: or a malformed URL is refused."""
        name = LINKED[1]
        locations = {
            "moved": f"/cap/{name}",
            "sneaky": "file:///etc/passwd",
            "broken": "http://[oops",
        }
        for entry, location in locations.items():
            lab.serve(f"/{entry}.xml", redirect(location))
        feed = atom_feed(*(atom_entry(e, href=f"/{e}.xml") for e in locations))
        lab.serve("/feed", static(feed))

        result = lab.poll(lab.source("/feed"))

        [document] = result.documents
        assert (document.url, document.data) == (lab.url(f"/cap/{name}"), lab.cap(name))
        assert [e.kind for e in result.errors] == ["refused_url", "refused_url"]
        assert "file:///etc/passwd" in result.errors[0].message
        assert all(url.startswith("http://127.0.0.1:") for url in lab.requested)


class TestFeedState:
    def test_state_survives_a_json_round_trip(self) -> None:
        """to_json/from_json keep every field, times as aware UTC."""
        state = FeedState(
            etag=ETAG,
            last_modified=LAST_MODIFIED,
            seen=("a", "b"),
            consecutive_failures=2,
            next_poll_at=START,
            last_error="timeout: slow",
        )

        assert FeedState.from_json(state.to_json()) == state

    @pytest.mark.parametrize(
        "text", ["{", "[]", '{"version": 1, "seen": [1]}', '{"version": 9}']
    )
    def test_malformed_state_is_refused(self, text: str) -> None:
        """Unreadable stored state raises ValidationFailed, not a raw error."""
        with pytest.raises(ValidationFailed):
            FeedState.from_json(text)

    def test_seen_keeps_only_the_newest_keys(self) -> None:
        """Past SEEN_LIMIT, the oldest keys are forgotten first."""
        state = FeedState(seen=tuple(str(n) for n in range(SEEN_LIMIT)))

        grown = state.with_seen(["new", "0", "new"])

        assert len(grown.seen) == SEEN_LIMIT
        assert grown.seen[0] == "1"
        assert grown.seen[-1] == "new"

    def test_feed_source_must_be_http(self) -> None:
        """A feed at a file: URL is refused when it is configured."""
        with pytest.raises(ValidationFailed):
            FeedSource(url="file:///etc/passwd", dataset_code="x", interval_seconds=60)


class TestFeedScheduler:
    def test_due_lists_new_and_overdue_feeds_oldest_first(self) -> None:
        """Never-polled feeds come first, then overdue ones; future ones wait."""
        new, overdue, later = (
            FeedSource(url=f"https://{n}.example/", dataset_code=n, interval_seconds=60)
            for n in ("new", "overdue", "later")
        )
        early, late = START - timedelta(minutes=1), START + timedelta(minutes=1)
        scheduler = FeedScheduler(
            [later, overdue, new],
            {
                overdue.url: FeedState(next_poll_at=early),
                later.url: FeedState(next_poll_at=late),
            },
        )
        due_before = scheduler.due(START)

        scheduler.record(new, FeedState(next_poll_at=late))

        assert due_before == [new, overdue]
        assert scheduler.due(START) == [overdue]
        assert scheduler.next_due_at() == early
