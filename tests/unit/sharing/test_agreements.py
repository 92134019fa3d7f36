"""parse_agreement: the rules an agreement keeps by sharing class and data grade.

Pure: no database. Each rule of ``domain/agreements.py``'s module docstring has a
test that it refuses (naming the offending key) and one that it lets a good
agreement through.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from muster.sharing.domain.agreements import (
    Agreement,
    DatasetFacts,
    FieldFacts,
    IncidentCondition,
    Mode,
    agreement_from_data,
    parse_agreement,
)
from muster.sharing.domain.errors import AgreementInvalid
from muster.sharing.domain.masks import Mask, MaskKind

DEPARTMENTS = frozenset({"HEALTH", "FIRE", "PSB", "EMB"})
FIELDS = (
    FieldFacts("name", "string", "personal"),
    FieldFacts("phone", "string", "personal"),
    FieldFacts("id_number", "string", "sensitive_personal"),
    FieldFacts("district", "string"),
    FieldFacts("beds", "integer"),
    FieldFacts("location", "point", "location"),
    FieldFacts("area", "geometry", "location"),
)


def dataset(
    *, sharing_class: str = "CONDITIONAL", grade: str = "GENERAL", **changes: Any
) -> DatasetFacts:
    """Return HEALTH's dataset facts with a class and a grade."""
    values: dict[str, Any] = {
        "code": "HEALTH_RESIDENTS",
        "owner": "HEALTH",
        "sharing_class": sharing_class,
        "grade": grade,
        "fields": FIELDS,
    }
    return DatasetFacts(**{**values, **changes})


def data(**changes: Any) -> dict[str, Any]:
    """Return a valid agreement's data (non-personal fields), with changes."""
    values: dict[str, Any] = {
        "code": "BEDS_FOR_FIRE",
        "dataset": "HEALTH_RESIDENTS",
        "consumers": ["FIRE"],
        "fields": ["district", "beds"],
        "purposes": ["evacuation"],
    }
    values.update(changes)
    return {key: value for key, value in values.items() if value is not None}


def parse(agreement: dict[str, Any], facts: DatasetFacts | None = None) -> Agreement:
    """Parse agreement data against a dataset (default: CONDITIONAL, GENERAL)."""
    return parse_agreement(agreement, facts or dataset(), departments=DEPARTMENTS)


def refused(agreement: dict[str, Any], facts: DatasetFacts | None = None) -> str:
    """Return "<refused key>: <message>" of an agreement that must be refused."""
    with pytest.raises(AgreementInvalid) as caught:
        parse(agreement, facts)
    error = caught.value
    assert error.params["agreement"] == agreement.get("code", "")
    return f"{error.params['field']}: {error}"


class TestNotShared:
    def test_counts_may_leave_without_a_legal_basis(self) -> None:
        """A NOT_SHARED dataset may be shared as counts per area."""
        facts = dataset(sharing_class="NOT_SHARED")

        agreement = parse(
            data(mode="aggregate", aggregate_by="district", fields=None), facts
        )

        assert agreement.mode is Mode.AGGREGATE
        assert agreement.fields == ()
        assert agreement.aggregate_by == "district"

    def test_records_without_emergency_basis_are_refused(self) -> None:
        """Records of a NOT_SHARED dataset under another legal basis are refused."""
        facts = dataset(sharing_class="NOT_SHARED")
        agreement = data(
            legal_basis="STATUTORY_DUTY",
            conditions={"incident": {"min_level": "L2"}},
        )

        message = refused(agreement, facts)

        assert "not shared" in message
        assert "EMERGENCY" in message

    def test_records_under_emergency_without_incident_condition_are_refused(
        self,
    ) -> None:
        """The emergency basis alone is not enough: an incident must switch it on."""
        facts = dataset(sharing_class="NOT_SHARED")

        message = refused(data(legal_basis="EMERGENCY"), facts)

        assert "not shared" in message

    def test_records_under_emergency_with_an_incident_condition_pass(self) -> None:
        """EMERGENCY plus an incident condition lets records out (PIPL Art. 13)."""
        facts = dataset(sharing_class="NOT_SHARED")

        agreement = parse(
            data(
                legal_basis="EMERGENCY",
                conditions={
                    "incident": {
                        "categories": ["11A"],
                        "min_level": "L2",
                        "within_km": 5,
                    }
                },
            ),
            facts,
        )

        assert agreement.incident == IncidentCondition(
            categories=("11A",), min_level="L2", within_km=5.0
        )


