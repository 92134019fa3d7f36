"""Check a pack's ``cascades.yaml`` and build its ``CascadeModel`` (stdlib only).

``parse_cascades`` returns the model or raises ``CascadesInvalid`` listing every
problem with its path in the document (for ``muster.pack.yaml_lines.line_of``).
Decisions:

* the rules must form a directed acyclic graph: a cascade has to end and its
  explanation has to be a finite path; a feedback (outage -> pumps stop -> more
  flooding) is modelled as a further hazard, not as a loop;
* every hazard is an entry (keyed by GB/T 35561 type codes, trailing zeros are
  wildcards as in plans) or the target of a rule, so none is unreachable;
* rules name only declared layers, and a population overlay only polygon layers.

Imported by the pack's checks, the cascade handlers and tests.
"""

from __future__ import annotations

import graphlib
import itertools
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from muster.core.errors import ValidationFailed
from muster.situation.domain.cascade_model import (
    CODE,
    GEOMETRIES,
    NAME,
    OPERATORS,
    RELATIONS,
    SUBJECTS,
    TYPE_CODE,
    AnyOf,
    CascadeModel,
    Clause,
    Condition,
    Hazard,
    LayerSpec,
    Path,
    PopulationSpec,
    Relation,
    Rule,
    Scalar,
    Task,
    number,
)


@dataclass(frozen=True, slots=True)
class CascadeProblem:
    """One problem of a cascades document, at a path such as ("rules", 2, "from")."""

    path: Path
    message: str

    def __str__(self) -> str:
        where = ".".join(
            f"[{step}]" if isinstance(step, int) else str(step) for step in self.path
        ).replace(".[", "[")
        return f"{where}: {self.message}" if where else self.message


class CascadesInvalid(ValidationFailed):
    """A cascades document breaks the model's rules; ``problems`` lists each one."""

    code = "cascades_invalid"

    def __init__(self, problems: Sequence[CascadeProblem]) -> None:
        super().__init__(
            f"the cascade model has {len(problems)} problem(s): "
            + "; ".join(str(problem) for problem in problems),
            count=len(problems),
        )
        self.problems = tuple(problems)


def parse_cascades(
    document: Mapping[str, object],
    *,
    departments: Collection[str] | None = None,
    datasets: Collection[str] | None = None,
) -> CascadeModel:
    """Check a cascades document; return the model or raise ``CascadesInvalid``.

    ``departments`` and ``datasets``, when given, are the codes the pack knows;
    names outside them are reported too.
    """
    parser = _Parser(departments=departments, datasets=datasets)
    model = parser.parse(document)
    if parser.problems:
        raise CascadesInvalid(parser.problems)
    return model


_PATTERNS = {
    NAME.pattern: "name (a-z, 0-9 and _)",
    CODE.pattern: "code (A-Z, 0-9 and _)",
    TYPE_CODE.pattern: "GB/T 35561 code such as 11A00 (quote digit-only codes)",
}
_REFERENCE = {  # what a reference is, by the key it sits under
    "from": "hazard",
    "to": "hazard",
    "layers": "layer",
    "supporting": "department",
}
T = TypeVar("T")


