"""GeoJSON feature collections and JSON record arrays: records, problems, refusals."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from muster.ingest.formats.geojson import parse_geojson
from muster.ingest.formats.records import (
    ParsedBatch,
    RecordsRejected,
    parse_json_records,
)


def point(lon: float, lat: float) -> dict[str, object]:
    """Build a GeoJSON Point (longitude first)."""
    return {"type": "Point", "coordinates": [lon, lat]}


def feature(
    geometry: object, feature_id: object = None, **properties: object
) -> dict[str, object]:
    """Build a GeoJSON Feature with the given properties."""
    item: dict[str, object] = {
        "type": "Feature",
        "geometry": geometry,
        "properties": properties,
    }
    if feature_id is not None:
        item["id"] = feature_id
    return item


def collection(*features: object) -> bytes:
    """Encode a FeatureCollection as UTF-8 JSON."""
    document = {"type": "FeatureCollection", "features": list(features)}
    return json.dumps(document, ensure_ascii=False).encode()


HOSPITALS = collection(
    feature(point(112.9823, 28.1941), "H-001", 医院名称="湘雅医院", 床位数=3500),
    feature(point(112.9710, 28.2033), "H-002", 医院名称="省人民医院", 床位数=2800),
    feature(point(113.0111, 28.2409), 7, 医院名称="市第一医院", 床位数=None),
)


class TestParseGeojson:
    def test_hospital_list_becomes_records(self) -> None:
        """Each feature gives properties as values, its id as _id, its geometry."""
        batch = parse_geojson(HOSPITALS)

        assert (batch.format, batch.encoding, batch.problems) == (
            "geojson",
            "utf-8",
            (),
        )
        assert [record.locator for record in batch.records] == [
            "features[0]",
            "features[1]",
            "features[2]",
        ]
        assert batch.records[0].values == {
            "医院名称": "湘雅医院",
            "床位数": 3500,
            "_id": "H-001",
        }
        assert batch.records[0].geometry == point(112.9823, 28.1941)
        assert batch.records[2].values["_id"] == 7
        assert batch.records[0].line is None

    def test_a_single_feature_is_one_record(self) -> None:
        """A bare Feature document is read as one record."""
        data = json.dumps(feature(point(1, 2), name="x")).encode()

        batch = parse_geojson(data)

        assert [(r.locator, r.values) for r in batch.records] == [
            ("feature", {"name": "x"})
        ]

    def test_null_geometry_and_null_properties_are_allowed(self) -> None:
        """RFC 7946 allows unlocated features and null properties."""
        data = collection({"type": "Feature", "geometry": None, "properties": None})

        batch = parse_geojson(data)

        assert (batch.records[0].values, batch.records[0].geometry) == ({}, None)

    def test_bad_geometry_is_a_problem_and_others_survive(self) -> None:
        """A broken feature becomes a located problem; the rest are still read."""
        data = collection(
            feature(point(112.98, 28.19), 医院名称="好"),
            feature(point(12_958_000.0, 3_263_000.0), 医院名称="投影坐标"),
            feature({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]]]}),
            feature(point(113.0, 28.2), 医院名称="也好"),
        )

        batch = parse_geojson(data)

        assert [record.locator for record in batch.records] == [
            "features[0]",
            "features[3]",
        ]
        assert [(p.locator, p.reason) for p in batch.problems] == [
            ("features[1]", "geometry"),
            ("features[2]", "geometry"),
        ]
        assert batch.problems[0].message.startswith(
            "features[1].geometry: coordinates: longitude 1.2958e+07"
        )
        assert json.loads(batch.problems[0].raw)["properties"] == {
            "医院名称": "投影坐标"
        }

    @pytest.mark.parametrize(
        ("item", "reason"),
        [
            ({"type": "Point", "coordinates": [0, 0]}, "not_a_feature"),
            ("text", "not_a_feature"),
            ({"type": "Feature", "geometry": None, "properties": [1]}, "properties"),
            ({"type": "Feature", "geometry": None, "id": [1]}, "id"),
            ({"type": "Feature", "geometry": None, "id": 1, "properties": {"_id": 2}},
             "id"),
        ],
    )  # fmt: skip
    def test_unusable_features_are_problems(self, item: object, reason: str) -> None:
        """Non-features, odd properties and conflicting ids become problems."""
        batch = parse_geojson(collection(item))

        assert batch.records == ()
        assert [p.reason for p in batch.problems] == [reason]

    def test_gbk_geojson_from_desktop_gis_is_read(self) -> None:
        """A GBK-encoded export is decoded like a CSV file would be."""
        data = HOSPITALS.decode().encode("gbk")

        batch = parse_geojson(data)

        assert batch.encoding == "gbk"
        assert batch.records[1].values["医院名称"] == "省人民医院"

    @pytest.mark.parametrize(
        ("data", "expected"),
        [
            (b"[1, 2]", "got an array"),
            (b'{"type": "Topology"}', "type 'Topology'"),
            (b'{"type": "Point", "coordinates": [0, 0]}', "bare Point"),
            (b'{"type": "FeatureCollection"}', "'features' array"),
            (b"station,value\nS1,3\n", "not valid JSON"),
            (b'{"type": "Feature", "properties": {"a": NaN}}', "NaN"),
            (b'{"type": "Feature", "type": "Feature"}', "duplicate key"),
            (b"[" * 100_000 + b"]" * 100_000, "nesting"),
            (b"", "not valid JSON"),
        ],
    )
    def test_non_geojson_is_rejected(self, data: bytes, expected: str) -> None:
        """Other JSON, CSV, NaN, duplicate keys and deep nesting are refused."""
        with pytest.raises(RecordsRejected, match=expected):
            parse_geojson(data)

    def test_rejection_names_the_json_line(self) -> None:
        """A syntax error carries its line number."""
        with pytest.raises(RecordsRejected) as caught:
            parse_geojson(b'{\n"type": "FeatureCollection",\n"features": [,]}')

        assert (caught.value.reason, caught.value.line) == ("json", 3)

    def test_oversized_input_is_rejected(self) -> None:
        """Inputs above max_bytes are refused before parsing."""
        with pytest.raises(RecordsRejected, match="limit"):
            parse_geojson(HOSPITALS, max_bytes=100)


class TestParseJsonRecords:
    def test_array_of_objects(self) -> None:
        """Each object of a JSON array is a record located by its index."""
        data = '[{"站点": "S1", "雨量": 12.5}, {"站点": "S2", "雨量": null}]'.encode()

        batch = parse_json_records(data)

        assert (batch.format, batch.encoding) == ("json", "utf-8")
        assert [(r.locator, r.values) for r in batch.records] == [
            ("[0]", {"站点": "S1", "雨量": 12.5}),
            ("[1]", {"站点": "S2", "雨量": None}),
        ]

    def test_records_envelope(self) -> None:
        """{"records": [...]} is accepted and located as records[i]."""
        batch = parse_json_records(b'\xef\xbb\xbf{"records": [{"a": 1}]}')

        assert batch.encoding == "utf-8-sig"
        assert [r.locator for r in batch.records] == ["records[0]"]

    def test_non_object_elements_are_problems(self) -> None:
        """Elements that are not objects are kept as problems with their JSON."""
        batch = parse_json_records(b'[{"a": 1}, 5, "x", [1], null]')

        assert len(batch.records) == 1
        assert [(p.locator, p.raw) for p in batch.problems] == [
            ("[1]", "5"),
            ("[2]", '"x"'),
            ("[3]", "[1]"),
            ("[4]", "null"),
        ]
        assert batch.problems[0].message == "[1]: expected an object, got a number"

    def test_empty_array_is_an_empty_batch(self) -> None:
        """No records is not an error."""
        assert parse_json_records(b"[]").records == ()

    @pytest.mark.parametrize(
        ("data", "expected"),
        [
            (b'{"a": 1}', "with keys"),
            (b'{"records": [], "dataset": "x"}', "with keys"),
            (b'{"records": {}}', "with keys"),
            (b'"text"', "got a string"),
            (b"42", "got a number"),
            (b'[{"a": Infinity}]', "Infinity"),
            (b'[{"a": 1, "a": 2}]', "duplicate key 'a'"),
            ("[{}]".encode("utf-16"), "UTF-8"),
            (b"[1" + b"0" * 5000 + b"]", "not valid JSON"),
        ],
    )
    def test_other_documents_are_rejected(self, data: bytes, expected: str) -> None:
        """Other shapes, non-finite numbers, duplicate keys, non-UTF-8 are refused."""
        with pytest.raises(RecordsRejected, match=expected):
            parse_json_records(data)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(["type", "features", "geometry", "properties",
                                       "coordinates", "geometries", "id", "records"])
                      | st.text(max_size=5), inner, max_size=5)
    | st.fixed_dictionaries({"type": st.sampled_from(
        ["Feature", "FeatureCollection", "Point", "Polygon", "GeometryCollection"])},
        optional={"features": st.lists(inner, max_size=3), "geometry": inner,
                  "coordinates": inner, "geometries": inner, "properties": inner}),
    max_leaves=25,
)  # fmt: skip


def parse_or_rejection(
    parse: Callable[[bytes], ParsedBatch], data: bytes
) -> ParsedBatch | RecordsRejected:
    """Run a parser, returning its rejection instead of raising it."""
    try:
        return parse(data)
    except RecordsRejected as rejection:
        return rejection


class TestNeverCrashes:
    @settings(max_examples=150, deadline=2000)
    @given(data=st.binary(max_size=300))
    def test_random_bytes(self, data: bytes) -> None:
        """Random bytes give a batch or RecordsRejected from both parsers."""
        for parse in (parse_geojson, parse_json_records):
            outcome = parse_or_rejection(parse, data)

            assert isinstance(outcome, ParsedBatch | RecordsRejected)

    @settings(max_examples=150, deadline=2000)
    @given(document=JSON_VALUES)
    def test_random_json_documents(self, document: object) -> None:
        """GeoJSON-shaped random documents never crash; problems keep raw JSON."""
        data = json.dumps(document).encode()

        for parse in (parse_geojson, parse_json_records):
            outcome = parse_or_rejection(parse, data)

            if isinstance(outcome, ParsedBatch):
                for problem in outcome.problems:
                    assert problem.message.startswith(problem.locator)
                    json.loads(problem.raw)  # the quarantined text is valid JSON
