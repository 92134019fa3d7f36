"""Contingency plans (预案) as data: levels, lead and supporting departments, tasks.

Pure (stdlib only). A plan arrives as the JSON document of the pack's plans YAML
(already checked against ``plans.schema.json``) and is read here into frozen
dataclasses; the same reader runs on the document stored in ``PlanRegistered``, so
replay sees exactly the plan that was in force.

Levels are cumulative: a response at level II carries out the tasks, reports and
decision points of levels IV, III and II that the plan defines (ADR 0008). The lead
department of the response is the one of the highest level reached.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ResponseLevel(StrEnum):
    """Response levels (应急响应级别, glossary §5); L1 is the highest."""

    L4 = "L4"
    L3 = "L3"
    L2 = "L2"
    L1 = "L1"

    @property
    def rank(self) -> int:
        """Return 1 for L4 … 4 for L1: a higher rank is a stronger response."""
        return 5 - int(self.value[1])


LEVELS_LOW_TO_HIGH = (
    ResponseLevel.L4,
    ResponseLevel.L3,
    ResponseLevel.L2,
    ResponseLevel.L1,
)
COMMAND_ROLES = ("commander", "deputy", "liaison", "information_officer")


class DecisionRule(StrEnum):
    """How the concurrence of departments decides a joint decision."""

    ALL = "all"
    MAJORITY = "majority"
    VETO = "veto"  # every named veto department must concur; others need a majority


@dataclass(frozen=True, slots=True)
class Condition:
    """An activation condition on an incident attribute: ``attribute op value``."""

    attribute: str
    op: str
    value: Any


@dataclass(frozen=True, slots=True)
class Support:
    """A supporting department and what it is responsible for at this level."""

    department: str
    responsibility_zh: str
    responsibility_en: str


@dataclass(frozen=True, slots=True)
class TaskTemplate:
    """A task the plan assigns when its level is reached."""

    key: str
    title_zh: str
    title_en: str
    lead_department: str
    supporting_departments: tuple[str, ...]
    due_minutes: int
    ack_minutes: int
    depends_on: tuple[str, ...]
    checklist: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReportObligation:
    """A report the lead department owes: initial within N minutes, then every M."""

    key: str
    name_zh: str
    name_en: str
    recipient: str
    initial_minutes: int
    follow_up_minutes: int | None


@dataclass(frozen=True, slots=True)
class DecisionPoint:
    """A decision needing the concurrence of named departments (会商)."""

    key: str
    title_zh: str
    title_en: str
    departments: tuple[str, ...]
    rule: DecisionRule
    veto: tuple[str, ...]
    deadline_minutes: int
    raises_to: ResponseLevel | None


@dataclass(frozen=True, slots=True)
class PlanLevel:
    """What one response level of a plan sets in motion."""

    level: ResponseLevel
    conditions: tuple[Condition, ...]
    lead_department: str
    supporting: tuple[Support, ...]
    command_roles: Mapping[str, str]
    tasks: tuple[TaskTemplate, ...]
    reports: tuple[ReportObligation, ...]
    decisions: tuple[DecisionPoint, ...]
    grants: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    """A contingency plan: which incidents it covers and what each level does."""

    code: str
    version: int
    name_zh: str
    name_en: str
    categories: tuple[str, ...]
    levels: tuple[PlanLevel, ...]

    def level(self, level: ResponseLevel) -> PlanLevel | None:
        """Return the plan's definition of one level, or None if it has none."""
        return next((item for item in self.levels if item.level == level), None)

    def levels_up_to(self, level: ResponseLevel) -> list[PlanLevel]:
        """Return the defined levels from IV up to ``level`` (cumulative)."""
        return sorted(
            (item for item in self.levels if item.level.rank <= level.rank),
            key=lambda item: item.level.rank,
        )

    def lead_at(self, level: ResponseLevel) -> str | None:
        """Return the lead department of the highest defined level up to ``level``."""
        reached = self.levels_up_to(level)
        return reached[-1].lead_department if reached else None

    def tasks_up_to(self, level: ResponseLevel) -> list[TaskTemplate]:
        """Return every task template of the levels up to ``level``, in order."""
        return [task for item in self.levels_up_to(level) for task in item.tasks]

    def departments(self) -> set[str]:
        """Return every department the plan names anywhere."""
        named: set[str] = set()
        for item in self.levels:
            named.add(item.lead_department)
            named.update(support.department for support in item.supporting)
            named.update(item.command_roles.values())
            for task in item.tasks:
                named.add(task.lead_department)
                named.update(task.supporting_departments)
            for decision in item.decisions:
                named.update(decision.departments)
                named.update(decision.veto)
        return named

    def covers(self, category_code: str) -> bool:
        """Tell whether an incident category code falls under this plan."""
        return any(covers(prefix, category_code) for prefix in self.categories)


