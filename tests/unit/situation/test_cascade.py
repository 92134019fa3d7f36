"""Cascade assessment on the example region (Lanjiang): the three chains expose the
assets listed here, and the explanation names every rule and dataset it used.

The example incidents are those of examples/lanjiang/layers/README.md. The layers
are the pack's GeoJSON files; the catalogue owners come from datasets.yaml.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
import yaml

from muster.core.errors import ValidationFailed
from muster.situation.cascade import (
    Assessment,
    IncidentSource,
    LayerData,
    Step,
    assess,
    build_graph,
    read_layers,
)
from muster.situation.domain.cascade_model import CascadeModel
from muster.situation.domain.cascade_parse import parse_cascades

EXAMPLE = Path(str(files("muster") / "examples" / "lanjiang"))
UPDATED = datetime(2026, 7, 1, 6, 0, tzinfo=UTC)
NOW = UPDATED + timedelta(hours=2)
FLOOD = IncidentSource("INC-FLOOD", "11B00", lat=28.21, lon=112.91, radius_km=20.0)
FLOOD_FACTS = {"rain_24h_mm": 180, "rain_72h_mm": 210}
SLIDE = IncidentSource("INC-SLIDE", "11B00", lat=28.37, lon=112.72, radius_km=10.0)
SLIDE_FACTS = {"rain_24h_mm": 90, "rain_72h_mm": 160}
HAZMAT = IncidentSource("INC-HAZMAT", "12A00", lat=28.124, lon=112.996, radius_km=1.0)
HAZMAT_FACTS = {"fire": "yes", "leak": "yes", "wind_from_deg": 225}


@cache
def model() -> CascadeModel:
    """Return the example pack's cascade model."""
    text = (EXAMPLE / "cascades.yaml").read_text(encoding="utf-8")
    return parse_cascades(yaml.safe_load(text))


@cache
def catalogue() -> list[dict[str, Any]]:
    """Return the example pack's datasets.yaml entries."""
    text = (EXAMPLE / "datasets.yaml").read_text(encoding="utf-8")
    entries: list[dict[str, Any]] = yaml.safe_load(text)["datasets"]
    return entries


def owners() -> dict[str, str]:
    """Return each dataset's owner department."""
    return {d["code"]: d["owner_department"] for d in catalogue()}


def catalogue_fields() -> dict[str, set[str]]:
    """Return each dataset's field names."""
    return {d["code"]: {f["name"] for f in d["fields"]} for d in catalogue()}


@cache
def layers() -> dict[str, LayerData]:
    """Return the example layers with their dataset owners."""
    return read_layers(EXAMPLE, model(), owners=owners())


def run(
    source: IncidentSource,
    facts: dict[str, Any],
    *,
    data: dict[str, LayerData] | None = None,
    involved: frozenset[str] = frozenset(),
) -> Assessment:
    """Assess an incident on the example layers, all updated two hours ago."""
    data = layers() if data is None else data
    return assess(
        source,
        data,
        model(),
        facts=facts,
        freshness=dict.fromkeys(data, UPDATED),
        involved=involved,
        now=NOW,
    )


def exposed(assessment: Assessment) -> dict[str, list[str]]:
    """Return the asset ids each fired rule exposed."""
    return {step.rule: [asset.id for asset in step.assets] for step in assessment.steps}


def step(assessment: Assessment, rule: str) -> Step:
    """Return the step of a rule."""
    return next(item for item in assessment.steps if item.rule == rule)


def cells(*ids: str) -> dict[str, float]:
    """Return the populations of population-grid cells."""
    grid = layers()["population_grid"].collection["features"]
    found = {
        f["id"]: f["properties"]["resident_population"] for f in grid if f["id"] in ids
    }
    assert sorted(found) == sorted(ids)
    return found


