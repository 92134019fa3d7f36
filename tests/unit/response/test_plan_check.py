"""check_plans: plan rules a schema cannot express, each located by file and line."""

from __future__ import annotations

import functools

from muster.core.errors import PackProblem
from muster.pack.yaml_lines import line_of, load_yaml
from muster.response.domain.plan_check import LineOf, check_plans

DEPARTMENTS = {"GOV", "EMB", "WATER", "TRANSPORT"}

# Line numbers matter: the tests below name them. L4 starts on line 7, its task
# `patrol` on line 12; L3 on line 24 (task `close_road` on 29, decision on 37); L2
# on line 44.
PLAN = """\
code: FLOOD
version: 1
name_zh: 内涝
name_en: Flood
categories: ['11A00']
levels:
  - level: L4
    activation:
      - {attribute: rain_24h_mm, op: gte, value: 50}
    lead_department: WATER
    tasks:
      - key: patrol
        title_zh: 巡查
        title_en: Patrol
        lead_department: WATER
        due_minutes: 60
    reports:
      - key: first_report
        name_zh: 首报
        name_en: Initial report
        recipient: GOV
        initial_minutes: 30
        follow_up_minutes: 120
  - level: L3
    activation:
      - {attribute: rain_24h_mm, op: gte, value: 100}
    lead_department: EMB
    tasks:
      - key: close_road
        title_zh: 封路
        title_en: Close road
        lead_department: TRANSPORT
        due_minutes: 45
        ack_minutes: 15
        depends_on: [patrol]
    decisions:
      - key: raise_l2
        title_zh: 是否升级
        title_en: Raise?
        departments: [EMB, WATER]
        rule: veto
        veto: [EMB]
        raises_to: L2
  - level: L2
    lead_department: EMB
"""

# A second plan whose category 11A51 (flash flood) falls under the first's 11A00.
FLASH = """\
code: FLASH_FLOOD
version: 1
name_zh: 山洪
name_en: Flash flood
categories: ['11A51', '11D00']
levels:
  - level: L4
    activation:
      - {attribute: people_threatened, op: gte, value: 10}
    lead_department: WATER
  - level: L3
    lead_department: WATER
"""


def source(text: str, file: str = "plans/FLOOD.yaml") -> tuple[str, object, LineOf]:
    """Return (file, document, line function) for a plan's YAML text."""
    loaded = load_yaml(text)
    return file, loaded.data, functools.partial(line_of, loaded.root)


def check(*texts: str, departments: set[str] | None = DEPARTMENTS) -> list[PackProblem]:
    """Check plans given as YAML texts (files plans/FLOOD.yaml, plans/P2.yaml, …)."""
    names = ["plans/FLOOD.yaml", *(f"plans/P{n}.yaml" for n in range(2, 10))]
    plans = [source(text, name) for text, name in zip(texts, names, strict=False)]
    return check_plans(plans, departments)


def edit(text: str, *changes: tuple[str, str]) -> str:
    """Apply (old, new) replacements, each of which must match once."""
    for old, new in changes:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def only(problems: list[PackProblem]) -> PackProblem:
    """Return the single problem of a list."""
    assert len(problems) == 1, problems
    return problems[0]


class TestCleanPlans:
    def test_valid_plan_has_no_problems(self) -> None:
        """A plan naming known departments, with reachable levels, passes."""
        plans = [PLAN]

        problems = check(*plans)

        assert problems == []

    def test_level_gap_is_fine(self) -> None:
        """A plan defining levels IV and II but not III is allowed."""
        text = edit(
            PLAN,
            ("  - level: L3\n", "  - level: L2\n"),
            ("  - level: L2\n    lead_department: EMB\n", ""),
            ("raises_to: L2", "raises_to: null"),
        )

        problems = check(text)

        assert problems == []

    def test_body_outside_the_pack_may_receive_reports(self) -> None:
        """A recipient written in words (not a department code) is not checked."""
        text = edit(PLAN, ("recipient: GOV", "recipient: 省应急管理厅"))

        problems = check(text)

        assert problems == []


