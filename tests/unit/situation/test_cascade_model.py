"""parse_cascades: the hazard-chain model of a pack, and the clear errors it gives.

Pure: no geometry. The example pack's cascades.yaml parses and matches its JSON
Schema; each rule of the module docstring (acyclic, reachable, known references,
well-formed conditions and relations) has a test that names the offending path.
"""

from __future__ import annotations

import copy
import json
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from muster.core.errors import ValidationFailed
from muster.situation.domain.cascade_model import (
    AnyOf,
    CascadeModel,
    Condition,
    Hazard,
    Relation,
    compare,
)
from muster.situation.domain.cascade_parse import (
    CascadeProblem,
    CascadesInvalid,
    parse_cascades,
)

EXAMPLE = Path(str(files("muster") / "examples" / "lanjiang"))
SCHEMA = json.loads(
    (files("muster.pack") / "schemas" / "cascades.schema.json").read_text("utf-8")
)


def example() -> dict[str, Any]:
    """Return the example pack's cascades.yaml as data."""
    data: dict[str, Any] = yaml.safe_load(
        (EXAMPLE / "cascades.yaml").read_text(encoding="utf-8")
    )
    return data


def departments() -> set[str]:
    """Return the department codes of the example pack."""
    data = yaml.safe_load((EXAMPLE / "departments.yaml").read_text(encoding="utf-8"))
    return {item["code"] for item in data["departments"]}


def small(**changes: Any) -> dict[str, Any]:
    """Return a minimal valid document (rain -> flood -> road_closure), changed."""
    document: dict[str, Any] = {
        "layers": [
            {
                "name": "zones",
                "dataset": "WATER_ZONES",
                "geometry": "Polygon",
                "name_zh": "易涝区",
                "name_en": "Flood zones",
            },
            {
                "name": "roads",
                "dataset": "ROADS",
                "geometry": "LineString",
                "name_zh": "道路",
                "name_en": "Roads",
            },
        ],
        "hazards": [
            {
                "id": "rain",
                "name_zh": "降雨",
                "name_en": "Rain",
                "entry_types": ["11B00"],
            },
            {"id": "flood", "name_zh": "内涝", "name_en": "Flood"},
            {"id": "road_closure", "name_zh": "封路", "name_en": "Road closed"},
        ],
        "rules": [
            {
                "id": "rain_floods",
                "from": "rain",
                "to": "flood",
                "name_zh": "积水",
                "name_en": "Ponding",
                "layers": ["zones"],
                "relation": {"type": "intersects"},
                "department": "WATER",
                "when": [{"property": "trigger_mm", "op": "lte", "fact": "rain_mm"}],
            },
            {
                "id": "flood_closes",
                "from": "flood",
                "to": "road_closure",
                "name_zh": "封路",
                "name_en": "Close",
                "layers": ["roads"],
                "relation": {"type": "intersects"},
                "department": "TRANSPORT",
                "when": [{"source": "depth_m", "op": "gte", "value": 0.3}],
            },
        ],
    }
    document.update(changes)
    return document


def rule_with(**changes: Any) -> dict[str, Any]:
    """Return the small document with its second rule changed."""
    document = small()
    document["rules"][1] = {**document["rules"][1], **changes}
    return document


def problems(document: object, **options: Any) -> list[str]:
    """Return the problems parse_cascades reports, as text."""
    with pytest.raises(CascadesInvalid) as refused:
        parse_cascades(document, **options)  # type: ignore[arg-type]
    return [str(problem) for problem in refused.value.problems]