class _Reader:
    """One mapping of the document at its path; records what is wrong with it."""

    def __init__(self, data: object, path: Path, problems: list[CascadeProblem]):
        self.data: Mapping[str, object] = data if isinstance(data, Mapping) else {}
        self.path = path
        self.problems = problems
        if not isinstance(data, Mapping):
            self.fail("expected a mapping")

    def fail(self, message: str, *keys: str | int) -> None:
        """Record a problem at this mapping or one of its keys."""
        self.problems.append(CascadeProblem((*self.path, *keys), message))

    def text(self, key: str, pattern: re.Pattern[str] | None = None) -> str:
        """Return a required string (matching ``pattern``), or "" after a problem."""
        value = self.data.get(key)
        if not isinstance(value, str) or not value.strip():
            self.fail("is required" if value is None else "expected a string", key)
            return ""
        if pattern is not None and not pattern.fullmatch(value):
            self.fail(f"'{value}' is not a valid {_PATTERNS[pattern.pattern]}", key)
        return value

    def optional(self, key: str, default: str = "") -> str:
        """Return an optional string, or ``default``."""
        return self.text(key) if key in self.data else default

    def choice(self, key: str, choices: tuple[str, ...]) -> str:
        """Return a required string that must be one of ``choices``."""
        value = self.text(key)
        if value and value not in choices:
            self.fail(f"'{value}' is not one of {', '.join(choices)}", key)
            return ""
        return value

    def names(
        self, key: str, pattern: re.Pattern[str], *, required: bool = False
    ) -> tuple[str, ...]:
        """Return a list of strings matching ``pattern``."""
        value = self.data.get(key)
        if value is None and not required:
            return ()
        if not isinstance(value, list) or not value:
            self.fail("expected a non-empty list", key)
            return ()
        for index, item in enumerate(value):
            if not isinstance(item, str) or not pattern.fullmatch(item):
                self.fail(
                    f"{item!r} is not a valid {_PATTERNS[pattern.pattern]}", key, index
                )
        return tuple(item for item in value if isinstance(item, str))

    def number(
        self, key: str, default: float, *, required: bool = False, most: float = 1e6
    ) -> float:
        """Return a number above 0 and at most ``most``, or ``default``."""
        if key not in self.data:
            if required:
                self.fail("is required", key)
            return default
        value = number(self.data[key])
        if value is None or not 0 < value <= most:
            self.fail(f"expected a number above 0 and at most {most:g}", key)
            return default
        return value

    def child(self, key: str) -> _Reader:
        """Return the mapping under ``key``."""
        return _Reader(self.data.get(key), (*self.path, key), self.problems)

    def items(self, key: str, *, required: bool = True) -> list[_Reader]:
        """Return the mappings of a list."""
        value = self.data.get(key)
        if value is None and not required:
            return []
        if not isinstance(value, list) or not value:
            self.fail("expected a non-empty list", key)
            return []
        return [
            _Reader(item, (*self.path, key, i), self.problems)
            for i, item in enumerate(value)
        ]


