"""The catalog through the bus: registering, versioning, permissions, search, replay."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from muster.bootstrap import Muster
from muster.catalog import queries
from muster.catalog.domain.commands import (
    DatasetField,
    DatasetMetadata,
    RegisterDataset,
)
from muster.catalog.domain.errors import (
    SensitiveDataGradedGeneral,
    UnknownOwnerDepartment,
)
from muster.catalog.projections import PROJECTIONS as CATALOG_PROJECTIONS
from muster.core.errors import PermissionDenied
from muster.core.eventlog.replay import rebuild
from muster.core.messages import SYSTEM_ACTOR, Actor
from tests import factories

GAUGE_FIELDS = (
    DatasetField(name="station_id", type="string", required=True),
    DatasetField(name="value", type="number", unit="mm", required=True, minimum=0),
    DatasetField(name="observed_at", type="datetime", required=True),
)
BED_FIELDS = (
    DatasetField(name="hospital_name", type="string", required=True),
    DatasetField(name="beds_available", type="integer", unit="beds", minimum=0),
    DatasetField(name="location", type="point", sensitivity="location"),
)


def gauges(**changes: Any) -> DatasetMetadata:
    """Return the metadata of MET's rain-gauge dataset, with some values changed."""
    values: dict[str, Any] = {
        "code": "MET_RAIN_GAUGES",
        "name_zh": "自动雨量站观测",
        "name_en": "Rain Gauge Observations",
        "description": "Rainfall every five minutes from automatic stations.",
        "owner_department": "MET",
        "sharing_class": "UNCONDITIONAL",
        "data_grade": "GENERAL",
        "update_interval_minutes": 5,
        "format": "observations",
        "connector": "api_push",
        "keywords": ("降雨", "precipitation"),
    }
    return DatasetMetadata(**{**values, **changes})


def beds(**changes: Any) -> DatasetMetadata:
    """Return the metadata of HEALTH's hospital-bed dataset."""
    values: dict[str, Any] = {
        "code": "HEALTH_HOSPITAL_BEDS",
        "name_zh": "医疗机构床位资源",
        "name_en": "Hospital beds",
        "owner_department": "HEALTH",
        "sharing_class": "CONDITIONAL",
        "sharing_conditions": "Emergency command and 120 dispatch only.",
        "data_grade": "IMPORTANT",
        "update_interval_minutes": 60,
        "format": "geojson",
        "connector": "api_push",
    }
    return DatasetMetadata(**{**values, **changes})


def register(
    muster: Muster,
    metadata: DatasetMetadata,
    fields: tuple[DatasetField, ...] = GAUGE_FIELDS,
    actor: Actor = SYSTEM_ACTOR,
) -> str:
    """Register a dataset through the bus; return the outcome."""
    return str(
        muster.bus.handle(RegisterDataset(metadata=metadata, fields=fields), actor)
    )


def head(muster: Muster) -> int:
    """Return the seq of the newest event."""
    with muster.engine.connect() as conn:
        return muster.store.head(conn)[0]


def event_types(muster: Muster, *, after: int) -> list[str]:
    """Return the wire names of the events after a position."""
    with muster.engine.connect() as conn:
        return [item.envelope.type for item in muster.store.read_all(conn, after=after)]


def dataset(muster: Muster, code: str = "MET_RAIN_GAUGES") -> queries.DatasetView:
    """Return a dataset that must exist."""
    with muster.engine.connect() as conn:
        view = queries.get_dataset(conn, code)
    assert view is not None
    return view


def found(muster: Muster, search: str | None = None, **kwargs: Any) -> list[str]:
    """Return the codes list_datasets answers with."""
    with muster.engine.connect() as conn:
        return [v.code for v in queries.list_datasets(conn, search=search, **kwargs)]


@pytest.fixture
def city(muster: Muster) -> Muster:
    """Return a deployment with the MET, WATER and HEALTH departments."""
    for code in ("MET", "WATER", "HEALTH"):
        factories.department(muster, code)
    return muster


