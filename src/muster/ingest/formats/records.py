"""What every file parser returns (records, unreadable rows, digest) and JSON records.

Imported by the other format modules and by the ingest handlers; stdlib only.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from typing import Literal, NamedTuple

from muster.core.errors import ValidationFailed

DEFAULT_MAX_BYTES = 50_000_000
"""Largest input a parser accepts; a bigger file is refused before it is decoded."""

BatchFormat = Literal["csv", "geojson", "json"]

RejectionReason = Literal[
    "too_large", "encoding", "binary", "json", "structure", "header"
]
"""Stable codes for refusing a whole input; the edges translate them."""

ProblemReason = Literal[
    "column_count", "csv_syntax", "not_an_object", "not_a_feature", "properties", "id",
    "geometry",
]  # fmt: skip
"""Stable codes for a part of an input that is not a readable record."""


class RecordsRejected(ValidationFailed):
    """A whole input could not be read as the declared format; nothing was taken."""

    code = "records_rejected"

    def __init__(
        self, message: str, *, reason: RejectionReason, line: int | None = None
    ) -> None:
        super().__init__(message, reason=reason, line=line)
        self.reason: RejectionReason = reason
        self.line = line


class SourceRecord(NamedTuple):
    """One record as read from the source, before any dataset rule is applied.

    A named tuple rather than a frozen dataclass: batches create one per row, and a
    tuple is built about five times faster (measured by ``bench/ingest.py``).
    """

    locator: str
    """Where it came from: ``row 12`` (CSV line), ``features[3]``, ``[7]``."""
    line: int | None
    """1-based physical line where the record starts, when the format has lines."""
    values: dict[str, object]
    """Raw values by field name (after header mapping); ``None`` for empty cells."""
    geometry: dict[str, object] | None = None
    """The GeoJSON geometry object, when the source had one."""


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordProblem:
    """A part of the input that could not be read as a record; it goes to quarantine."""

    locator: str
    line: int | None
    reason: ProblemReason
    message: str
    raw: str
    """The source text of the part, so a steward can fix and resubmit it."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ParsedBatch:
    """The result of reading one input: readable records plus unreadable parts."""

    format: BatchFormat
    encoding: str
    records: tuple[SourceRecord, ...]
    problems: tuple[RecordProblem, ...]
    digest: str
    """SHA-256 (hex) of the raw bytes, to recognise a re-delivered batch."""


def digest_of(data: bytes) -> str:
    """Return the SHA-256 hex digest used to recognise a re-delivered input."""
    return hashlib.sha256(data).hexdigest()


def refuse_oversized(data: bytes, max_bytes: int) -> None:
    """Refuse an input larger than ``max_bytes`` before spending time on it."""
    if len(data) > max_bytes:
        raise RecordsRejected(
            f"the input has {len(data)} bytes; the limit is {max_bytes}",
            reason="too_large",
        )


class _DuplicateKeyError(ValueError):
    """An object in the JSON text repeats a key (ambiguous: which one counts?)."""


def _unique_object(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKeyError(f"duplicate key {key!r} in an object")
            seen.add(key)
    return result


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def loads_strict(text: str) -> object:
    """Parse JSON text, refusing NaN/Infinity, duplicate keys and absurd nesting."""
    try:
        return json.loads(
            text, parse_constant=_refuse_constant, object_pairs_hook=_unique_object
        )
    except json.JSONDecodeError as error:
        raise RecordsRejected(
            f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}",
            reason="json",
            line=error.lineno,
        ) from None
    except RecursionError:
        raise RecordsRejected("JSON nesting is too deep", reason="json") from None
    except ValueError as error:  # duplicate key, constant, int longer than 4300 digits
        raise RecordsRejected(f"not valid JSON: {error}", reason="json") from None


_UTF8_BOM = b"\xef\xbb\xbf"


def decode_utf8(data: bytes) -> str:
    """Decode JSON bytes: UTF-8 (a leading BOM is tolerated), as RFC 8259 requires."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RecordsRejected(
            f"JSON must be UTF-8 (RFC 8259); byte {error.start} is not",
            reason="encoding",
        ) from None


def describe_kind(value: object) -> str:
    """Name the JSON kind of a parsed value for a message: "an array", "null"…"""
    names: dict[type, str] = {
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }
    return names.get(type(value), "an object")


def _raw_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def parse_json_records(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> ParsedBatch:
    """Read a JSON array of objects, or ``{"records": [...]}``, into source records.

    An element that is not an object becomes a problem; any other document shape is
    refused with :class:`RecordsRejected`.
    """
    refuse_oversized(data, max_bytes)
    document = loads_strict(decode_utf8(data))
    prefix = ""
    if isinstance(document, dict):
        if set(document) != {"records"} or not isinstance(document["records"], list):
            raise RecordsRejected(
                'expected a JSON array of objects or {"records": [...]}; got an '
                f"object with keys {sorted(document)[:5]}",
                reason="structure",
            )
        document, prefix = document["records"], "records"
    if not isinstance(document, list):
        raise RecordsRejected(
            'expected a JSON array of objects or {"records": [...]}; got '
            + describe_kind(document),
            reason="structure",
        )
    # One comprehension per kind: this runs once per record of large batches.
    new_record = functools.partial(tuple.__new__, SourceRecord)
    records = [
        new_record((f"{prefix}[{index}]", None, item, None))
        for index, item in enumerate(document)
        if type(item) is dict
    ]
    problems = [
        _not_an_object(f"{prefix}[{index}]", item)
        for index, item in enumerate(document)
        if type(item) is not dict
    ]
    return ParsedBatch(
        format="json",
        encoding="utf-8-sig" if data.startswith(_UTF8_BOM) else "utf-8",
        records=tuple(records),
        problems=tuple(problems),
        digest=digest_of(data),
    )


def _not_an_object(locator: str, item: object) -> RecordProblem:
    return RecordProblem(
        locator=locator,
        line=None,
        reason="not_an_object",
        message=f"{locator}: expected an object, got {describe_kind(item)}",
        raw=_raw_json(item),
    )


__all__ = [
    "DEFAULT_MAX_BYTES",
    "BatchFormat",
    "ParsedBatch",
    "ProblemReason",
    "RecordProblem",
    "RecordsRejected",
    "RejectionReason",
    "SourceRecord",
    "decode_utf8",
    "describe_kind",
    "digest_of",
    "loads_strict",
    "parse_json_records",
    "refuse_oversized",
]
