"""Per-record validation: every field type and rule, all reasons at once, robustness."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from muster.core.errors import ValidationFailed
from muster.ingest.domain.validation import (
    FieldRule,
    Reason,
    ValidationOutcome,
    compile_rules,
    completeness,
    geometry_problem,
    validate_record,
)
from muster.ingest.domain.validation import _build as build_validator

SHANGHAI = ZoneInfo("Asia/Shanghai")
POINT: dict[str, object] = {"type": "Point", "coordinates": [112.97, 28.19]}


def check(rule: FieldRule, value: object, **options: object) -> ValidationOutcome:
    """Validate a one-field record holding ``value``."""
    return validate_record([rule], {rule.name: value}, **options)  # type: ignore[arg-type]


def rules_of(outcome: ValidationOutcome) -> list[str]:
    """List the rule codes of an outcome's reasons, in order."""
    return [reason.rule for reason in outcome.reasons]


class TestFieldTypes:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [("12", 12), (" 7 ", 7), ("-3", -3), ("12.0", 12), (5, 5), (8.0, 8)],
    )
    def test_integer_accepts_whole_numbers(self, raw: object, expected: int) -> None:
        """Whole numbers are read from text, ints and integral floats."""
        rule = FieldRule(name="beds", type="integer")

        outcome = check(rule, raw)

        assert outcome.is_valid
        assert outcome.values == {"beds": expected}
        assert type(outcome.values["beds"]) is int

    @pytest.mark.parametrize(
        "raw", ["12.5", "1_000", "twelve", True, 2.5, [1], "9" * 40]
    )
    def test_integer_refuses_other_values(self, raw: object) -> None:
        """Fractions, digit groups, words, booleans and lists are not integers."""
        rule = FieldRule(name="beds", type="integer")

        outcome = check(rule, raw)

        assert rules_of(outcome) == ["type"]
        assert outcome.values == {}

    def test_integer_beyond_64_bits_is_refused(self) -> None:
        """An integer a database column cannot hold is refused as a format problem."""
        rule = FieldRule(name="count", type="integer")

        outcome = check(rule, 2**70)

        assert rules_of(outcome) == ["format"]

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [("12.5", 12.5), ("-0.25", -0.25), ("1e3", 1000.0), (3, 3.0),
         (Decimal("2.5"), 2.5), (1.5, 1.5), ("１２.５", 12.5)],
    )  # fmt: skip
    def test_number_reads_decimal_text_and_numbers(
        self, raw: object, expected: float
    ) -> None:
        """Decimal text (also full-width digits) and numbers become floats."""
        rule = FieldRule(name="rain", type="number", unit="mm")

        outcome = check(rule, raw)

        assert outcome.values == {"rain": expected}

    @pytest.mark.parametrize(
        ("raw", "rule_code"),
        [("12.5mm", "type"), ("1_000", "type"), ("nan", "format"),
         ("inf", "format"), ("1e400", "format"), (float("nan"), "format"),
         (False, "type"), (10**400, "format")],
    )  # fmt: skip
    def test_number_refuses_non_numbers_and_non_finite(
        self, raw: object, rule_code: str
    ) -> None:
        """Units in the text, digit groups, NaN and infinities are refused."""
        rule = FieldRule(name="rain", type="number")

        outcome = check(rule, raw)

        assert rules_of(outcome) == [rule_code]

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [("true", True), ("FALSE", False), ("1", True), ("0", False),
         ("是", True), ("否", False), (True, True), (0, False)],
    )  # fmt: skip
    def test_boolean_reads_english_digits_and_chinese(
        self, raw: object, expected: bool
    ) -> None:
        """true/false, 1/0 and 是/否 are booleans."""
        rule = FieldRule(name="open", type="boolean")

        outcome = check(rule, raw)

        assert outcome.values == {"open": expected}

    def test_boolean_refuses_other_words(self) -> None:
        """A word outside the known pairs is refused rather than guessed."""
        rule = FieldRule(name="open", type="boolean")

        outcome = check(rule, "maybe")

        assert rules_of(outcome) == ["type"]

    def test_datetime_with_offset_becomes_utc(self) -> None:
        """An ISO-8601 time with an offset is converted to aware UTC."""
        rule = FieldRule(name="start", type="datetime")

        outcome = check(rule, "2024-07-01T08:00:00+08:00")

        assert outcome.values == {"start": datetime(2024, 7, 1, 0, 0, tzinfo=UTC)}

    def test_datetime_with_z_suffix_is_utc(self) -> None:
        """A trailing Z means UTC."""
        rule = FieldRule(name="start", type="datetime")

        outcome = check(rule, "2024-07-01T00:00:00Z")

        assert outcome.values["start"] == datetime(2024, 7, 1, tzinfo=UTC)

    def test_naive_datetime_is_refused_without_default_timezone(self) -> None:
        """A time without offset is ambiguous and refused by default."""
        rule = FieldRule(name="start", type="datetime")

        outcome = check(rule, "2024-07-01 08:00")

        assert rules_of(outcome) == ["format"]
        assert "UTC offset" in outcome.reasons[0].message

    def test_naive_datetime_takes_the_default_timezone(self) -> None:
        """With a default timezone, a naive time is read in it and made UTC."""
        rule = FieldRule(name="start", type="datetime")

        outcome = check(rule, "2024-07-01 08:00", default_timezone=SHANGHAI)

        assert outcome.values == {"start": datetime(2024, 7, 1, 0, 0, tzinfo=UTC)}

    def test_datetime_objects_are_accepted(self) -> None:
        """An aware datetime object passes and is normalised to UTC."""
        rule = FieldRule(name="start", type="datetime")
        moment = datetime(2024, 7, 1, 8, 0, tzinfo=SHANGHAI)

        outcome = check(rule, moment)

        assert outcome.values == {"start": moment.astimezone(UTC)}

    @pytest.mark.parametrize("raw", ["2024/07/01 08:00", "yesterday", 1719792000])
    def test_datetime_refuses_non_iso_values(self, raw: object) -> None:
        """Slashed dates, words and epoch numbers are not ISO-8601 times."""
        rule = FieldRule(name="start", type="datetime")

        outcome = check(rule, raw)

        assert rules_of(outcome) == ["type"]

    def test_date_reads_iso_dates_only(self) -> None:
        """A date field takes ISO dates; a datetime is refused."""
        rule = FieldRule(name="day", type="date")

        good = check(rule, "2024-07-01")
        bad = check(rule, datetime(2024, 7, 1, tzinfo=UTC))

        assert good.values == {"day": date(2024, 7, 1)}
        assert rules_of(bad) == ["type"]

    @pytest.mark.parametrize("raw", ["28.19,112.97", "28.19, 112.97", "28.19，112.97"])
    def test_point_reads_lat_lon_text(self, raw: str) -> None:
        """Text "lat,lon" (also with a full-width comma) becomes (lat, lon)."""
        rule = FieldRule(name="where", type="point")

        outcome = check(rule, raw)

        assert outcome.values == {"where": (28.19, 112.97)}

    def test_point_reads_a_geojson_point_in_lon_lat_order(self) -> None:
        """A GeoJSON Point (longitude first) becomes (lat, lon)."""
        rule = FieldRule(name="where", type="point")

        outcome = check(rule, POINT)

        assert outcome.values == {"where": (28.19, 112.97)}

    def test_point_falls_back_to_the_record_geometry(self) -> None:
        """An absent point field takes the feature's Point geometry."""
        rule = FieldRule(name="where", type="point", required=True)

        outcome = validate_record([rule], {}, geometry=POINT)

        assert outcome.is_valid
        assert outcome.values == {"where": (28.19, 112.97)}

    def test_point_off_the_globe_hints_at_swapped_order(self) -> None:
        """Longitude first in "lat,lon" text is refused with a hint."""
        rule = FieldRule(name="where", type="point")

        outcome = check(rule, "112.97,28.19")

        assert rules_of(outcome) == ["format"]
        assert "swapped" in outcome.reasons[0].message

    @pytest.mark.parametrize("raw", ["28.19", "a,b", "1,2,3", [28.19, 112.97]])
    def test_point_refuses_other_shapes(self, raw: object) -> None:
        """One number, words, three numbers or a bare list are not points."""
        rule = FieldRule(name="where", type="point")

        outcome = check(rule, raw)

        assert rules_of(outcome) == ["type"]

    def test_geometry_accepts_a_valid_polygon(self) -> None:
        """A closed polygon ring is a valid geometry value."""
        rule = FieldRule(name="area", type="geometry")
        polygon = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}

        outcome = check(rule, polygon)

        assert outcome.values == {"area": polygon}

    def test_geometry_refuses_an_open_ring(self) -> None:
        """An unclosed ring is a format problem naming the ring."""
        rule = FieldRule(name="area", type="geometry")
        polygon = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}

        outcome = check(rule, polygon)

        assert rules_of(outcome) == ["format"]
        assert "coordinates[0]" in outcome.reasons[0].message

    def test_string_accepts_text_and_integer_codes(self) -> None:
        """Text passes unchanged; an integer code sent as JSON becomes text."""
        rule = FieldRule(name="code", type="string")

        assert check(rule, "R-12").values == {"code": "R-12"}
        assert check(rule, 1203).values == {"code": "1203"}
        assert rules_of(check(rule, {"a": 1})) == ["type"]