class TestRegisterDataset:
    def test_new_dataset_is_created_with_its_first_schema_version(
        self, city: Muster
    ) -> None:
        """Registering a new code records the entry and schema version 1."""
        before = head(city)

        outcome = register(city, gauges())

        assert outcome == "created"
        assert event_types(city, after=before) == [
            "catalog.DatasetRegistered",
            "catalog.DatasetSchemaVersioned",
        ]
        view = dataset(city)
        assert view.schema_version == 1
        assert view.name("zh-CN") == "自动雨量站观测"
        assert [version.version for version in view.versions] == [1]
        assert view.fields[1] == queries.FieldView(
            name="value",
            type="number",
            unit="mm",
            required=True,
            sensitivity="none",
            choices=(),
            minimum=0.0,
            maximum=None,
            max_length=None,
        )
        assert view.registered_by == "muster"

    def test_identical_registration_is_unchanged_and_appends_nothing(
        self, city: Muster
    ) -> None:
        """Registering the same entry twice writes nothing the second time."""
        register(city, gauges())
        before = head(city)

        outcome = register(city, gauges())

        assert outcome == "unchanged"
        assert head(city) == before

    def test_changed_fields_add_a_schema_version_and_keep_the_old_one(
        self, city: Muster
    ) -> None:
        """New fields make version 2 current; version 1 stays in the history."""
        register(city, gauges())
        before = head(city)
        fields = (*GAUGE_FIELDS, DatasetField(name="location", type="point"))

        outcome = register(city, gauges(), fields)

        assert outcome == "updated"
        assert event_types(city, after=before) == ["catalog.DatasetSchemaVersioned"]
        view = dataset(city)
        assert view.schema_version == 2
        assert [field.name for field in view.fields][-1] == "location"
        assert [len(version.fields) for version in view.versions] == [3, 4]
        assert view.field("location") is not None

    def test_changed_metadata_records_dataset_updated(self, city: Muster) -> None:
        """A new SLA and grade update the entry but not its schema version."""
        register(city, gauges())
        before = head(city)

        outcome = register(
            city, gauges(update_interval_minutes=10, data_grade="IMPORTANT")
        )

        assert outcome == "updated"
        assert event_types(city, after=before) == ["catalog.DatasetUpdated"]
        view = dataset(city)
        assert (view.update_interval_minutes, view.data_grade) == (10, "IMPORTANT")
        assert view.schema_version == 1

    def test_csv_hints_and_descriptions_reach_the_read_model(
        self, city: Muster
    ) -> None:
        """Header mapping, encoding and field descriptions are kept as registered."""
        fields = (
            DatasetField(name="station_id", type="string", description_zh="站号"),
            DatasetField(name="value", type="number", description_en="Rainfall"),
        )
        metadata = gauges(
            format="csv",
            csv_mapping=(("站号", "station_id"), ("雨量", "value")),
            csv_encoding="gbk",
        )

        register(city, metadata, fields)

        view = dataset(city)
        assert view.csv_mapping == {"站号": "station_id", "雨量": "value"}
        assert view.csv_encoding == "gbk"
        assert view.field_description("station_id", "en") == "站号"
        assert view.field_description("value", "zh-CN") == "Rainfall"

    def test_unknown_owner_department_is_refused_and_writes_nothing(
        self, city: Muster
    ) -> None:
        """An owner that is not a department of the deployment is refused."""
        before = head(city)

        with pytest.raises(UnknownOwnerDepartment):
            register(city, gauges(owner_department="NOWHERE"))

        assert head(city) == before

    def test_grade_rule_refusal_writes_nothing(self, city: Muster) -> None:
        """就高从严: a GENERAL dataset with a phone number field is refused."""
        before = head(city)
        fields = (
            *BED_FIELDS,
            DatasetField(name="phone", type="string", sensitivity="sensitive_personal"),
        )

        with pytest.raises(SensitiveDataGradedGeneral):
            register(city, beds(data_grade="GENERAL"), fields)

        assert head(city) == before


class TestStewardPermissions:
    @pytest.mark.parametrize("role", ["commander", "duty_officer", "analyst"])
    def test_a_steward_of_the_owner_may_register(self, city: Muster, role: str) -> None:
        """Commanders, duty officers and analysts of MET register MET datasets."""
        steward = factories.user(city, "xu.jing", department_code="MET", roles=(role,))

        outcome = register(city, gauges(), actor=steward)

        assert outcome == "created"
        assert dataset(city).registered_by == steward.id

    def test_an_admin_of_another_department_may_register(self, city: Muster) -> None:
        """An administrator may register for any department."""
        admin = factories.user(city, "root", department_code="WATER", roles=("admin",))

        outcome = register(city, gauges(), actor=admin)

        assert outcome == "created"

    @pytest.mark.parametrize(
        ("department", "role"), [("MET", "observer"), ("WATER", "commander")]
    )
    def test_others_are_refused_and_the_refusal_is_logged(
        self, city: Muster, department: str, role: str
    ) -> None:
        """An observer, or a steward of another department, gets AccessRefused."""
        other = factories.user(city, "eve", department_code=department, roles=(role,))
        before = head(city)

        with pytest.raises(PermissionDenied):
            register(city, gauges(), actor=other)

        assert event_types(city, after=before) == ["identity.AccessRefused"]
        assert found(city) == []

    def test_a_steward_cannot_take_over_another_department_dataset(
        self, city: Muster
    ) -> None:
        """Re-registering MET's dataset as WATER's by a WATER commander is refused."""
        register(city, gauges())
        water = factories.user(
            city, "sun", department_code="WATER", roles=("commander",)
        )

        with pytest.raises(PermissionDenied):
            register(city, gauges(owner_department="WATER"), actor=water)

        assert dataset(city).owner_department == "MET"

    def test_a_connector_key_is_refused(self, city: Muster) -> None:
        """A department's API key pushes data but does not edit the catalog."""
        key = Actor(
            kind="api_key", id="k1", department="MET", roles=frozenset({"connector"})
        )
        before = head(city)

        with pytest.raises(PermissionDenied):
            register(city, gauges(), actor=key)

        assert event_types(city, after=before) == ["identity.AccessRefused"]