class TestFloodChain:
    def test_given_a_rainstorm_in_the_city_when_assessed_then_the_flood_chain(
        self,
    ) -> None:
        """180 mm in 24 h floods five areas, closes six roads, trips one substation,
        puts two hospitals on backup power and stops a waterworks."""
        assessment = run(FLOOD, FLOOD_FACTS)

        assert assessment.entries == ("rainstorm",)
        assert exposed(assessment) == {
            "rain_floods_low_lying": [
                "FZ-BINJIANG",
                "FZ-DONGHU",
                "FZ-LANXI-OLDTOWN",
                "FZ-QINGSHAN-UNDERPASS",
                "FZ-S203-K12",
            ],
            "flood_closes_roads": [
                "BJ-02",
                "BJ-03",
                "DH-02",
                "QS-02",
                "QS-03",
                "S203-K12-K15",
            ],
            "flood_reaches_substations": ["SS-BINJIANG"],
            "substation_feeders_trip": ["F-BJ-1", "F-BJ-2", "F-BJ-3"],
            "outage_hospitals_backup": ["H-LJ-FIRST", "H-LJ-MATERNAL"],
            "outage_water_plants": ["WP-LJ-SECOND"],
        }
        assert [(c.entry, c.rule) for c in assessment.chains] == [
            ("rainstorm", "rain_floods_low_lying")
        ]
        assert step(assessment, "outage_hospitals_backup").layers == (
            "feeders",
            "flood_zones",
            "hospitals",
            "population_grid",
            "substations",
        )
        assert step(assessment, "outage_hospitals_backup").paths == (
            (
                "rain_floods_low_lying",
                "flood_reaches_substations",
                "substation_feeders_trip",
                "outage_hospitals_backup",
            ),
        )

    def test_given_the_flood_when_roads_are_checked_then_depth_decides(self) -> None:
        """Roads in 0.25 m (Lanxi old town) stay open; the culvert (200 mm) is dry;
        Donghu's substation in 0.4 m stays up; each closure names its zone."""
        assessment = run(FLOOD, FLOOD_FACTS)
        roads = {a.id: a for a in step(assessment, "flood_closes_roads").assets}

        assert {"LX-02", "QS-01", "BS-02", "LX-01"}.isdisjoint(roads)
        assert roads["S203-K12-K15"].via == ("FZ-S203-K12",)
        assert roads["QS-03"].via == ("FZ-QINGSHAN-UNDERPASS",)
        assert roads["BJ-02"].department == "TRANSPORT"
        assert roads["BJ-02"].dataset == "TRANSPORT_ROAD_SEGMENTS"
        assert roads["BJ-02"].name_zh == "滨江大道（中段）"

    def test_given_the_flood_when_people_are_counted_then_the_grid_is_weighted(
        self,
    ) -> None:
        """Flooded people are the grid cells weighted by the share under water."""
        grid = cells(
            "PG-11290-2820",
            "PG-11290-2821",
            "PG-11291-2820",
            "PG-11291-2821",
            "PG-11292-2821",
            "PG-11293-2819",
            "PG-11294-2819",
            "PG-11295-2819",
            "PG-11288-2821",
        )
        shares = {"PG-11292-2821": 0.25, "PG-11293-2819": 0.5, "PG-11295-2819": 0.5}

        expected = round(sum(pop * shares.get(cid, 1.0) for cid, pop in grid.items()))

        assert step(run(FLOOD, FLOOD_FACTS), "rain_floods_low_lying").population == (
            expected
        )

    def test_given_an_observed_depth_when_assessed_then_it_beats_the_model(
        self,
    ) -> None:
        """0.7 m observed in Donghu floods its substation: two more feeders, one
        more hospital; the explanation shows the observation."""
        facts = {**FLOOD_FACTS, "depth_m": {"FZ-DONGHU": 0.7}}

        assessment = run(FLOOD, facts)

        assert exposed(assessment)["flood_reaches_substations"] == [
            "SS-BINJIANG",
            "SS-DONGHU",
        ]
        assert exposed(assessment)["outage_hospitals_backup"] == [
            "H-DONGHU",
            "H-LJ-FIRST",
            "H-LJ-MATERNAL",
        ]
        assert assessment.explanation.facts["depth_m"] == {"FZ-DONGHU": 0.7}

    def test_given_moderate_rain_when_assessed_then_only_the_underpass_floods(
        self,
    ) -> None:
        """70 mm reaches only the underpass (60 mm): one road, no outage."""
        assessment = run(FLOOD, {"rain_24h_mm": 70})

        assert exposed(assessment) == {
            "rain_floods_low_lying": ["FZ-QINGSHAN-UNDERPASS"],
            "flood_closes_roads": ["QS-03"],
        }

    def test_given_the_flood_when_departments_are_suggested_then_with_tasks(
        self,
    ) -> None:
        """Each department gets its roles, rules and tasks; plan tasks are linked."""
        assessment = run(FLOOD, FLOOD_FACTS, involved=frozenset({"WATER"}))
        by_code = {item.department: item for item in assessment.departments}

        assert sorted(by_code) == [
            "EMB",
            "HEALTH",
            "HOTLINE",
            "POWER",
            "PSB",
            "TRANSPORT",
            "WATER",
        ]
        transport = by_code["TRANSPORT"]
        assert transport.roles == ("lead", "task", "asset_owner")
        assert transport.rules == ("flood_closes_roads",)
        assert [(t.key, t.plan, t.plan_task) for t in transport.tasks] == [
            ("close_flooded_roads", "FLOOD_URBAN", "close_road_s203")
        ]
        assert by_code["WATER"].is_involved
        assert not by_code["POWER"].is_involved
        assert [t.key for t in by_code["POWER"].tasks] == [
            "emergency_generator",
            "grid_safety",
            "restore_supply",
        ]


