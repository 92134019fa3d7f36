"""CSV exports: encodings, delimiters, header mapping, unreadable rows and garbage."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from muster.ingest.formats.records import ParsedBatch, RecordsRejected
from muster.ingest.formats.tabular import decode_text, parse_csv

ROAD_CLOSURES = """\
路段编号,道路名称,状态,开始时间
R-001,人民路,封闭,2024-07-01T08:00:00+08:00
R-002, 解放大道 ,通行,
R-003,芙蓉中路,封闭,2024-07-01T09:30:00+08:00
"""
ROAD_MAPPING = {
    "路段编号": "segment_id",
    "道路名称": "road_name",
    "状态": "status",
    "开始时间": "start",
}


class TestDecodeText:
    def test_plain_utf8(self) -> None:
        """UTF-8 text is decoded and reported as utf-8."""
        assert decode_text("站点,雨量\n".encode()) == ("站点,雨量\n", "utf-8")

    def test_utf8_with_bom_drops_the_mark(self) -> None:
        """A UTF-8 byte-order mark is removed and reported as utf-8-sig."""
        text, encoding = decode_text(b"\xef\xbb\xbf" + "站点\n".encode())

        assert (text, encoding) == ("站点\n", "utf-8-sig")

    def test_gbk_is_reported_as_gbk(self) -> None:
        """Bytes that are valid GBK but not UTF-8 are read as GBK."""
        assert decode_text(ROAD_CLOSURES.encode("gbk")) == (ROAD_CLOSURES, "gbk")

    def test_gb18030_only_characters_are_reported_as_gb18030(self) -> None:
        """Characters outside GBK (four-byte GB18030) are read as gb18030."""
        text = "地名,备注\n𠀀村,㐀\n"
        with pytest.raises(UnicodeEncodeError):
            text.encode("gbk")

        assert decode_text(text.encode("gb18030")) == (text, "gb18030")

    @pytest.mark.parametrize(
        ("data", "expected"),
        [
            (b"\x00\x01\x02\x03binary", "does not look like text"),
            (b"\x89PNG\r\n\x1a\n\x00\x00", "does not look like text"),
            (b"PK\x03\x04\x14\x00\x06\x00", ".xlsx"),
            (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", ".xls"),
            (b"\xff\xfea\x00,\x00b\x00", "UTF-16"),
            (b"\xef\xbb\xbf\xff\xfe", "byte-order mark"),
            (b"\x80\x80\xff\xff", "neither UTF-8 nor GBK"),
        ],
    )
    def test_garbage_is_rejected_with_a_reason(
        self, data: bytes, expected: str
    ) -> None:
        """Binary files, workbooks and unknown encodings are refused clearly."""
        with pytest.raises(RecordsRejected, match=expected) as caught:
            decode_text(data)

        assert caught.value.reason in {"binary", "encoding"}

    def test_private_use_characters_from_gb_bytes_are_rejected(self) -> None:
        """GB18030 user-defined areas (garbage, not exports) are refused."""
        data = b"a,b\n" + "\ue000".encode("gb18030")

        with pytest.raises(RecordsRejected, match="U\\+E000"):
            decode_text(data)


class TestParseCsv:
    def test_gbk_road_closures_with_header_mapping(self) -> None:
        """A GBK export with Chinese headers maps to dataset fields, row by row."""
        data = ROAD_CLOSURES.encode("gbk")

        batch = parse_csv(data, mapping=ROAD_MAPPING)

        assert (batch.format, batch.encoding, batch.problems) == ("csv", "gbk", ())
        assert [record.locator for record in batch.records] == [
            "row 2",
            "row 3",
            "row 4",
        ]
        assert batch.records[1].values == {
            "segment_id": "R-002",
            "road_name": "解放大道",
            "status": "通行",
            "start": None,
        }
        assert batch.digest == hashlib.sha256(data).hexdigest()

    def test_unmapped_headers_are_kept(self) -> None:
        """Headers missing from the mapping keep their source names."""
        batch = parse_csv(ROAD_CLOSURES.encode(), mapping={"路段编号": "segment_id"})

        assert set(batch.records[0].values) == {
            "segment_id",
            "道路名称",
            "状态",
            "开始时间",
        }

    def test_utf8_bom_does_not_leak_into_the_first_header(self) -> None:
        """Excel's 'CSV UTF-8' BOM is not part of the first column name."""
        batch = parse_csv(
            b"\xef\xbb\xbf" + ROAD_CLOSURES.encode(), mapping=ROAD_MAPPING
        )

        assert batch.encoding == "utf-8-sig"
        assert batch.records[0].values["segment_id"] == "R-001"

    def test_gb18030_characters_survive(self) -> None:
        """Rare characters only GB18030 can encode come through intact."""
        data = "村名,人口\n𠀀村,120\n".encode("gb18030")

        batch = parse_csv(data)

        assert batch.encoding == "gb18030"
        assert batch.records[0].values == {"村名": "𠀀村", "人口": "120"}

    @pytest.mark.parametrize("delimiter", [";", "\t"])
    def test_semicolon_and_tab_are_detected(self, delimiter: str) -> None:
        """Semicolon- and tab-separated exports are recognised without being told."""
        data = ROAD_CLOSURES.replace(",", delimiter).encode()

        batch = parse_csv(data, mapping=ROAD_MAPPING)

        assert batch.problems == ()
        assert batch.records[0].values["road_name"] == "人民路"

    def test_single_column_defaults_to_comma(self) -> None:
        """A file without any delimiter is one column."""
        batch = parse_csv(b"station\nS1\nS2\n")

        assert [record.values for record in batch.records] == [
            {"station": "S1"},
            {"station": "S2"},
        ]

    def test_explicit_delimiter_wins(self) -> None:
        """A delimiter given by the dataset is used as is."""
        batch = parse_csv(b"a|b\n1|2\n", delimiter="|")

        assert batch.records[0].values == {"a": "1", "b": "2"}

    def test_unusable_delimiter_is_a_programming_error(self) -> None:
        """A multi-character or quote delimiter is refused with ValueError."""
        with pytest.raises(ValueError, match="delimiter"):
            parse_csv(b"a,b\n", delimiter='"')

    def test_ragged_rows_become_problems_with_line_numbers(self) -> None:
        """Rows with too few or too many values are kept as problems, not dropped."""
        data = b"id,name,status\n1,a,open\n2,b\n3,c,open,extra\n4,d,closed\n"

        batch = parse_csv(data)

        assert [record.line for record in batch.records] == [2, 5]
        assert [(p.locator, p.line, p.reason, p.raw) for p in batch.problems] == [
            ("row 3", 3, "column_count", "2,b\n"),
            ("row 4", 4, "column_count", "3,c,open,extra\n"),
        ]
        assert batch.problems[0].message == "row 3: 2 values, the header has 3 columns"

    def test_quoted_newlines_keep_physical_line_numbers(self) -> None:
        """A quoted value spanning lines stays one value; later rows keep true lines."""
        data = b'id,note\n1,"first line\nsecond line"\n2,"x"\n3,y,z\n'

        batch = parse_csv(data)

        assert batch.records[0].values == {"id": "1", "note": "first line\nsecond line"}
        assert [record.line for record in batch.records] == [2, 4]
        assert [(p.line, p.raw) for p in batch.problems] == [(5, "3,y,z\n")]

    def test_whitespace_is_stripped_and_empty_cells_are_none(self) -> None:
        """Values are stripped; empty cells become None."""
        batch = parse_csv(b"a,b,c\n  x , ,\n")

        assert batch.records[0].values == {"a": "x", "b": None, "c": None}

    def test_blank_and_delimiter_only_rows_are_skipped(self) -> None:
        """Rows carrying no value at all are not records and not problems."""
        batch = parse_csv(b"a,b\n\n1,2\n,\n\r\n3,4\r\n")

        assert [record.line for record in batch.records] == [3, 6]
        assert batch.problems == ()

    def test_windows_line_endings(self) -> None:
        """CRLF line endings give the same records and lines as LF."""
        batch = parse_csv(ROAD_CLOSURES.replace("\n", "\r\n").encode("gbk"))

        assert [record.line for record in batch.records] == [2, 3, 4]
        assert batch.records[0].values["状态"] == "封闭"

    def test_empty_file_gives_no_records(self) -> None:
        """An empty file is a clean, empty batch."""
        batch = parse_csv(b"")

        assert (batch.records, batch.problems) == ((), ())

    def test_header_only_file_gives_no_records(self) -> None:
        """A header without rows is a clean, empty batch."""
        batch = parse_csv("路段编号,道路名称\r\n".encode("gbk"))

        assert (batch.encoding, batch.records, batch.problems) == ("gbk", (), ())

    def test_empty_header_cells_get_positional_names(self) -> None:
        """A trailing delimiter in the header gives a column_N name."""
        batch = parse_csv(b"a,b,\n1,2,\n")

        assert batch.records[0].values == {"a": "1", "b": "2", "column_3": None}

    def test_duplicate_headers_are_rejected(self) -> None:
        """Two columns with one name (also after mapping) make the file ambiguous."""
        with pytest.raises(RecordsRejected, match="more than once") as caught:
            parse_csv("编号,名称,编号\n1,a,2\n".encode())
        with pytest.raises(RecordsRejected, match="segment_id"):
            parse_csv(
                b"id,code\n1,2\n", mapping={"id": "segment_id", "code": "segment_id"}
            )

        assert (caught.value.reason, caught.value.line) == ("header", 1)

    def test_oversized_input_is_rejected_before_reading(self) -> None:
        """Inputs above max_bytes are refused outright."""
        with pytest.raises(RecordsRejected, match="limit is 10") as caught:
            parse_csv(b"a,b\n" * 10, max_bytes=10)

        assert caught.value.reason == "too_large"

    def test_binary_garbage_is_rejected(self) -> None:
        """A binary file is refused as a whole."""
        with pytest.raises(RecordsRejected) as caught:
            parse_csv(bytes(range(256)) * 4)

        assert caught.value.reason in {"binary", "encoding"}

    def test_a_field_beyond_the_csv_limit_becomes_a_problem(self) -> None:
        """An unclosed quote swallowing the file is kept as a problem with its text."""
        data = b'a,b\n1,"' + b"x" * 200_000 + b"\n2,3\n"

        batch = parse_csv(data)

        assert batch.problems[0].line == 2
        assert batch.problems[0].reason in {"csv_syntax", "column_count"}
        assert batch.problems[0].raw.startswith('1,"xxx')


