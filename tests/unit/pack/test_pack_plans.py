"""Reading plans/*.yaml and escalation.yaml: schemas, lines, the example plans."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from muster.core.errors import PackInvalid, PackProblem
from muster.pack import check_pack, read_pack
from muster.pack.model import DEFAULT_CHAIN, EscalationSpec, EscalationStepSpec, Role
from muster.response.domain.escalation import NOTIFIABLE_ROLES, chain_from_data
from muster.response.domain.plans import (
    COMMAND_ROLES,
    CONDITION_OPS,
    DecisionRule,
    ResponseLevel,
    plan_from_document,
)

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
  - {code: GOV, name_zh: 市政府, name_en: City Government, type: government}
  - {code: EMB, name_zh: 应急局, name_en: Emergency, type: emergency_management}
  - {code: WATER, name_zh: 水利局, name_en: Water, type: water_resources}
"""
# Line numbers matter: levels[0] starts on line 7, its task on line 10.
PLAN = """\
code: FLOOD
version: 2
name_zh: 内涝预案
name_en: Flood plan
categories: ['11A00', '11B00']
levels:
  - level: L4
    lead_department: WATER
    tasks:
      - key: patrol
        title_zh: 巡查易涝点
        title_en: Patrol flood-prone spots
        lead_department: WATER
        due_minutes: 60
"""
ESCALATION = """\
default:
  steps:
    - {after_minutes: 0, notify: duty_officer}
    - {after_minutes: 10, notify: head}
departments:
  WATER:
    steps:
      - {after_minutes: 0, notify: duty_officer}
      - {after_minutes: 5, notify: commander}
    repeat: 2
    repeat_after: 5
"""


def write_pack(
    root: Path,
    *,
    plans: dict[str, str] | None = None,
    escalation: str | None = None,
    extra: dict[str, str] | None = None,
) -> Path:
    """Write a small valid pack with these plan files (name -> text) and chains."""
    root.mkdir(parents=True, exist_ok=True)
    texts = {"region.yaml": REGION, "departments.yaml": DEPARTMENTS, **(extra or {})}
    if escalation is not None:
        texts["escalation.yaml"] = escalation
    for name, text in (plans or {}).items():
        texts[f"plans/{name}"] = text
    for name, text in texts.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def problems_of(root: Path) -> list[PackProblem]:
    """Read the pack expecting failure; return its problems."""
    with pytest.raises(PackInvalid) as caught:
        read_pack(root)
    return caught.value.problems


def only_problem(root: Path) -> PackProblem:
    """Read the pack expecting exactly one problem; return it."""
    problems = problems_of(root)
    assert len(problems) == 1, problems
    return problems[0]


def schema(name: str) -> dict[str, Any]:
    """Return a packaged schema."""
    text = (files("muster.pack") / "schemas" / name).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


class TestSchemas:
    def test_plan_schema_is_valid_and_matches_the_domain(self) -> None:
        """plans.schema.json is valid 2020-12 and lists the domain's enums."""
        plans = schema("plans.schema.json")
        defs = plans["$defs"]

        Draft202012Validator.check_schema(plans)

        assert defs["level_code"]["enum"] == [level.value for level in ResponseLevel]
        assert defs["condition"]["properties"]["op"]["enum"] == list(CONDITION_OPS)
        roles = defs["level"]["properties"]["command_roles"]["properties"]
        assert tuple(roles) == COMMAND_ROLES
        rules = defs["decision"]["properties"]["rule"]["enum"]
        assert rules == [rule.value for rule in DecisionRule]

    def test_escalation_schema_is_valid_and_matches_the_domain(self) -> None:
        """escalation.schema.json is valid and its roles are the notifiable ones."""
        escalation = schema("escalation.schema.json")

        Draft202012Validator.check_schema(escalation)

        notify = escalation["$defs"]["step"]["properties"]["notify"]["enum"]
        assert tuple(notify) == NOTIFIABLE_ROLES
        assert set(notify) <= {role.value for role in Role}