class TestLandslideChain:
    def test_given_three_days_of_rain_in_the_hills_when_assessed_then_slides(
        self,
    ) -> None:
        """160 mm in 72 h sets off the high and very-high slopes of Fenghe, not the
        medium one: three roads blocked, two villages (680 people) threatened."""
        assessment = run(SLIDE, SLIDE_FACTS)

        assert exposed(assessment) == {
            "rain_triggers_landslide": ["SL-FH-HUANGNI", "SL-FH-SHIMEN"],
            "landslide_blocks_roads": ["S217-K20-K32", "X012-K03-K06", "X015-K03-K06"],
            "landslide_threatens_villages": ["VIL-HUANGNI", "VIL-SHIMEN"],
        }
        assert step(assessment, "landslide_threatens_villages").population == 680
        assert [(c.entry, c.rule) for c in assessment.chains] == [
            ("rainstorm", "rain_triggers_landslide")
        ]

    def test_given_little_rain_when_assessed_then_the_fact_condition_says_why(
        self,
    ) -> None:
        """At 80 mm nothing slides, and the explanation names the failed fact."""
        assessment = run(SLIDE, {"rain_24h_mm": 40, "rain_72h_mm": 80})
        uses = {use.rule: use for use in assessment.explanation.rules}

        assert assessment.steps == ()
        assert uses["rain_triggers_landslide"].reason == (
            "fact rain_72h_mm gte 100 does not hold"
        )
        assert not uses["rain_triggers_landslide"].fired

    def test_given_extreme_rain_when_assessed_then_medium_slopes_slide_too(
        self,
    ) -> None:
        """At 260 mm the medium Laoying slope joins, with its village."""
        assessment = run(SLIDE, {"rain_72h_mm": 260})

        assert exposed(assessment)["heavy_rain_triggers_medium_slopes"] == [
            "SL-FH-LAOYING"
        ]
        assert exposed(assessment)["landslide_threatens_villages"] == [
            "VIL-HUANGNI",
            "VIL-LAOYING",
            "VIL-SHIMEN",
        ]
        assert len(assessment.chains) == 2

    def test_given_a_landslide_incident_when_assessed_then_it_enters_directly(
        self,
    ) -> None:
        """A geological incident (11D) starts at the landslide, in its own area."""
        source = IncidentSource("INC-LAOYING", "11D00", 28.370, 112.690, 0.3)

        assessment = run(source, {})

        assert assessment.entries == ("landslide",)
        assert exposed(assessment) == {"landslide_threatens_villages": ["VIL-LAOYING"]}
        assert step(assessment, "landslide_threatens_villages").population == 150


