"""Masks applied to shared records before they leave Muster (pure)."""

from __future__ import annotations

import copy
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from muster.sharing.domain.masks import (
    MISSING_LABEL,
    Mask,
    MaskKind,
    aggregate_counts,
    compile_masker,
    least_restrictive,
    mask_geometry,
    mask_text,
    mask_value,
    parse_mask,
    restrictiveness,
)

NONE = Mask(MaskKind.NONE)
HIDE = Mask(MaskKind.HIDE)
NAME = Mask(MaskKind.NAME)
PHONE = Mask(MaskKind.PHONE)
ID_NUMBER = Mask(MaskKind.ID_NUMBER)
PARTIAL = Mask(MaskKind.PARTIAL)
GRID = Mask(MaskKind.GRID)
TEXT_MASKS = [NAME, PHONE, ID_NUMBER, PARTIAL]
ALL_MASKS = [NONE, GRID, *TEXT_MASKS, HIDE]

# Printable text including CJK, without the mask character itself.
TEXT = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x20, max_codepoint=0x7E),
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
    ).filter(lambda c: c != "*"),
    min_size=3,
    max_size=40,
)
# Cells with at most 5 decimals, so a cell centre needs at most 6.
CELLS = st.integers(100, 100_000).map(lambda n: n / 100_000)


class TestTextMasks:
    def test_given_a_chinese_name_when_masked_as_name_then_only_the_surname_shows(
        self,
    ) -> None:
        """Given 张三丰, 王五 or A, when masked as NAME, then only the first
        character shows."""
        assert mask_value("张三丰", NAME) == "张**"
        assert mask_value("王五", NAME) == "王*"
        assert mask_value("A", NAME) == "*"

    def test_given_a_mobile_number_when_masked_as_phone_then_the_middle_is_starred(
        self,
    ) -> None:
        """Given an 11-digit mobile, when masked as PHONE, then only the first
        three and last four digits show."""
        assert mask_value("13812341234", PHONE) == "138****1234"

    def test_given_a_short_or_seven_character_phone_when_masked_then_all_is_starred(
        self,
    ) -> None:
        """Given a phone of up to seven characters, when masked, then every
        character is starred (seven would otherwise come back unchanged)."""
        assert mask_value("110", PHONE) == "***"
        assert mask_value("1234567", PHONE) == "*******"

    def test_given_an_id_number_when_masked_then_three_and_four_characters_show(
        self,
    ) -> None:
        """Given an 18-character resident id, when masked as ID_NUMBER, then the
        first three and last four characters show."""
        assert mask_value("110101199003071234", ID_NUMBER) == "110***********1234"
        assert mask_value("1234567", ID_NUMBER) == "*******"

    @pytest.mark.parametrize(
        ("text", "masked"),
        [("ab", "**"), ("x", "*"), ("abc", "a*c"), ("朝阳区", "朝*区")],
    )
    def test_given_text_when_masked_as_partial_then_only_the_ends_show(
        self, text: str, masked: str
    ) -> None:
        """Given text, when masked as PARTIAL, then the first and last characters
        show, or nothing when there are two or fewer."""
        assert mask_value(text, PARTIAL) == masked

    def test_given_a_number_when_text_masked_then_it_is_masked_as_its_text(
        self,
    ) -> None:
        """Given an int, when masked as PHONE, then its str() form is masked."""
        assert mask_value(13812341234, PHONE) == "138****1234"

    @pytest.mark.parametrize("mask", TEXT_MASKS, ids=str)
    def test_given_empty_text_when_masked_then_it_stays_empty(self, mask: Mask) -> None:
        """Given "", when text-masked, then "" comes back (nothing to hide)."""
        assert mask_value("", mask) == ""