def covers(prefix: str, code: str) -> bool:
    """Tell whether a GB/T 35561 code (or category name) falls under ``prefix``.

    A prefix is a code with trailing zeros as wildcards (``11A00`` covers ``11A03``,
    ``11000`` covers every natural disaster) or a category name such as
    ``NATURAL_DISASTER``, which covers itself.
    """
    if not prefix[:1].isdigit():
        return prefix == code
    significant = prefix.rstrip("0")
    return code.startswith(significant) if significant else True


def plan_from_document(document: Mapping[str, Any]) -> Plan:
    """Read a plan from its JSON document (as in the pack or in PlanRegistered)."""
    return Plan(
        code=str(document["code"]),
        version=int(document.get("version", 1)),
        name_zh=str(document["name_zh"]),
        name_en=str(document["name_en"]),
        categories=tuple(str(item) for item in document.get("categories", ())),
        levels=tuple(_level(item) for item in document.get("levels", ())),
    )


def _level(data: Mapping[str, Any]) -> PlanLevel:
    return PlanLevel(
        level=ResponseLevel(data["level"]),
        conditions=tuple(
            Condition(str(item["attribute"]), str(item["op"]), item["value"])
            for item in data.get("activation", ())
        ),
        lead_department=str(data["lead_department"]),
        supporting=tuple(
            Support(
                department=str(item["department"]),
                responsibility_zh=str(item.get("responsibility_zh", "")),
                responsibility_en=str(item.get("responsibility_en", "")),
            )
            for item in data.get("supporting", ())
        ),
        command_roles={
            str(role): str(department)
            for role, department in dict(data.get("command_roles", {})).items()
        },
        tasks=tuple(_task(item) for item in data.get("tasks", ())),
        reports=tuple(_report(item) for item in data.get("reports", ())),
        decisions=tuple(_decision(item) for item in data.get("decisions", ())),
        grants=tuple(str(item) for item in data.get("grants", ())),
    )


def _task(data: Mapping[str, Any]) -> TaskTemplate:
    return TaskTemplate(
        key=str(data["key"]),
        title_zh=str(data["title_zh"]),
        title_en=str(data["title_en"]),
        lead_department=str(data["lead_department"]),
        supporting_departments=_strings(data.get("supporting_departments", ())),
        due_minutes=int(data["due_minutes"]),
        ack_minutes=int(data.get("ack_minutes", 15)),
        depends_on=_strings(data.get("depends_on", ())),
        checklist=_strings(data.get("checklist", ())),
    )


def _report(data: Mapping[str, Any]) -> ReportObligation:
    follow_up = data.get("follow_up_minutes")
    return ReportObligation(
        key=str(data["key"]),
        name_zh=str(data["name_zh"]),
        name_en=str(data["name_en"]),
        recipient=str(data["recipient"]),
        initial_minutes=int(data["initial_minutes"]),
        follow_up_minutes=int(follow_up) if follow_up is not None else None,
    )


def _decision(data: Mapping[str, Any]) -> DecisionPoint:
    raises_to = data.get("raises_to")
    return DecisionPoint(
        key=str(data["key"]),
        title_zh=str(data["title_zh"]),
        title_en=str(data["title_en"]),
        departments=_strings(data["departments"]),
        rule=DecisionRule(data.get("rule", "all")),
        veto=_strings(data.get("veto", ())),
        deadline_minutes=int(data.get("deadline_minutes", 60)),
        raises_to=ResponseLevel(raises_to) if raises_to else None,
    )


def _strings(items: Iterable[Any]) -> tuple[str, ...]:
    return tuple(str(item) for item in items)


def condition_holds(condition: Condition, attributes: Mapping[str, Any]) -> bool:
    """Evaluate one activation condition against an incident's attributes."""
    actual = attributes.get(condition.attribute)
    if actual is None:
        return False
    expected = condition.value
    match condition.op:
        case "eq":
            return bool(actual == expected)
        case "in":
            return actual in expected
        case "prefix":
            return str(actual).startswith(str(expected))
        case "gte" | "gt" | "lte" | "lt":
            try:
                left, right = float(actual), float(expected)
            except (TypeError, ValueError):
                return False
            return {
                "gte": left >= right,
                "gt": left > right,
                "lte": left <= right,
                "lt": left < right,
            }[condition.op]
    return False


def suggested_level(plan: Plan, attributes: Mapping[str, Any]) -> ResponseLevel | None:
    """Return the highest level whose activation conditions all hold, if any."""
    met = [
        item.level
        for item in plan.levels
        if item.conditions
        and all(condition_holds(cond, attributes) for cond in item.conditions)
    ]
    return max(met, key=lambda level: level.rank) if met else None


CONDITION_OPS = ("eq", "in", "prefix", "gte", "gt", "lte", "lt")

__all__ = [
    "COMMAND_ROLES",
    "CONDITION_OPS",
    "LEVELS_LOW_TO_HIGH",
    "Condition",
    "DecisionPoint",
    "DecisionRule",
    "Plan",
    "PlanLevel",
    "ReportObligation",
    "ResponseLevel",
    "Support",
    "TaskTemplate",
    "condition_holds",
    "covers",
    "plan_from_document",
    "suggested_level",
]