class TestHazmatChain:
    FIRE_CELLS = (
        "PG-11298-2811",
        "PG-11298-2812",
        "PG-11298-2813",
        "PG-11299-2811",
        "PG-11299-2812",
        "PG-11299-2813",
        "PG-11300-2811",
        "PG-11300-2812",
        "PG-11300-2813",
    )
    DOWNWIND_CELLS = (
        "PG-11298-2811",
        "PG-11298-2812",
        "PG-11299-2811",
        "PG-11299-2812",
        "PG-11299-2813",
        "PG-11299-2814",
        "PG-11300-2812",
        "PG-11300-2813",
        "PG-11300-2814",
        "PG-11301-2812",
        "PG-11301-2813",
        "PG-11301-2814",
    )

    def test_given_a_fire_at_the_lpg_depot_when_assessed_then_fire_and_leak(
        self,
    ) -> None:
        """The LPG depot burns; the chlorine plant 0.7 km away leaks; the blast zone
        and the north-east plume are evacuated; a school downwind and the nearest
        hospital are alerted."""
        assessment = run(HAZMAT, HAZMAT_FACTS)

        assert exposed(assessment) == {
            "plant_fire": ["CP-BS-LPG"],
            "plant_toxic_release": ["CP-LJ-CHLOR"],
            "fire_evacuation": list(self.FIRE_CELLS),
            "leak_downwind_evacuation": list(self.DOWNWIND_CELLS),
            "leak_receiving_hospitals": ["H-BAISHA"],
            "leak_schools_shelter": ["SCH-BAISHA-PRIMARY"],
        }
        assert [(c.entry, c.rule, len(c.steps)) for c in assessment.chains] == [
            ("hazmat_accident", "plant_fire", 2),
            ("hazmat_accident", "plant_toxic_release", 4),
        ]

    def test_given_the_evacuations_when_people_are_counted_then_cells_are_summed(
        self,
    ) -> None:
        """Evacuation counts the residents of the cells in each zone."""
        assessment = run(HAZMAT, HAZMAT_FACTS)

        assert step(assessment, "fire_evacuation").population == sum(
            cells(*self.FIRE_CELLS).values()
        )
        assert step(assessment, "leak_downwind_evacuation").population == sum(
            cells(*self.DOWNWIND_CELLS).values()
        )

    def test_given_a_leak_without_fire_when_assessed_then_no_fire_chain(self) -> None:
        """Without fire only the toxic chain runs."""
        assessment = run(HAZMAT, {**HAZMAT_FACTS, "fire": "no"})

        assert [c.rule for c in assessment.chains] == ["plant_toxic_release"]
        assert "plant_fire" not in exposed(assessment)

    def test_given_a_wind_from_the_north_east_when_assessed_then_plume_turns(
        self,
    ) -> None:
        """A north-east wind blows the plume away from the school."""
        assessment = run(HAZMAT, {**HAZMAT_FACTS, "wind_from_deg": 45})

        assert "leak_schools_shelter" not in exposed(assessment)
        assert "PG-11301-2814" not in exposed(assessment)["leak_downwind_evacuation"]

    def test_given_no_wind_when_assessed_then_all_directions_and_a_gap(self) -> None:
        """Without the wind fact the downwind zone is a full circle, said in gaps."""
        assessment = run(HAZMAT, {"fire": "是", "leak": "是"})

        assert exposed(assessment)["leak_schools_shelter"] == [
            "SCH-BAISHA-MIDDLE",
            "SCH-BAISHA-PRIMARY",
        ]
        assert any("wind_from_deg" in gap for gap in assessment.explanation.gaps)