class TestNoneAndHide:
    @pytest.mark.parametrize("mask", ALL_MASKS, ids=str)
    def test_given_none_when_masked_with_any_kind_then_none_stays(
        self, mask: Mask
    ) -> None:
        """Given None, when masked with any kind, then None comes back."""
        assert mask_value(None, mask) is None

    def test_given_any_value_when_mask_is_none_then_the_value_is_unchanged(
        self,
    ) -> None:
        """Given a value, when the mask is NONE, then the same object comes back."""
        value = {"a": [1, 2]}

        assert mask_value(value, NONE) is value

    def test_given_any_value_when_hidden_then_none_comes_back(self) -> None:
        """Given a value, when the mask is HIDE, then None comes back."""
        assert mask_value("张三丰", HIDE) is None


class TestGrid:
    def test_given_a_lat_lon_list_when_grid_masked_then_it_snaps_to_the_cell_centre(
        self,
    ) -> None:
        """Given [39.9042, 116.4074], when masked on a 0.01° grid, then each axis
        is the centre of its cell."""
        assert mask_value([39.9042, 116.4074], GRID) == [39.905, 116.405]

    def test_given_a_tuple_point_when_grid_masked_then_a_tuple_comes_back(
        self,
    ) -> None:
        """Given a (lat, lon) tuple, when masked with grid:0.05, then a snapped
        tuple comes back."""
        assert mask_value((39.9042, 116.4074), parse_mask("grid:0.05")) == (
            39.925,
            116.425,
        )

    def test_given_a_negative_coordinate_when_grid_masked_then_it_snaps_downwards(
        self,
    ) -> None:
        """Given -33.8688, when masked on a 0.1° grid, then the cell is
        [-33.9, -33.8) and its centre -33.85."""
        assert mask_value([-33.8688, 151.2093], parse_mask("grid:0.1")) == [
            -33.85,
            151.25,
        ]

    def test_given_a_point_on_a_cell_edge_when_grid_masked_then_it_joins_the_upper_cell(
        self,
    ) -> None:
        """Given 0.3 on a 0.1° grid, when masked, then float noise does not push it
        into the cell below."""
        assert mask_value([0.3, 0.3], parse_mask("grid:0.1")) == [0.35, 0.35]

    def test_given_a_geojson_point_when_grid_masked_then_the_same_shape_comes_back(
        self,
    ) -> None:
        """Given a GeoJSON point with a bbox, when grid masked, then a point with
        snapped [lon, lat] comes back and the bbox is dropped."""
        point = {"type": "Point", "coordinates": [116.4074, 39.9042], "bbox": [1, 2]}

        masked = mask_value(point, GRID)

        assert masked == {"type": "Point", "coordinates": [116.405, 39.905]}

    def test_given_a_polygon_when_grid_masked_then_every_coordinate_is_snapped(
        self,
    ) -> None:
        """Given a polygon, when grid masked, then each coordinate is snapped."""
        ring = [
            [116.401, 39.901],
            [116.419, 39.901],
            [116.419, 39.919],
            [116.401, 39.901],
        ]
        polygon = {"type": "Polygon", "coordinates": [ring]}

        masked = mask_geometry(polygon, GRID)

        snapped = [[116.405, 39.905], [116.415, 39.905], [116.415, 39.915]]
        assert masked == {"type": "Polygon", "coordinates": [[*snapped, snapped[0]]]}

    def test_given_a_geometry_collection_when_grid_masked_then_members_are_snapped(
        self,
    ) -> None:
        """Given a geometry collection, when grid masked, then each member is."""
        collection = {
            "type": "GeometryCollection",
            "geometries": [{"type": "Point", "coordinates": [116.4074, 39.9042]}],
        }

        assert mask_value(collection, GRID) == {
            "type": "GeometryCollection",
            "geometries": [{"type": "Point", "coordinates": [116.405, 39.905]}],
        }

    @pytest.mark.parametrize(
        "value",
        [
            "39.9,116.4",
            42,
            [1.0, 2.0, 3.0],
            [True, False],
            ["39.9", "116.4"],
            [math.nan, 1.0],
            [math.inf, 1.0],
            {"type": "Feature", "geometry": None},
            {"type": "Point", "coordinates": ["a", "b"]},
            {"type": "Point"},
        ],
        ids=repr,
    )
    def test_given_something_that_is_not_a_location_when_grid_masked_then_none(
        self, value: object
    ) -> None:
        """Given a value that is no point or geometry, when grid masked, then None
        comes back (fail closed)."""
        assert mask_value(value, GRID) is None

    @settings(max_examples=300, deadline=None)
    @given(
        latitude=st.floats(-90, 90),
        longitude=st.floats(-180, 180),
        cell=CELLS,
    )
    def test_given_any_point_when_grid_masked_then_it_moves_at_most_half_a_cell(
        self, latitude: float, longitude: float, cell: float
    ) -> None:
        """Given any point and cell, when grid masked, then each axis moves by at
        most half a cell."""
        masked = mask_value([latitude, longitude], Mask(MaskKind.GRID, cell))

        assert isinstance(masked, list)
        assert abs(masked[0] - latitude) <= cell / 2 + 1e-9
        assert abs(masked[1] - longitude) <= cell / 2 + 1e-9

    @settings(max_examples=300, deadline=None)
    @given(
        index=st.integers(-1000, 1000),
        offsets=st.tuples(*[st.floats(0.001, 0.999)] * 4),
        cell=CELLS,
    )
    def test_given_two_points_in_one_cell_when_grid_masked_then_they_coincide(
        self, index: int, offsets: tuple[float, float, float, float], cell: float
    ) -> None:
        """Given two points inside the same cell, when grid masked, then both give
        the same output."""
        first = [(index + offsets[0]) * cell, (index + offsets[1]) * cell]
        second = [(index + offsets[2]) * cell, (index + offsets[3]) * cell]
        mask = Mask(MaskKind.GRID, cell)

        assert mask_value(first, mask) == mask_value(second, mask)