class TestExamplePlans:
    def test_example_plans_and_chains_pass_every_check(self) -> None:
        """Lanjiang has four plans, a default chain and two faster chains."""
        checked = check_pack(EXAMPLE)

        assert checked.problems == []
        assert checked.pack is not None
        codes = [plan["code"] for plan in checked.pack.plans]
        assert codes == [
            "DISEASE_CLUSTER",
            "FLOOD_URBAN",
            "GEO_LANDSLIDE",
            "HAZMAT_ROAD",
        ]
        chains = [chain.department for chain in checked.pack.escalation]
        assert chains == [DEFAULT_CHAIN, "FIRE", "TRANSPORT"]

    def test_every_example_plan_reads_into_the_domain(self) -> None:
        """plan_from_document reads each example plan; chains build too."""
        pack = read_pack(EXAMPLE)

        plans = [plan_from_document(document) for document in pack.plans]
        for chain in pack.escalation:
            steps = [
                {"after_minutes": s.after_minutes, "notify": s.notify}
                for s in chain.steps
            ]
            chain_from_data(chain.department, steps, chain.repeat, chain.repeat_after)

        assert all(plan.levels for plan in plans)
        assert {code for plan in plans for code in plan.categories} >= {
            "11A00", "11B00", "11D00", "12B00", "12G00", "13A00"
        }  # fmt: skip

    def test_flood_plan_has_the_leads_tasks_and_decision_of_the_issue(self) -> None:
        """Flood: WATER leads IV/III, EMB II, LJ_GOV I; S203 closure; joint decision."""
        pack = read_pack(EXAMPLE)
        flood = plan_from_document(
            next(p for p in pack.plans if p.get("code") == "FLOOD_URBAN")
        )

        leads = [flood.lead_at(level) for level in ResponseLevel]
        tasks = {task.key: task for task in flood.tasks_up_to(ResponseLevel.L1)}
        level_3 = flood.level(ResponseLevel.L3)
        level_4 = flood.level(ResponseLevel.L4)

        assert leads == ["WATER", "WATER", "EMB", "LJ_GOV"]
        road = tasks["close_road_s203"]
        assert (road.lead_department, road.ack_minutes) == ("TRANSPORT", 15)
        assert "S203" in road.title_en
        assert tasks["hospital_power_check"].supporting_departments == ("POWER",)
        assert level_3 is not None
        assert level_4 is not None
        (decision,) = level_3.decisions
        assert set(decision.departments) == {"EMB", "WATER", "MET", "TRANSPORT"}
        assert decision.raises_to is ResponseLevel.L2
        assert decision.rule in (DecisionRule.ALL, DecisionRule.VETO)
        (report,) = level_4.reports
        assert (report.recipient, report.initial_minutes) == ("LJ_GOV", 30)
        assert report.follow_up_minutes == 120

    def test_disease_reports_are_due_within_two_hours(self) -> None:
        """Public-health reports are due within 2 h (glossary §6)."""
        pack = read_pack(EXAMPLE)
        disease = plan_from_document(
            next(p for p in pack.plans if p.get("code") == "DISEASE_CLUSTER")
        )

        reports = [report for level in disease.levels for report in level.reports]

        assert reports
        assert all(report.initial_minutes <= 120 for report in reports)
        assert disease.lead_at(ResponseLevel.L4) == "HEALTH"

    def test_several_departments_have_a_head(self) -> None:
        """The demo users include department heads for escalation."""
        pack = read_pack(EXAMPLE)

        heads = {user.department for user in pack.users if Role.HEAD in user.roles}

        assert {"EMB", "WATER", "TRANSPORT", "FIRE"} <= heads


