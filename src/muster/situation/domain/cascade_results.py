"""What a cascade assessment (灾害链研判) found, and why: pure result types (stdlib).

``muster.situation.cascade.assess`` builds an ``Assessment``: the steps (rules that
fired, with the assets they reached and the people counted), grouped into chains
from the entry hazards, the departments to add with their roles and tasks, and an
``Explanation`` naming every rule evaluated and every dataset read (source
department, freshness) in English and Chinese. ``Assessment.to_dict()`` is JSON
data. Imported by the engine, the assessment service and the CLI.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, datetime

from muster.core.errors import ValidationFailed
from muster.situation.domain.cascade_model import (
    CascadeModel,
    FactValue,
    Rule,
    Task,
)

ROLES = ("lead", "supporting", "task", "asset_owner")


@dataclass(frozen=True, slots=True)
class IncidentSource:
    """Where and what the incident is; ``area`` (GeoJSON) replaces the circle."""

    id: str
    type_code: str
    lat: float
    lon: float
    radius_km: float = 1.0
    area: Mapping[str, object] | None = None


@dataclass(frozen=True, slots=True)
class ExposedAsset:
    """A feature a rule reached, with the upstream features it was reached from."""

    id: str
    name_zh: str
    name_en: str
    layer: str
    dataset: str
    department: str
    via: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DepartmentSuggestion:
    """A department to add to the response, why (roles, rules) and its tasks."""

    department: str
    roles: tuple[str, ...]
    rules: tuple[str, ...]
    tasks: tuple[Task, ...]
    is_involved: bool


@dataclass(frozen=True, slots=True)
class Step:
    """One rule that fired: the hazard it leads to, on what, for how many people."""

    rule: str
    name_zh: str
    name_en: str
    source: str
    hazard: str
    hazard_zh: str
    hazard_en: str
    paths: tuple[tuple[str, ...], ...]
    layers: tuple[str, ...]  # read along the paths: see explanation.datasets
    assets: tuple[ExposedAsset, ...]
    population: int | None
    departments: tuple[DepartmentSuggestion, ...]


@dataclass(frozen=True, slots=True)
class Chain:
    """The steps that follow from one rule leaving an entry hazard, in order."""

    entry: str
    rule: str
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class RuleUse:
    """A rule the assessment evaluated: what it tests, and what came of it."""

    rule: str
    source: str
    target: str
    name_zh: str
    name_en: str
    layers: tuple[str, ...]
    relation: str
    conditions: tuple[str, ...]
    department: str
    fired: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class DatasetUse:
    """A layer the assessment read: its dataset, source department and freshness."""

    layer: str
    dataset: str
    department: str
    updated_at: str | None
    age_minutes: int | None
    rules: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why: every rule evaluated, every dataset and fact read, and what was missing."""

    rules: tuple[RuleUse, ...]
    datasets: tuple[DatasetUse, ...]
    facts: Mapping[str, FactValue | None]
    gaps: tuple[str, ...]
    lines_en: tuple[str, ...]
    lines_zh: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Assessment:
    """The cascades an incident may set off, and what to do about them."""

    incident: IncidentSource
    entries: tuple[str, ...]
    steps: tuple[Step, ...]
    chains: tuple[Chain, ...]
    departments: tuple[DepartmentSuggestion, ...]
    explanation: Explanation

    def to_dict(self) -> dict[str, object]:
        """Return the assessment as JSON data: chains hold their steps in full."""
        data = to_json(self)
        if not isinstance(data, dict):  # pragma: no cover - a dataclass gives a dict
            raise TypeError("an assessment converts to a JSON object")
        del data["steps"]
        return data


@dataclass(frozen=True, slots=True)
class RunFacts:
    """What an evaluation saw, for its explanation: layer name -> (dataset, owner
    department) of the layers present, the facts, the observed facts used, the gaps
    met, each layer's last update and the time of the assessment."""

    sources: Mapping[str, tuple[str, str]]
    facts: Mapping[str, FactValue]
    observed: Collection[str]
    gaps: Sequence[str]
    freshness: Mapping[str, datetime]
    now: datetime | None


def suggest(
    rule: Rule, assets: tuple[ExposedAsset, ...], involved: set[str]
) -> tuple[DepartmentSuggestion, ...]:
    """Return the departments a step calls for: lead, supporting, task, asset owner."""
    roles: dict[str, set[str]] = {rule.department: {"lead"}}
    for code in rule.supporting:
        roles.setdefault(code, set()).add("supporting")
    for task in rule.tasks:
        roles.setdefault(task.department, set()).add("task")
    for asset in assets:
        roles.setdefault(asset.department, set()).add("asset_owner")
    return tuple(
        DepartmentSuggestion(
            department=code,
            roles=tuple(role for role in ROLES if role in roles[code]),
            rules=(rule.id,),
            tasks=tuple(task for task in rule.tasks if task.department == code),
            is_involved=code in involved,
        )
        for code in sorted(roles)
        if code
    )