class TestMaskGeometry:
    def test_given_no_mask_when_geometry_masked_then_an_equal_copy_comes_back(
        self,
    ) -> None:
        """Given NONE, when a geometry is masked, then an equal new dict comes
        back."""
        point = {"type": "Point", "coordinates": [116.4074, 39.9042]}

        masked = mask_geometry(point, NONE)

        assert masked == point
        assert masked is not point

    @pytest.mark.parametrize("mask", [*TEXT_MASKS, HIDE], ids=str)
    def test_given_a_text_mask_or_hide_when_geometry_masked_then_it_is_dropped(
        self, mask: Mask
    ) -> None:
        """Given a text mask or HIDE, when a geometry is masked, then None."""
        point = {"type": "Point", "coordinates": [116.4074, 39.9042]}

        assert mask_geometry(point, mask) is None

    def test_given_no_geometry_or_a_bad_one_when_grid_masked_then_none(self) -> None:
        """Given None or an unknown geometry type, when grid masked, then None."""
        assert mask_geometry(None, GRID) is None
        assert mask_geometry({"type": "Circle", "coordinates": [1, 2]}, GRID) is None


class TestParseMask:
    @pytest.mark.parametrize(
        "text",
        ["none", "hide", "name", "phone", "id_number", "partial", "grid", "grid:0.05"],
    )
    def test_given_an_allowed_form_when_parsed_and_written_then_it_round_trips(
        self, text: str
    ) -> None:
        """Given each allowed text form, when parsed and written back, then the
        same text comes back."""
        assert mask_text(parse_mask(text)) == text

    def test_given_a_grid_size_when_parsed_then_the_cell_is_kept(self) -> None:
        """Given grid:0.05 and grid, when parsed, then cells are 0.05 and 0.01."""
        assert parse_mask("grid:0.05") == Mask(MaskKind.GRID, 0.05)
        assert parse_mask("grid") == Mask(MaskKind.GRID, 0.01)
        assert mask_text(Mask(MaskKind.GRID, 0.01)) == "grid"

    @pytest.mark.parametrize(
        "text",
        [
            "",
            "blur",
            "grid:",
            "grid:abc",
            "grid:2",
            "grid:0.0001",
            "grid:nan",
            "name:1",
        ],
    )
    def test_given_an_unknown_form_when_parsed_then_the_allowed_forms_are_named(
        self, text: str
    ) -> None:
        """Given a text outside the allowed forms, when parsed, then ValueError
        names the allowed forms."""
        with pytest.raises(ValueError, match=r"id_number.*grid:<cell size"):
            parse_mask(text)

    @given(cell=st.floats(0.001, 1.0))
    def test_given_any_grid_mask_when_written_and_parsed_then_it_is_equal(
        self, cell: float
    ) -> None:
        """Given any valid grid mask, when written and parsed back, then it is
        equal."""
        mask = Mask(MaskKind.GRID, cell)

        assert parse_mask(mask_text(mask)) == mask

    def test_given_a_cell_out_of_range_when_a_mask_is_built_then_it_is_refused(
        self,
    ) -> None:
        """Given a 5° cell, when a Mask is built directly, then ValueError."""
        with pytest.raises(ValueError, match=r"between 0\.001 and 1\.0"):
            Mask(MaskKind.GRID, 5.0)

    def test_given_a_plain_string_kind_when_a_mask_is_built_then_it_becomes_the_enum(
        self,
    ) -> None:
        """Given "grid" as a str, when a Mask is built, then its kind is
        MaskKind.GRID, so grid masking still applies."""
        mask = Mask("grid")  # type: ignore[arg-type]

        assert mask.kind is MaskKind.GRID
        assert mask_value([39.9042, 116.4074], mask) == [39.905, 116.405]


