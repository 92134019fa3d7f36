"""cascades.yaml in deployment packs: the Lanjiang hazard chains, and broken ones
reported at their lines (schema, the cascade parser, the catalogue, layer files)."""

from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path

import pytest

from muster.core.errors import PackProblem
from muster.pack import read_pack
from muster.pack.validation import check_pack

EXAMPLE = Path(str(files("muster") / "examples" / "lanjiang"))


def copy_pack(tmp_path: Path) -> Path:
    """Copy the example pack; return its folder."""
    pack = tmp_path / "pack"
    shutil.copytree(EXAMPLE, pack)
    return pack


def broken(tmp_path: Path, old: str, new: str) -> tuple[Path, int]:
    """Copy the example pack with one text of cascades.yaml replaced; return the pack
    and the line of the replacement."""
    pack = copy_pack(tmp_path)
    file = pack / "cascades.yaml"
    text = file.read_text(encoding="utf-8")
    assert old in text, old
    file.write_text(text.replace(old, new, 1), encoding="utf-8")
    return pack, text[: text.index(old)].count("\n") + 1


def problems_of(pack: Path) -> list[tuple[str, int | None, str]]:
    """Return the pack's problems as (file, line, message)."""
    return [(p.file, p.line, p.message) for p in check_pack(pack).problems]


def test_given_the_example_pack_when_read_then_its_cascades_are_kept() -> None:
    """Lanjiang's cascades.yaml passes every check and travels with the pack."""
    pack = read_pack(EXAMPLE)

    assert pack.cascades is not None
    assert len(pack.cascades["rules"]) == 16
    assert {layer["dataset"] for layer in pack.cascades["layers"]} <= {
        dataset.code for dataset in pack.datasets
    }


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "    from: flood\n    to: road_closure",
            "    from: floods\n    to: road_closure",
            "rules[1].from: unknown hazard 'floods'",
        ),
        (
            "    department: TRANSPORT\n    supporting: [PSB]",
            "    department: ROADS\n    supporting: [PSB]",
            "rules[1].department: unknown department 'ROADS'",
        ),
        (
            "    id_property: zone_id\n",
            "    id_property: zone\n",
            "layers[1].id_property: dataset WATER_FLOOD_ZONES has no field 'zone'",
        ),
        (
            "    dataset: TRANSPORT_ROAD_SEGMENTS\n",
            "    dataset: TRANSPORT_ROAD_STATUS\n",
            "layers[0].dataset: dataset TRANSPORT_ROAD_STATUS is csv; a layer needs a "
            "geojson dataset (records with geometry)",
        ),
        (
            "    file: layers/villages.geojson\n",
            "    file: ../outside.geojson\n",
            "layers[9].file: no file ../outside.geojson in the pack",
        ),
        (
            "relation: {type: key, property: substation_id}",
            "relation: {type: key, property: substation}",
            "rules[3].relation.property: dataset POWER_FEEDERS (layer feeders) has no "
            "field 'substation'",
        ),
        (
            "{property: risk_level, op: in, value: [high, very_high]}",
            "{property: susceptibility, op: in, value: [high, very_high]}",
            "rules[6].when[1].property: dataset NATRES_LANDSLIDE_SLOPES (layer slopes) "
            "has no field 'susceptibility'",
        ),
        (
            "    relation: {type: within_km, km: 0.2}",
            "    relation: {type: within_km, kilometres: 0.2}",
            "rules[8].relation.kilometres: unknown field (allowed: type, km, "
            "half_angle_deg, isolation_km, wind_fact, property, source_property)",
        ),
    ],
)
def test_given_a_broken_cascades_file_when_checked_then_the_problem_at_its_line(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    """Schema, graph, department, catalogue and file problems name their line."""
    pack, line = broken(tmp_path, old, new)

    found = problems_of(pack)

    assert any(
        (file, at) == ("cascades.yaml", line) and text.startswith(message)
        for file, at, text in found
    ), found


def test_given_no_datasets_file_when_checked_then_every_layer_dataset_is_unknown(
    tmp_path: Path,
) -> None:
    """Without datasets.yaml the layers' datasets are unknown to the pack."""
    pack = copy_pack(tmp_path)
    for name in ("datasets.yaml", "sharing.yaml", "triggers.yaml"):
        (pack / name).unlink()
    shutil.rmtree(pack / "plans")

    found = [p for p in check_pack(pack).problems if p.file == "cascades.yaml"]

    assert len(found) == 11
    assert all(isinstance(p, PackProblem) for p in found)
    assert found[0].message.startswith(
        "layers[0].dataset: unknown dataset 'TRANSPORT_ROAD_SEGMENTS'"
    )
