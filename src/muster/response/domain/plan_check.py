"""Check contingency plans for the mistakes a JSON Schema cannot see.

Pure (stdlib plus ``muster.core.errors``). ``check_plans`` takes, for each plan, its
file name, its document (as read from the pack; normally already checked against
plans.schema.json, but any shape is tolerated) and a function giving the line of a
data path in that file; it returns every problem, located by file and line. Used by
``muster plan check`` and by the pack reader, so that a bad plan blocks a load.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence, Set
from typing import NamedTuple

from muster.core.errors import PackProblem
from muster.response.domain.plans import (
    Condition,
    ResponseLevel,
    condition_holds,
    covers,
)

LineOf = Callable[[Sequence[str | int]], int | None]
"""Return the 1-based line of the node at a data path of one file (None if unknown)."""

Path = list[str | int]

RANKS = {level.value: level.rank for level in ResponseLevel}
NUMERIC_OPS = ("gte", "gt", "lte", "lt")
DEFAULT_ACK_MINUTES = 15  # as plans.plan_from_document reads a task without one
DEPARTMENT_CODE = re.compile(r"^[A-Z][A-Z0-9_]{1,31}$")


class PlanSource(NamedTuple):
    """One plan to check: where it comes from, its document, and its lines."""

    file: str
    document: object
    line_of: LineOf


class _Definition(NamedTuple):
    """Where a task, report or decision key is defined: its level and data path."""

    level: str
    rank: int
    path: Path


class _Bound(NamedTuple):
    """One end of a numeric range; ``strict`` excludes the value itself."""

    value: float
    strict: bool


def check_plans(
    plans: Sequence[tuple[str, object, LineOf]],
    departments: Set[str] | None,
) -> list[PackProblem]:
    """Return every problem of these plans, in file order then line order.

    ``departments`` are the codes the plans may name; None skips that check (when
    the departments themselves could not be read).
    """
    sources = [PlanSource(*plan) for plan in plans]
    problems: list[PackProblem] = []
    for source in sources:
        problems.extend(_PlanChecker(source, departments).problems())
    problems.extend(_duplicate_codes(sources))
    problems.extend(_overlaps(sources))
    order = {source.file: index for index, source in enumerate(sources)}
    return sorted(problems, key=lambda p: (order.get(p.file, 0), p.line or 0))


class _PlanChecker:
    """The checks of one plan; collects problems as it walks the document."""

    def __init__(self, source: PlanSource, departments: Set[str] | None) -> None:
        self.source = source
        self.departments = departments
        self.found: list[PackProblem] = []
        self.levels = _levels(source.document)
        self.defined = {_text(level.get("level")) for _, level in self.levels}

    def problems(self) -> list[PackProblem]:
        """Run every check once and return what it found."""
        tasks = self._keys("tasks")
        self._keys("reports")
        self._keys("decisions")
        first_level: dict[str, Path] = {}
        for index, level in self.levels:
            at: Path = ["levels", index]
            code = _text(level.get("level"))
            if code in first_level:
                self._add(
                    [*at, "level"],
                    f"level {code} is defined twice {self._first(first_level[code])}",
                )
            first_level.setdefault(code, at)
            if not _text(level.get("lead_department")):
                self._add(at, f"level {code} has no lead_department (牵头部门)")
            self._check_departments(level, at)
            self._check_tasks(level, at=at, tasks=tasks)
            self._check_decisions(level, at=at, rank=RANKS.get(code, 0))
            self._check_activation(level, at=at, code=code)
        self._check_cycles(tasks)
        return self.found

    def _add(self, path: Path, message: str) -> None:
        line = self.source.line_of(path)
        self.found.append(
            PackProblem(self.source.file, line, f"{_dotted(path)}: {message}")
        )

    def _first(self, path: Path) -> str:
        return f"(first on line {self.source.line_of(path)})"

    def _keys(self, kind: str) -> dict[str, list[_Definition]]:
        """Map each task, report or decision key to its definitions; flag repeats."""
        definitions: dict[str, list[_Definition]] = {}
        for index, level in self.levels:
            code = _text(level.get("level"))
            for position, item in enumerate(_list(level.get(kind))):
                key = _text(_mapping(item).get("key"))
                path: Path = ["levels", index, kind, position, "key"]
                if key in definitions:
                    first = self._first(definitions[key][0].path)
                    noun = kind.removesuffix("s")
                    self._add(path, f"duplicate {noun} key '{key}' {first}")
                definitions.setdefault(key, []).append(
                    _Definition(code, RANKS.get(code, 0), path)
                )
        return definitions

    def _check_departments(self, level: Mapping[str, object], at: Path) -> None:
        if self.departments is None:
            return
        for path, code in _named_departments(level, at):
            if code not in self.departments:
                self._add(path, f"unknown department '{code}'")
        for position, report in enumerate(_list(level.get("reports"))):
            recipient = _text(_mapping(report).get("recipient"))
            if DEPARTMENT_CODE.match(recipient) and recipient not in self.departments:
                self._add(
                    [*at, "reports", position, "recipient"],
                    f"unknown department '{recipient}' (name a body outside the "
                    "pack in words, e.g. 省应急管理厅)",
                )

    def _check_tasks(
        self,
        level: Mapping[str, object],
        *,
        at: Path,
        tasks: dict[str, list[_Definition]],
    ) -> None:
        code = _text(level.get("level"))
        rank = RANKS.get(code, 0)
        for position, item in enumerate(_list(level.get("tasks"))):
            task = _mapping(item)
            path: Path = [*at, "tasks", position]
            for index, key in enumerate(_strings(task.get("depends_on"))):
                where = [*path, "depends_on", index]
                if key not in tasks:
                    self._add(where, f"no task '{key}' in this plan")
                elif min(d.rank for d in tasks[key]) > rank:
                    lowest = min(tasks[key], key=lambda d: d.rank)
                    self._add(
                        where,
                        f"task '{key}' is defined at {lowest.level}, "
                        f"above this level {code}; a task may depend only on tasks of "
                        "its own level or lower ones",
                    )
            self._check_ack(task, path)

    def _check_ack(self, task: Mapping[str, object], path: Path) -> None:
        due = _integer(task.get("due_minutes"))
        ack = _integer(task.get("ack_minutes", DEFAULT_ACK_MINUTES))
        if due is None or ack is None or ack <= due:
            return
        if "ack_minutes" in task:
            message = f"ack_minutes ({ack}) is later than due_minutes ({due})"
            self._add([*path, "ack_minutes"], message)
        else:
            message = f"due_minutes ({due}) is earlier than the default ack_minutes"
            self._add([*path, "due_minutes"], f"{message} ({ack}); set ack_minutes")

    def _check_decisions(
        self, level: Mapping[str, object], *, at: Path, rank: int
    ) -> None:
        for position, item in enumerate(_list(level.get("decisions"))):
            decision = _mapping(item)
            path: Path = [*at, "decisions", position]
            named = _strings(decision.get("departments"))
            veto = _strings(decision.get("veto"))
            for index, code in enumerate(veto):
                if code not in named:
                    self._add(
                        [*path, "veto", index],
                        f"veto department '{code}' is not among the decision's "
                        "departments (a veto department must also sign)",
                    )
            if decision.get("rule") == "veto" and not veto:
                self._add([*path, "rule"], "rule veto names no veto departments")
            self._check_raise(
                decision.get("raises_to"), at=[*path, "raises_to"], rank=rank
            )

    def _check_raise(self, raises_to: object, *, at: Path, rank: int) -> None:
        target = _text(raises_to)
        if not target:
            return
        if target not in self.defined:
            self._add(
                at,
                f"the plan defines no level {target}, so this decision can never "
                "take effect",
            )
        elif RANKS.get(target, 0) <= rank:
            self._add(at, f"{target} is not above the decision's own level")

    def _check_activation(
        self, level: Mapping[str, object], *, at: Path, code: str
    ) -> None:
        conditions = _conditions(level)
        reason = _contradiction(conditions)
        if reason is not None:
            self._add(
                [*at, "activation"],
                f"level {code} can never be activated: {reason} cannot all hold",
            )

    def _check_cycles(self, tasks: dict[str, list[_Definition]]) -> None:
        edges: dict[str, list[str]] = {}
        order: list[str] = []
        for _, level in self.levels:
            rank = RANKS.get(_text(level.get("level")), 0)
            for item in _list(level.get("tasks")):
                task = _mapping(item)
                key = _text(task.get("key"))
                order.append(key)
                edges.setdefault(key, []).extend(
                    dep
                    for dep in _strings(task.get("depends_on"))
                    if dep in tasks and min(d.rank for d in tasks[dep]) <= rank
                )
        position = {key: index for index, key in reversed(list(enumerate(order)))}
        for cycle in _cycles(edges, order):
            turn = cycle.index(min(cycle, key=position.__getitem__))
            ordered = [*cycle[turn:], *cycle[:turn]]
            first = tasks[ordered[0]][0].path[:-1]
            loop = " -> ".join([*ordered, ordered[0]])
            self._add([*first, "depends_on"], f"task dependency cycle {loop}")


def _named_departments(
    level: Mapping[str, object], at: Path
) -> Iterator[tuple[Path, str]]:
    """Yield (path, code) for every department a level names."""
    if lead := _text(level.get("lead_department")):
        yield [*at, "lead_department"], lead
    for index, item in enumerate(_list(level.get("supporting"))):
        yield (
            [*at, "supporting", index, "department"],
            _text(_mapping(item).get("department")),
        )
    for role, code in _mapping(level.get("command_roles")).items():
        yield [*at, "command_roles", role], _text(code)
    for index, item in enumerate(_list(level.get("tasks"))):
        task = _mapping(item)
        yield (
            [*at, "tasks", index, "lead_department"],
            _text(task.get("lead_department")),
        )
        for position, code in enumerate(_strings(task.get("supporting_departments"))):
            yield [*at, "tasks", index, "supporting_departments", position], code
    for index, item in enumerate(_list(level.get("decisions"))):
        decision = _mapping(item)
        for field in ("departments", "veto"):
            for position, code in enumerate(_strings(decision.get(field))):
                yield [*at, "decisions", index, field, position], code


def _cycles(edges: Mapping[str, list[str]], order: list[str]) -> list[list[str]]:
    """Find dependency cycles by depth-first search (iterative: plans may be long)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    found: list[list[str]] = []
    seen: set[frozenset[str]] = set()
    for start in order:
        if start in state:
            continue
        state[start] = 1
        path = [start]
        stack = [iter(edges.get(start, ()))]
        while stack:
            successor = next(stack[-1], None)
            if successor is None:
                stack.pop()
                state[path.pop()] = 2
            elif state.get(successor) == 1:
                cycle = path[path.index(successor) :]
                if frozenset(cycle) not in seen:
                    seen.add(frozenset(cycle))
                    found.append(cycle)
            elif successor not in state:
                state[successor] = 1
                path.append(successor)
                stack.append(iter(edges.get(successor, ())))
    return found