class TestUnknownDepartments:
    def test_unknown_task_lead_is_reported_at_its_line(self) -> None:
        """A task led by a department the pack lacks is reported on that line."""
        text = edit(PLAN, ("lead_department: TRANSPORT", "lead_department: ROADS"))

        problem = only(check(text))

        assert problem.file == "plans/FLOOD.yaml"
        assert problem.line == 32
        assert problem.message == (
            "levels[1].tasks[0].lead_department: unknown department 'ROADS'"
        )

    def test_every_place_a_department_is_named_is_checked(self) -> None:
        """Level lead, supporting, command roles, decision and report names count."""
        text = edit(
            PLAN,
            (
                "    lead_department: WATER\n    tasks:",
                "    lead_department: WATERS\n"
                "    supporting:\n"
                "      - {department: FIRE, responsibility_zh: 救援, "
                "responsibility_en: Rescue}\n"
                "    command_roles: {commander: HQ}\n"
                "    tasks:",
            ),
            ("departments: [EMB, WATER]", "departments: [EMB, WATER, MET]"),
            ("recipient: GOV", "recipient: PROVINCE_GOV"),
        )

        problems = check(text)

        assert [(p.line, p.message.split(": ", 1)[1]) for p in problems] == [
            (10, "unknown department 'WATERS'"),
            (12, "unknown department 'FIRE'"),
            (13, "unknown department 'HQ'"),
            (24, "unknown department 'PROVINCE_GOV' (name a body outside the pack "
                 "in words, e.g. 省应急管理厅)"),
            (43, "unknown department 'MET'"),
        ]  # fmt: skip

    def test_unknown_departments_are_skipped_without_a_department_list(self) -> None:
        """With departments=None (departments.yaml unusable) names are not checked."""
        text = edit(PLAN, ("lead_department: TRANSPORT", "lead_department: ROADS"))

        problems = check(text, departments=None)

        assert problems == []


class TestTaskDependencies:
    def test_depends_on_an_unknown_key(self) -> None:
        """A dependency on a key no level defines is reported at the entry."""
        text = edit(PLAN, ("depends_on: [patrol]", "depends_on: [patrl]"))

        problem = only(check(text))

        assert problem.line == 35
        assert problem.message == (
            "levels[1].tasks[0].depends_on[0]: no task 'patrl' in this plan"
        )

    def test_depends_on_a_task_of_a_higher_level(self) -> None:
        """A level-IV task may not wait for a task that only level III assigns."""
        text = edit(
            PLAN,
            (
                "due_minutes: 60\n",
                "due_minutes: 60\n        depends_on: [close_road]\n",
            ),
        )

        problem = only(check(text))

        assert problem.line == 17
        assert "task 'close_road' is defined at L3, above this level L4" in (
            problem.message
        )

    def test_cycle_is_reported_once_at_its_first_task(self) -> None:
        """Two tasks waiting for each other form a cycle, named in order."""
        text = edit(
            PLAN,
            ("depends_on: [patrol]\n", "depends_on: [patrol, reopen]\n"
             "      - {key: reopen, title_zh: 恢复, title_en: Reopen, "
             "lead_department: TRANSPORT, due_minutes: 60, "
             "depends_on: [close_road]}\n"),
        )  # fmt: skip

        problem = only(check(text))

        assert problem.line == 35
        assert problem.message == (
            "levels[1].tasks[0].depends_on: task dependency cycle "
            "close_road -> reopen -> close_road"
        )

    def test_cycle_through_a_lower_level(self) -> None:
        """Cumulative levels: a cycle may run through tasks of a lower level."""
        text = edit(
            PLAN,
            ("due_minutes: 60\n", "due_minutes: 60\n        depends_on: [check]\n"),
            ("    reports:\n", "      - {key: check, title_zh: 核查, title_en: Check, "
             "lead_department: WATER, due_minutes: 30, depends_on: [patrol]}\n"
             "    reports:\n"),
        )  # fmt: skip

        problem = only(check(text))

        assert problem.line == 17  # patrol's depends_on: patrol is listed first
        assert problem.message.endswith("cycle patrol -> check -> patrol")

    def test_task_depending_on_itself(self) -> None:
        """A task listing its own key is a cycle of one."""
        text = edit(PLAN, ("depends_on: [patrol]", "depends_on: [close_road]"))

        problem = only(check(text))

        assert problem.message.endswith("cycle close_road -> close_road")


class TestLevels:
    def test_level_without_lead_department(self) -> None:
        """Every level names its lead department (牵头部门)."""
        text = edit(
            PLAN, ("  - level: L2\n    lead_department: EMB\n", "  - level: L2\n")
        )

        problem = only(check(text))

        assert problem.line == 44
        assert (
            problem.message == "levels[2]: level L2 has no lead_department (牵头部门)"
        )

    def test_level_defined_twice(self) -> None:
        """The same level listed twice is reported at the second."""
        text = PLAN + "  - level: L2\n    lead_department: WATER\n"

        problem = only(check(text))

        assert problem.line == 46
        assert "level L2 is defined twice (first on line 44)" in problem.message