class TestSearch:
    """list_datasets on the database under test (SQLite or PostgreSQL)."""

    @pytest.fixture
    def catalog(self, city: Muster) -> Muster:
        """Return the city with a MET and a HEALTH dataset."""
        register(city, gauges())
        register(city, beds(keywords=("医院", "ICU")), BED_FIELDS)
        return city

    @pytest.mark.parametrize(
        ("search", "expected"),
        [
            ("", ["HEALTH_HOSPITAL_BEDS", "MET_RAIN_GAUGES"]),
            ("met_rain", ["MET_RAIN_GAUGES"]),
            ("GAUGE observations", ["MET_RAIN_GAUGES"]),
            ("雨量", ["MET_RAIN_GAUGES"]),
            ("PRECIPITATION", ["MET_RAIN_GAUGES"]),
            ("five minutes", ["MET_RAIN_GAUGES"]),
            ("beds_available", ["HEALTH_HOSPITAL_BEDS"]),
            ("icu", ["HEALTH_HOSPITAL_BEDS"]),
            ("医院", ["HEALTH_HOSPITAL_BEDS"]),
            ("rain beds", []),
            ("%", []),
            ("rain%gauges", []),
        ],
    )
    def test_search_is_case_insensitive_over_every_text(
        self, catalog: Muster, search: str, expected: list[str]
    ) -> None:
        """Each term must appear in code, names, description, keywords or fields."""
        codes = found(catalog, search)

        assert codes == expected

    def test_department_filter_keeps_the_owner_datasets(self, catalog: Muster) -> None:
        """Filtering by HEALTH lists only its dataset; an unknown one lists none."""
        assert found(catalog, department="HEALTH") == ["HEALTH_HOSPITAL_BEDS"]
        assert found(catalog, "rain", department="HEALTH") == []
        assert found(catalog, department="NOWHERE") == []

    def test_search_follows_metadata_and_schema_changes(self, catalog: Muster) -> None:
        """New keywords and field names are found; dropped ones no longer are."""
        register(catalog, gauges(keywords=("storm",)))
        fields = (*GAUGE_FIELDS, DatasetField(name="gauge_height", type="number"))
        register(catalog, gauges(keywords=("storm",)), fields)

        assert found(catalog, "storm") == ["MET_RAIN_GAUGES"]
        assert found(catalog, "precipitation") == []
        assert found(catalog, "gauge_height") == ["MET_RAIN_GAUGES"]

    def test_listed_views_carry_fields_and_versions(self, catalog: Muster) -> None:
        """Listed datasets have their current fields and history, like get_dataset."""
        with catalog.engine.connect() as conn:
            listed = {view.code: view for view in queries.list_datasets(conn)}

        assert listed["HEALTH_HOSPITAL_BEDS"] == dataset(
            catalog, "HEALTH_HOSPITAL_BEDS"
        )
        assert len(listed["MET_RAIN_GAUGES"].fields) == 3


class TestReplay:
    def test_rebuild_reproduces_the_catalog_tables(self, city: Muster) -> None:
        """Emptying and replaying the catalog's tables gives identical rows."""
        register(city, gauges())
        register(city, gauges(update_interval_minutes=10), GAUGE_FIELDS[:2])
        register(city, beds(), BED_FIELDS)
        live = _rows(city)

        rebuild(city.engine, [CATALOG_PROJECTIONS])

        assert _rows(city) == live
        assert all(live.values())


def _rows(muster: Muster) -> dict[str, list[tuple[Any, ...]]]:
    with muster.engine.connect() as conn:
        return {
            table.name: sorted(
                (tuple(row) for row in conn.execute(select(table))), key=repr
            )
            for table in CATALOG_PROJECTIONS.tables
        }