class TestRules:
    @pytest.mark.parametrize("raw", [None, "", "   ", "\u3000"])
    def test_required_field_needs_a_value(self, raw: object) -> None:
        """None, empty and blank text (also ideographic space) count as absent."""
        rule = FieldRule(name="name", type="string", required=True)

        outcome = check(rule, raw)

        assert rules_of(outcome) == ["required"]

    def test_optional_absent_field_is_none(self) -> None:
        """An absent optional field is present in the values as None."""
        rule = FieldRule(name="note", type="string")

        outcome = validate_record([rule], {})

        assert outcome.is_valid
        assert outcome.values == {"note": None}

    def test_enum_refuses_a_value_outside_its_choices(self) -> None:
        """An enum value must be one of its choices."""
        rule = FieldRule(name="status", type="enum", choices=("封闭", "通行"))

        assert check(rule, "封闭").values == {"status": "封闭"}
        assert rules_of(check(rule, "半封闭")) == ["choice"]

    def test_minimum_and_maximum_bound_numbers(self) -> None:
        """Numbers below the minimum or above the maximum are refused."""
        rule = FieldRule(name="level", type="number", minimum=0, maximum=50)

        assert rules_of(check(rule, "-0.5")) == ["minimum"]
        assert rules_of(check(rule, "50.5")) == ["maximum"]
        assert check(rule, "50").is_valid

    def test_integer_bounds_apply_too(self) -> None:
        """Integer fields honour minimum and maximum."""
        rule = FieldRule(name="beds", type="integer", minimum=1, maximum=5000)

        assert rules_of(check(rule, "0")) == ["minimum"]
        assert rules_of(check(rule, 5001)) == ["maximum"]

    def test_max_length_limits_text(self) -> None:
        """Text longer than max_length is refused."""
        rule = FieldRule(name="code", type="string", max_length=4)

        assert rules_of(check(rule, "R-123")) == ["max_length"]

    def test_unknown_fields_are_refused_only_on_request(self) -> None:
        """Unknown fields pass by default; refused with allow_unknown=False."""
        rules = [FieldRule(name="code", type="string")]
        values = {"code": "R1", "extra": "x", "_id": 7}

        allowed = validate_record(rules, values)
        refused = validate_record(rules, values, allow_unknown=False)

        assert allowed.is_valid
        assert allowed.values == {"code": "R1"}
        assert [(r.field, r.rule) for r in refused.reasons] == [
            ("extra", "unknown_field")
        ]

    def test_all_reasons_are_reported_at_once(self) -> None:
        """Every failing field gets its reason, not just the first."""
        rules = [
            FieldRule(name="segment_id", type="string", required=True),
            FieldRule(name="status", type="enum", choices=("closed", "open")),
            FieldRule(name="start", type="datetime", required=True),
            FieldRule(name="lanes", type="integer", minimum=1),
            FieldRule(name="open_now", type="boolean"),
        ]
        values = {"status": "shut", "start": "soon", "lanes": "0", "open_now": "也许"}

        outcome = validate_record(rules, values)

        assert [(r.field, r.rule) for r in outcome.reasons] == [
            ("segment_id", "required"),
            ("status", "choice"),
            ("start", "type"),
            ("lanes", "minimum"),
            ("open_now", "type"),
        ]
        assert outcome.reasons[1] == Reason(
            field="status",
            rule="choice",
            message="status: 'shut' is not one of: closed, open",
            value="'shut'",
        )

    def test_reason_value_is_a_short_repr(self) -> None:
        """A huge offending value is shortened in the reason."""
        rule = FieldRule(name="rain", type="number")

        outcome = check(rule, "x" * 10_000)

        assert len(outcome.reasons[0].value) < 80


