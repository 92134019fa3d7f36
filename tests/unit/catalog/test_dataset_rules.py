"""Catalog rules: who may register, what a registration means, and the entry checks."""

from __future__ import annotations

from typing import Any

import pytest

from muster.catalog.domain.commands import DatasetField, DatasetMetadata
from muster.catalog.domain.errors import InvalidDataset, SensitiveDataGradedGeneral
from muster.catalog.domain.events import (
    DatasetRegistered,
    DatasetSchemaVersioned,
    DatasetUpdated,
)
from muster.catalog.domain.model import (
    Dataset,
    check_dataset,
    evolve,
    may_register,
    rebuild,
    register_dataset,
)
from muster.core.errors import PermissionDenied
from muster.core.messages import SYSTEM_ACTOR, Actor

GAUGE_FIELDS = (
    DatasetField(name="station_id", type="string", required=True),
    DatasetField(name="value", type="number", unit="mm", required=True, minimum=0),
    DatasetField(name="observed_at", type="datetime", required=True),
)


def metadata(**changes: Any) -> DatasetMetadata:
    """Return the metadata of MET's rain-gauge dataset, with some values changed."""
    values: dict[str, Any] = {
        "code": "MET_RAIN_GAUGES",
        "name_zh": "雨量站观测",
        "name_en": "Rain gauges",
        "owner_department": "MET",
        "sharing_class": "UNCONDITIONAL",
        "data_grade": "GENERAL",
        "update_interval_minutes": 5,
        "format": "observations",
        "connector": "api_push",
        "keywords": ("降雨", "rainfall"),
    }
    return DatasetMetadata(**{**values, **changes})


def person(department: str = "MET", *roles: str) -> Actor:
    """Return a person of a department with roles (duty officer by default)."""
    return Actor(
        kind="user",
        id=f"{department}-user",
        department=department,
        roles=frozenset(roles or ("duty_officer",)),
    )


def registered(
    meta: DatasetMetadata | None = None,
    fields: tuple[DatasetField, ...] = GAUGE_FIELDS,
) -> Dataset:
    """Return the state of a dataset registered with this metadata and these fields."""
    _outcome, events = register_dataset(
        None, meta or metadata(), fields, actor=SYSTEM_ACTOR
    )
    state = rebuild(events)
    assert state is not None
    return state


def refusal(meta: DatasetMetadata, fields: tuple[DatasetField, ...]) -> InvalidDataset:
    """Check an entry expecting InvalidDataset; return the error."""
    with pytest.raises(InvalidDataset) as refused:
        check_dataset(meta, fields)
    return refused.value


class TestMayRegister:
    @pytest.mark.parametrize("role", ["commander", "duty_officer", "analyst"])
    def test_stewards_of_the_owning_department_may(self, role: str) -> None:
        """A commander, duty officer or analyst of the owner is a data steward."""
        actor = person("MET", role)

        allowed = may_register(actor, "MET")

        assert allowed

    def test_admins_and_muster_itself_may_for_any_department(self) -> None:
        """Admins and the system actor (pack loads) may register for anyone."""
        admin = person("EMB", "admin")

        assert may_register(admin, "MET")
        assert may_register(SYSTEM_ACTOR, "MET")

    def test_observers_other_departments_and_keys_may_not(self) -> None:
        """An observer, a steward of another department or an API key may not."""
        observer = person("MET", "observer")
        other = person("WATER", "commander")
        key = Actor(kind="api_key", id="k1", department="MET", roles=frozenset({"x"}))

        assert not may_register(observer, "MET")
        assert not may_register(other, "MET")
        assert not may_register(key, "MET")