class _Parser:
    """Builds a model from a document while collecting every problem."""

    def __init__(
        self, *, departments: Collection[str] | None, datasets: Collection[str] | None
    ) -> None:
        self.problems: list[CascadeProblem] = []
        self.departments = departments
        self.datasets = datasets
        self.layers: dict[str, LayerSpec] = {}
        self.hazards: dict[str, Hazard] = {}

    def parse(self, document: object) -> CascadeModel:
        """Build the model from the whole document."""
        root = _Reader(document, (), self.problems)
        self.layers = self.unique(root, "layers", "name", self.layer)
        self.hazards = self.unique(root, "hazards", "id", self.hazard)
        rules = self.unique(root, "rules", "id", self.rule)
        model = CascadeModel(self.hazards, self.layers, tuple(rules.values()))
        if self.hazards and rules:
            self.check_graph(root, model)
        return model

    def unique(
        self, root: _Reader, key: str, id_key: str, build: Callable[[_Reader], T]
    ) -> dict[str, T]:
        """Build every entry of a list, refusing repeated ids."""
        found: dict[str, T] = {}
        for entry in root.items(key):
            item = build(entry)
            ident = entry.data.get(id_key)
            if isinstance(ident, str) and ident in found:
                entry.fail(f"repeats {id_key} '{ident}'", id_key)
            elif isinstance(ident, str):
                found[ident] = item
        return found

    @staticmethod
    def known(
        entry: _Reader, value: str, among: Collection[str] | None, *keys: str | int
    ) -> None:
        """Report a reference to a hazard, layer, department or dataset not known."""
        if among is not None and value and value not in among:
            listed = f"; known: {', '.join(sorted(among))}" if len(among) < 30 else ""
            what = _REFERENCE.get(str(keys[0]), str(keys[0]))
            entry.fail(f"unknown {what} '{value}'{listed}", *keys)

    def layer(self, entry: _Reader) -> LayerSpec:
        """Build one layer declaration."""
        dataset = entry.text("dataset", CODE)
        self.known(entry, dataset, self.datasets, "dataset")
        return LayerSpec(
            name=entry.text("name", NAME),
            dataset=dataset,
            geometry=entry.choice("geometry", GEOMETRIES),
            name_zh=entry.text("name_zh"),
            name_en=entry.text("name_en"),
            file=entry.optional("file"),
            id_property=entry.optional("id_property", "id"),
            name_property=entry.optional("name_property", "name"),
        )

    def hazard(self, entry: _Reader) -> Hazard:
        """Build one hazard node."""
        return Hazard(
            id=entry.text("id", NAME),
            name_zh=entry.text("name_zh"),
            name_en=entry.text("name_en"),
            entry_types=entry.names("entry_types", TYPE_CODE),
        )

    def rule(self, entry: _Reader) -> Rule:
        """Build one rule (edge), checking its hazards, layers and departments."""
        source, target = entry.text("from"), entry.text("to")
        self.known(entry, source, self.hazards, "from")
        self.known(entry, target, self.hazards, "to")
        if source and source == target:
            entry.fail(f"a rule may not lead from '{source}' back to itself", "to")
        layers = entry.names("layers", NAME, required=True)
        for index, name in enumerate(layers):
            self.known(entry, name, self.layers, "layers", index)
        supporting = entry.names("supporting", CODE)
        for index, code in enumerate(supporting):
            self.known(entry, code, self.departments, "supporting", index)
        population = entry.data.get("population")
        return Rule(
            id=entry.text("id", NAME),
            source=source,
            target=target,
            name_zh=entry.text("name_zh"),
            name_en=entry.text("name_en"),
            layers=layers,
            relation=self.relation(entry.child("relation")),
            department=self.department(entry),
            when=self.clauses(entry),
            supporting=supporting,
            tasks=self.tasks(entry),
            population=None
            if population is None
            else self.population(entry.child("population"), layers),
        )

    def department(self, entry: _Reader) -> str:
        """Return the entry's department code, reporting one the pack lacks."""
        code = entry.text("department", CODE)
        self.known(entry, code, self.departments, "department")
        return code

    def relation(self, entry: _Reader) -> Relation:
        """Build a rule's relation with the parameters its type needs."""
        kind = entry.choice("type", RELATIONS)
        return Relation(
            kind=kind or "intersects",
            km=entry.number("km", 0.0, required=kind in ("within_km", "downwind")),
            half_angle_deg=entry.number("half_angle_deg", 30.0, most=180.0),
            isolation_km=entry.number("isolation_km", 0.0),
            wind_fact=entry.optional("wind_fact", "wind_from_deg"),
            property=entry.text("property") if kind == "key" else "",
            source_property=entry.optional("source_property"),
        )

    def clauses(self, entry: _Reader) -> tuple[Clause, ...]:
        """Build the clauses of a rule: conditions and {any: [conditions]} groups."""
        found: list[Clause | None] = []
        for item in entry.items("when", required=False):
            if "any" not in item.data:
                found.append(self.condition(item))
                continue
            parts = [self.condition(part) for part in item.items("any")]
            if len(parts) < 2:
                item.fail("expected at least two conditions", "any")
            found.append(AnyOf(tuple(part for part in parts if part is not None)))
        return tuple(clause for clause in found if clause is not None)

    def condition(self, entry: _Reader) -> Condition | None:
        """Build one condition: subject name op (value | fact)."""
        subjects = [key for key in SUBJECTS if key in entry.data]
        if (
            len(subjects) != 1
            and subjects != ["property", "fact"]
            and subjects != ["source", "fact"]
        ):
            entry.fail("name one of fact, property or source (with value or fact)")
            return None
        subject = subjects[0]
        fact = (
            entry.text("fact", NAME)
            if subject != "fact" and "fact" in entry.data
            else None
        )
        if ("value" in entry.data) == (fact is not None):
            entry.fail("give exactly one of value or fact to compare with")
            return None
        # facts are named like rules; properties as the layer's data has them
        name = entry.text(subject, NAME if subject == "fact" else None)
        op = entry.choice("op", OPERATORS)
        value = _literal(entry, op) if fact is None else None
        if not (name and op) or (fact is None and value is None):
            return None
        return Condition(subject=subject, name=name, op=op, value=value, fact=fact)

    def tasks(self, entry: _Reader) -> tuple[Task, ...]:
        """Build a rule's suggested tasks, each key once."""
        found: dict[str, Task] = {}
        for item in entry.items("tasks", required=False):
            task = Task(
                key=item.text("key", NAME),
                title_zh=item.text("title_zh"),
                title_en=item.text("title_en"),
                department=self.department(item),
                plan=item.optional("plan") or None,
                plan_task=item.optional("plan_task") or None,
            )
            if task.key in found:
                item.fail(f"repeats task key '{task.key}'", "key")
            found[task.key] = task
        return tuple(found.values())

    def population(self, entry: _Reader, layers: tuple[str, ...]) -> PopulationSpec:
        """Build a population count; an overlay needs polygons on both sides."""
        layer = entry.optional("layer") or None
        if layer is not None:
            self.known(entry, layer, self.layers, "layer")
            polygons = [layer, *layers]
            others = [
                n
                for n in polygons
                if n in self.layers and self.layers[n].geometry != "Polygon"
            ]
            if others:
                entry.fail(
                    f"an overlay needs Polygon layers, not {', '.join(others)}", "layer"
                )
        return PopulationSpec(
            property=entry.optional("property", "population"), layer=layer
        )

    def check_graph(self, root: _Reader, model: CascadeModel) -> None:
        """Report a graph without entries, unreachable hazards and cycles."""
        if not any(hazard.entry_types for hazard in model.hazards.values()):
            root.fail(
                "no hazard has entry_types, so no incident starts a cascade", "hazards"
            )
        targets = {rule.target for rule in model.rules}
        for entry in root.items("hazards"):
            hazard = model.hazards.get(str(entry.data.get("id")))
            if (
                hazard is not None
                and not hazard.entry_types
                and hazard.id not in targets
            ):
                entry.fail(
                    f"hazard '{hazard.id}' is no entry and no rule leads to it",
                    "id",
                )
        predecessors: dict[str, set[str]] = {}
        for rule in model.rules:
            predecessors.setdefault(rule.target, set()).add(rule.source)
        try:
            graphlib.TopologicalSorter(predecessors).prepare()
        except graphlib.CycleError as error:
            root.fail(_cycle_message(list(error.args[1]), model.rules), "rules")


