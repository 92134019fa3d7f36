"""datasets.yaml in deployment packs: the Lanjiang catalogue and broken entries."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from muster.catalog.domain.model import (
    Connector,
    DataFormat,
    DataGrade,
    FieldType,
    Sensitivity,
    SharingClass,
)
from muster.core.errors import PackInvalid, PackProblem
from muster.pack import read_pack
from muster.pack.loader import dataset_problems

EXAMPLE = Path(str(files("muster") / "examples" / "lanjiang"))

REGION = """\
code: TESTVILLE
name_zh: 测试市
name_en: Testville
center: {lat: 28.2, lon: 112.9}
districts:
  - {code: NORTH, name_zh: 北区, name_en: North District}
"""
DEPARTMENTS = """\
departments:
  - {code: MET, name_zh: 气象局, name_en: Met Bureau, type: meteorology}
  - {code: HOTLINE, name_zh: 热线, name_en: Hotline, type: communications}
"""
# Line numbers matter: datasets[0] starts on line 2, its fields on lines 12-14.
DATASETS = """\
datasets:
  - code: MET_RAIN_GAUGES
    name_zh: 雨量站观测
    name_en: Rain gauges
    owner_department: MET
    sharing_class: UNCONDITIONAL
    data_grade: GENERAL
    update_interval_minutes: 5
    format: observations
    connector: api_push
    fields:
      - {name: station_id, type: string, required: true}
      - {name: value, type: number, unit: mm, minimum: 0}
      - {name: observed_at, type: datetime}
  - code: HOTLINE_REPORTS
    name_zh: 热线诉求
    name_en: Hotline reports
    owner_department: HOTLINE
    sharing_class: CONDITIONAL
    sharing_conditions: Only the assigned department sees caller details.
    data_grade: IMPORTANT
    update_interval_minutes: 5
    format: json
    connector: api_push
    fields:
      - {name: caller_phone, type: string, sensitivity: sensitive_personal}
      - {name: category, type: enum, choices: [flooding, other]}
"""


def write_pack(root: Path, datasets: str | None = DATASETS) -> Path:
    """Write a small valid pack, with datasets.yaml replaced or left out."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "region.yaml").write_text(REGION, encoding="utf-8")
    (root / "departments.yaml").write_text(DEPARTMENTS, encoding="utf-8")
    if datasets is not None:
        (root / "datasets.yaml").write_text(datasets, encoding="utf-8")
    return root


def problems_of(root: Path) -> list[PackProblem]:
    """Read the pack expecting failure; return the problems reported."""
    with pytest.raises(PackInvalid) as caught:
        read_pack(root)
    return caught.value.problems


def only_problem(root: Path) -> PackProblem:
    """Read the pack expecting exactly one problem; return it."""
    problems = problems_of(root)
    assert len(problems) == 1, problems
    return problems[0]