class TestRestrictiveness:
    def test_given_all_kinds_when_ranked_then_none_grid_text_hide_is_the_order(
        self,
    ) -> None:
        """Given every kind, when ranked, then NONE < GRID < text masks < HIDE."""
        assert [restrictiveness(mask) for mask in ALL_MASKS] == [0, 1, 2, 2, 2, 2, 3]

    def test_given_two_masks_when_the_least_restrictive_is_asked_then_it_wins(
        self,
    ) -> None:
        """Given two masks, when compared, then the one that reveals more wins,
        and a tie goes the same way whichever comes first."""
        assert least_restrictive(HIDE, GRID) is GRID
        assert least_restrictive(NONE, NAME) is NONE
        assert least_restrictive(PHONE, NAME) is least_restrictive(NAME, PHONE)
        fine, coarse = parse_mask("grid:0.01"), parse_mask("grid:0.05")
        assert least_restrictive(coarse, fine) == fine
        assert least_restrictive(fine, coarse) == fine


RECORD = {
    "phone": "13812341234",
    "name": "张三丰",
    "secret": "x",
    "status": "open",
    "location": [39.9042, 116.4074],
}


class TestCompileMasker:
    def test_given_a_field_list_when_a_record_is_masked_then_only_listed_fields_show(
        self,
    ) -> None:
        """Given a field list and masks, when a record is masked, then unlisted,
        hidden and absent fields are left out and the list's order is kept."""
        masker = compile_masker(
            ["name", "status", "phone", "absent", "location"],
            {"name": NAME, "phone": PHONE, "location": HIDE},
        )

        masked = masker(RECORD)

        assert list(masked.items()) == [
            ("name", "张**"),
            ("status", "open"),
            ("phone", "138****1234"),
        ]

    def test_given_a_record_when_masked_then_the_input_is_not_mutated(self) -> None:
        """Given a record, when masked, then the record is unchanged and the
        output is a new dict."""
        record = copy.deepcopy(RECORD)
        masker = compile_masker(list(record), {"location": GRID})

        masked = masker(record)

        assert record == RECORD
        assert masked is not record
        assert masked["location"] == [39.905, 116.405]

    def test_given_none_in_a_masked_field_when_masked_then_none_is_kept(self) -> None:
        """Given None under a text mask, when masked, then the field stays None."""
        masker = compile_masker(["name"], {"name": NAME})

        assert masker({"name": None}) == {"name": None}

    def test_given_odd_field_names_when_masked_then_they_are_plain_keys(self) -> None:
        """Given field names with quotes, backslashes, braces and CJK (they enter a
        generated dict display as literals), when masked, then they are only keys."""
        names = ["姓名", "a'b", 'c"d', "e\\f", "}); import os; ({", "__import__"]
        record = {name: f"值{index}值" for index, name in enumerate(names)}

        masked = compile_masker(names, {"姓名": NAME, "a'b": PARTIAL})(record)

        assert masked == {**record, "姓名": "值**", "a'b": "值*值"}

    @given(
        fields=st.lists(st.sampled_from("abcdef"), max_size=8),
        masks=st.dictionaries(st.sampled_from("abcdef"), st.sampled_from(ALL_MASKS)),
        record=st.dictionaries(st.sampled_from("abcdefg"), st.text(max_size=12)),
    )
    def test_given_any_fields_when_masked_then_keys_are_listed_and_not_hidden(
        self, fields: list[str], masks: dict[str, Mask], record: dict[str, str]
    ) -> None:
        """Given any fields, masks and record, when masked, then the keys are the
        listed, present, not hidden fields in list order."""
        hidden = {field for field, mask in masks.items() if mask.kind is MaskKind.HIDE}

        masked = compile_masker(fields, masks)(record)

        assert set(masked) <= set(fields) - hidden
        expected = [f for f in dict.fromkeys(fields) if f in record and f not in hidden]
        assert list(masked) == expected


