"""Propose an allocation for an incident's open requests from what the deployment holds.

``build_problem`` turns the incident's open requests (units still to commit) and every
department's available resources (units not yet committed) into an
``AllocationProblem``; travel times come from the region's road layer (the cascade
model's line layer, read from its dataset's stored records) with the roads that the
cascading-hazard assessment of every open incident finds exposed closed
(``road_closures``), or, without a road layer, from straight lines at
``FALLBACK_KMH`` with a detour factor (stated in the proposal). ``propose_for`` runs
the optimiser and returns the JSON the CLI prints and the event records. ``decide``
runs a commander's decision together with one task per department that sends units,
in one transaction. Imported by the resources CLI, API and pages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection, Engine

from muster.core.bus import MessageBus
from muster.core.errors import MusterError, NotFound
from muster.core.messages import Actor, Command
from muster.ingest.domain.model import distance_km
from muster.resources import queries, request_queries
from muster.resources.domain.allocation import (
    AllocationProblem,
    Location,
    Request,
    Supply,
    TravelTable,
    TravelTimes,
)
from muster.resources.domain.commands import DecideAllocation
from muster.resources.domain.model import Status
from muster.resources.domain.requests import TIER_RANK
from muster.resources.optimiser import propose
from muster.resources.roads import RoadNetwork
from muster.response import queries as response
from muster.response.domain.commands import AddTask
from muster.situation.assess_service import assess_incident, current_model, read_layer

FALLBACK_KMH = 40.0
DETOUR = 1.3  # straight line to road distance
LINE_GEOMETRIES = ("LineString", "MultiLineString")
DEFAULT_TASK_MINUTES = 60
_NETWORKS: dict[tuple[str, int, str], RoadNetwork] = {}


@dataclass(frozen=True, slots=True)
class Roads:
    """The road layer used and the roads closed, by the incidents that close them."""

    layer: str | None
    network: RoadNetwork | None
    closures: Mapping[str, tuple[str, ...]]  # road segment id -> incident ids


def road_network(conn: Connection) -> tuple[str | None, RoadNetwork | None]:
    """Return the region's road layer name and graph (cached while unchanged)."""
    model = current_model(conn)
    specs = [] if model is None else list(model.layers.values())
    lines = [s for s in specs if s.geometry in LINE_GEOMETRIES]
    if not lines:
        return None, None
    spec = next((s for s in lines if s.name == "roads"), lines[0])
    found = read_layer(conn, spec, [])
    if found is None:
        return spec.name, None
    data, updated = found
    features = list(data.collection.get("features", []))
    if not features:
        return spec.name, None
    key = (spec.dataset, len(features), "" if updated is None else updated.isoformat())
    if key not in _NETWORKS:
        _NETWORKS.clear()
        _NETWORKS[key] = RoadNetwork.from_geojson(dict(data.collection))
    return spec.name, _NETWORKS[key]


def road_closures(
    conn: Connection, layer: str, now: datetime
) -> dict[str, tuple[str, ...]]:
    """Return the road segments the open incidents' assessments find exposed."""
    closed: dict[str, list[str]] = {}
    for incident in response.list_incidents(conn, limit=500):
        if incident.status == "closed" or not incident.type_code:
            continue
        try:
            assessment = assess_incident(conn, incident.id, now=now)
        except MusterError:  # no model, no type: nothing closes
            continue
        for step in assessment.steps:
            for asset in step.assets:
                if asset.layer == layer:
                    ids = closed.setdefault(asset.id, [])
                    if incident.id not in ids:
                        ids.append(incident.id)
    return {road: tuple(ids) for road, ids in sorted(closed.items())}


def current_roads(conn: Connection, now: datetime) -> Roads:
    """Return the road graph with today's closures applied."""
    layer, network = road_network(conn)
    if layer is None or network is None:
        return Roads(layer, None, {})
    closures = road_closures(conn, layer, now)
    network.set_closures(closures)
    return Roads(layer, network, closures)


def build_problem(
    conn: Connection, incident_id: str, now: datetime, roads: Roads
) -> AllocationProblem:
    """Return the incident's open requests and the available units as a problem."""
    if response.get_incident(conn, incident_id) is None:
        raise NotFound(f"no incident {incident_id}", incident=incident_id)
    views = request_queries.list_requests(
        conn, incident_id=incident_id, statuses=request_queries.OPEN_STATUSES
    )
    requests = tuple(
        Request(
            id=v.request.id,
            type_code=v.request.type_code,
            quantity=v.open_units,
            location=Location(v.request.latitude, v.request.longitude),
            priority=v.request.priority,
            min_capability=v.request.min_capability,
            max_tier=TIER_RANK.get(v.request.max_tier or ""),
            needed_by=None
            if v.request.needed_by is None
            else datetime.fromisoformat(v.request.needed_by),
        )
        for v in views
        if v.open_units > 0
    )
    used = request_queries.committed_by_resource(conn)
    wanted = {r.type_code for r in requests}
    supplies = tuple(
        Supply(
            id=item.id,
            department=item.department,
            type_code=item.type_code,
            quantity=item.quantity - used.get(item.id, 0),
            location=Location(item.latitude, item.longitude),
            capability=item.capability,
            tier=TIER_RANK.get(item.tier or ""),
            ready_minutes=float(item.ready_minutes),
        )
        for item in (
            view.resource
            for view in queries.list_resources(conn, status=Status.AVAILABLE.value)
        )
        if item.type_code in wanted and item.quantity - used.get(item.id, 0) > 0
    )
    travel = _travel(roads.network, supplies, requests)
    return AllocationProblem(requests, supplies, travel, now=now)