class TestExample:
    def test_given_the_example_pack_when_parsed_then_every_chain_is_there(
        self,
    ) -> None:
        """The example holds the three chains: flood, landslide, hazardous chemicals."""
        model = parse_cascades(example(), departments=departments())

        assert len(model.rules) == 16
        assert model.entries("11B01") == ("rainstorm",)
        assert model.entries("11A51") == ("rainstorm",)
        assert model.entries("11D00") == ("landslide",)
        assert model.entries("12A00") == ("hazmat_accident",)
        assert model.entries("13A00") == ()
        assert [r.id for r in model.rules_from("power_outage")] == [
            "outage_hospitals_backup",
            "outage_water_plants",
        ]

    def test_given_the_example_when_checked_against_the_schema_then_valid(
        self,
    ) -> None:
        """The shipped cascades.yaml matches cascades.schema.json."""
        Draft202012Validator.check_schema(SCHEMA)

        errors = list(Draft202012Validator(SCHEMA).iter_errors(example()))

        assert [error.message for error in errors] == []

    def test_given_the_example_when_tasks_name_plans_then_those_tasks_exist(
        self,
    ) -> None:
        """Every plan task a rule points at is a task of that plan in plans/."""
        model = parse_cascades(example())
        keys: dict[str, set[str]] = {}
        for path in (EXAMPLE / "plans").glob("*.yaml"):
            plan = yaml.safe_load(path.read_text(encoding="utf-8"))
            keys[plan["code"]] = {
                task["key"]
                for level in plan["levels"]
                for task in level.get("tasks", [])
            }

        pointed = [
            (t.plan, t.plan_task) for r in model.rules for t in r.tasks if t.plan
        ]

        assert pointed
        assert all(task in keys[str(plan)] for plan, task in pointed)

    def test_given_a_rule_when_read_then_its_layers_and_facts_are_listed(self) -> None:
        """reads() adds the population layer; facts_read() the facts and the wind."""
        model = parse_cascades(example())
        rules = {rule.id: rule for rule in model.rules}

        assert rules["rain_floods_low_lying"].reads() == (
            "flood_zones",
            "population_grid",
        )
        assert rules["rain_floods_low_lying"].facts_read() == ("rain_24h_mm",)
        assert rules["plant_toxic_release"].facts_read() == ("fire", "leak")
        assert rules["leak_downwind_evacuation"].facts_read() == ("wind_from_deg",)


class TestGraphProblems:
    def test_given_a_rule_from_an_unknown_hazard_when_parsed_then_named(self) -> None:
        """An unknown hazard is reported at rules[i].from with the known ones."""
        found = problems(rule_with(**{"from": "flod"}))

        assert found == [
            "rules[1].from: unknown hazard 'flod'; known: flood, rain, road_closure"
        ]

    def test_given_rules_in_a_cycle_when_parsed_then_the_cycle_is_named(self) -> None:
        """Cycles are refused, naming the hazards and rules along them."""
        document = small()
        document["rules"].append(
            {
                **document["rules"][1],
                "id": "closure_floods",
                "from": "road_closure",
                "to": "flood",
            }
        )

        found = problems(document)

        assert len(found) == 1
        assert "cycle flood -> road_closure -> flood" in found[0] or (
            "cycle road_closure -> flood -> road_closure" in found[0]
        )
        assert "rules closure_floods, flood_closes" in found[0]

    def test_given_a_rule_to_itself_when_parsed_then_refused(self) -> None:
        """A self-loop is a cycle too, reported at the rule."""
        found = problems(rule_with(to="flood"))

        assert "rules[1].to: a rule may not lead from 'flood' back to itself" in found

    def test_given_a_hazard_nothing_reaches_when_parsed_then_reported(self) -> None:
        """A hazard that is no entry and no rule's target can never be reached."""
        document = small()
        document["hazards"].append(
            {"id": "orphan", "name_zh": "孤", "name_en": "Orphan"}
        )

        assert problems(document) == [
            "hazards[3].id: hazard 'orphan' is no entry and no rule leads to it"
        ]

    def test_given_no_entry_hazard_when_parsed_then_reported(self) -> None:
        """Without entry types no incident could start a cascade."""
        document = small()
        del document["hazards"][0]["entry_types"]

        found = problems(document)

        assert (
            "hazards: no hazard has entry_types, so no incident starts a cascade"
            in (found)
        )

    def test_given_repeated_ids_when_parsed_then_each_repeat_is_named(self) -> None:
        """Rule ids, hazard ids, layer names and task keys are unique."""
        document = small()
        document["rules"].append(copy.deepcopy(document["rules"][1]))
        document["rules"][0]["tasks"] = [
            {
                "key": "patrol",
                "title_zh": "巡查",
                "title_en": "Patrol",
                "department": "WATER",
            }
        ] * 2

        found = problems(document)

        assert "rules[2].id: repeats id 'flood_closes'" in found
        assert "rules[0].tasks[1].key: repeats task key 'patrol'" in found