class TestGrades:
    def test_core_data_refuses_all_consumers(self) -> None:
        """CORE data needs an agreement that names each consumer, never "*"."""
        message = refused(data(consumers=["*"]), dataset(grade="CORE"))

        assert "CORE" in message

    def test_core_data_with_named_consumers_passes(self) -> None:
        """CORE data with named consumers and a purpose passes, labelled RED."""
        agreement = parse(data(), dataset(grade="CORE"))

        assert agreement.consumers == ("FIRE",)
        assert agreement.tlp == "RED"

    @pytest.mark.parametrize("grade", ["IMPORTANT", "CORE"])
    def test_graded_data_needs_a_purpose(self, grade: str) -> None:
        """IMPORTANT and CORE data are shared only for stated purposes."""
        message = refused(data(purposes=[]), dataset(grade=grade))

        assert "purposes" in message

    def test_general_data_needs_no_purpose(self) -> None:
        """GENERAL data may be shared for any purpose."""
        agreement = parse(data(purposes=None, consumers=["*"]))

        assert agreement.purposes == ()
        assert agreement.for_all()

    @pytest.mark.parametrize(
        ("grade", "tlp"),
        [("GENERAL", "GREEN"), ("IMPORTANT", "AMBER"), ("CORE", "RED")],
    )
    def test_tlp_defaults_by_grade(self, grade: str, tlp: str) -> None:
        """Without a label, the grade sets the TLP."""
        assert parse(data(), dataset(grade=grade)).tlp == tlp

    def test_tlp_is_read_with_or_without_its_prefix(self) -> None:
        """ "tlp:amber+strict" is read as AMBER+STRICT; an unknown label is refused."""
        assert parse(data(tlp="tlp:amber+strict")).tlp == "AMBER+STRICT"
        assert "tlp is one of" in refused(data(tlp="PURPLE"))


class TestPersonalFields:
    def test_personal_fields_need_a_legal_basis(self) -> None:
        """Sharing a personal field without a legal basis is refused."""
        message = refused(data(fields=["name", "district"]))

        assert "legal_basis" in message

    def test_all_fields_include_the_personal_ones(self) -> None:
        """ "*" (or no fields) shares every field, so it needs a legal basis too."""
        assert "legal_basis" in refused(data(fields=["*"]))
        assert "legal_basis" in refused(data(fields=None))

    def test_unknown_legal_basis_is_refused(self) -> None:
        """The legal basis is one of the PIPL codes."""
        message = refused(data(fields=["name"], legal_basis="BECAUSE"))

        assert "legal_basis is one of" in message

    def test_default_masks_partial_for_personal_hide_for_sensitive(self) -> None:
        """Unmasked by the agreement: personal partial, sensitive hidden, rest shown."""
        agreement = parse(data(fields=["*"], legal_basis="STATUTORY_DUTY"))

        assert agreement.fields == tuple(item.name for item in FIELDS)
        assert agreement.masks["name"] == Mask(MaskKind.PARTIAL)
        assert agreement.masks["phone"] == Mask(MaskKind.PARTIAL)
        assert agreement.masks["id_number"] == Mask(MaskKind.HIDE)
        assert agreement.masks["district"] == Mask(MaskKind.NONE)
        assert agreement.masks["location"] == Mask(MaskKind.NONE)

    def test_an_agreement_may_unmask_a_personal_field(self) -> None:
        """A mask the agreement names replaces the default, "none" included."""
        agreement = parse(
            data(
                fields=["name", "phone"],
                legal_basis="CONSENT",
                masks={"name": "none", "phone": "phone"},
            )
        )

        assert agreement.masks == {
            "name": Mask(MaskKind.NONE),
            "phone": Mask(MaskKind.PHONE),
        }

    def test_counts_of_personal_data_need_no_legal_basis(self) -> None:
        """Aggregate mode shares no field, so it needs no legal basis."""
        agreement = parse(data(mode="aggregate", aggregate_by="name"))

        assert agreement.legal_basis is None