def _travel(
    network: RoadNetwork | None,
    supplies: Sequence[Supply],
    requests: Sequence[Request],
) -> TravelTimes:
    """Return road minutes, or straight-line estimates without a road layer."""
    if not supplies or not requests:
        return TravelTable({})
    if network is not None:
        return network.travel_matrix(
            [(s.id, s.location) for s in supplies],
            [(r.id, r.location) for r in requests],
        )
    return TravelTable(
        {
            (s.id, r.id): distance_km(
                s.location.lat, s.location.lon, r.location.lat, r.location.lon
            )
            * DETOUR
            / FALLBACK_KMH
            * 60
            for s in supplies
            for r in requests
            if s.type_code == r.type_code
        }
    )


def propose_for(
    conn: Connection,
    incident_id: str,
    now: datetime,
    *,
    language: str = "en",
    time_limit_seconds: float = 10.0,
) -> dict[str, Any]:
    """Return the proposal for an incident as JSON-ready data, with its inputs."""
    roads = current_roads(conn, now)
    problem = build_problem(conn, incident_id, now, roads)
    proposal = propose(problem, time_limit_seconds=time_limit_seconds)
    names = {v.resource.id: v.resource.name for v in queries.list_resources(conn)}
    document = proposal.as_dict(language)
    assignments: list[dict[str, Any]] = list(document.pop("assignments"))  # type: ignore[call-overload]
    for item in assignments:
        item["resource_name"] = names.get(item["supply_id"], "")
    return {
        "incident_id": incident_id,
        "computed_at": now.isoformat(),
        **document,
        "assignments": assignments,
        "requests": [
            {
                "id": r.id,
                "type": r.type_code,
                "open_units": r.quantity,
                "priority": r.priority,
                "needed_by": None if r.needed_by is None else r.needed_by.isoformat(),
                "location": {"lat": r.location.lat, "lon": r.location.lon},
            }
            for r in problem.requests
        ],
        "supplies": len(problem.supplies),
        "supply_units": sum(s.quantity for s in problem.supplies),
        "travel": "roads" if roads.network is not None else "straight_line",
        "road_layer": roads.layer,
        "closed_roads": {road: list(ids) for road, ids in roads.closures.items()},
    }


def decide(
    bus: MessageBus,
    actor: Actor,
    engine: Engine,
    proposal_id: str,
    decision: str,
    *,
    reason: str = "",
    assignments: Sequence[dict[str, Any]] | None = None,
    now: datetime,
) -> dict[str, Any]:
    """Record a commander's decision; an approval also adds one task per department
    that sends units (all in one transaction)."""
    with engine.connect() as conn:
        view = request_queries.get_proposal(conn, proposal_id)
        if view is None:
            raise NotFound(f"no proposal {proposal_id}", proposal=proposal_id)
        proposed = view.document.get("assignments", [])
        chosen = proposed if assignments is None else assignments
        tasks = (
            _dispatch_tasks(conn, view.incident_id, chosen, now)
            if decision == "approve"
            else []
        )
    commands: list[Command] = [
        DecideAllocation(
            proposal_id=proposal_id,
            decision=decision,
            reason=reason,
            assignments=None if assignments is None else tuple(assignments),
        ),
        *tasks,
    ]
    results = bus.handle_batch(commands, actor)
    outcome: dict[str, Any] = dict(results[0])
    outcome["tasks"] = list(results[1:])
    return outcome


def _dispatch_tasks(
    conn: Connection,
    incident_id: str,
    assignments: Sequence[Mapping[str, Any]],
    now: datetime,
) -> list[AddTask]:
    """Return one dispatch task per department sending units, due when the
    earliest of its requests is needed (at least 15 minutes, default an hour)."""
    by_department: dict[str, list[tuple[str, str, int]]] = {}
    due: dict[str, int] = {}
    for item in assignments:
        found = queries.get_resource(conn, str(item.get("supply_id")))
        request = request_queries.get_request(conn, str(item.get("request_id")))
        units = item.get("units")
        if found is None or request is None or not isinstance(units, int) or units < 1:
            continue  # the decision itself refuses these
        department = found.resource.department
        by_department.setdefault(department, []).append(
            (found.resource.id, request.request.id, units)
        )
        minutes = DEFAULT_TASK_MINUTES
        if request.request.needed_by is not None:
            left = datetime.fromisoformat(request.request.needed_by) - now
            minutes = max(15, int(left.total_seconds() // 60))
        due[department] = min(due.get(department, minutes), minutes)
    tasks = []
    for department, sent in sorted(by_department.items()):
        lines = [
            f"{resource} ×{units} → {request}" for resource, request, units in sent
        ]
        tasks.append(
            AddTask(
                incident_id=incident_id,
                title_zh=f"按批准的调配方案派出资源（{len(sent)} 项）",
                title_en=f"Dispatch resources as approved ({len(sent)})",
                lead_department=department,
                due_minutes=min(due[department], 30 * 24 * 60),
                ack_minutes=min(15, due[department]),
                checklist=tuple(lines),
            )
        )
    return tasks


__all__ = [
    "Roads",
    "build_problem",
    "current_roads",
    "decide",
    "propose_for",
    "road_closures",
    "road_network",
]