class TestExampleCatalogue:
    def test_every_department_owns_a_valid_dataset(self) -> None:
        """Lanjiang's catalogue passes every check and covers every department."""
        pack = read_pack(EXAMPLE)

        owners = {dataset.owner_department for dataset in pack.datasets}

        assert owners == {department.code for department in pack.departments}
        assert dataset_problems(pack) == []

    def test_the_issue_datasets_are_there_with_their_slas(self) -> None:
        """Gauges every 5 minutes, beds hourly, registers daily, and the rest."""
        pack = read_pack(EXAMPLE)

        by_code = {dataset.code: dataset for dataset in pack.datasets}

        assert {
            "MET_RAIN_GAUGES", "MET_CAP_WARNINGS", "WATER_RIVER_LEVELS",
            "WATER_RESERVOIRS", "TRANSPORT_ROAD_STATUS", "HEALTH_HOSPITAL_BEDS",
            "EMB_SHELTERS", "NATRES_LANDSLIDE_SLOPES", "EMB_POPULATION_GRID",
            "POWER_SUBSTATIONS", "HOTLINE_CITIZEN_REPORTS", "PSB_VULNERABLE_RESIDENTS",
            "REDCROSS_RELIEF_STOCK", "FIRE_STATIONS",
        } <= set(by_code)  # fmt: skip
        assert by_code["MET_RAIN_GAUGES"].update_interval_minutes == 5
        assert by_code["HEALTH_HOSPITAL_BEDS"].update_interval_minutes == 60
        assert by_code["PSB_VULNERABLE_RESIDENTS"].update_interval_minutes == 1440
        assert by_code["MET_CAP_WARNINGS"].connector == "cap_feed"
        assert by_code["MET_CAP_WARNINGS"].feed_url is not None

    def test_road_status_maps_chinese_gbk_headers(self) -> None:
        """The transport CSV maps Chinese headers to fields and says it is GBK."""
        roads = next(d for d in read_pack(EXAMPLE).datasets if d.format == "csv")

        mapping = dict(roads.csv_mapping)

        assert roads.code == "TRANSPORT_ROAD_STATUS"
        assert roads.csv_encoding == "gbk"
        assert mapping["通行状态"] == "status"
        assert set(mapping.values()) <= {field.name for field in roads.fields}

    def test_personal_data_is_graded_and_shared_accordingly(self) -> None:
        """Hotline reports are IMPORTANT, CONDITIONAL; the PSB register is withheld."""
        by_code = {d.code: d for d in read_pack(EXAMPLE).datasets}
        hotline = by_code["HOTLINE_CITIZEN_REPORTS"]
        register = by_code["PSB_VULNERABLE_RESIDENTS"]

        sensitivity = {field.name: field.sensitivity for field in hotline.fields}

        assert sensitivity["caller_name"] == "personal"
        assert sensitivity["caller_phone"] == "sensitive_personal"
        assert sensitivity["location"] == "location"
        assert (hotline.data_grade, hotline.sharing_class) == (
            "IMPORTANT",
            "CONDITIONAL",
        )
        assert register.sharing_class == "NOT_SHARED"
        assert "个人信息保护法" in register.legal_basis
        assert "PIPL" in register.legal_basis

    def test_schema_is_valid_and_its_enums_match_the_catalog(self) -> None:
        """datasets.schema.json is valid 2020-12 and lists the domain's enums."""
        schema = json.loads(
            (files("muster.pack") / "schemas" / "datasets.schema.json").read_text()
        )
        entry = schema["properties"]["datasets"]["items"]["properties"]
        field = entry["fields"]["items"]["properties"]

        Draft202012Validator.check_schema(schema)

        assert field["type"]["enum"] == [item.value for item in FieldType]
        assert field["sensitivity"]["enum"] == [item.value for item in Sensitivity]
        assert entry["sharing_class"]["enum"] == [item.value for item in SharingClass]
        assert entry["data_grade"]["enum"] == [item.value for item in DataGrade]
        assert entry["format"]["enum"] == [item.value for item in DataFormat]
        assert entry["connector"]["enum"] == [item.value for item in Connector]


class TestValidDatasets:
    def test_datasets_file_is_optional(self, tmp_path: Path) -> None:
        """A pack without datasets.yaml has no datasets."""
        pack = read_pack(write_pack(tmp_path, datasets=None))

        assert pack.datasets == ()

    def test_entries_become_specs_with_defaults(self, tmp_path: Path) -> None:
        """Omitted keys take their defaults; lists become tuples."""
        pack = read_pack(write_pack(tmp_path))

        gauges, hotline = pack.datasets

        assert gauges.fields[1].unit == "mm"
        assert gauges.fields[0].sensitivity == "none"
        assert gauges.keywords == ()
        assert hotline.fields[1].choices == ("flooding", "other")