def _contradiction(conditions: list[Condition]) -> str | None:
    """Describe conditions that no incident can meet together, or return None."""
    by_attribute: dict[str, list[Condition]] = {}
    for condition in conditions:
        by_attribute.setdefault(condition.attribute, []).append(condition)
    for attribute, group in by_attribute.items():
        if not _satisfiable(attribute, group):
            return " and ".join(_render(condition) for condition in group)
    return None


def _satisfiable(attribute: str, group: list[Condition]) -> bool:
    """Tell whether some value of ``attribute`` meets every condition of ``group``."""
    finite = [c for c in group if c.op in ("eq", "in")]
    if finite:
        # The value must be one of these; try each with the rule's own evaluator.
        first = finite[0]
        candidates = first.value if first.op == "in" else [first.value]
        candidates = candidates if isinstance(candidates, list) else [candidates]
        return any(
            all(condition_holds(c, {attribute: value}) for c in group)
            for value in candidates
        )
    low = _Bound(float("-inf"), strict=False)
    high = _Bound(float("inf"), strict=False)
    for condition in group:
        if condition.op not in NUMERIC_OPS:
            continue
        try:
            bound = _Bound(float(condition.value), strict=condition.op in ("gt", "lt"))
        except (TypeError, ValueError):
            return False  # a comparison with a non-number never holds
        if condition.op in ("gte", "gt"):
            low = max(low, bound, key=lambda b: (b.value, b.strict))
        else:
            high = min(high, bound, key=lambda b: (b.value, not b.strict))
    if low.value > high.value or (
        low.value == high.value and (low.strict or high.strict)
    ):
        return False
    prefixes = [str(c.value) for c in group if c.op == "prefix"]
    return all(a.startswith(b) or b.startswith(a) for a in prefixes for b in prefixes)