class TestReadingPlans:
    def test_plans_folder_is_optional(self, tmp_path: Path) -> None:
        """A pack without plans/ or escalation.yaml has neither."""
        root = write_pack(tmp_path)

        pack = read_pack(root)

        assert pack.plans == ()
        assert pack.escalation == ()

    def test_plan_files_are_read_in_name_order_as_documents(
        self, tmp_path: Path
    ) -> None:
        """Each plans/*.yaml becomes one document, exactly as written."""
        second = PLAN.replace("code: FLOOD", "code: ANOTHER").replace(
            "['11A00', '11B00']", "['12B00']"
        )
        root = write_pack(
            tmp_path,
            plans={"FLOOD.yaml": PLAN, "ANOTHER.yaml": second, "README.md": "# notes"},
        )

        checked = check_pack(root)

        assert checked.pack is not None
        assert [plan["code"] for plan in checked.pack.plans] == ["ANOTHER", "FLOOD"]
        assert checked.pack.plans[1]["levels"][0]["tasks"][0]["due_minutes"] == 60
        assert checked.plan_files == 2

    def test_schema_error_names_plan_file_field_and_line(self, tmp_path: Path) -> None:
        """A wrong level code is reported in plans/FLOOD.yaml at its line."""
        text = PLAN.replace("level: L4", "level: IV")
        root = write_pack(tmp_path, plans={"FLOOD.yaml": text})

        problem = only_problem(root)

        assert (problem.file, problem.line) == ("plans/FLOOD.yaml", 7)
        assert problem.message.startswith("levels[0].level: 'IV' is not one of")

    def test_unknown_field_points_at_its_key(self, tmp_path: Path) -> None:
        """A misspelt task field is reported at its own line, with the allowed ones."""
        text = PLAN.replace("due_minutes: 60", "due_in: 60")
        root = write_pack(tmp_path, plans={"FLOOD.yaml": text})

        problems = problems_of(root)

        assert [(p.line, p.message.split(":")[0]) for p in problems] == [
            (10, "levels[0].tasks[0].due_minutes"),
            (14, "levels[0].tasks[0].due_in"),
        ]

    def test_unquoted_numeric_category_gets_a_hint(self, tmp_path: Path) -> None:
        """YAML reads 12000 as a number; the problem says to quote it."""
        text = PLAN.replace("['11A00', '11B00']", "[12000]")
        root = write_pack(tmp_path, plans={"FLOOD.yaml": text})

        problem = only_problem(root)

        assert problem.line == 5
        assert "write '12000'" in problem.message

    def test_condition_value_must_suit_its_operator(self, tmp_path: Path) -> None:
        """gte needs a number and in needs a list."""
        text = PLAN.replace(
            "    lead_department: WATER\n    tasks:",
            "    activation:\n"
            "      - {attribute: rain_24h_mm, op: gte, value: lots}\n"
            "      - {attribute: warning_level, op: in, value: RED}\n"
            "    lead_department: WATER\n    tasks:",
        )
        root = write_pack(tmp_path, plans={"FLOOD.yaml": text})

        problems = problems_of(root)

        assert [(p.line, p.message.split(":")[0]) for p in problems] == [
            (9, "levels[0].activation[0].value"),
            (10, "levels[0].activation[1].value"),
        ]

    def test_plan_rules_block_the_pack(self, tmp_path: Path) -> None:
        """A plan naming an unknown department fails read_pack at its line."""
        text = PLAN.replace("WATER\n        due", "FIRE\n        due")
        root = write_pack(tmp_path, plans={"FLOOD.yaml": text})

        problem = only_problem(root)

        assert (problem.file, problem.line) == ("plans/FLOOD.yaml", 13)
        assert "unknown department 'FIRE'" in problem.message

    def test_granted_datasets_must_be_in_the_catalogue(self, tmp_path: Path) -> None:
        """grants name datasets of datasets.yaml; without that file none exist."""
        text = PLAN + "    grants: [RAIN_GAUGES]\n"
        root = write_pack(tmp_path, plans={"FLOOD.yaml": text})

        problem = only_problem(root)

        assert problem.line == 15
        assert problem.message == (
            "levels[0].grants[0]: unknown dataset 'RAIN_GAUGES' (not in datasets.yaml)"
        )

    def test_plans_yaml_and_yml_files_are_not_silently_ignored(
        self, tmp_path: Path
    ) -> None:
        """A plans.yaml or plans/*.yml would be skipped, so each is a problem."""
        root = write_pack(
            tmp_path, plans={"FLOOD.yml": PLAN}, extra={"plans.yaml": "- " + PLAN}
        )

        problems = problems_of(root)

        assert [(p.file, p.line) for p in problems] == [
            ("plans.yaml", None),
            ("plans/FLOOD.yml", None),
        ]
        assert "plans/<CODE>.yaml" in problems[0].message


class TestReadingEscalation:
    def test_default_chain_comes_first_with_defaults_applied(
        self, tmp_path: Path
    ) -> None:
        """The default chain is department "*"; repeat defaults to 1, wait to 10."""
        root = write_pack(tmp_path, escalation=ESCALATION)

        pack = read_pack(root)

        assert pack.escalation == (
            EscalationSpec(
                department="*",
                steps=(
                    EscalationStepSpec(0, "duty_officer"),
                    EscalationStepSpec(10, "head"),
                ),
            ),
            EscalationSpec(
                department="WATER",
                steps=(
                    EscalationStepSpec(0, "duty_officer"),
                    EscalationStepSpec(5, "commander"),
                ),
                repeat=2,
                repeat_after=5,
            ),
        )

    def test_unknown_role_and_repeat_out_of_range(self, tmp_path: Path) -> None:
        """notify must be a notifiable role and repeat 1-10, each at its line."""
        text = ESCALATION.replace("notify: head", "notify: mayor").replace(
            "repeat: 2", "repeat: 11"
        )
        root = write_pack(tmp_path, escalation=text)

        problems = problems_of(root)

        assert [(p.file, p.line) for p in problems] == [
            ("escalation.yaml", 4),
            ("escalation.yaml", 10),
        ]
        assert problems[0].message.startswith("default.steps[1].notify: 'mayor'")
        assert problems[1].message.startswith("departments.WATER.repeat: 11")

    def test_chain_of_an_unknown_department(self, tmp_path: Path) -> None:
        """A chain for a department the pack lacks is reported at its key."""
        root = write_pack(tmp_path, escalation=ESCALATION.replace("WATER:", "ROADS:"))

        problem = only_problem(root)

        assert (problem.file, problem.line) == ("escalation.yaml", 6)
        assert problem.message == "departments.ROADS: unknown department 'ROADS'"

    def test_empty_chain_is_refused(self, tmp_path: Path) -> None:
        """A chain needs at least one step."""
        root = write_pack(tmp_path, escalation="default:\n  steps: []\n")

        problem = only_problem(root)

        assert problem.line == 2
        assert problem.message.startswith("default.steps: [] should be non-empty")