class TestDatasetProblems:
    def test_schema_errors_name_field_and_line(self, tmp_path: Path) -> None:
        """A sharing class outside the enum is reported at its line."""
        text = DATASETS.replace("sharing_class: UNCONDITIONAL", "sharing_class: OPEN")

        problem = only_problem(write_pack(tmp_path, text))

        assert (problem.file, problem.line) == ("datasets.yaml", 6)
        assert problem.message.startswith("datasets[0].sharing_class: 'OPEN' is not")

    def test_unknown_key_points_at_its_line(self, tmp_path: Path) -> None:
        """A key the schema does not know is reported where it is written."""
        text = DATASETS.replace(
            "    format: json\n", "    format: json\n    owner: x\n"
        )

        problem = only_problem(write_pack(tmp_path, text))

        assert (problem.file, problem.line) == ("datasets.yaml", 24)
        assert problem.message.startswith("datasets[1].owner: unknown field")

    def test_unknown_owner_department(self, tmp_path: Path) -> None:
        """An owner that departments.yaml does not define is reported at its line."""
        text = DATASETS.replace("owner_department: MET", "owner_department: WATER")

        problem = only_problem(write_pack(tmp_path, text))

        assert (problem.file, problem.line) == ("datasets.yaml", 5)
        assert "unknown department 'WATER'" in problem.message

    def test_duplicate_codes_and_field_names(self, tmp_path: Path) -> None:
        """A repeated dataset code and a repeated field name are both reported."""
        text = DATASETS.replace("code: HOTLINE_REPORTS", "code: MET_RAIN_GAUGES")
        text = text.replace("{name: observed_at,", "{name: value,")

        problems = problems_of(write_pack(tmp_path, text))

        assert [(p.line, p.message) for p in problems] == [
            (14, "datasets[0].fields[2].name: duplicate field name 'value' "
                 "(first on line 13)"),
            (15, "datasets[1].code: duplicate code 'MET_RAIN_GAUGES' "
                 "(first on line 2)"),
        ]  # fmt: skip

    def test_sharing_classes_need_their_texts(self, tmp_path: Path) -> None:
        """CONDITIONAL needs conditions; NOT_SHARED needs a legal basis."""
        conditions = "    sharing_conditions: Only the assigned department sees"
        text = DATASETS.replace(f"{conditions} caller details.\n", "").replace(
            "sharing_class: UNCONDITIONAL", "sharing_class: NOT_SHARED"
        )

        problems = problems_of(write_pack(tmp_path, text))

        assert [(p.line, p.message) for p in problems] == [
            (2, "datasets[0].legal_basis: NOT_SHARED needs a legal_basis "
                "(law or policy)"),
            (15, "datasets[1].sharing_conditions: CONDITIONAL sharing needs "
                 "sharing_conditions"),
        ]  # fmt: skip

    def test_enum_field_needs_choices(self, tmp_path: Path) -> None:
        """An enum field without choices is reported at that field."""
        text = DATASETS.replace(", choices: [flooding, other]", "")

        problem = only_problem(write_pack(tmp_path, text))

        assert (problem.line, problem.message) == (
            27,
            "datasets[1].fields[1]: an enum field needs choices",
        )

    def test_catalog_rules_are_checked_before_loading_with_lines(
        self, tmp_path: Path
    ) -> None:
        """A CSV mapping onto an unknown field is found at its line, before loading."""
        text = DATASETS.replace(
            "    format: observations\n",
            "    format: csv\n    csv_mapping: {站号: station, 雨量: value}\n",
        )
        pack = read_pack(write_pack(tmp_path, text))

        (problem,) = dataset_problems(pack)

        assert (problem.file, problem.line) == ("datasets.yaml", 10)
        assert "csv_mapping" in problem.message
        assert "MET_RAIN_GAUGES" in problem.message

    def test_sensitive_personal_data_may_not_be_general(self, tmp_path: Path) -> None:
        """就高从严: the hotline dataset graded GENERAL is reported at its grade."""
        text = DATASETS.replace("data_grade: IMPORTANT", "data_grade: GENERAL")

        problem = only_problem(write_pack(tmp_path, text))

        assert problem.line == 21
        assert problem.message.startswith("datasets[1].data_grade: a dataset with")
        assert "就高从严" in problem.message