def _duplicate_codes(sources: list[PlanSource]) -> Iterator[PackProblem]:
    """Report a plan code already used by an earlier file."""
    first: dict[str, str] = {}
    for source in sources:
        code = _text(_mapping(source.document).get("code"))
        if code in first:
            line = source.line_of(["code"])
            yield PackProblem(
                source.file,
                line,
                f"code: plan '{code}' is also defined in {first[code]}",
            )
        first.setdefault(code, source.file)


def _overlaps(sources: list[PlanSource]) -> Iterator[PackProblem]:
    """Report pairs of plans an incident could match both of.

    Two plans overlap when one's category covers the other's and each has a level
    with the same activation conditions (or none: both only manual).
    """
    for later, second in enumerate(sources):
        for first in sources[:later]:
            categories = _shared_categories(first.document, second.document)
            levels = _same_conditions(first.document, second.document)
            if not categories or levels is None:
                continue
            code_1 = _text(_mapping(first.document).get("code"))
            code_2 = _text(_mapping(second.document).get("code"))
            pairs = ", ".join(f"{b} ({code_2}) / {a} ({code_1})" for a, b in categories)
            level_1, level_2, conditions = levels
            same = "are the same" if conditions else "are both empty"
            message = (
                f"categories: plan {code_2} overlaps plan {code_1} ({first.file}) in "
                f"categories {pairs}; activation conditions of level {level_2} of "
                f"{code_2} and level {level_1} of "
                f"{code_1} {same}, so an incident could match either plan"
            )
            yield PackProblem(second.file, second.line_of(["categories"]), message)


