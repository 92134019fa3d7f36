"""Cascade assessment of real incidents on the demo city: the pack's cascade model,
its layers stored as catalogue records by the demo data, and incidents opened and
given facts through the bus (``assess_incident``, as ``muster assess`` calls it).

The expected exposure is that of examples/lanjiang/layers/README.md, example 1
(rainstorm over the city) and example 3 (fire at the Baisha LPG depot).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from importlib.resources import files
from pathlib import Path

import pytest

from muster.bootstrap import Muster
from muster.core.errors import NotFound, PermissionDenied
from muster.core.messages import SYSTEM_ACTOR, Actor
from muster.ingest import queries as ingest
from muster.pack import read_pack
from muster.response.domain.commands import OpenIncident, RecordIncidentFacts
from muster.settings import Settings
from muster.situation.assess_service import assess_incident, current_model
from muster.situation.domain.cascade_events import RegisterCascadeModel
from muster.situation.domain.cascade_results import Assessment
from tests.prepared import prepared_for
from tests.sharing_city import DEMO, START, City, demo_city

EXAMPLE = Path(str(files("muster") / "examples" / "lanjiang"))
CATEGORIES = {"11": "NATURAL_DISASTER", "12": "ACCIDENT_DISASTER"}
FLOOD_AT = (28.21, 112.91)
FLOOD_FACTS = {"rain_24h_mm": 180, "rain_72h_mm": 210, "radius_km": 20}
FLOOD_EXPOSED = {
    "rain_floods_low_lying": [
        "FZ-BINJIANG", "FZ-DONGHU", "FZ-LANXI-OLDTOWN", "FZ-QINGSHAN-UNDERPASS",
        "FZ-S203-K12",
    ],
    "flood_closes_roads": ["BJ-02", "BJ-03", "DH-02", "QS-02", "QS-03", "S203-K12-K15"],
    "flood_reaches_substations": ["SS-BINJIANG"],
    "substation_feeders_trip": ["F-BJ-1", "F-BJ-2", "F-BJ-3"],
    "outage_hospitals_backup": ["H-LJ-FIRST", "H-LJ-MATERNAL"],
    "outage_water_plants": ["WP-LJ-SECOND"],
}  # fmt: skip
FLOOD_LAYERS = {
    "flood_zones": ("WATER_FLOOD_ZONES", "WATER"),
    "population_grid": ("EMB_POPULATION_GRID", "EMB"),
    "roads": ("TRANSPORT_ROAD_SEGMENTS", "TRANSPORT"),
    "substations": ("POWER_SUBSTATIONS", "POWER"),
    "feeders": ("POWER_FEEDERS", "POWER"),
    "hospitals": ("HEALTH_HOSPITAL_BEDS", "HEALTH"),
    "water_plants": ("WATER_SUPPLY_PLANTS", "WATER"),
    "slopes": ("NATRES_LANDSLIDE_SLOPES", "NATRES"),
}


prepared = prepared_for("city", DEMO)  # the demo city, loaded once


@pytest.fixture
def city(settings: Settings) -> Iterator[City]:
    """The demo city: pack, demo data and layers loaded at START."""
    built = demo_city(settings)
    yield built
    built.muster.engine.dispose()


def open_incident(
    city: City, at: tuple[float, float], type_code: str, facts: dict[str, object]
) -> str:
    """Open an incident as the commander and record its facts."""
    incident = str(
        city.muster.bus.handle(
            OpenIncident(title="研判", category=CATEGORIES[type_code[:2]],
                         latitude=at[0], longitude=at[1], type_code=type_code),
            city.commander,
        )
    )  # fmt: skip
    city.muster.bus.handle(
        RecordIncidentFacts(incident_id=incident, facts=facts), city.commander
    )
    return incident


def assessed(city: City, incident: str) -> Assessment:
    """Assess an incident an hour after the data was loaded."""
    city.clock.advance(timedelta(hours=1))
    with city.muster.engine.connect() as conn:
        return assess_incident(conn, incident, now=city.clock.now())


def exposed(assessment: Assessment) -> dict[str, list[str]]:
    """Return the sorted asset ids of each rule that fired."""
    return {s.rule: sorted(a.id for a in s.assets) for s in assessment.steps}


def test_given_the_demo_city_when_loaded_then_layers_are_records_with_geometry(
    city: City,
) -> None:
    """Each layer file is stored as its dataset's records: fields and geometry."""
    with city.muster.engine.connect() as conn:
        model = current_model(conn)
        hospitals = ingest.list_records(conn, "HEALTH_HOSPITAL_BEDS")
        cells = ingest.count_stored(conn, "EMB_POPULATION_GRID")

    assert model is not None
    assert len(model.layers) == 11
    assert cells == 144
    first = next(r for r in hospitals if r.values["hospital_id"] == "H-LJ-FIRST")
    assert first.values["feeder_id"] == "F-BJ-1"
    assert first.values["name_en"] == "Lanjiang First People's Hospital"
    assert first.geometry == {"type": "Point", "coordinates": [112.915, 28.225]}