class TestReferenceProblems:
    def test_given_an_unknown_layer_when_parsed_then_named_with_the_declared(
        self,
    ) -> None:
        """A rule may read only declared layers."""
        found = problems(rule_with(layers=["road"]))

        assert found == [
            "rules[1].layers[0]: unknown layer 'road'; known: roads, zones"
        ]

    def test_given_departments_when_a_code_is_unknown_then_reported(self) -> None:
        """With the pack's departments, unknown leads, supporters, task owners fail."""
        document = rule_with(
            department="TRAFFIC",
            supporting=["PSB", "POLICE"],
            tasks=[
                {
                    "key": "close",
                    "title_zh": "封",
                    "title_en": "Close",
                    "department": "ROADS",
                }
            ],
        )

        found = problems(document, departments={"WATER", "TRANSPORT", "PSB"})

        assert "rules[1].department: unknown department 'TRAFFIC'" in " | ".join(found)
        assert any(
            p.startswith("rules[1].supporting[1]: unknown department 'POLICE'")
            for p in found
        )
        assert any(
            p.startswith("rules[1].tasks[0].department: unknown department")
            for p in found
        )

    def test_given_datasets_when_a_layer_names_an_unknown_one_then_reported(
        self,
    ) -> None:
        """With the catalogue's codes, a layer's dataset must be one of them."""
        found = problems(small(), datasets={"ROADS"})

        assert found == [
            "layers[0].dataset: unknown dataset 'WATER_ZONES'; known: ROADS"
        ]

    def test_given_an_overlay_on_lines_when_parsed_then_refused(self) -> None:
        """A population overlay needs Polygon layers on both sides."""
        found = problems(rule_with(population={"layer": "zones"}))

        assert found == [
            "rules[1].population.layer: an overlay needs Polygon layers, not roads"
        ]

    def test_given_an_overlay_on_an_unknown_layer_when_parsed_then_refused(
        self,
    ) -> None:
        """The overlay layer must be declared too."""
        document = small()
        document["rules"][0]["population"] = {"layer": "grid"}

        assert problems(document) == [
            "rules[0].population.layer: unknown layer 'grid'; known: roads, zones"
        ]


class TestShapeProblems:
    @pytest.mark.parametrize(
        ("condition", "message"),
        [
            (
                {"property": "a", "source": "b", "op": "eq", "value": 1},
                "name one of fact, property or source",
            ),
            (
                {"property": "a", "op": "eq", "value": 1, "fact": "rain"},
                "give exactly one of value or fact",
            ),
            ({"fact": "rain", "op": "gte"}, "give exactly one of value or fact"),
            ({"op": "eq", "value": 1}, "name one of fact, property or source"),
            (
                {"property": "a", "op": "in", "value": "high"},
                "value: 'in' needs a non-empty list of values",
            ),
            (
                {"property": "a", "op": "gte", "value": "deep"},
                "value: 'gte' needs a number",
            ),
            (
                {"property": "a", "op": "eq", "value": {"x": 1}},
                "value: 'eq' needs a string, number or bool",
            ),
            ({"property": "a", "op": "like", "value": 1}, "op: 'like' is not one of"),
            ("depth >= 0.3", "expected a mapping"),
        ],
    )
    def test_given_a_malformed_condition_when_parsed_then_its_path_is_named(
        self, condition: object, message: str
    ) -> None:
        """Each malformed condition is reported at rules[1].when[0]."""
        found = problems(rule_with(when=[condition]))

        assert any(p.startswith("rules[1].when[0]") and message in p for p in found), (
            found
        )

    def test_given_an_any_group_of_one_when_parsed_then_refused(self) -> None:
        """An any-group needs at least two alternatives."""
        document = rule_with(
            when=[{"any": [{"fact": "fire", "op": "eq", "value": True}]}]
        )

        assert problems(document) == [
            "rules[1].when[0].any: expected at least two conditions"
        ]

    @pytest.mark.parametrize(
        ("relation", "message"),
        [
            ({"type": "within_km"}, "rules[1].relation.km: is required"),
            ({"type": "downwind", "km": -1}, "rules[1].relation.km: expected a number"),
            ({"type": "key"}, "rules[1].relation.property: is required"),
            ({"type": "near"}, "rules[1].relation.type: 'near' is not one of"),
            (
                {"type": "downwind", "km": 3, "half_angle_deg": 270},
                "rules[1].relation.half_angle_deg: expected a number above 0",
            ),
            (None, "rules[1].relation: expected a mapping"),
        ],
    )
    def test_given_a_malformed_relation_when_parsed_then_named(
        self, relation: object, message: str
    ) -> None:
        """A relation's type needs its parameters."""
        found = problems(rule_with(relation=relation))

        assert any(p.startswith(message) for p in found), found

    def test_given_malformed_sections_when_parsed_then_each_is_named(self) -> None:
        """Missing strings, bad names and unquoted numeric codes are reported."""
        document = small()
        document["hazards"][0]["entry_types"] = [12000]
        document["layers"][0]["geometry"] = "Circle"
        document["layers"][1]["name"] = "Roads"
        del document["rules"][0]["name_en"]
        document["rules"][1]["layers"] = []

        found = problems(document)

        assert "hazards[0].entry_types[0]: 12000 is not a valid GB/T 35561 code" in (
            " | ".join(found)
        )
        assert any(
            p.startswith("layers[0].geometry: 'Circle' is not one of") for p in found
        )
        assert any(
            p.startswith("layers[1].name: 'Roads' is not a valid name") for p in found
        )
        assert "rules[0].name_en: is required" in found
        assert "rules[1].layers: expected a non-empty list" in found

    @pytest.mark.parametrize("document", [[], "cascades", None])
    def test_given_no_mapping_when_parsed_then_refused(self, document: object) -> None:
        """A document that is not a mapping is refused, not crashed on."""
        found = problems(document)

        assert found[0] == "expected a mapping"
        assert "layers: expected a non-empty list" in found

    def test_given_problems_when_refused_then_the_error_is_a_validation_error(
        self,
    ) -> None:
        """CascadesInvalid is a ValidationFailed whose message lists the problems."""
        with pytest.raises(ValidationFailed) as refused:
            parse_cascades(rule_with(to="nowhere"))

        assert isinstance(refused.value, CascadesInvalid)
        assert refused.value.code == "cascades_invalid"
        assert "rules[1].to: unknown hazard 'nowhere'" in refused.value.message
        assert refused.value.problems[0].path == ("rules", 1, "to")
        assert str(CascadeProblem((), "empty")) == "empty"


