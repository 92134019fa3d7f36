"""CSV exports (UTF-8, UTF-8 with BOM, GBK/GB18030) read into source records.

Imported by the ingest handlers and the CLI; stdlib only.

Encoding detection is a fixed order, not a statistical guess (no ``chardet``):

1. a UTF-8 byte-order mark means UTF-8;
2. strict UTF-8: GBK text practically never decodes as UTF-8, because GBK lead bytes
   (0x81-0xFE) followed by ASCII-range trail bytes (0x40-0x7E) are invalid UTF-8, so
   one Chinese character in a header is enough to fail;
3. strict GBK (which includes GB2312), reported as ``gbk``;
4. strict GB18030 (GBK plus four-byte sequences for rare characters), reported as
   ``gb18030``. It accepts almost any run of bytes 0x81-0xFE paired with 0x30-0xFE, so
   a successful decode proves little: it comes last and its result (like every other)
   is checked for control characters and, for the GB codecs, private-use code points
   (user-defined GBK areas), which real exports do not contain but garbage does.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Protocol

from muster.ingest.formats.records import (
    DEFAULT_MAX_BYTES,
    ParsedBatch,
    RecordProblem,
    RecordsRejected,
    SourceRecord,
    digest_of,
    refuse_oversized,
)

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Tab, LF, VT, FF and CR occur in real exports; other C0/C1 controls mean binary data.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
_SIGNATURES = {
    b"PK\x03\x04": "a ZIP archive (an .xlsx workbook?); export the sheet as CSV",
    b"\xd0\xcf\x11\xe0": "an old Excel .xls workbook; export the sheet as CSV",
    b"%PDF": "a PDF document",
}
_SNIFF_DELIMITERS = ",;\t"
# The sniffer's regular expressions grow worse than linearly with the sample; a few
# lines are plenty to tell the delimiter.
_SNIFF_LINES = 20
_SNIFF_CHARS = 8192


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode exported text and name the encoding used.

    Returns:
        ``(text, encoding)`` where encoding is ``utf-8-sig``, ``utf-8``, ``gbk`` or
        ``gb18030``.

    Raises:
        RecordsRejected: the bytes are in no supported encoding or look binary.
    """
    for signature, what in _SIGNATURES.items():
        if data.startswith(signature):
            raise RecordsRejected(f"this is not text but {what}", reason="binary")
    if data.startswith(_UTF8_BOM):
        text = _try_decode(data, "utf-8-sig")
        if text is None:
            raise RecordsRejected(
                "the file starts with a UTF-8 byte-order mark but is not UTF-8",
                reason="encoding",
            )
        return _refuse_binary(text, "utf-8-sig"), "utf-8-sig"
    if data.startswith(_UTF16_BOMS):
        raise RecordsRejected(
            "the file is UTF-16 or UTF-32 (Excel 'Unicode text'); save it as "
            "'CSV UTF-8' instead",
            reason="encoding",
        )
    for encoding in ("utf-8", "gbk", "gb18030"):
        text = _try_decode(data, encoding)
        if text is not None:
            return _refuse_binary(text, encoding), encoding
    raise RecordsRejected(
        "the file is neither UTF-8 nor GBK/GB18030 text", reason="encoding"
    )