def _shared_categories(first: object, second: object) -> list[tuple[str, str]]:
    """Return (first's, second's) category pairs where one covers the other."""
    return [
        (a, b)
        for a in _strings(_mapping(first).get("categories"))
        for b in _strings(_mapping(second).get("categories"))
        if covers(a, b) or covers(b, a)
    ]


def _same_conditions(
    first: object, second: object
) -> tuple[str, str, frozenset[str]] | None:
    """Return levels of both plans with identical conditions (first match), if any."""
    for _, level_1 in _levels(first):
        conditions = frozenset(map(_render, _conditions(level_1)))
        for _, level_2 in _levels(second):
            if frozenset(map(_render, _conditions(level_2))) == conditions:
                return (
                    _text(level_1.get("level")),
                    _text(level_2.get("level")),
                    conditions,
                )
    return None


def _levels(document: object) -> list[tuple[int, Mapping[str, object]]]:
    levels = _list(_mapping(document).get("levels"))
    return [(index, _mapping(item)) for index, item in enumerate(levels)]


def _conditions(level: Mapping[str, object]) -> list[Condition]:
    items = [_mapping(item) for item in _list(level.get("activation"))]
    return [
        Condition(
            _text(item.get("attribute")), _text(item.get("op")), item.get("value")
        )
        for item in items
    ]


def _render(condition: Condition) -> str:
    value = json.dumps(condition.value, ensure_ascii=False, default=str)
    return f"{condition.attribute} {condition.op} {value}"


def _mapping(value: object) -> Mapping[str, object]:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _strings(value: object) -> list[str]:
    return [item for item in _list(value) if isinstance(item, str)]


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _dotted(path: Path) -> str:
    """Render a data path as ``levels[1].tasks[0].key`` (as pack problems do)."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text or "(top level)"


__all__ = ["LineOf", "PlanSource", "check_plans"]
