"""A scenario checked against the pack it is played on, each problem at its line.

Departments (sources, recipients, actors) exist; scripted users exist, belong to
their department and hold the commander role where the action needs it; inject
datasets exist with the right format and their rows carry the dataset's fields;
plans, levels, task template keys (led by the acting department), report keys and
decision points exist in the pack's plans. Used by ``muster.drills.scenarios``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from muster.core.errors import PackProblem
from muster.pack.documents import Document
from muster.pack.model import DatasetSpec, Pack

COMMANDER_ACTIONS = ("activate_plan", "change_level", "propose_decision")
_COMMANDER_ROLES = ("commander", "admin")
_ACTING_ROLES = ("duty_officer", "head", "commander", "admin")
_TASK_ACTIONS = ("acknowledge_task", "start_task", "complete_task")
_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
}


@dataclass(slots=True)
class _Plans:
    """What the pack's plans define, by key."""

    levels: dict[str, set[str]] = field(default_factory=dict)
    task_leads: dict[str, set[str]] = field(default_factory=dict)
    reports: set[str] = field(default_factory=set)
    decisions: dict[str, set[str]] = field(default_factory=dict)


def _plans_of(pack: Pack) -> _Plans:
    found = _Plans()
    for plan in pack.plans:
        levels = found.levels.setdefault(str(plan["code"]), set())
        for level in plan.get("levels", []):
            levels.add(str(level["level"]))
            for task in level.get("tasks", []):
                leads = found.task_leads.setdefault(str(task["key"]), set())
                leads.add(str(task["lead_department"]))
            found.reports.update(str(r["key"]) for r in level.get("reports", []))
            for decision in level.get("decisions", []):
                signers = found.decisions.setdefault(str(decision["key"]), set())
                signers.update(str(d) for d in decision.get("departments", []))
    return found


def pack_problems(document: Document, pack: Pack) -> list[PackProblem]:
    """Check a schema-valid scenario against the pack's departments, users, data
    and plans."""
    departments = {department.code for department in pack.departments}
    plans = _plans_of(pack)
    problems: list[PackProblem] = []
    for where, code in _department_refs(document):
        if code not in departments:
            problems.append(
                document.problem(where, f"the pack has no department {code}")
            )
    for index, item in enumerate(document.data.get("participants", [])):
        path: list[str | int] = ["participants", index]
        problems += _user_problems(document, path, item, pack)
        problems += _match_problems(document, path, item, plans)
    for index, item in enumerate(document.data["expected"]):
        problems += _match_problems(document, ["expected", index], item, plans)
    for index, item in enumerate(document.data["injects"]):
        problems += _dataset_problems(document, index, item, pack)
    return problems


def _department_refs(document: Document) -> Iterator[tuple[list[str | int], str]]:
    for index, item in enumerate(document.data["injects"]):
        if "from" in item:
            yield ["injects", index, "from"], str(item["from"])
        for position, code in enumerate(item.get("to", [])):
            yield ["injects", index, "to", position], str(code)
    for key in ("participants", "expected"):
        for index, item in enumerate(document.data.get(key, [])):
            yield [key, index, "department"], str(item["department"])


def _user_problems(
    document: Document, path: list[str | int], item: dict[str, Any], pack: Pack
) -> list[PackProblem]:
    """The acting user exists in that department with the roles the action needs."""
    department, action = str(item["department"]), str(item["action"])
    needs = _COMMANDER_ROLES if action in COMMANDER_ACTIONS else _ACTING_ROLES
    name = item.get("user")
    if name is None:
        if action in COMMANDER_ACTIONS:
            return [
                document.problem(
                    path,
                    f"{action} needs a user with the commander role: name one "
                    "with user: (the default, the duty officer, may not)",
                )
            ]
        return []
    user = next((u for u in pack.users if u.username == name), None)
    if user is None:
        return [document.problem([*path, "user"], f"the pack has no user {name}")]
    if user.department != department:
        return [
            document.problem(
                [*path, "user"],
                f"user {name} belongs to {user.department}, not {department}",
            )
        ]
    if not {str(role) for role in user.roles} & set(needs):
        return [
            document.problem(
                [*path, "user"],
                f"user {name} may not {action.replace('_', ' ')}: it needs one of "
                f"the roles {', '.join(needs)}",
            )
        ]
    return []