class TestUnknownNames:
    def test_unknown_field_is_named(self) -> None:
        """A field the dataset lacks is refused, and named."""
        message = refused(data(fields=["district", "shoe_size"]))

        assert "'shoe_size'" in message

    def test_unknown_consumer_department_is_named(self) -> None:
        """A consumer that is not a department is refused, and named."""
        message = refused(data(consumers=["FIRE", "NAVY"]))

        assert "NAVY" in message

    def test_missing_consumers_are_refused(self) -> None:
        """An agreement names at least one consumer."""
        assert "consumer" in refused(data(consumers=[]))

    def test_provider_is_not_a_consumer(self) -> None:
        """The provider reads its own data without an agreement."""
        assert "provider" in refused(data(consumers=["HEALTH"]))

    def test_unknown_mask_is_named_with_its_field(self) -> None:
        """An unknown mask is refused, naming the field it was meant for."""
        message = refused(data(masks={"district": "blur"}))

        assert "district" in message
        assert "blur" in message

    def test_mask_for_a_field_not_shared_is_refused(self) -> None:
        """A mask for a field the agreement does not share is refused, and named."""
        message = refused(data(masks={"phone": "phone"}))

        assert "'phone'" in message

    @pytest.mark.parametrize("mask", ["grid", "grid:0.05"])
    def test_grid_masks_apply_only_to_locations(self, mask: str) -> None:
        """A grid mask on a text field is refused; on a point or geometry it passes."""
        message = refused(data(masks={"district": mask}))
        agreement = parse(
            data(
                fields=["district", "location", "area"],
                masks=dict.fromkeys(("location", "area"), mask),
            )
        )

        assert "district" in message
        assert "locations only" in message
        assert agreement.masks["location"].kind is MaskKind.GRID
        assert agreement.masks["area"].kind is MaskKind.GRID

    def test_grid_cell_size_is_kept(self) -> None:
        """ "grid:0.05" keeps its cell size."""
        agreement = parse(data(fields=["location"], masks={"location": "grid:0.05"}))

        assert agreement.masks["location"].cell_degrees == pytest.approx(0.05)

    @pytest.mark.parametrize(
        ("changes", "key"),
        [
            ({"code": "lower_case"}, "code"),
            ({"code": ""}, "code"),
            ({"purposes": ["Evacuation!"]}, "purpose"),
            ({"mode": "stream"}, "mode is records or aggregate"),
            ({"mode": "aggregate"}, "aggregate_by"),
            ({"mode": "aggregate", "aggregate_by": "colour"}, "aggregate_by"),
            ({"consumers": "FIRE, PSB"}, "FIRE, PSB"),
            ({"masks": ["district"]}, "masks maps"),
            ({"conditions": ["incident"]}, "conditions is a mapping"),
            ({"conditions": {"incident": {"min_level": "L5"}}}, "min_level"),
            ({"conditions": {"incident": {"within_km": 0}}}, "within_km"),
            ({"conditions": {"incident": {"within_km": 501}}}, "within_km"),
            ({"conditions": {"incident": {"within_km": True}}}, "within_km"),
            ({"conditions": {"incident": {"categories": "11A"}}}, "categories"),
        ],
    )
    def test_malformed_values_are_refused(
        self, changes: dict[str, Any], key: str
    ) -> None:
        """Each malformed value is refused with a message that names what is wrong."""
        assert key in refused(data(**changes))