class TestExplanation:
    @pytest.mark.parametrize(
        ("source", "facts"),
        [(FLOOD, FLOOD_FACTS), (SLIDE, SLIDE_FACTS), (HAZMAT, HAZMAT_FACTS)],
    )
    def test_given_an_assessment_when_explained_then_every_rule_and_dataset(
        self, source: IncidentSource, facts: dict[str, Any]
    ) -> None:
        """Every fired rule is named with its path, every layer read with its
        dataset, source department and freshness, in both languages."""
        assessment = run(source, facts)
        explanation = assessment.explanation
        used = {layer for s in assessment.steps for layer in model_rule(s.rule).reads()}
        datasets = {use.layer: use for use in explanation.datasets}
        text_en, text_zh = (
            "\n".join(explanation.lines_en),
            "\n".join(explanation.lines_zh),
        )

        assert {s.rule for s in assessment.steps} <= {u.rule for u in explanation.rules}
        assert used <= set(datasets)
        for name in used:
            use = datasets[name]
            assert use.dataset == layers()[name].dataset
            assert use.department == layers()[name].department
            assert use.updated_at == "2026-07-01T06:00:00+00:00"
            assert use.age_minutes == 120
            assert use.dataset in text_en
            assert use.dataset in text_zh
        for item in assessment.steps:
            assert set(item.layers) <= set(datasets)
            assert item.rule in text_en
            assert item.rule in text_zh
            assert " → ".join(item.paths[0]) in text_en

    def test_given_the_flood_when_explained_then_the_datasets_are_listed(self) -> None:
        """The flood chain reads seven layers of five departments."""
        explanation = run(FLOOD, FLOOD_FACTS).explanation

        assert [(u.layer, u.dataset, u.department) for u in explanation.datasets] == [
            ("feeders", "POWER_FEEDERS", "POWER"),
            ("flood_zones", "WATER_FLOOD_ZONES", "WATER"),
            ("hospitals", "HEALTH_HOSPITAL_BEDS", "HEALTH"),
            ("population_grid", "EMB_POPULATION_GRID", "EMB"),
            ("roads", "TRANSPORT_ROAD_SEGMENTS", "TRANSPORT"),
            ("slopes", "NATRES_LANDSLIDE_SLOPES", "NATRES"),
            ("substations", "POWER_SUBSTATIONS", "POWER"),
            ("water_plants", "WATER_SUPPLY_PLANTS", "WATER"),
        ]
        assert explanation.facts == {"rain_24h_mm": 180, "rain_72h_mm": 210}

    def test_given_naive_freshness_when_assessed_then_refused(self) -> None:
        """Update times must carry a time zone."""
        with pytest.raises(ValidationFailed, match="no time zone"):
            assess(
                FLOOD,
                layers(),
                model(),
                facts=FLOOD_FACTS,
                freshness={"roads": datetime(2026, 7, 1, 6, 0)},  # noqa: DTZ001
            )

    def test_given_no_freshness_when_assessed_then_unknown(self) -> None:
        """A layer without an update time is shown as unknown, not guessed."""
        assessment = assess(SLIDE, layers(), model(), facts=SLIDE_FACTS, freshness={})

        assert {u.updated_at for u in assessment.explanation.datasets} == {None}
        assert "updated unknown" in assessment.explanation.lines_en[-1]