def test_given_a_city_flood_when_assessed_then_the_chain_and_its_sources(
    city: City,
) -> None:
    """A rainstorm incident (11B00) with 180 mm in 24 h floods five low-lying areas,
    closes six roads, floods one substation and cuts three feeders, two hospitals
    and a waterworks; every rule and dataset read is named, with its owner and age."""
    incident = open_incident(city, FLOOD_AT, "11B00", FLOOD_FACTS)

    assessment = assessed(city, incident)

    assert exposed(assessment) == FLOOD_EXPOSED
    explanation = assessment.explanation
    assert {use.rule for use in explanation.rules} == {
        *FLOOD_EXPOSED, "rain_triggers_landslide", "heavy_rain_triggers_medium_slopes",
    }  # fmt: skip
    used = {d.layer: (d.dataset, d.department) for d in explanation.datasets}
    assert used == FLOOD_LAYERS
    assert {d.age_minutes for d in explanation.datasets} == {60}
    assert {d.updated_at for d in explanation.datasets} == {START.isoformat()}
    assert explanation.gaps == ()
    assert explanation.facts == {"rain_24h_mm": 180, "rain_72h_mm": 210}
    roles = {d.department: d.roles for d in assessment.departments}
    assert roles["HEALTH"] == ("lead", "task", "asset_owner")
    assert json.loads(json.dumps(assessment.to_dict()))["incident"]["id"] == incident


def test_given_a_fire_with_text_facts_when_assessed_then_fire_and_leak_chains(
    city: City,
) -> None:
    """An accident at the LPG depot (12A00) with the facts fire and leak recorded as
    text (是, yes) sets the depot on fire, the chlorine plant leaking, and shelters
    the school downwind."""
    facts = {"fire": "是", "leak": "yes", "wind_from_deg": 225, "radius_km": 1}
    incident = open_incident(city, (28.124, 112.996), "12A00", facts)

    found = exposed(assessed(city, incident))

    assert found["plant_fire"] == ["CP-BS-LPG"]
    assert found["plant_toxic_release"] == ["CP-LJ-CHLOR"]
    assert found["leak_schools_shelter"] == ["SCH-BAISHA-PRIMARY"]
    assert found["leak_receiving_hospitals"] == ["H-BAISHA"]


def test_given_a_layer_on_personal_data_when_assessed_then_it_is_not_read(
    city: City,
) -> None:
    """A model whose village layer points at the PSB register (personal fields) gets
    a gap naming those fields, and the rules on that layer are not evaluated."""
    with city.muster.engine.connect() as conn:
        row = conn.exec_driver_sql("SELECT document FROM situation_cascade_model")
        document = json.loads(row.scalar_one())
    for layer in document["layers"]:
        if layer["name"] == "villages":
            layer["dataset"] = "PSB_VULNERABLE_RESIDENTS"
    city.muster.bus.handle(RegisterCascadeModel(document=document), SYSTEM_ACTOR)
    slide = {"rain_72h_mm": 160, "radius_km": 10}
    incident = open_incident(city, (28.37, 112.72), "11B00", slide)

    assessment = assessed(city, incident)

    gaps = assessment.explanation.gaps
    assert gaps[0].startswith(
        "layer villages: dataset PSB_VULNERABLE_RESIDENTS has personal fields ("
    )
    assert "rule landslide_threatens_villages not evaluated: no layer villages" in gaps
    assert "landslide_blocks_roads" in exposed(assessment)


def test_given_only_a_category_when_assessed_then_no_hazard_starts(city: City) -> None:
    """An incident opened with its category only (type 11000) enters no hazard of
    the model, so nothing follows; an unknown incident is not found."""
    untyped = str(
        city.muster.bus.handle(
            OpenIncident(title="未分类", category="NATURAL_DISASTER",
                         latitude=28.2, longitude=112.9),
            city.commander,
        )
    )  # fmt: skip

    assessment = assessed(city, untyped)

    assert (assessment.incident.type_code, assessment.entries) == ("11000", ())
    assert assessment.chains == ()
    assert "no hazard" in assessment.explanation.lines_en[0]
    with (
        city.muster.engine.connect() as conn,
        pytest.raises(NotFound, match="no incident"),
    ):
        assess_incident(conn, "nope", now=START)


def test_given_no_cascade_model_when_assessed_then_not_found(muster: Muster) -> None:
    """A deployment whose pack has no cascades.yaml has nothing to assess with."""
    with muster.engine.connect() as conn, pytest.raises(NotFound, match="cascade"):
        assess_incident(conn, "any", now=START)


def test_given_a_commander_when_setting_the_model_then_refused(muster: Muster) -> None:
    """Only an administrator (or Muster itself, loading a pack) sets the model."""
    commander = Actor(kind="user", id="c", department="EMB",
                      roles=frozenset({"commander"}))  # fmt: skip
    document = read_pack(EXAMPLE).cascades
    assert document is not None

    with pytest.raises(PermissionDenied, match="admin role"):
        muster.bus.handle(RegisterCascadeModel(document=document), commander)
    with muster.engine.connect() as conn:
        assert current_model(conn) is None