class TestDuplicateKeys:
    def test_duplicate_task_key_across_levels(self) -> None:
        """Task keys are unique in a plan, not only within a level."""
        text = edit(
            PLAN,
            ("key: close_road", "key: patrol"),
            ("        depends_on: [patrol]\n", ""),
        )

        problem = only(check(text))

        assert problem.line == 29
        assert problem.message == (
            "levels[1].tasks[0].key: duplicate task key 'patrol' (first on line 12)"
        )

    def test_duplicate_report_and_decision_keys(self) -> None:
        """Report and decision keys are checked the same way."""
        text = PLAN + (
            "    reports:\n"
            "      - {key: first_report, name_zh: 报, name_en: Report, recipient: GOV,"
            " initial_minutes: 60}\n"
            "    decisions:\n"
            "      - {key: raise_l2, title_zh: 升级, title_en: Raise,"
            " departments: [EMB]}\n"
        )

        problems = check(text)

        assert [(p.line, p.message) for p in problems] == [
            (47, "levels[2].reports[0].key: duplicate report key 'first_report' "
                 "(first on line 18)"),
            (49, "levels[2].decisions[0].key: duplicate decision key 'raise_l2' "
                 "(first on line 37)"),
        ]  # fmt: skip


class TestUnreachableLevels:
    def test_decision_raising_to_an_undefined_level(self) -> None:
        """A decision point may only raise to a level the plan defines."""
        text = edit(PLAN, ("raises_to: L2", "raises_to: L1"))

        problem = only(check(text))

        assert problem.line == 43
        assert "the plan defines no level L1" in problem.message

    def test_decision_raising_to_a_lower_level(self) -> None:
        """raises_to must be above the decision's own level."""
        text = edit(PLAN, ("raises_to: L2", "raises_to: L4"))

        problem = only(check(text))

        assert problem.line == 43
        assert problem.message.endswith("L4 is not above the decision's own level")

    def test_contradictory_numeric_conditions(self) -> None:
        """gte 100 and lt 50 on the same attribute can never both hold."""
        text = edit(
            PLAN,
            (
                "value: 100}\n",
                "value: 100}\n      - {attribute: rain_24h_mm, op: lt, value: 50}\n",
            ),
        )

        problem = only(check(text))

        assert problem.line == 26  # the first condition
        assert problem.message == (
            "levels[1].activation: level L3 can never be activated: rain_24h_mm gte "
            "100 and rain_24h_mm lt 50 cannot all hold"
        )

    def test_touching_bounds(self) -> None:
        """gte 100 with lte 100 holds at 100; gt 100 with lte 100 never does."""
        closed = "value: 100}\n      - {attribute: rain_24h_mm, op: lte, value: 100}\n"
        text = edit(PLAN, ("value: 100}\n", closed))
        open_ = edit(text, ("op: gte, value: 100", "op: gt, value: 100"))

        problems = check(text), check(open_)

        assert problems[0] == []
        assert "can never be activated" in only(problems[1]).message

    def test_contradictory_list_and_equality_conditions(self) -> None:
        """warning_level eq RED and in [BLUE, YELLOW] can never both hold."""
        text = edit(
            PLAN,
            ("      - {attribute: rain_24h_mm, op: gte, value: 50}\n",
             "      - {attribute: warning_level, op: eq, value: RED}\n"
             "      - {attribute: warning_level, op: in, value: [BLUE, YELLOW]}\n"),
        )  # fmt: skip

        problem = only(check(text))

        assert problem.line == 9
        assert 'warning_level eq "RED" and warning_level in ["BLUE", "YELLOW"]' in (
            problem.message
        )

    def test_prefixes_that_exclude_each_other(self) -> None:
        """type_code prefix 11A and prefix 12 can never both hold; 11 and 11A can."""
        conditions = (
            "      - {attribute: type_code, op: prefix, value: '11A'}\n"
            "      - {attribute: type_code, op: prefix, value: '%s'}\n"
        )
        old = "      - {attribute: rain_24h_mm, op: gte, value: 50}\n"

        problems = [
            check(edit(PLAN, (old, conditions % code))) for code in ("12", "11")
        ]

        assert "can never be activated" in only(problems[0]).message
        assert problems[1] == []

    def test_compatible_conditions_on_several_attributes(self) -> None:
        """Conditions on different attributes, or a real range, are fine."""
        text = edit(
            PLAN,
            ("value: 100}\n", "value: 100}\n"
             "      - {attribute: rain_24h_mm, op: lt, value: 250}\n"
             "      - {attribute: warning_level, op: in, value: [ORANGE, RED]}\n"
             "      - {attribute: warning_level, op: eq, value: RED}\n"),
        )  # fmt: skip

        problems = check(text)

        assert problems == []