class TestEdges:
    def test_given_an_incident_far_from_everything_when_assessed_then_nothing(
        self,
    ) -> None:
        """Heavy rain over empty hills in the north-east exposes nothing, and says
        which rules were checked."""
        source = IncidentSource("INC-FAR", "11B00", lat=28.45, lon=113.15, radius_km=2)

        assessment = run(source, {"rain_24h_mm": 300, "rain_72h_mm": 300})

        assert assessment.steps == ()
        assert assessment.chains == ()
        assert assessment.departments == ()
        assert {u.rule for u in assessment.explanation.rules} == {
            "heavy_rain_triggers_medium_slopes",
            "rain_floods_low_lying",
            "rain_triggers_landslide",
        }

    def test_given_a_type_no_hazard_enters_when_assessed_then_nothing_evaluated(
        self,
    ) -> None:
        """A disease cluster (13A) starts no cascade of this model."""
        source = replace(FLOOD, type_code="13A00")

        assessment = run(source, FLOOD_FACTS)

        assert assessment.entries == ()
        assert assessment.explanation.rules == ()
        assert "no hazard" in assessment.explanation.lines_en[0]

    def test_given_a_missing_layer_when_assessed_then_a_gap_and_the_rest_runs(
        self,
    ) -> None:
        """Without the feeders the power chain stops; roads are still closed."""
        data = {k: v for k, v in layers().items() if k != "feeders"}

        assessment = run(FLOOD, FLOOD_FACTS, data=data)

        assert "substation_feeders_trip" not in exposed(assessment)
        assert "flood_closes_roads" in exposed(assessment)
        assert assessment.explanation.gaps == (
            "rule substation_feeders_trip not evaluated: no layer feeders",
        )

    def test_given_bad_features_when_assessed_then_skipped_with_gaps(self) -> None:
        """Features without id or geometry, or repeated, are skipped and reported;
        a population that is not a number counts as none."""
        villages = json.loads(json.dumps(layers()["villages"].collection))
        point = {"type": "Point", "coordinates": [112.704, 28.389]}
        villages["features"].extend(
            [
                {
                    "type": "Feature",
                    "geometry": None,
                    "properties": {"village_id": "VIL-X"},
                },
                {"type": "Feature", "geometry": point, "properties": {"name": "?"}},
                villages["features"][0],
                "not a feature",
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": []},
                    "properties": {"village_id": "VIL-EMPTY"},
                },
                {
                    "type": "Feature",
                    "geometry": point,
                    "properties": {"village_id": "VIL-NO-COUNT", "population": "many"},
                },
            ]
        )
        data = {
            **layers(),
            "villages": replace(layers()["villages"], collection=villages),
        }

        assessment = run(SLIDE, SLIDE_FACTS, data=data)

        threatened = step(assessment, "landslide_threatens_villages")
        assert [asset.id for asset in threatened.assets] == [
            "VIL-HUANGNI",
            "VIL-NO-COUNT",
            "VIL-SHIMEN",
        ]
        assert threatened.population == 680
        assert assessment.explanation.gaps == (
            "layer villages: feature 5 has no id or geometry",
            "layer villages: feature 6 has no id or geometry",
            "layer villages: feature 7 has a repeated id",
            "layer villages: feature 8 has no id or geometry",
            "layer villages: feature 9 has no id or geometry",
        )

    def test_given_not_a_feature_collection_when_assessed_then_a_gap(self) -> None:
        """A layer that is not a FeatureCollection gives a gap, not a crash."""
        data = {**layers(), "slopes": replace(layers()["slopes"], collection={})}

        assessment = run(SLIDE, SLIDE_FACTS, data=data)

        assert assessment.steps == ()
        assert "layer slopes is not a GeoJSON FeatureCollection" in (
            assessment.explanation.gaps
        )

    def test_given_an_area_when_assessed_then_it_replaces_the_circle(self) -> None:
        """An incident polygon around the Binjiang lowland only floods that area."""
        ring = [
            [112.905, 28.205],
            [112.915, 28.205],
            [112.915, 28.215],
            [112.905, 28.215],
            [112.905, 28.205],
        ]
        source = replace(FLOOD, area={"type": "Polygon", "coordinates": [ring]})

        assessment = run(source, FLOOD_FACTS)

        assert exposed(assessment)["rain_floods_low_lying"] == ["FZ-BINJIANG"]

    @pytest.mark.parametrize(
        ("source", "message"),
        [
            (replace(FLOOD, type_code="flood"), "not a GB/T 35561 type code"),
            (replace(FLOOD, lat=95.0), "outside WGS 84"),
            (replace(FLOOD, radius_km=0.0), "radius above 0"),
        ],
    )
    def test_given_a_bad_incident_when_assessed_then_refused(
        self, source: IncidentSource, message: str
    ) -> None:
        """The incident's type, position and extent are checked first."""
        with pytest.raises(ValidationFailed, match=message):
            run(source, {})

    def test_given_an_assessment_when_serialised_then_json_and_deterministic(
        self,
    ) -> None:
        """to_dict() is JSON data, with bilingual names, the same on every run."""
        first = run(HAZMAT, HAZMAT_FACTS).to_dict()
        second = run(HAZMAT, HAZMAT_FACTS).to_dict()

        text = json.dumps(first, ensure_ascii=False, sort_keys=True)
        assert text == json.dumps(second, ensure_ascii=False, sort_keys=True)
        assert "steps" not in first
        school = first["chains"][1]["steps"][3]["assets"][0]
        assert school == {
            "id": "SCH-BAISHA-PRIMARY",
            "name_zh": "白沙小学",
            "name_en": "Baisha Primary School",
            "layer": "schools",
            "dataset": "LJ_GOV_SCHOOLS",
            "department": "LJ_GOV",
            "via": ["CP-LJ-CHLOR"],
        }
        assert first["chains"][0]["steps"][0]["hazard_zh"] == "火灾爆炸"

    def test_given_the_model_when_built_then_a_dag_keyed_by_rule(self) -> None:
        """The graph has a node per hazard, an edge per rule, and no cycle."""
        graph = build_graph(model())

        assert set(graph.nodes) == set(model().hazards)
        assert sorted(key for _, _, key in graph.edges(keys=True)) == sorted(
            rule.id for rule in model().rules
        )
        assert nx.is_directed_acyclic_graph(graph)

    def test_given_a_layer_file_outside_the_pack_when_read_then_skipped(
        self, tmp_path: Path
    ) -> None:
        """Layer files resolve inside the pack folder only; owners are required."""
        (tmp_path / "layers").mkdir()
        (tmp_path / "outside.geojson").write_text('{"type": "FeatureCollection"}')
        (tmp_path / "layers" / "roads.geojson").write_text(
            '{"type": "FeatureCollection", "features": []}'
        )
        document = yaml.safe_load((EXAMPLE / "cascades.yaml").read_text("utf-8"))
        document["layers"][1]["file"] = "../outside.geojson"
        parsed = parse_cascades(document)

        found = read_layers(tmp_path / "layers" / "..", parsed, owners=owners())

        assert list(found) == ["roads"]
        with pytest.raises(ValidationFailed, match="no owner department"):
            read_layers(tmp_path, parsed, owners={})
        (tmp_path / "layers" / "roads.geojson").write_text("{not json")
        with pytest.raises(ValidationFailed, match="is not JSON"):
            read_layers(tmp_path, parsed, owners=owners())