def parse_or_rejection(data: bytes) -> ParsedBatch | RecordsRejected:
    """Parse CSV bytes, returning the rejection instead of raising it."""
    try:
        return parse_csv(data)
    except RecordsRejected as rejection:
        return rejection


class TestNeverCrashes:
    @settings(max_examples=200, deadline=2000)
    @given(data=st.binary(max_size=400))
    def test_random_bytes_parse_or_reject(self, data: bytes) -> None:
        """Random bytes give a batch or RecordsRejected, nothing else."""
        outcome = parse_or_rejection(data)

        if isinstance(outcome, RecordsRejected):
            assert outcome.reason in {"binary", "encoding", "header"}
        else:
            assert outcome.format == "csv"

    @settings(max_examples=200, deadline=2000)
    @given(
        text=st.text(alphabet=st.sampled_from('ab,;\t"\n\r 路段 \x00é'), max_size=300),
        encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
    )
    def test_random_csv_like_text_parses_or_rejects(
        self, text: str, encoding: str
    ) -> None:
        """CSV-ish text in any supported encoding never crashes the parser."""
        batch = parse_or_rejection(text.encode(encoding))

        if isinstance(batch, RecordsRejected):
            return
        lines = text.count("\n") + text.count("\r") + 1
        starts = [record.line for record in batch.records]
        starts += [problem.line for problem in batch.problems]
        assert all(line is not None and 2 <= line <= lines for line in starts)
