"""The cascading-hazard model (灾害链模型), stdlib only: hazards, the rules between
them and the asset layers the rules read, as a pack's ``cascades.yaml`` declares them.

``muster.situation.domain.cascade_parse`` builds a ``CascadeModel`` from the document
and checks it. A condition compares a fact of the incident, a property of the
candidate asset or a property of the upstream feature it relates to (``source``) with
a value or a fact; a missing or mistyped value never matches. Imported by the parser,
``muster.situation.cascade`` and the assessment results.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

Scalar = bool | int | float | str
FactValue = Scalar | Mapping[str, Scalar]
Path = tuple[str | int, ...]
# "fact" -> the incident facts, "property" -> the candidate asset's properties,
# "source" -> those of the upstream feature it relates to
Scope = Mapping[str, Mapping[str, object]]

OPERATORS = ("eq", "ne", "in", "gte", "gt", "lte", "lt")
SUBJECTS = ("property", "source", "fact")  # left-hand side, in this order
RELATIONS = ("intersects", "within_km", "downwind", "key")
GEOMETRIES = ("Point", "LineString", "Polygon")
NAME = re.compile(r"[a-z][a-z0-9_]{1,63}")
TYPE_CODE = re.compile(r"1[0-4][0A-Z]\d\d")
CODE = re.compile(r"[A-Z][A-Z0-9_]{1,63}")


@dataclass(frozen=True, slots=True)
class Hazard:
    """A node of the hazard graph (a hazard or its consequence), e.g. flood."""

    id: str
    name_zh: str
    name_en: str
    entry_types: tuple[str, ...] = ()

    def enters(self, type_code: str) -> bool:
        """Tell whether an incident of this GB/T 35561 type starts at this hazard."""
        return any(type_code.startswith(_significant(p)) for p in self.entry_types)


@dataclass(frozen=True, slots=True)
class LayerSpec:
    """An asset layer (GeoJSON FeatureCollection) and the catalog dataset it is.

    Its features name themselves by the dataset's fields ``id_property`` and
    ``name_property`` (the Chinese name; ``name_en`` holds the English one).
    """

    name: str
    dataset: str
    geometry: str
    name_zh: str
    name_en: str
    file: str = ""
    id_property: str = "id"
    name_property: str = "name"


@dataclass(frozen=True, slots=True)
class Condition:
    """``subject name op (value | fact)``, e.g. property depth_m gte 0.3."""

    subject: str
    name: str
    op: str
    value: Scalar | tuple[Scalar, ...] | None = None
    fact: str | None = None

    def holds(self, scope: Scope) -> bool:
        """Tell whether the condition holds in ``scope`` (fact, property, source)."""
        left = scope[self.subject].get(self.name)
        right = self.value if self.fact is None else scope["fact"].get(self.fact)
        return compare(self.op, left, right)

    def facts_read(self) -> tuple[str, ...]:
        """Return the names of the incident facts the condition reads."""
        names = [self.name] if self.subject == "fact" else []
        return (*names, *([self.fact] if self.fact is not None else []))

    def describe(self) -> str:
        """Return the condition as text, e.g. "property depth_m gte 0.3"."""
        right = f"fact {self.fact}" if self.fact is not None else repr(self.value)
        return f"{self.subject} {self.name} {self.op} {right}"


@dataclass(frozen=True, slots=True)
class AnyOf:
    """Conditions of which at least one must hold."""

    conditions: tuple[Condition, ...]

    def holds(self, scope: Scope) -> bool:
        """Tell whether any of the conditions holds in ``scope``."""
        return any(item.holds(scope) for item in self.conditions)

    def facts_read(self) -> tuple[str, ...]:
        """Return the names of the incident facts the conditions read."""
        return tuple(name for item in self.conditions for name in item.facts_read())

    def describe(self) -> str:
        """Return the alternatives as text joined by "or"."""
        return "(" + " or ".join(item.describe() for item in self.conditions) + ")"


Clause = Condition | AnyOf


@dataclass(frozen=True, slots=True)
class Relation:
    """How a candidate asset relates to a feature of the upstream hazard.

    ``intersects``; ``within_km`` (``km``); ``downwind`` (within ``km`` in the
    sector of ``half_angle_deg`` around the direction the wind blows to, read from
    the fact ``wind_fact`` in degrees it blows from, plus ``isolation_km`` all
    round); ``key``: the candidate's ``property`` equals the source's
    ``source_property``, by default its id (either may be a list).
    """

    kind: str
    km: float = 0.0
    half_angle_deg: float = 30.0
    isolation_km: float = 0.0
    wind_fact: str = "wind_from_deg"
    property: str = ""
    source_property: str = ""  # "": the source feature's id

    def describe(self) -> str:
        """Return the relation as text, e.g. "within_km 0.5"."""
        if self.kind == "key":
            return f"key {self.property} = source {self.source_property or 'id'}"
        if self.kind == "downwind":
            return (
                f"downwind {self.km:g} km ±{self.half_angle_deg:g}° "
                f"(wind from fact {self.wind_fact}; {self.isolation_km:g} km all round)"
            )
        return f"within_km {self.km:g}" if self.kind == "within_km" else self.kind


@dataclass(frozen=True, slots=True)
class PopulationSpec:
    """How a rule counts people: a property of the exposed assets, or of a polygon
    layer weighted by the share of each polygon inside the exposed area."""

    property: str = "population"
    layer: str | None = None


@dataclass(frozen=True, slots=True)
class Task:
    """A task a rule suggests, optionally the key of a task of a pack plan."""

    key: str
    title_zh: str
    title_en: str
    department: str
    plan: str | None = None
    plan_task: str | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """An edge of the hazard graph: when ``source`` holds, ``target`` may follow on
    the assets of ``layers`` that relate to it and meet every clause of ``when``."""

    id: str
    source: str
    target: str
    name_zh: str
    name_en: str
    layers: tuple[str, ...]
    relation: Relation
    department: str
    when: tuple[Clause, ...] = ()
    supporting: tuple[str, ...] = ()
    tasks: tuple[Task, ...] = ()
    population: PopulationSpec | None = None

    def reads(self) -> tuple[str, ...]:
        """Return the layers the rule reads: its targets, then its population layer."""
        extra = self.population.layer if self.population is not None else None
        return self.layers + ((extra,) if extra and extra not in self.layers else ())

    def facts_read(self) -> tuple[str, ...]:
        """Return the incident facts the rule reads, sorted."""
        names = {name for clause in self.when for name in clause.facts_read()}
        if self.relation.kind == "downwind":
            names.add(self.relation.wind_fact)
        return tuple(sorted(names))


@dataclass(frozen=True, slots=True)
class CascadeModel:
    """A checked hazard graph: hazards by id, layers by name, rules in file order."""

    hazards: Mapping[str, Hazard]
    layers: Mapping[str, LayerSpec]
    rules: tuple[Rule, ...]

    def entries(self, type_code: str) -> tuple[str, ...]:
        """Return the hazards an incident of ``type_code`` starts at, sorted."""
        return tuple(sorted(h.id for h in self.hazards.values() if h.enters(type_code)))

    def rules_from(self, hazard: str) -> tuple[Rule, ...]:
        """Return the rules leaving ``hazard``, sorted by id."""
        found = (rule for rule in self.rules if rule.source == hazard)
        return tuple(sorted(found, key=lambda rule: rule.id))


def compare(op: str, left: object, right: object) -> bool:
    """Compare two JSON values; a missing value or mismatched types never match."""
    if left is None or right is None:
        return False
    if op in ("eq", "ne"):
        if not _same_kind(left, right):
            return False
        return (left == right) is (op == "eq")
    if op == "in":
        items = right if isinstance(right, list | tuple) else ()
        return any(_same_kind(left, item) and left == item for item in items)
    low, high = number(left), number(right)
    if low is None or high is None:
        return False
    return {
        "gte": low >= high,
        "gt": low > high,
        "lte": low <= high,
        "lt": low < high,
    }.get(op, False)


def number(value: object) -> float | None:
    """Return a JSON number as float; None for anything else (bools included)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _same_kind(left: object, right: object) -> bool:
    """Tell whether two scalars may be compared (no bool/number or str/number mix)."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool)
    numbers = number(left) is not None and number(right) is not None
    return numbers or type(left) is type(right)


def _significant(prefix: str) -> str:
    """Return a type code without its wildcard trailing zeros ("11A00" -> "11A")."""
    return prefix.rstrip("0")