def _literal(entry: _Reader, op: str) -> Scalar | tuple[Scalar, ...] | None:
    """Return a condition's value checked against its operator, or None."""
    value = entry.data.get("value")
    raw = value if isinstance(value, list) else [value]
    items = tuple(scalar for item in raw if (scalar := _scalar(item)) is not None)
    numeric = op in ("gte", "gt", "lte", "lt")
    if op == "in" and isinstance(value, list) and value and len(items) == len(raw):
        return items
    if op != "in" and len(items) == 1 and not (numeric and number(value) is None):
        return items[0]
    wanted = {"in": "a non-empty list of values"}.get(op, "a string, number or bool")
    entry.fail(f"'{op}' needs {'a number' if numeric else wanted}", "value")
    return None


def _scalar(value: object) -> Scalar | None:
    return value if isinstance(value, bool | int | float | str) else None


def _cycle_message(cycle: list[str], rules: Sequence[Rule]) -> str:
    """Describe a cycle of hazards and the rules along it."""
    steps = set(itertools.pairwise(cycle))
    along = sorted(
        rule.id
        for rule in rules
        if (rule.source, rule.target) in steps or (rule.target, rule.source) in steps
    )
    return (
        f"the rules form a cycle {' -> '.join(cycle)} (rules {', '.join(along)}); "
        "cascades must be acyclic: model a feedback as a further hazard"
    )
