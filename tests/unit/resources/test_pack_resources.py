"""resources.yaml in deployment packs: the Lanjiang inventories, and broken files
reported at their lines."""

from __future__ import annotations

import json
import shutil
from importlib.resources import files
from pathlib import Path

from muster.pack import read_pack
from muster.pack.validation import check_pack

EXAMPLE = Path(str(files("muster") / "examples" / "lanjiang"))
GOOD = """\
types:
  - {code: PUMP, name_zh: 排涝泵, name_en: Pump, kind: equipment, unit: unit,
     measure: m3_per_h}
  - {code: TEAM, name_zh: 救援队, name_en: Team, kind: team, unit: team,
     measure: persons, tiers: [I, II]}
resources:
  - id: WATER-P1
    department: WATER
    type: PUMP
    name: 移动泵
    quantity: 4
    capability: 500
    location: {lat: 28.2, lon: 112.9, name: 仓库}
    ready_minutes: 30
  - id: FIRE-T1
    department: FIRE
    type: TEAM
    name: 救援队
    quantity: 1
    capability: 30
    tier: II
    location: {lat: 28.21, lon: 112.91}
    status: out_of_service
    status_reason: 轮休
"""


def small_pack(tmp_path: Path, resources: str) -> Path:
    """Return a pack of Lanjiang's region and departments plus resources.yaml."""
    pack = tmp_path / "pack"
    pack.mkdir()
    for name in ("region.yaml", "departments.yaml"):
        shutil.copyfile(EXAMPLE / name, pack / name)
    (pack / "resources.yaml").write_text(resources, encoding="utf-8")
    return pack


def problems(tmp_path: Path, resources: str) -> list[str]:
    """Return the problems of a small pack with this resources.yaml, as text."""
    return [
        str(problem) for problem in check_pack(small_pack(tmp_path, resources)).problems
    ]


def test_given_the_example_pack_when_read_then_every_department_keeps_resources() -> (
    None
):
    """Lanjiang's resources.yaml has a catalog with pumps, generators, teams, tents,
    water and food, and resources for each of the 13 departments inside the city."""
    pack = read_pack(EXAMPLE)

    codes = {item.code for item in pack.resource_types}
    assert {"PUMP_DRAINAGE", "GENERATOR", "RESCUE_TEAM", "AMBULANCE", "SHELTER",
            "TENT", "DRINKING_WATER", "FOOD_RATIONS"} <= codes  # fmt: skip
    departments = {item.department for item in pack.resources}
    assert departments == {item.code for item in pack.departments}
    by_department = {(item.department, item.type) for item in pack.resources}
    assert {("WATER", "PUMP_DRAINAGE"), ("FIRE", "RESCUE_TEAM"),
            ("HEALTH", "AMBULANCE"), ("POWER", "GENERATOR"),
            ("REDCROSS", "TENT"), ("REDCROSS", "DRINKING_WATER"),
            ("EMB", "FOOD_RATIONS")} <= by_department  # fmt: skip
    for item in pack.resources:
        assert 28.0 < item.lat < 28.45
        assert 112.6 < item.lon < 113.05


def test_given_a_good_file_when_read_then_specs_travel(tmp_path: Path) -> None:
    """Types and resources become specs; the location's name and the initial
    status travel with them."""
    pack = read_pack(small_pack(tmp_path, GOOD))

    assert [item.tiers for item in pack.resource_types] == [(), ("I", "II")]
    first, second = pack.resources
    assert (first.lat, first.lon, first.location_name) == (28.2, 112.9, "仓库")
    assert (second.status, second.status_reason) == ("out_of_service", "轮休")


def test_given_broken_entries_when_checked_then_each_is_reported_at_its_line(
    tmp_path: Path,
) -> None:
    """Unknown departments, repeated ids, a missing capability, a tier on an
    untiered type and an unreason'd out-of-service are reported at their lines."""
    broken = GOOD.replace("department: FIRE", "department: NOWHERE")
    broken = broken.replace("    capability: 500\n", "")
    broken = broken.replace("status_reason: 轮休", "notes: x")
    broken += """\
  - id: WATER-P1
    department: WATER
    type: PUMP
    name: 又一个
    quantity: 1
    capability: 100
    tier: I
    location: {lat: 28.2, lon: 112.9}
"""

    found = problems(tmp_path, broken)

    assert found == [
        "resources.yaml:7: resources[0].capability: type PUMP needs a capability "
        "above 0 in m3_per_h (per unit)",
        "resources.yaml:14: resources[1].status_reason: a resource out of service "
        "needs a reason",
        "resources.yaml:15: resources[1].department: unknown department 'NOWHERE'",
        "resources.yaml:24: resources[2].id: duplicate id 'WATER-P1' (first on line 7)",
        "resources.yaml:30: resources[2].tier: type PUMP has no tiers; leave tier out",
    ]


def test_given_a_schema_error_when_checked_then_the_field_is_named(
    tmp_path: Path,
) -> None:
    """The JSON Schema refuses unknown units and missing locations at their lines."""
    broken = GOOD.replace("unit: unit,", "unit: barrel,").replace(
        "    location: {lat: 28.21, lon: 112.91}\n", ""
    )

    found = problems(tmp_path, broken)

    assert any(p.startswith("resources.yaml:2: types[0].unit:") for p in found)
    assert any("resources[1].location: required field missing" in p for p in found)


def test_given_the_published_schema_when_read_then_it_is_the_pack_schema() -> None:
    """The schema file parses and describes types and resources."""
    schema = json.loads(
        (files("muster.pack") / "schemas" / "resources.schema.json").read_text(
            encoding="utf-8"
        )
    )

    assert set(schema["properties"]) == {"types", "resources"}