def _try_decode(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def _refuse_binary(text: str, encoding: str) -> str:
    bad = _CONTROL.search(text)
    if bad is None and encoding in ("gbk", "gb18030"):
        bad = _PRIVATE_USE.search(text)
    if bad is None:
        return text
    line = text.count("\n", 0, bad.start()) + 1
    raise RecordsRejected(
        f"this does not look like text: character U+{ord(bad.group()):04X} on "
        f"line {line} (read as {encoding})",
        reason="binary",
        line=line,
    )


def parse_csv(
    data: bytes,
    *,
    mapping: Mapping[str, str] | None = None,
    delimiter: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ParsedBatch:
    """Read a CSV export with a header row into source records.

    Args:
        data: the raw bytes, in any encoding :func:`decode_text` accepts.
        mapping: source header (e.g. ``路段编号``) to dataset field name; headers not
            in it are kept as they are.
        delimiter: force a delimiter; by default one of ``,`` ``;`` tab is detected
            (falling back to ``,``).
        max_bytes: refuse larger inputs outright.

    Values are stripped, empty cells become ``None`` and rows without any value are
    skipped. A row with the wrong number of cells, or that the CSV reader cannot
    parse, becomes a problem with its line number. An empty or header-only file
    gives zero records.

    Raises:
        RecordsRejected: too large, not text, or an ambiguous (duplicate) header.
        ValueError: ``delimiter`` is not a single usable character.
    """
    refuse_oversized(data, max_bytes)
    text, encoding = decode_text(data)
    lines = io.StringIO(text, newline="").readlines()
    if delimiter is None:
        delimiter = _sniff_delimiter(lines)
    elif len(delimiter) != 1 or delimiter in '"\r\n':
        raise ValueError(f"unusable CSV delimiter {delimiter!r}")
    records: list[SourceRecord] = []
    problems: list[RecordProblem] = []
    rows = _rows(csv.reader(lines, delimiter=delimiter), lines)
    names = _read_header(rows, mapping or {})
    if names is not None:
        _read_body(rows, names=names, lines=lines, records=records, problems=problems)
    return ParsedBatch(
        format="csv",
        encoding=encoding,
        records=tuple(records),
        problems=tuple(problems),
        digest=digest_of(data),
    )


def _sniff_delimiter(lines: list[str]) -> str:
    sample = "".join(lines[:_SNIFF_LINES])[:_SNIFF_CHARS]
    try:
        return csv.Sniffer().sniff(sample, delimiters=_SNIFF_DELIMITERS).delimiter
    except csv.Error:
        header = lines[0] if lines else ""
        counts = {char: header.count(char) for char in _SNIFF_DELIMITERS}
        best = max(counts, key=lambda char: counts[char])
        return best if counts[best] else ","


class _CsvReader(Protocol):
    """What ``csv.reader`` returns: rows, and how many source lines it consumed."""

    @property
    def line_num(self) -> int:
        """Return the number of source lines read so far."""
        ...

    def __next__(self) -> list[str]:
        """Return the next row."""
        ...


# (first line, last line, cells or None, CSV error message or None); 1-based lines
_Row = tuple[int, int, list[str] | None, str | None]


def _rows(reader: _CsvReader, lines: list[str]) -> Iterator[_Row]:
    """Yield each record with the physical lines it spans (quoted newlines count)."""
    consumed = 0
    while True:
        try:
            cells: list[str] | None = next(reader)
            error = None
        except StopIteration:
            return
        except csv.Error as problem:
            cells, error = None, str(problem)
        line_num = reader.line_num
        if line_num == consumed:  # the reader made no progress: stop, keep the rest
            line_num = len(lines)
        yield consumed + 1, line_num, cells, error
        consumed = line_num


def _read_header(rows: Iterator[_Row], mapping: Mapping[str, str]) -> list[str] | None:
    for line, _, cells, error in rows:
        if error is not None:
            raise RecordsRejected(
                f"the header row cannot be read: {error}", reason="header", line=line
            )
        if cells is None or not any(cell.strip() for cell in cells):
            continue
        names = []
        for position, cell in enumerate(cells, start=1):
            name = cell.strip().lstrip("\ufeff") or f"column_{position}"
            names.append(mapping.get(name, name))
        repeated = sorted(name for name, count in Counter(names).items() if count > 1)
        if repeated:
            raise RecordsRejected(
                f"the header names field(s) {', '.join(repeated)} more than once",
                reason="header",
                line=line,
            )
        return names
    return None


def _read_body(
    rows: Iterator[_Row],
    *,
    names: list[str],
    lines: list[str],
    records: list[SourceRecord],
    problems: list[RecordProblem],
) -> None:
    width = len(names)
    for line, last, cells, error in rows:
        locator = f"row {line}"
        if cells is None:
            problems.append(
                RecordProblem(
                    locator=locator,
                    line=line,
                    reason="csv_syntax",
                    message=f"{locator}: {error}",
                    raw="".join(lines[line - 1 : last]),
                )
            )
            continue
        stripped = [cell.strip() for cell in cells]
        if not any(stripped):
            continue
        if len(stripped) != width:
            problems.append(
                RecordProblem(
                    locator=locator,
                    line=line,
                    reason="column_count",
                    message=f"{locator}: {len(stripped)} values, the header has "
                    f"{width} columns",
                    raw="".join(lines[line - 1 : last]),
                )
            )
            continue
        values: dict[str, object] = {
            name: cell or None for name, cell in zip(names, stripped, strict=True)
        }
        records.append(SourceRecord(locator=locator, line=line, values=values))


__all__ = ["decode_text", "parse_csv"]