class TestCompleteness:
    def test_share_of_required_fields_present(self) -> None:
        """Completeness counts required fields that have any value."""
        rules = [
            FieldRule(name="a", type="string", required=True),
            FieldRule(name="b", type="integer", required=True),
            FieldRule(name="c", type="string"),
        ]

        assert completeness(rules, {"a": "x", "b": "not a number"}) == 1.0
        assert completeness(rules, {"a": "x", "c": "y"}) == 0.5
        assert validate_record(rules, {"b": " "}).completeness == 0.0

    def test_no_required_fields_is_complete(self) -> None:
        """A schema without required fields is always complete."""
        assert completeness([FieldRule(name="c", type="string")], {}) == 1.0

    def test_geometry_counts_for_a_required_point(self) -> None:
        """A feature geometry fills a required point field."""
        rules = [FieldRule(name="where", type="point", required=True)]

        assert completeness(rules, {}, geometry=POINT) == 1.0


class TestCompileRules:
    def test_compiled_validator_is_reused(self) -> None:
        """Compiling the same rules twice gives the same validator."""
        rules = [FieldRule(name="a", type="string")]

        assert compile_rules(rules) is compile_rules(list(rules))

    def test_duplicate_field_names_are_refused(self) -> None:
        """Two rules for one field are a schema error."""
        rules = [FieldRule(name="a", type="string"), FieldRule(name="a", type="date")]

        with pytest.raises(ValidationFailed, match="defined twice"):
            compile_rules(rules)

    @pytest.mark.parametrize(
        "options",
        [{"type": "colour"}, {"type": "enum"}, {"type": "number", "minimum": 5.0,
         "maximum": 1.0}, {"type": "number", "maximum": float("inf")},
         {"type": "string", "max_length": 0}],
    )  # fmt: skip
    def test_inconsistent_rules_are_refused(self, options: dict[str, object]) -> None:
        """Unknown types, choiceless enums and impossible bounds are refused."""
        with pytest.raises(ValidationFailed):
            FieldRule(name="x", **options)  # type: ignore[arg-type]