class TestTextMaskProperties:
    @settings(max_examples=300, deadline=None)
    @given(text=TEXT, mask=st.sampled_from(TEXT_MASKS))
    def test_given_any_text_when_text_masked_then_it_changes_and_keeps_its_length(
        self, text: str, mask: Mask
    ) -> None:
        """Given text of three or more characters without '*', when text masked,
        then the result differs from it and has the same length."""
        masked = mask_value(text, mask)

        assert isinstance(masked, str)
        assert masked != text
        assert len(masked) == len(text)

    @settings(max_examples=300, deadline=None)
    @given(text=TEXT, mask=st.sampled_from(TEXT_MASKS))
    def test_given_any_text_when_text_masked_then_only_the_kept_positions_show(
        self, text: str, mask: Mask
    ) -> None:
        """Given text, when text masked, then every character outside the kept
        positions (NAME: first; PARTIAL: ends; PHONE/ID: first 3, last 4) is '*'."""
        kept = {
            MaskKind.NAME: {0},
            MaskKind.PARTIAL: {0, len(text) - 1},
        }.get(mask.kind, {0, 1, 2, *range(len(text) - 4, len(text))})
        if mask.kind in {MaskKind.PHONE, MaskKind.ID_NUMBER} and len(text) < 8:
            kept = set()

        masked = mask_value(text, mask)

        assert isinstance(masked, str)
        for position, character in enumerate(masked):
            assert character == (text[position] if position in kept else "*")


class TestAggregateCounts:
    def test_given_rows_when_counted_then_most_frequent_first_and_blanks_grouped(
        self,
    ) -> None:
        """Given rows with values, None, "" and a missing field, when counted,
        then blanks share the "—" bucket and order is count desc, value asc."""
        rows: list[dict[str, object]] = [
            {"district": "朝阳"},
            {"district": "海淀"},
            {"district": "朝阳"},
            {"district": None},
            {"district": ""},
            {},
            {"district": 7},
        ]

        assert aggregate_counts(rows, "district") == [
            (MISSING_LABEL, 3),
            ("朝阳", 2),
            ("7", 1),
            ("海淀", 1),
        ]