class TestRegisterDataset:
    def test_new_entry_is_created_with_schema_version_one(self) -> None:
        """A new code records DatasetRegistered, then the first schema version."""
        outcome, events = register_dataset(
            None, metadata(), GAUGE_FIELDS, actor=person()
        )

        assert outcome == "created"
        assert [type(event) for event in events] == [
            DatasetRegistered,
            DatasetSchemaVersioned,
        ]
        schema = events[1]
        assert isinstance(schema, DatasetSchemaVersioned)
        assert schema.version == 1
        assert [item["name"] for item in schema.fields] == [
            "station_id",
            "value",
            "observed_at",
        ]

    def test_identical_entry_is_unchanged_even_with_stray_whitespace(self) -> None:
        """Registering the same entry again, padded with spaces, changes nothing."""
        current = registered()
        padded = metadata(name_en="  Rain gauges ", keywords=(" 降雨", "rainfall"))

        outcome, events = register_dataset(
            current, padded, GAUGE_FIELDS, actor=person()
        )

        assert (outcome, events) == ("unchanged", [])

    def test_changed_fields_make_a_new_schema_version(self) -> None:
        """Adding a field records schema version 2 and no metadata event."""
        current = registered()
        fields = (*GAUGE_FIELDS, DatasetField(name="location", type="point"))

        outcome, events = register_dataset(current, metadata(), fields, actor=person())

        assert outcome == "updated"
        assert len(events) == 1
        assert isinstance(events[0], DatasetSchemaVersioned)
        assert events[0].version == 2

    def test_changed_metadata_records_dataset_updated(self) -> None:
        """A new SLA records DatasetUpdated carrying the whole new metadata."""
        current = registered()

        outcome, events = register_dataset(
            current, metadata(update_interval_minutes=10), GAUGE_FIELDS, actor=person()
        )

        assert outcome == "updated"
        assert len(events) == 1
        assert isinstance(events[0], DatasetUpdated)
        assert events[0].update_interval_minutes == 10
        assert events[0].name_zh == "雨量站观测"

    def test_both_changes_record_both_events(self) -> None:
        """New metadata and new fields together record both events, metadata first."""
        current = registered()
        fields = GAUGE_FIELDS[:2]

        _outcome, events = register_dataset(
            current, metadata(description="Every 5 min"), fields, actor=person()
        )

        assert [type(event) for event in events] == [
            DatasetUpdated,
            DatasetSchemaVersioned,
        ]

    def test_refuses_a_person_outside_the_owning_department(self) -> None:
        """A water-bureau commander may not register the Met bureau's dataset."""
        with pytest.raises(PermissionDenied):
            register_dataset(
                None, metadata(), GAUGE_FIELDS, actor=person("WATER", "commander")
            )

    def test_refuses_taking_over_another_department_dataset(self) -> None:
        """A steward cannot move an existing MET dataset to their own department."""
        current = registered()

        with pytest.raises(PermissionDenied):
            register_dataset(
                current,
                metadata(owner_department="WATER"),
                GAUGE_FIELDS,
                actor=person("WATER", "commander"),
            )


class TestDataGradeRule:
    def test_sensitive_personal_field_may_not_be_graded_general(self) -> None:
        """就高从严: a phone number (sensitive personal) rules out GENERAL."""
        fields = (
            *GAUGE_FIELDS,
            DatasetField(name="phone", type="string", sensitivity="sensitive_personal"),
        )

        with pytest.raises(SensitiveDataGradedGeneral) as refused:
            check_dataset(metadata(sharing_class="UNCONDITIONAL"), fields)

        assert refused.value.params["field"] == "data_grade"
        assert "就高从严" in refused.value.message

    def test_sensitive_personal_field_is_fine_when_graded_important(self) -> None:
        """The same dataset graded IMPORTANT passes."""
        fields = (
            *GAUGE_FIELDS,
            DatasetField(name="phone", type="string", sensitivity="sensitive_personal"),
        )

        checked, _fields = check_dataset(metadata(data_grade="IMPORTANT"), fields)

        assert checked.data_grade == "IMPORTANT"

    def test_personal_fields_alone_allow_general(self) -> None:
        """Personal (not sensitive) fields do not force a higher grade."""
        fields = (DatasetField(name="name", type="string", sensitivity="personal"),)

        checked, _fields = check_dataset(metadata(), fields)

        assert checked.data_grade == "GENERAL"


class TestSharingRules:
    def test_stated_conditions_and_basis_pass(self) -> None:
        """With their texts, both classes pass, stripped."""
        conditional = metadata(sharing_class="CONDITIONAL", sharing_conditions=" EMB ")
        withheld = metadata(sharing_class="NOT_SHARED", legal_basis="PIPL Art. 28")

        first, _ = check_dataset(conditional, GAUGE_FIELDS)
        second, _ = check_dataset(withheld, GAUGE_FIELDS)

        assert first.sharing_conditions == "EMB"
        assert second.legal_basis == "PIPL Art. 28"


class TestFieldRules:
    @pytest.mark.parametrize(
        ("field", "where"),
        [
            (DatasetField(name="Station", type="string"), "name"),
            (DatasetField(name="kind", type="text"), "type"),
            (DatasetField(name="kind", type="enum"), "choices"),
            (DatasetField(name="kind", type="string", choices=("a",)), "choices"),
            (DatasetField(name="kind", type="enum", choices=("a", "a")), "choices"),
            (DatasetField(name="n", type="string", minimum=1), "minimum"),
            (DatasetField(name="n", type="number", minimum=5, maximum=1), "minimum"),
            (DatasetField(name="n", type="number", max_length=5), "max_length"),
            (DatasetField(name="n", type="date", sensitivity="secret"), "sensitivity"),
        ],
    )  # fmt: skip
    def test_malformed_field_is_refused_naming_it(
        self, field: DatasetField, where: str
    ) -> None:
        """Each broken field rule is refused with the field's path."""
        error = refusal(metadata(), (field,))

        assert error.params["field"] == f"fields[0].{where}"

    def test_repeated_field_name_is_refused(self) -> None:
        """Two fields may not share a name."""
        fields = (*GAUGE_FIELDS, DatasetField(name="value", type="integer"))

        error = refusal(metadata(), fields)

        assert error.params["field"] == "fields[3].name"

    def test_a_schema_needs_a_field(self) -> None:
        """An empty schema is refused."""
        error = refusal(metadata(), ())

        assert error.params["field"] == "fields"

    def test_fields_are_normalised(self) -> None:
        """Choices and descriptions are stripped, blank units dropped, limits floats."""
        field = DatasetField(
            name="level",
            type="integer",
            unit=" ",
            minimum=0,
            description_en=" Level ",
        )

        _meta, (checked,) = check_dataset(metadata(), (field,))

        assert checked.unit is None
        assert checked.minimum == 0.0
        assert isinstance(checked.minimum, float)
        assert checked.description_en == "Level"