class TestGeometryProblem:
    @pytest.mark.parametrize(
        "geometry",
        [
            {"type": "Point", "coordinates": [112.9, 28.2, 50]},
            {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
            {"type": "MultiPoint", "coordinates": []},
            {
                "type": "MultiPolygon",
                "coordinates": [[[[0, 0], [1, 0], [0, 1], [0, 0]]]],
            },
            {"type": "GeometryCollection", "geometries": [POINT]},
        ],
    )
    def test_valid_geometries_pass(self, geometry: dict[str, object]) -> None:
        """Well-formed geometries of each type have no problem."""
        assert geometry_problem(geometry) is None

    @pytest.mark.parametrize(
        ("geometry", "expected"),
        [
            ({"type": "Circle", "coordinates": [0, 0]}, "not a geometry"),
            ({"type": "Point", "coordinates": [12958000.0, 3263000.0]}, "projected"),
            ({"type": "Point", "coordinates": [0, 95]}, "off the globe"),
            ({"type": "Point", "coordinates": ["0", "1"]}, "finite numbers"),
            ({"type": "Point", "coordinates": [True, 1]}, "finite numbers"),
            ({"type": "LineString", "coordinates": [[0, 0]]}, "at least 2"),
            (
                {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]},
                "at least 4",
            ),
            ({"type": "Polygon", "coordinates": []}, "at least one ring"),
            ({"type": "MultiLineString", "coordinates": [0, 1]}, "expected an array"),
            ({"type": "GeometryCollection"}, "geometries must be an array"),
            ([1, 2], "not a JSON object"),
        ],
    )
    def test_broken_geometries_are_explained(
        self, geometry: object, expected: str
    ) -> None:
        """Each kind of breakage gets a message naming it."""
        problem = geometry_problem(geometry)

        assert problem is not None
        assert expected in problem

    def test_deeply_nested_collections_are_refused(self) -> None:
        """Collections nested beyond a small depth are refused, not recursed into."""
        geometry: dict[str, object] = POINT
        for _ in range(10):
            geometry = {"type": "GeometryCollection", "geometries": [geometry]}

        assert "nested too deep" in (geometry_problem(geometry) or "")


