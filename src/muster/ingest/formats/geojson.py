"""GeoJSON (RFC 7946) features read into source records, geometry checked per feature.

Imported by the ingest handlers and the CLI; stdlib plus the part's pure rules.
Exports from desktop GIS in China are sometimes GBK, so the bytes go through the same
:func:`~muster.ingest.formats.tabular.decode_text` as CSV files do.
"""

from __future__ import annotations

import json

from muster.ingest.domain.geometry import GEOMETRY_TYPES, geometry_problem
from muster.ingest.formats.records import (
    DEFAULT_MAX_BYTES,
    ParsedBatch,
    ProblemReason,
    RecordProblem,
    RecordsRejected,
    SourceRecord,
    describe_kind,
    digest_of,
    loads_strict,
    refuse_oversized,
)
from muster.ingest.formats.tabular import decode_text


def parse_geojson(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ParsedBatch:
    """Read a FeatureCollection (or one Feature) into source records.

    Each feature's ``properties`` become the values, its ``id`` (if any) the value
    ``_id``, and its geometry is kept after checking. A feature that is not a Feature,
    has unusable properties or a broken geometry becomes a problem
    (``features[3].geometry: …``); a document that is not GeoJSON is refused.

    Raises:
        RecordsRejected: too large, not text, not JSON, or not a Feature(Collection).
    """
    refuse_oversized(data, max_bytes)
    text, encoding = decode_text(data)
    document = loads_strict(text)
    records: list[SourceRecord] = []
    problems: list[RecordProblem] = []
    for locator, feature in _features(document):
        outcome = _read_feature(locator, feature)
        if isinstance(outcome, SourceRecord):
            records.append(outcome)
        else:
            problems.append(outcome)
    return ParsedBatch(
        format="geojson",
        encoding=encoding,
        records=tuple(records),
        problems=tuple(problems),
        digest=digest_of(data),
    )


def _features(document: object) -> list[tuple[str, object]]:
    kind = document.get("type") if isinstance(document, dict) else None
    if isinstance(document, dict) and kind == "FeatureCollection":
        features = document.get("features")
        if not isinstance(features, list):
            raise RecordsRejected(
                "a FeatureCollection needs a 'features' array", reason="structure"
            )
        return [(f"features[{index}]", item) for index, item in enumerate(features)]
    if kind == "Feature":
        return [("feature", document)]
    if isinstance(kind, str) and kind in GEOMETRY_TYPES:
        raise RecordsRejected(
            f"a bare {kind} has no properties; send a Feature or FeatureCollection",
            reason="structure",
        )
    what = f"an object of type {kind!r}" if isinstance(document, dict) else None
    raise RecordsRejected(
        "not GeoJSON: expected a FeatureCollection or a Feature, got "
        + (what or describe_kind(document)),
        reason="structure",
    )


def _read_feature(locator: str, feature: object) -> SourceRecord | RecordProblem:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        return _problem(locator, "not_a_feature", "not a GeoJSON Feature", feature)
    properties = feature.get("properties")
    if properties is not None and not isinstance(properties, dict):
        return _problem(
            locator,
            "properties",
            f"properties must be an object or null, not {describe_kind(properties)}",
            feature,
        )
    values: dict[str, object] = dict(properties or {})
    if "id" in feature:
        identifier = feature["id"]
        if not isinstance(identifier, str | int | float) or isinstance(
            identifier, bool
        ):
            return _problem(locator, "id", "id must be a string or a number", feature)
        if "_id" in values:
            return _problem(
                locator, "id", "the feature has an id and an '_id' property", feature
            )
        values["_id"] = identifier
    geometry = feature.get("geometry")
    if geometry is not None:
        problem = geometry_problem(geometry)
        if problem is not None:
            return _problem(locator, "geometry", f"geometry: {problem}", feature)
    kept = geometry if isinstance(geometry, dict) else None  # checked just above
    return SourceRecord(locator=locator, line=None, values=values, geometry=kept)


def _problem(
    locator: str, reason: ProblemReason, message: str, raw: object
) -> RecordProblem:
    separator = "." if message.startswith("geometry:") else ": "
    return RecordProblem(
        locator=locator,
        line=None,
        reason=reason,
        message=f"{locator}{separator}{message}",
        raw=json.dumps(raw, ensure_ascii=False),
    )


__all__ = ["parse_geojson"]