class TestConditions:
    @pytest.mark.parametrize(
        ("op", "left", "right", "expected"),
        [
            ("eq", True, True, True),
            ("eq", 1, True, False),
            ("eq", "1", 1, False),
            ("eq", 1, 1.0, True),
            ("ne", "high", "low", True),
            ("ne", "high", 3, False),
            ("in", "high", ("high", "very_high"), True),
            ("in", 1, (True,), False),
            ("in", "high", "high", False),
            ("gte", 0.3, 0.3, True),
            ("gt", 0.3, 0.3, False),
            ("lte", 80, 180, True),
            ("lt", 180, 80, False),
            ("gte", "0.5", 0.3, False),
            ("gte", True, 0, False),
            ("gte", None, 0, False),
            ("eq", "x", None, False),
            ("like", 1, 1, False),
        ],
    )
    def test_given_two_values_when_compared_then_types_are_respected(
        self, op: str, left: object, right: object, expected: bool
    ) -> None:
        """Missing values and bool/number/str mixes never match."""
        assert compare(op, left, right) is expected

    @settings(deadline=None)
    @given(st.floats(allow_nan=False), st.floats(allow_nan=False))
    def test_given_numbers_when_compared_then_gte_is_not_lt(
        self, left: float, right: float
    ) -> None:
        """For numbers gte and lt are complements, as are lte and gt."""
        assert compare("gte", left, right) is not compare("lt", left, right)
        assert compare("lte", left, right) is not compare("gt", left, right)

    def test_given_a_condition_on_a_fact_when_held_then_the_fact_is_read(self) -> None:
        """A property may be compared with a fact; any-of holds if one part does."""
        trigger = Condition("property", "trigger_mm", "lte", fact="rain_mm")
        fire = Condition("fact", "fire", "eq", True)
        leak = Condition("fact", "leak", "eq", True)
        group = AnyOf((fire, leak))
        scope = {
            "fact": {"rain_mm": 120, "leak": True},
            "property": {"trigger_mm": 80},
            "source": {},
        }

        assert trigger.holds(scope)
        assert not trigger.holds({**scope, "fact": {"rain_mm": 60}})
        assert group.holds(scope)
        assert not group.holds({**scope, "fact": {}})
        assert trigger.facts_read() == ("rain_mm",)
        assert group.facts_read() == ("fire", "leak")
        assert trigger.describe() == "property trigger_mm lte fact rain_mm"
        assert group.describe() == "(fact fire eq True or fact leak eq True)"

    @pytest.mark.parametrize(
        ("relation", "text"),
        [
            (Relation("intersects"), "intersects"),
            (Relation("within_km", km=0.5), "within_km 0.5"),
            (Relation("key", property="feeder"), "key feeder = source id"),
            (
                Relation("downwind", km=3, isolation_km=0.5),
                "downwind 3 km ±30° (wind from fact wind_from_deg; 0.5 km all round)",
            ),
        ],
    )
    def test_given_a_relation_when_described_then_readable(
        self, relation: Relation, text: str
    ) -> None:
        """Explanations show each relation with its parameters."""
        assert relation.describe() == text

    def test_given_entry_types_when_a_type_is_tested_then_zeros_are_wildcards(
        self,
    ) -> None:
        """11A00 covers 11A51 but not 11B01; 12000 covers every accident."""
        flood = Hazard("flood", "洪水", "Flood", ("11A00",))
        accident = Hazard("accident", "事故", "Accident", ("12000",))
        model = CascadeModel({"flood": flood, "accident": accident}, {}, ())

        assert flood.enters("11A51")
        assert not flood.enters("11B01")
        assert accident.enters("12B03")
        assert model.entries("12C01") == ("accident",)