class TestDeadlines:
    def test_acknowledgement_after_the_due_time(self) -> None:
        """ack_minutes later than due_minutes is reported at ack_minutes."""
        text = edit(PLAN, ("ack_minutes: 15", "ack_minutes: 60"))

        problem = only(check(text))

        assert problem.line == 34
        assert problem.message == (
            "levels[1].tasks[0].ack_minutes: ack_minutes (60) is later than "
            "due_minutes (45)"
        )

    def test_default_acknowledgement_after_a_short_due_time(self) -> None:
        """Without ack_minutes the default 15 applies; a task due in 10 breaks it."""
        text = edit(PLAN, ("due_minutes: 60", "due_minutes: 10"))

        problem = only(check(text))

        assert problem.line == 16
        assert "earlier than the default ack_minutes (15)" in problem.message


class TestDecisions:
    def test_veto_department_that_does_not_sign(self) -> None:
        """Every veto department must be among the decision's departments."""
        text = edit(PLAN, ("veto: [EMB]", "veto: [EMB, TRANSPORT]"))

        problem = only(check(text))

        assert problem.line == 42
        assert problem.message == (
            "levels[1].decisions[0].veto[1]: veto department 'TRANSPORT' is not among "
            "the decision's departments (a veto department must also sign)"
        )

    def test_veto_rule_without_veto_departments(self) -> None:
        """rule veto needs at least one veto department."""
        text = edit(PLAN, ("        veto: [EMB]\n", ""))

        problem = only(check(text))

        assert problem.line == 41
        assert problem.message.endswith("rule veto names no veto departments")


class TestAcrossPlans:
    def test_overlapping_manual_levels(self) -> None:
        """11A00 covers 11A51 and both plans have a level without conditions."""
        plans = (PLAN, FLASH)

        problem = only(check(*plans))

        assert problem.file == "plans/P2.yaml"
        assert problem.line == 5
        assert problem.message == (
            "categories: plan FLASH_FLOOD overlaps plan FLOOD (plans/FLOOD.yaml) in "
            "categories 11A51 (FLASH_FLOOD) / 11A00 (FLOOD); activation conditions "
            "of level L3 of FLASH_FLOOD and level L2 of FLOOD are both empty, so an "
            "incident could match either plan"
        )

    def test_overlapping_identical_conditions(self) -> None:
        """Identical activation conditions in overlapping categories overlap too."""
        flash = edit(
            FLASH,
            ("  - level: L3\n    lead_department: WATER\n", ""),
            ("{attribute: people_threatened, op: gte, value: 10}",
             "{attribute: rain_24h_mm, op: gte, value: 50}"),
        )  # fmt: skip
        plan = edit(PLAN, ("  - level: L2\n    lead_department: EMB\n", ""),
                    ("raises_to: L2", "raises_to: null"))  # fmt: skip

        problem = only(check(plan, flash))

        assert "are the same" in problem.message

    def test_different_conditions_or_categories_do_not_overlap(self) -> None:
        """Disjoint categories, or levels with different conditions, are fine."""
        landslide = edit(FLASH, ("['11A51', '11D00']", "['11D00']"))
        conditional = edit(FLASH, ("  - level: L3\n    lead_department: WATER\n", ""))

        problems = check(PLAN, landslide), check(PLAN, conditional)

        assert problems == ([], [])

    def test_same_code_in_two_files(self) -> None:
        """Two files may not define the same plan code."""
        plans = (PLAN, PLAN)

        problems = check(*plans)

        codes = [p for p in problems if p.message.startswith("code:")]
        assert [(p.file, p.line) for p in codes] == [("plans/P2.yaml", 1)]
        assert "also defined in plans/FLOOD.yaml" in codes[0].message

    def test_problems_come_in_file_then_line_order(self) -> None:
        """Problems of the first file come first, each file's in line order."""
        first = edit(
            PLAN,
            ("ack_minutes: 15", "ack_minutes: 60"),
            ("lead_department: WATER\n    tasks", "lead_department: X\n    tasks"),
        )
        second = edit(
            FLASH,
            ("['11A51', '11D00']", "['11D00']"),
            ("WATER\n  - level: L3", "Y\n  - level: L3"),
        )

        problems = check(first, second)

        assert [(p.file, p.line) for p in problems] == [
            ("plans/FLOOD.yaml", 10),
            ("plans/FLOOD.yaml", 34),
            ("plans/P2.yaml", 10),
        ]
