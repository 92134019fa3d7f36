"""The safe XML parser: refusals for DTDs, entities, XInclude, size and non-XML."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from muster.core.errors import ValidationFailed
from muster.ingest.formats import FormatRejected, parse_cap, parse_xml

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">&lol9;</alert>
"""


def refused(data: bytes, **options: int) -> FormatRejected:
    """Parse bytes that must be refused; return the rejection."""
    with pytest.raises(FormatRejected) as caught:
        parse_xml(data, **options)
    return caught.value


class TestRefusals:
    def test_billion_laughs_is_refused_quickly(self) -> None:
        """Nested entity declarations are refused without being expanded."""
        started = time.perf_counter()

        error = refused(BILLION_LAUGHS)

        assert error.reason == "refused_entity"
        assert time.perf_counter() - started < 1.0

    def test_external_entity_is_never_read(self, tmp_path: Path) -> None:
        """A SYSTEM entity pointing at a local file is refused, its text never shown."""
        secret = tmp_path / "secret.txt"
        secret.write_text("TOP-SECRET-MARKER")
        data = (
            f'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file://{secret}">]>'
            "<a>&x;</a>"
        ).encode()

        error = refused(data)

        assert error.reason == "refused_entity"
        assert "TOP-SECRET-MARKER" not in str(error)

    def test_doctype_without_entities_is_refused(self) -> None:
        """A bare DOCTYPE is refused as a DTD."""
        error = refused(b'<!DOCTYPE a SYSTEM "http://example.invalid/a.dtd"><a/>')

        assert error.reason == "refused_dtd"

    def test_xinclude_is_refused_with_its_location(self) -> None:
        """An XInclude element anywhere is refused and located."""
        data = (
            b'<a xmlns:xi="http://www.w3.org/2001/XInclude">\n'
            b'<b><xi:include href="file:///etc/passwd"/></b></a>'
        )

        error = refused(data)

        assert (error.reason, error.line, error.xpath) == (
            "refused_xinclude",
            2,
            "/a/b/xi:include",
        )

    def test_utf16_doctype_is_refused(self) -> None:
        """A DTD is refused whatever the document's encoding."""
        data = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a><a/>'.encode(
            "utf-16"
        )

        error = refused(data)

        assert error.reason == "refused_dtd"

    def test_oversize_input_is_refused_before_parsing(self) -> None:
        """Input above the limit is refused as too large."""
        error = refused(b"<a>" + b"x" * 100 + b"</a>", max_bytes=50)

        assert error.reason == "too_large"


class TestNotXml:
    @pytest.mark.parametrize(
        "data",
        [b"", b"   ", b"not xml", b"<a>", b"\xff\xfe\x00", b"<a>&undefined;</a>"],
    )
    def test_garbage_is_not_xml(self, data: bytes) -> None:
        """Empty, truncated or non-XML input is refused as not_xml with a message."""
        error = refused(data)

        assert error.reason == "not_xml"
        assert error.message

    def test_unknown_encoding_is_not_xml(self) -> None:
        """A declaration naming an unknown encoding is refused, not crashed on."""
        error = refused(b'<?xml version="1.0" encoding="no-such-code"?><a/>')

        assert error.reason == "not_xml"


class TestRejectionShape:
    def test_rejection_is_a_validation_failure_with_fields(self) -> None:
        """FormatRejected belongs to the error tree and carries structured fields."""
        error = refused(b"<a>\n<b></a>")

        assert isinstance(error, ValidationFailed)
        assert error.code == "format_rejected"
        assert error.params == {"reason": "not_xml", "line": 2, "xpath": None}
        assert str(error).startswith("not_xml line 2: ")

    def test_edxl_envelope_given_to_parse_cap_is_explained(self, corpus: Path) -> None:
        """Feeding an EDXL-DE envelope to parse_cap says to unwrap it first."""
        data = (corpus / "edxl/de-1.0/au_nsw_rfs_edxlde_small.xml").read_bytes()

        with pytest.raises(FormatRejected) as caught:
            parse_cap(data)

        assert caught.value.reason == "not_cap"
        assert "parse_edxl_de" in caught.value.message