def merge(items: Iterable[DepartmentSuggestion]) -> tuple[DepartmentSuggestion, ...]:
    """Merge the suggestions of every step into one per department."""
    merged: dict[str, DepartmentSuggestion] = {}
    for item in items:
        old = merged.setdefault(item.department, item)
        tasks = {(t.key, t.department): t for t in (*old.tasks, *item.tasks)}
        merged[item.department] = DepartmentSuggestion(
            department=item.department,
            roles=tuple(r for r in ROLES if r in {*old.roles, *item.roles}),
            rules=tuple(sorted({*old.rules, *item.rules})),
            tasks=tuple(tasks[key] for key in sorted(tasks)),
            is_involved=item.is_involved,
        )
    return tuple(merged[code] for code in sorted(merged))


def chains(steps: Sequence[Step]) -> tuple[Chain, ...]:
    """Group the steps by the rule that left the entry hazard, in evaluation order."""
    groups: dict[str, list[Step]] = {}
    for step in steps:
        for first in sorted({path[0] for path in step.paths}):
            groups.setdefault(first, []).append(step)
    return tuple(
        Chain(entry=group[0].source, rule=first, steps=tuple(group))
        for first, group in groups.items()
    )


def rule_use(rule: Rule, *, fired: bool, reason: str) -> RuleUse:
    """Describe a rule the assessment evaluated, and whether it fired."""
    return RuleUse(
        rule=rule.id,
        source=rule.source,
        target=rule.target,
        name_zh=rule.name_zh,
        name_en=rule.name_en,
        layers=rule.reads(),
        relation=rule.relation.describe(),
        conditions=tuple(clause.describe() for clause in rule.when),
        department=rule.department,
        fired=fired,
        reason=reason,
    )


def explain(
    model: CascadeModel,
    source: IncidentSource,
    steps: Sequence[Step],
    uses: Sequence[RuleUse],
    run: RunFacts,
) -> Explanation:
    """Name every rule evaluated and every layer read, with owner and freshness."""
    readers: dict[str, list[str]] = {}
    for use in uses:
        for name in use.layers:
            readers.setdefault(name, []).append(use.rule)
    datasets = tuple(
        _dataset_use(model, run, name, readers[name]) for name in sorted(readers)
    )
    rules = {rule.id: rule for rule in model.rules}
    names = {name for use in uses for name in rules[use.rule].facts_read()}
    facts = {name: run.facts.get(name) for name in sorted(names | set(run.observed))}
    entries = [model.hazards[entry] for entry in model.entries(source.type_code)]
    en = [
        f"Incident {source.id} ({source.type_code}) starts at: "
        + (", ".join(f"{h.id} ({h.name_en})" for h in entries) or "no hazard")
    ]
    zh = [
        f"事件 {source.id}（{source.type_code}）起始灾害："
        + ("、".join(f"{h.name_zh}（{h.id}）" for h in entries) or "无")
    ]
    by_rule = {step.rule: step for step in steps}
    for use in uses:
        rule, step = f"{use.rule} ({use.source} → {use.target})", by_rule.get(use.rule)
        if step is None:
            en.append(f"Rule {rule}: nothing, {use.reason}.")
            zh.append(f"规则 {rule}：未触发，{use.reason}。")
            continue
        via = " | ".join(" → ".join(path) for path in step.paths)
        ids = ", ".join(asset.id for asset in step.assets)
        people = step.population
        en.append(
            f"Rule {rule} via {via}: {use.name_en}: {ids}"
            + ("." if people is None else f"; population {people}.")
        )
        zh.append(
            f"规则 {rule} 路径 {via}：{use.name_zh}：{ids}"
            + ("。" if people is None else f"；涉及人口 {people}。")
        )
    for item in datasets:
        data = f"{item.layer} = {item.dataset} ({item.department})"
        en.append(f"Data: {data}, updated {item.updated_at or 'unknown'}.")
        zh.append(f"数据：{data}，更新于 {item.updated_at or '未知'}。")
    return Explanation(
        tuple(uses), datasets, facts, tuple(run.gaps), tuple(en), tuple(zh)
    )


def _dataset_use(
    model: CascadeModel, run: RunFacts, name: str, rules: list[str]
) -> DatasetUse:
    """Describe one layer read: its dataset, source department and freshness."""
    updated, now = run.freshness.get(name), run.now
    if updated is not None and updated.tzinfo is None:
        raise ValidationFailed(f"the freshness of layer {name} has no time zone")
    dataset, department = run.sources.get(name, (model.layers[name].dataset, ""))
    age = None
    if updated is not None and now is not None:
        age = int((now - updated).total_seconds() // 60)
    return DatasetUse(
        layer=name,
        dataset=dataset,
        department=department,
        updated_at=updated.astimezone(UTC).isoformat() if updated is not None else None,
        age_minutes=age,
        rules=tuple(rules),
    )


def to_json(value: object) -> object:
    """Return dataclasses, tuples and mappings as JSON data, recursively."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items()}
    return value
