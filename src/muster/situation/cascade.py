"""Cascading-hazard assessment (灾害链研判): what may follow an incident, on which
assets, how many people, and which departments should join the response.

``build_graph`` turns a ``CascadeModel`` into a networkx ``MultiDiGraph`` (hazards as
nodes, one edge per rule, keyed by rule id); ``assess`` walks it in topological order
from the hazards the incident's type enters and evaluates each rule with shapely 2
(STRtree queries on prepared geometries) over the region's asset layers. Geometry is
projected to kilometres around the incident (equirectangular; fine at city scale).
Results (``muster.situation.domain.cascade_results``) are sorted; the explanation
names every rule evaluated and every dataset read, with source department and
freshness. Imported by the assessment service (which the CLI calls) and tests.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import networkx as nx
import shapely
import shapely.affinity
import shapely.errors
from shapely.geometry import Point, Polygon, shape

from muster.core.errors import ValidationFailed
from muster.situation.domain.cascade_model import (
    TYPE_CODE,
    AnyOf,
    CascadeModel,
    Clause,
    FactValue,
    Relation,
    Rule,
    Scope,
)
from muster.situation.domain.cascade_results import (
    Assessment,
    ExposedAsset,
    IncidentSource,
    RuleUse,
    RunFacts,
    Step,
    chains,
    explain,
    merge,
    rule_use,
    suggest,
)

KM_PER_DEGREE_LAT = 110.574
KM_PER_DEGREE_LON_AT_EQUATOR = 111.320
MAX_LAYER_BYTES = 2 * 1024 * 1024
INCIDENT_LAYER = "incident"
Geometry = Any  # a shapely geometry (shapely ships no type hints)


@dataclass(frozen=True, slots=True)
class LayerData:
    """A parsed GeoJSON FeatureCollection with its catalog dataset and owner."""

    collection: Mapping[str, Any]
    dataset: str
    department: str


def build_graph(model: CascadeModel) -> Any:
    """Return the hazard graph: a networkx MultiDiGraph, one edge per rule."""
    graph = nx.MultiDiGraph()
    for hazard in sorted(model.hazards.values(), key=lambda item: item.id):
        graph.add_node(hazard.id, hazard=hazard)
    for rule in sorted(model.rules, key=lambda item: item.id):
        graph.add_edge(rule.source, rule.target, key=rule.id, rule=rule)
    return graph


def assess(
    source: IncidentSource,
    layers: Mapping[str, LayerData],
    model: CascadeModel,
    *,
    facts: Mapping[str, FactValue],
    freshness: Mapping[str, datetime],
    involved: Collection[str] = (),
    now: datetime | None = None,
) -> Assessment:
    """Assess what may follow ``source``: walk the rule graph from its entry hazards.

    ``layers`` maps layer names of the model to their data (a missing layer skips
    the rules that read it, noted as a gap); ``freshness`` maps layer names to their
    last update; ``involved`` lists the departments already in the response.
    """
    _check_source(source)
    run = _Run(source, layers, model, facts)
    graph = build_graph(model)
    entries = model.entries(source.type_code)
    reached: dict[str, dict[tuple[str, str], _Feature]] = {
        entry: {(INCIDENT_LAYER, source.id): run.incident} for entry in entries
    }
    paths: dict[str, list[tuple[str, ...]]] = {entry: [()] for entry in entries}
    reachable = set(entries).union(*(nx.descendants(graph, e) for e in entries))
    steps: list[Step] = []
    uses: list[RuleUse] = []
    for hazard in nx.lexicographical_topological_sort(graph.subgraph(reachable)):
        if hazard not in reached:
            continue
        for _, target, _key, data in sorted(
            graph.out_edges(hazard, keys=True, data=True), key=lambda edge: edge[2]
        ):
            rule: Rule = data["rule"]
            found, reason = run.evaluate(rule, list(reached[hazard].values()))
            uses.append(rule_use(rule, fired=bool(found), reason=reason))
            if not found:
                continue
            step_paths = tuple(sorted((*path, rule.id) for path in paths[hazard]))
            steps.append(run.step(rule, found, step_paths, set(involved)))
            for feature, _via in found:
                reached.setdefault(target, {})[(feature.layer, feature.id)] = feature
            paths.setdefault(target, []).extend(step_paths)
    seen = RunFacts(
        sources={
            name: (data.dataset, data.department) for name, data in layers.items()
        },
        facts=facts,
        observed=run.observed,
        gaps=run.gaps,
        freshness=freshness,
        now=now,
    )
    return Assessment(
        incident=source,
        entries=entries,
        steps=tuple(steps),
        chains=chains(steps),
        departments=merge(item for step in steps for item in step.departments),
        explanation=explain(model, source, steps, uses, seen),
    )


def read_layers(
    root: Path, model: CascadeModel, *, owners: Mapping[str, str]
) -> dict[str, LayerData]:
    """Read the layer files a model declares (paths relative to the pack ``root``).

    ``owners`` maps dataset codes to their owner department (datasets.yaml); a
    layer whose file is missing is left out, and ``assess`` reports it as a gap.
    """
    found: dict[str, LayerData] = {}
    base = root.resolve()
    for spec in model.layers.values():
        file = (base / spec.file).resolve()
        if not spec.file or not file.is_relative_to(base) or not file.is_file():
            continue
        if file.stat().st_size > MAX_LAYER_BYTES:
            raise ValidationFailed(f"layer file {spec.file} is larger than 2 MB")
        if spec.dataset not in owners:
            raise ValidationFailed(
                f"layer {spec.name}: dataset {spec.dataset} has no owner department",
                dataset=spec.dataset,
            )
        try:
            collection = json.loads(file.read_text(encoding="utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            message = f"layer file {spec.file} is not JSON: {error}"
            raise ValidationFailed(message) from error
        found[spec.name] = LayerData(collection, spec.dataset, owners[spec.dataset])
    return found


# --- evaluation -------------------------------------------------------------------

_BAD_GEOMETRY = (
    shapely.errors.ShapelyError,
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    IndexError,
)


@dataclass(slots=True)
class _Feature:
    layer: str
    id: str
    name_zh: str
    name_en: str
    department: str
    properties: dict[str, Any]
    geometry: Geometry


@dataclass(slots=True)
class _Index:
    """The features of one layer, an STRtree over them and lazy key tables."""

    features: list[_Feature]
    tree: Any
    keys: dict[str, dict[str, list[int]]] = field(default_factory=dict)

    def keyed(self, name: str, value: object) -> list[int]:
        """Return the features whose ``name`` shares a value with ``value``."""
        if name not in self.keys:
            table: dict[str, list[int]] = {}
            for position, feature in enumerate(self.features):
                for item in _values(feature.properties.get(name)):
                    table.setdefault(item, []).append(position)
            self.keys[name] = table
        return sorted({p for v in _values(value) for p in self.keys[name].get(v, [])})

    def query(self, geometry: Geometry, **options: Any) -> list[int]:
        """Return the positions the tree finds, sorted."""
        return sorted(int(p) for p in self.tree.query(geometry, **options))


Found = list[tuple[_Feature, tuple[str, ...]]]


class _Run:
    """One assessment's state: projected layers, observed facts, gaps met."""

    def __init__(
        self,
        source: IncidentSource,
        layers: Mapping[str, LayerData],
        model: CascadeModel,
        facts: Mapping[str, FactValue],
    ) -> None:
        self.model, self.layers, self.facts = model, layers, facts
        lat = math.radians(source.lat)
        scale = (KM_PER_DEGREE_LON_AT_EQUATOR * math.cos(lat), KM_PER_DEGREE_LAT)
        origin = (source.lon, source.lat)
        self.project: Callable[[Any], Any] = lambda xy: (xy - origin) * scale
        self.indexes: dict[str, _Index] = {}
        self.gaps: list[str] = []
        self.observed: set[str] = set()
        area = (
            shapely.transform(_shape(source.area), self.project)
            if source.area is not None
            else Point(0.0, 0.0).buffer(source.radius_km, quad_segs=32)
        )
        shapely.prepare(area)
        props = {"id": source.id, "type_code": source.type_code}
        self.incident = _Feature(INCIDENT_LAYER, source.id, "", "", "", props, area)

    def evaluate(self, rule: Rule, sources: list[_Feature]) -> tuple[Found, str]:
        """Return what the rule reaches (each with its sources), or why nothing."""
        missing = ", ".join(name for name in rule.reads() if name not in self.layers)
        if missing:
            self.gaps.append(f"rule {rule.id} not evaluated: no layer {missing}")
            return [], f"layer {missing} not available"
        no_feature: Scope = {"fact": self.facts, "property": {}, "source": {}}
        for clause in rule.when:
            if _fact_only(clause) and not clause.holds(no_feature):
                return [], f"{clause.describe()} does not hold"
        found: dict[tuple[str, str], tuple[_Feature, set[str]]] = {}
        for name in rule.layers:
            index = self.index(name)
            for source in sources:
                for position in self.candidates(rule.relation, index, source):
                    feature = index.features[position]
                    scope: Scope = {
                        "fact": self.facts,
                        "property": feature.properties,
                        "source": source.properties,
                    }
                    if all(clause.holds(scope) for clause in rule.when):
                        key = (name, feature.id)
                        found.setdefault(key, (feature, set()))[1].add(source.id)
        result = [
            (item, tuple(sorted(via))) for _, (item, via) in sorted(found.items())
        ]
        return result, "" if result else "no feature meets the rule"

    def candidates(
        self, relation: Relation, index: _Index, source: _Feature
    ) -> list[int]:
        """Return the positions of the features in ``relation`` to ``source``."""
        if relation.kind == "key":
            value = (
                source.properties.get(relation.source_property)
                if relation.source_property
                else source.id
            )
            return index.keyed(relation.property, value)
        if relation.kind == "within_km":
            return index.query(
                source.geometry, predicate="dwithin", distance=relation.km
            )
        if relation.kind == "downwind":
            area = self.downwind(relation, source)
            return index.query(area, predicate="intersects")
        return index.query(source.geometry, predicate="intersects")

    def downwind(self, relation: Relation, source: _Feature) -> Geometry:
        """Return the sector downwind of ``source`` (a circle without wind)."""
        centre = source.geometry.centroid
        wind = self.facts.get(relation.wind_fact)
        if isinstance(wind, bool) or not isinstance(wind, int | float):
            self.gaps.append(
                f"fact {relation.wind_fact} (wind direction) unknown: "
                f"all directions within {relation.km:g} km"
            )
            area = centre.buffer(relation.km, quad_segs=32)
        else:
            toward, half = (float(wind) + 180.0) % 360.0, relation.half_angle_deg
            arc = [math.radians(toward - half + half * i / 12) for i in range(25)]
            ring = [(math.sin(a) * relation.km, math.cos(a) * relation.km) for a in arc]
            sector = Polygon([(0.0, 0.0), *ring])
            area = shapely.affinity.translate(sector, centre.x, centre.y)
        if relation.isolation_km > 0:
            area = area.union(centre.buffer(relation.isolation_km, quad_segs=32))
        shapely.prepare(area)
        return area

    def index(self, name: str) -> _Index:
        """Return the (cached) index of a layer, building its features once."""
        if name not in self.indexes:
            features = self.features(name, self.layers[name])
            tree = shapely.STRtree([feature.geometry for feature in features])
            self.indexes[name] = _Index(features, tree)
        return self.indexes[name]

    def features(self, name: str, data: LayerData) -> list[_Feature]:
        """Project a layer's features, applying observed facts; skip bad ones."""
        raw = data.collection.get("features")
        if data.collection.get("type") != "FeatureCollection" or not isinstance(
            raw, list
        ):
            self.gaps.append(f"layer {name} is not a GeoJSON FeatureCollection")
            return []
        found: dict[str, _Feature] = {}
        for position, item in enumerate(raw):
            feature = self.feature(name, data, item)
            if feature is None or feature.id in found:
                problem = "no id or geometry" if feature is None else "a repeated id"
                self.gaps.append(f"layer {name}: feature {position} has {problem}")
            else:
                found[feature.id] = feature
        return list(found.values())

    def feature(self, name: str, data: LayerData, item: object) -> _Feature | None:
        """Return one projected feature, or None when it has no id or geometry."""
        if not isinstance(item, Mapping):
            return None
        spec = self.model.layers[name]
        props = dict(item.get("properties") or {})
        ident = props.get(spec.id_property, item.get("id"))
        if isinstance(ident, bool) or not isinstance(ident, str | int):
            return None
        try:
            geometry = shapely.transform(_shape(item.get("geometry")), self.project)
        except _BAD_GEOMETRY:
            return None
        if geometry.is_empty:
            return None
        shapely.prepare(geometry)
        for fact, value in self.facts.items():
            if isinstance(value, Mapping) and str(ident) in value:
                props[fact] = value[str(ident)]  # observed beats modelled
                self.observed.add(fact)
        label = str(props.get(spec.name_property) or ident)
        return _Feature(
            layer=name,
            id=str(ident),
            name_zh=label,
            name_en=str(props.get("name_en") or label),
            department=str(props.get("department") or data.department),
            properties=props,
            geometry=geometry,
        )

    def step(
        self,
        rule: Rule,
        found: Found,
        paths: tuple[tuple[str, ...], ...],
        involved: set[str],
    ) -> Step:
        """Return the step of a rule that fired."""
        hazard = self.model.hazards[rule.target]
        rules = {item.id: item for item in self.model.rules}
        read = {name for path in paths for r in path for name in rules[r].reads()}
        assets = tuple(
            ExposedAsset(
                id=f.id,
                name_zh=f.name_zh,
                name_en=f.name_en,
                layer=f.layer,
                dataset=self.layers[f.layer].dataset,
                department=f.department,
                via=via,
            )
            for f, via in found
        )
        return Step(
            rule=rule.id,
            name_zh=rule.name_zh,
            name_en=rule.name_en,
            source=rule.source,
            hazard=hazard.id,
            hazard_zh=hazard.name_zh,
            hazard_en=hazard.name_en,
            paths=paths,
            layers=tuple(sorted(read)),
            assets=assets,
            population=self.population(rule, [feature for feature, _ in found]),
            departments=suggest(rule, assets, involved),
        )

    def population(self, rule: Rule, features: list[_Feature]) -> int | None:
        """Count the people of a step: a property sum, or a polygon overlay."""
        spec = rule.population
        if spec is None:
            return None
        if spec.layer is None:
            return round(
                sum(_number(f.properties.get(spec.property)) for f in features)
            )
        index = self.index(spec.layer)
        area = shapely.union_all([feature.geometry for feature in features])
        total = 0.0
        for position in index.query(area, predicate="intersects"):
            cell = index.features[position]
            if cell.geometry.area > 0:
                share = cell.geometry.intersection(area).area / cell.geometry.area
                total += _number(cell.properties.get(spec.property)) * share
        return round(total)


# --- helpers ----------------------------------------------------------------------


def _check_source(source: IncidentSource) -> None:
    if not TYPE_CODE.fullmatch(source.type_code):
        raise ValidationFailed(f"'{source.type_code}' is not a GB/T 35561 type code")
    if not (-90 <= source.lat <= 90 and -180 <= source.lon <= 180):
        raise ValidationFailed("the incident's position is outside WGS 84 bounds")
    if source.area is None and not source.radius_km > 0:
        raise ValidationFailed("the incident needs a radius above 0 km or an area")


def _shape(data: object) -> Geometry:
    """Return the shapely geometry of GeoJSON data, made valid."""
    geometry = shape(data)
    return geometry if geometry.is_valid else shapely.make_valid(geometry)


def _fact_only(clause: Clause) -> bool:
    parts = clause.conditions if isinstance(clause, AnyOf) else (clause,)
    return all(part.subject == "fact" for part in parts)


def _values(value: object) -> list[str]:
    """Return the JSON keys of a scalar or a list of scalars (1 and "1" differ)."""
    items = value if isinstance(value, list) else [value]
    return [json.dumps(item) for item in items if isinstance(item, str | int | float)]


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return float(value)
