"""Property tests: any bytes give a result or a clean ``FormatRejected``, quickly.

Random bytes, truncations and byte flips of every corpus file, and random XML-ish
documents go through ``parse_cap``, ``parse_edxl_de`` and ``parse_edxl_rm``. Any
other exception, or an example slower than the deadline, fails the test. Examples are
derandomised (same inputs every run, so CI is stable) and bounded so that the file
runs in well under 30 s; raise ``EXAMPLES`` locally for a longer fuzz run.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from muster.ingest.formats import (
    FormatRejected,
    parse_cap,
    parse_edxl_de,
    parse_edxl_rm,
)
from tests.unit.ingest.formats.corpus import MISSING, all_corpus_files, find_corpus

EXAMPLES = 200
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=timedelta(seconds=3),
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PARSERS: tuple[Callable[[bytes], object], ...] = (
    parse_cap,
    parse_edxl_de,
    parse_edxl_rm,
)
FILES = all_corpus_files()
WELL_FORMED = [name for name in FILES if "valid/" in name or name.startswith("edxl/")]
TEXT_NODE = re.compile(rb">([^<]{1,200})<")
FRAGMENTS = [
    b'<?xml version="1.0" encoding="UTF-8"?>',
    b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">',
    b"</alert>",
    b'<EDXLDistribution xmlns="urn:oasis:names:tc:emergency:EDXL:DE:1.0">',
    b'<edxlDistribution xmlns="urn:oasis:names:tc:emergency:EDXL:DE:2.0">',
    b'<rmsg:RequestResource xmlns:rmsg="urn:oasis:names:tc:emergency:EDXL:RM:1.0:msg">',
    b"<identifier>x</identifier><sender>s</sender>",
    b"<sent>2024-01-01T00:00:00+00:00</sent><sent>2024-13-01T25:00:00,00:00</sent>",
    b"<msgType>Update</msgType><references> , ,, </references>",
    b"<polygon>1,2 3,4</polygon><circle>91,0 -1</circle><circle>nan,inf x</circle>",
    b"<ds:Signature xmlns:ds='http://www.w3.org/2000/09/xmldsig#'>",
    b"<ds:SignedInfo/><ds:SignatureValue>!!</ds:SignatureValue></ds:Signature>",
    b"<!DOCTYPE a [<!ENTITY e 'x'>]>",
    b"<xi:include xmlns:xi='http://www.w3.org/2001/XInclude'/>",
    b"&amp;&#0;&#x110000;<![CDATA[]]><!-- -->",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
]


@cache
def corpus_bytes(relative: str) -> bytes:
    """Read one corpus file once (a placeholder when the corpus is missing)."""
    root = find_corpus()
    if root is None or relative == MISSING:
        return b"<missing-corpus/>"
    return (root / relative).read_bytes()


def rejection_of(
    parse: Callable[[bytes], object], data: bytes
) -> FormatRejected | None:
    """Run one parser; return its rejection, or ``None`` when it accepted the bytes."""
    try:
        parse(data)
    except FormatRejected as rejection:
        return rejection
    return None


def assert_clean(data: bytes) -> None:
    """Every parser returns or raises ``FormatRejected``; nothing else escapes."""
    for parse in PARSERS:
        rejection = rejection_of(parse, data)

        assert rejection is None or (rejection.reason and rejection.message)


class TestFuzz:
    def test_corpus_is_present_for_fuzzing(self, corpus: object) -> None:
        """The fuzz inputs come from the shared corpus, which must be there."""
        assert MISSING not in FILES

    @FUZZ
    @given(data=st.binary(max_size=4096))
    def test_random_bytes_are_rejected_cleanly(self, data: bytes) -> None:
        """Random bytes never crash a parser."""
        assert_clean(data)

    @FUZZ
    @given(name=st.sampled_from(FILES), cut=st.floats(0, 1))
    def test_truncated_corpus_files_are_handled(self, name: str, cut: float) -> None:
        """Any corpus file cut at any offset gives a result or a clean rejection."""
        original = corpus_bytes(name)

        assert_clean(original[: int(len(original) * cut)])

    @FUZZ
    @given(
        name=st.sampled_from(FILES),
        flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=8),
    )
    def test_byte_flips_are_handled(
        self, name: str, flips: list[tuple[float, int]]
    ) -> None:
        """Corpus files with a few bytes replaced never crash a parser."""
        data = bytearray(corpus_bytes(name))
        for where, value in flips:
            data[min(int(len(data) * where), len(data) - 1)] = value

        assert_clean(bytes(data))

    @FUZZ
    @given(parts=st.lists(st.sampled_from(FRAGMENTS) | st.binary(max_size=16)))
    def test_xml_like_documents_are_handled(self, parts: list[bytes]) -> None:
        """Random sequences of CAP/EDXL fragments never crash a parser."""
        assert_clean(b"".join(parts))

    @FUZZ
    @given(
        name=st.sampled_from(WELL_FORMED),
        position=st.integers(0, 10**6),
        text=st.text(max_size=40).map(lambda t: t.replace("<", "").replace("&", "")),
    )
    def test_replaced_element_text_is_handled(
        self, name: str, position: int, text: str
    ) -> None:
        """Valid files with one element's text replaced reach the CAP rules safely."""
        data = corpus_bytes(name)
        spans = [match.span(1) for match in TEXT_NODE.finditer(data)] or [(0, 0)]
        start, end = spans[position % len(spans)]

        assert_clean(data[:start] + text.encode() + data[end:])