class TestValidity:
    def test_valid_until_must_follow_valid_from(self) -> None:
        """An agreement that ends before it starts is refused."""
        message = refused(
            data(
                valid_from="2026-07-01T00:00:00+08:00",
                valid_until="2026-06-30T16:00:00Z",
            )
        )

        assert "valid_until must be after valid_from" in message

    def test_times_need_an_offset(self) -> None:
        """A time without its UTC offset is refused."""
        assert "valid_from" in refused(data(valid_from="2026-07-01T00:00:00"))
        assert "valid_until" in refused(data(valid_until="tomorrow"))

    def test_times_are_kept_in_utc_and_bound_the_validity(self) -> None:
        """Times keep their offset; in_force holds from valid_from (inclusive) to
        valid_until (exclusive)."""
        agreement = parse(
            data(
                valid_from="2026-07-01T08:00:00+08:00",
                valid_until="2026-08-01T00:00:00Z",
            )
        )

        assert agreement.valid_from == "2026-07-01T08:00:00+08:00"
        assert not agreement.in_force(datetime(2026, 6, 30, 23, 59, tzinfo=UTC))
        assert agreement.in_force(datetime(2026, 7, 1, 0, 0, tzinfo=UTC))
        assert not agreement.in_force(datetime(2026, 8, 1, 0, 0, tzinfo=UTC))


class TestIncidentCondition:
    def test_level_is_met_at_or_above_the_minimum(self) -> None:
        """L1 is the highest level; L3 does not meet a minimum of L2."""
        condition = IncidentCondition(min_level="L2")

        assert [condition.level_met(level) for level in ("L4", "L3", "L2", "L1")] == [
            False,
            False,
            True,
            True,
        ]
        assert not condition.level_met(None)

    def test_category_is_a_code_prefix(self) -> None:
        """ "11A" covers 11A01 but not 11B01; no categories cover any incident."""
        condition = IncidentCondition(categories=("11A",))

        assert condition.category_met("11A01")
        assert not condition.category_met("11B01")
        assert not condition.category_met(None)
        assert IncidentCondition().category_met(None)

    def test_trailing_zeros_are_wildcards_as_in_plans(self) -> None:
        """ "11A00" covers 11A01, as a plan's category does (response.domain.plans)."""
        condition = IncidentCondition(categories=("11A00",))

        assert condition.category_met("11A01")
        assert condition.category_met("11A00")
        assert not condition.category_met("11B01")


class TestRoundTrip:
    def test_to_data_and_back_gives_the_same_agreement(self) -> None:
        """agreement_from_data(to_data()) rebuilds an equal agreement."""
        agreement = parse(
            data(
                fields=["name", "district", "location"],
                legal_basis="EMERGENCY",
                legal_text="PIPL Art. 13 (4)",
                masks={"location": "grid:0.05", "name": "name"},
                conditions={
                    "incident": {
                        "categories": ["11A"],
                        "min_level": "L3",
                        "within_km": 5,
                    }
                },
                valid_from="2026-07-01T00:00:00Z",
                valid_until="2027-07-01T00:00:00Z",
                tlp="AMBER+STRICT",
                name_zh="内涝转移",
                name_en="Flood evacuation",
            ),
            dataset(sharing_class="NOT_SHARED", grade="IMPORTANT"),
        )

        assert agreement_from_data(agreement.to_data()) == agreement

    def test_parsing_to_data_again_changes_nothing(self) -> None:
        """parse_agreement(to_data()) is the same data (so a re-register is
        "unchanged")."""
        agreement = parse(data(mode="aggregate", aggregate_by="district"))

        again = parse(agreement.to_data())

        assert again.to_data() == agreement.to_data()
        assert agreement_from_data(agreement.to_data()) == agreement