class TestEntryRules:
    @pytest.mark.parametrize(
        ("changes", "where"),
        [
            ({"code": "met"}, "code"),
            ({"sharing_class": "OPEN"}, "sharing_class"),
            ({"sharing_class": "CONDITIONAL"}, "sharing_conditions"),
            ({"sharing_class": "NOT_SHARED"}, "legal_basis"),
            ({"code": "MET\n"}, "code"),
            ({"name_zh": "  "}, "name_zh"),
            ({"owner_department": ""}, "owner_department"),
            ({"data_grade": "SECRET"}, "data_grade"),
            ({"update_interval_minutes": 0}, "update_interval_minutes"),
            ({"format": "xml"}, "format"),
            ({"connector": "ftp"}, "connector"),
            ({"feed_url": "https://met.example/feed"}, "feed_url"),
            ({"connector": "cap_feed", "feed_url": "file:///etc"}, "feed_url"),
            ({"csv_mapping": (("站号", "station_id"),)}, "csv_mapping"),
            ({"format": "csv", "csv_mapping": (("站号", "nope"),)}, "csv_mapping"),
            ({"format": "csv", "csv_mapping": (("a", "value"), ("b", "value"))},
             "csv_mapping"),
            ({"format": "csv", "csv_encoding": "latin-1"}, "csv_encoding"),
            ({"csv_encoding": "gbk"}, "csv_encoding"),
            ({"keywords": ("rain", " ")}, "keywords"),
            ({"description": "rain\x00fall"}, "text"),
        ],
    )  # fmt: skip
    def test_malformed_entry_is_refused_naming_the_field(
        self, changes: dict[str, Any], where: str
    ) -> None:
        """Each broken entry rule is refused with the offending field."""
        error = refusal(metadata(**changes), GAUGE_FIELDS)

        assert error.params["field"] == where
        assert "MET" in error.message or where == "code"

    def test_csv_hints_are_kept_sorted_and_lower_cased(self) -> None:
        """A csv dataset keeps its header mapping (sorted) and encoding (lower case)."""
        meta = metadata(
            format="csv",
            csv_mapping=(("值", "value"), ("站号", "station_id")),
            csv_encoding="GBK",
        )

        checked, _fields = check_dataset(meta, GAUGE_FIELDS)

        assert checked.csv_mapping == (("值", "value"), ("站号", "station_id"))
        assert checked.csv_encoding == "gbk"

    def test_repeated_keywords_are_dropped(self) -> None:
        """Keywords keep their first occurrence, in order."""
        checked, _ = check_dataset(
            metadata(keywords=("rain", "雨", "rain ")), GAUGE_FIELDS
        )

        assert checked.keywords == ("rain", "雨")


class TestEvolve:
    def test_state_follows_registration_updates_and_versions(self) -> None:
        """Folding the events gives the latest metadata, fields and versions."""
        _, initial = register_dataset(None, metadata(), GAUGE_FIELDS, actor=person())
        first = rebuild(initial)
        _, more = register_dataset(
            first, metadata(data_grade="IMPORTANT"), GAUGE_FIELDS[:1], actor=person()
        )

        state = rebuild([*initial, *more])

        assert state is not None
        assert state.metadata.data_grade == "IMPORTANT"
        assert state.fields == GAUGE_FIELDS[:1]
        assert (state.schema_version, state.version) == (2, 4)

    def test_update_before_registration_cannot_apply(self) -> None:
        """An update of a dataset never registered is a broken stream."""
        update = metadata().to_event(DatasetUpdated)

        with pytest.raises(ValueError, match="cannot apply"):
            evolve(None, update)
        assert rebuild([]) is None

    def test_field_survives_the_round_trip_through_event_data(self) -> None:
        """to_data and from_data are inverses for a fully specified field."""
        field = DatasetField(
            name="status",
            type="enum",
            required=True,
            sensitivity="location",
            unit="level",
            choices=("open", "closed"),
            description_zh="状态",
            description_en="Status",
        )

        assert DatasetField.from_data(field.to_data()) == field