JSON_SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
    | st.decimals() | st.dates() | st.datetimes(timezones=st.none() | st.timezones())
    | st.binary(max_size=10)
)  # fmt: skip
ANY_VALUE = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    | st.fixed_dictionaries({"type": st.sampled_from(["Point", "Polygon"])}, optional={
        "coordinates": inner}),
    max_leaves=12,
)  # fmt: skip
ALL_TYPES = [
    FieldRule(name="s", type="string", required=True, max_length=5),
    FieldRule(name="i", type="integer", minimum=0, maximum=100),
    FieldRule(name="n", type="number", minimum=-1.5),
    FieldRule(name="b", type="boolean"),
    FieldRule(name="t", type="datetime"),
    FieldRule(name="d", type="date"),
    FieldRule(name="p", type="point", required=True),
    FieldRule(name="g", type="geometry"),
    FieldRule(name="e", type="enum", choices=("a", "b")),
]
NAMES = st.sampled_from([rule.name for rule in ALL_TYPES] + ["x", "_id"])


class TestNeverRaises:
    @settings(
        max_examples=150, deadline=1000, suppress_health_check=[HealthCheck.too_slow]
    )
    @given(
        values=st.dictionaries(NAMES, ANY_VALUE, max_size=10),
        geometry=st.none()
        | st.dictionaries(st.text(max_size=5), ANY_VALUE, max_size=3),
        allow_unknown=st.booleans(),
    )
    def test_validate_record_returns_an_outcome_for_any_values(
        self,
        values: dict[str, object],
        geometry: dict[str, object] | None,
        allow_unknown: bool,
    ) -> None:
        """Arbitrary values give an outcome with reasons, never an exception."""
        outcome = validate_record(
            ALL_TYPES, values, geometry=geometry, allow_unknown=allow_unknown
        )

        assert 0.0 <= outcome.completeness <= 1.0
        assert all(reason.field not in outcome.values for reason in outcome.reasons)

    @settings(max_examples=100, deadline=1000)
    @given(geometry=ANY_VALUE)
    def test_geometry_problem_never_raises(self, geometry: object) -> None:
        """Any value gets an explanation or None, never an exception."""
        problem = geometry_problem(geometry)

        assert problem is None or isinstance(problem, str)


class TestUnrolledFastPath:
    @settings(
        max_examples=300, deadline=1000, suppress_health_check=[HealthCheck.too_slow]
    )
    @given(
        values=st.dictionaries(NAMES, ANY_VALUE | st.sampled_from(
            ["ab", "7", "2.5", "true", "2024-07-01T08:00:00Z", "2024-07-01",
             "28.19,112.97", "a"]), max_size=10),
        allow_unknown=st.booleans(),
    )  # fmt: skip
    def test_the_unrolled_validator_agrees_with_the_field_loop(
        self, values: dict[str, object], allow_unknown: bool
    ) -> None:
        """Given any record, when both validators check it, the outcomes are equal."""
        fast = build_validator(tuple(ALL_TYPES), allow_unknown, SHANGHAI)
        general = build_validator(tuple(ALL_TYPES), allow_unknown, SHANGHAI, False)

        assert fast(values) == general(values)

    def test_a_complete_valid_record_takes_the_fast_path(self) -> None:
        """Given every field valid, the unrolled code returns the typed values."""
        rules = (ALL_TYPES[0], ALL_TYPES[1], ALL_TYPES[6])
        fast = build_validator(rules, False, None)

        outcome = fast({"s": "ab", "i": "7", "p": "28.19,112.97"})

        assert outcome == ({"s": "ab", "i": 7, "p": (28.19, 112.97)}, (), 1.0)
        assert fast.__code__.co_filename == "<string>"