class TestLayers:
    def test_given_the_example_layers_when_read_then_small_and_in_the_city(
        self,
    ) -> None:
        """Every layer of the model ships, under 150 KB in all, within ±0.3° of the
        city centre (lon/lat order), each feature with a unique id (also the GeoJSON
        feature id) and only the fields of its dataset."""
        sizes = sum(f.stat().st_size for f in (EXAMPLE / "layers").glob("*.geojson"))
        ids: list[str] = []

        for name, data in layers().items():
            spec = model().layers[name]
            fields = catalogue_fields()[spec.dataset]
            for feature in data.collection["features"]:
                props = feature["properties"]
                ident = props[spec.id_property]
                ids.append(ident)
                assert feature["id"] == ident
                assert set(props) <= fields, (name, ident, set(props) - fields)
                for lon, lat in _points(feature["geometry"]["coordinates"]):
                    assert abs(lon - 112.9) <= 0.3, (name, ident)
                    assert abs(lat - 28.2) <= 0.3, (name, ident)

        assert set(layers()) == set(model().layers)
        assert sizes < 150_000
        assert len(ids) == len(set(ids))

    def test_given_substations_and_feeders_when_compared_then_they_agree(
        self,
    ) -> None:
        """A substation lists exactly the feeders that name it; assets name feeders
        that exist."""
        feeders = layers()["feeders"].collection["features"]
        stations = layers()["substations"].collection["features"]
        known = {f["id"] for f in feeders}

        for station in stations:
            listed = sorted(station["properties"]["feeder_ids"].split(","))
            leaving = sorted(
                f["id"]
                for f in feeders
                if f["properties"]["substation_id"] == station["id"]
            )
            assert listed == leaving
        for name in ("hospitals", "schools", "water_plants"):
            for feature in layers()[name].collection["features"]:
                assert feature["properties"]["feeder_id"] in known


def _points(coordinates: Any) -> list[tuple[float, float]]:
    """Return every position of a GeoJSON coordinates array."""
    if coordinates and isinstance(coordinates[0], int | float):
        return [(coordinates[0], coordinates[1])]
    return [point for item in coordinates for point in _points(item)]


def model_rule(rule_id: str) -> Any:
    """Return a rule of the example model."""
    return next(rule for rule in model().rules if rule.id == rule_id)