def _match_problems(
    document: Document, path: list[str | int], item: dict[str, Any], plans: _Plans
) -> list[PackProblem]:
    """Plan codes, levels, task keys, report keys and decision keys exist."""
    match: dict[str, Any] = item.get("match", {})
    at = [*path, "match"]
    problems: list[PackProblem] = []
    plan = match.get("plan")
    if plan is not None and plan not in plans.levels:
        known = ", ".join(sorted(plans.levels)) or "none"
        problems.append(
            document.problem([*at, "plan"], f"the pack has no plan {plan} ({known})")
        )
    level = match.get("level")
    if plan in plans.levels and level is not None and level not in plans.levels[plan]:
        problems.append(
            document.problem([*at, "level"], f"plan {plan} defines no level {level}")
        )
    task = match.get("task")
    if task is not None and item["action"] in _TASK_ACTIONS:
        leads = plans.task_leads.get(task)
        if leads is None:
            problems.append(
                document.problem(
                    [*at, "task"], f"no plan of the pack has a task {task}"
                )
            )
        elif item["department"] not in leads:
            problems.append(
                document.problem(
                    [*path, "department"],
                    f"task {task} is led by {', '.join(sorted(leads))}, so "
                    f"{item['department']} cannot act on it",
                )
            )
    obligation = match.get("obligation")
    if obligation is not None and obligation not in plans.reports:
        problems.append(
            document.problem(
                [*at, "obligation"], f"no plan of the pack has a report {obligation}"
            )
        )
    problems += _decision_problems(document, path, item, plans)
    return problems


def _decision_problems(
    document: Document, path: list[str | int], item: dict[str, Any], plans: _Plans
) -> list[PackProblem]:
    decision = item.get("match", {}).get("decision")
    if decision is None:
        return []
    signers = plans.decisions.get(decision)
    if signers is None:
        return [
            document.problem(
                [*path, "match", "decision"],
                f"no plan of the pack has a decision point {decision}",
            )
        ]
    if item["action"] == "sign_decision" and item["department"] not in signers:
        return [
            document.problem(
                [*path, "department"],
                f"{item['department']} does not sign {decision} "
                f"(signers: {', '.join(sorted(signers))})",
            )
        ]
    return []


def _dataset_problems(
    document: Document, index: int, item: dict[str, Any], pack: Pack
) -> list[PackProblem]:
    """The inject's dataset exists, has the right format, and its rows fit it."""
    kind = item["kind"]
    path: list[str | int] = ["injects", index]
    if kind == "cap":
        code = item.get("dataset")
        caps = [d.code for d in pack.datasets if d.format == "cap"]
        if code is None and not caps:
            return [document.problem(path, "the pack has no dataset of format cap")]
        if code is not None and code not in caps:
            return [
                document.problem(
                    [*path, "dataset"], f"{code} is not a cap dataset of the pack"
                )
            ]
        return []
    if kind not in ("observations", "records"):
        return []
    code = str(item["dataset"])
    dataset = next((d for d in pack.datasets if d.code == code), None)
    if dataset is None:
        return [document.problem([*path, "dataset"], f"the pack has no dataset {code}")]
    is_observation = dataset.format == "observations"
    if (kind == "observations") != is_observation or dataset.format == "cap":
        wanted = "of format observations" if kind == "observations" else "of records"
        return [
            document.problem(
                [*path, "dataset"],
                f"{code} ({dataset.format}) is not a dataset {wanted}",
            )
        ]
    filled = "observed_at" if is_observation else _time_field(pack, code)
    problems: list[PackProblem] = []
    for position, row in enumerate(item["rows"]):
        row_path = [*path, "rows", position]
        problems += _row_problems(document, row_path, row, dataset, filled=filled)
    return problems


def _time_field(pack: Pack, dataset: str) -> str | None:
    """The field the runner fills with the drill's time: the report stream's."""
    for stream in (pack.triggers or {}).get("report_streams", []):
        if stream.get("dataset") == dataset:
            return str(stream.get("time_field") or "") or None
    return None


def _row_problems(
    document: Document,
    path: list[str | int],
    row: dict[str, Any],
    dataset: DatasetSpec,
    *,
    filled: str | None,
) -> list[PackProblem]:
    fields = {spec.name: spec for spec in dataset.fields}
    problems: list[PackProblem] = []
    for name, value in row.items():
        spec = fields.get(name)
        if spec is None:
            problems.append(
                document.problem([*path, name], f"{dataset.code} has no field {name}")
            )
        elif spec.choices and value not in spec.choices:
            choices = ", ".join(spec.choices)
            problems.append(
                document.problem([*path, name], f"{value!r} is not one of {choices}")
            )
        elif spec.type in _PYTHON_TYPES and not _is_type(value, spec.type):
            problems.append(
                document.problem([*path, name], f"{name} must be a {spec.type}")
            )
    for spec in dataset.fields:
        if spec.required and spec.name not in row and spec.name != filled:
            problems.append(
                document.problem(
                    path, f"{dataset.code} needs the field {spec.name} in every row"
                )
            )
    return problems


def _is_type(value: object, kind: str) -> bool:
    if isinstance(value, bool) and kind != "boolean":
        return False
    return isinstance(value, _PYTHON_TYPES[kind])


__all__ = ["COMMANDER_ACTIONS", "pack_problems"]
