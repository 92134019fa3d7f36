"""What the resource board shows of requests and commitments, for the person signed in.

A department's duty officers and heads see the open requests addressed to their
department or to all (and those it raised), each with the department's resources
that fit (type, capability, tier, free units) to commit and a decline form, and the
department's active commitments with their next tracking steps. Commanders and admins
see every open request and commitment, may commit any department's resources and
raise requests for any department; they get a link to the allocation page of
each open incident with requests. Pure reads shaped for
``templates/resources_requests.html``; imported by ``muster.resources.pages`` (the
board and its live fragment).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from muster.core.messages import Actor
from muster.identity import queries as identity
from muster.resources import queries, request_queries
from muster.resources.domain.model import ResourceType, Status
from muster.resources.domain.permissions import may_change_status, may_register
from muster.resources.domain.requests import (
    COMMITMENT_TRANSITIONS,
    TIER_RANK,
    CommitmentStatus,
    ResourceRequest,
)
from muster.resources.labels import (
    COMMITMENT_STATUS_LABELS,
    REQUEST_STATUS_LABELS,
    UNIT_LABELS,
    label,
)
from muster.response import queries as response

REQUEST_BADGES = {
    "open": "badge-warn",
    "partly_committed": "badge-task-acknowledged",
    "committed": "badge-ok",
    "declined": "badge-bad",
    "cancelled": "badge-none",
    "closed": "badge-none",
}
COMMITMENT_BADGES = {
    "committed": "badge-task-assigned",
    "en_route": "badge-task-acknowledged",
    "on_scene": "badge-level",
    "released": "badge-none",
}
OVERSEERS = ("commander", "admin", "system")
_RAISERS = ("duty_officer", "head")


def _oversees(actor: Actor) -> bool:
    return actor.has_role(*OVERSEERS)


def may_raise(actor: Actor) -> bool:
    """Tell whether the raise-a-request form is for this person."""
    return _oversees(actor) or (
        actor.department is not None and actor.has_role(*_RAISERS)
    )


def _fits(request: ResourceRequest, item: queries.ResourceView) -> bool:
    resource = item.resource
    if resource.type_code != request.type_code:
        return False
    if request.min_capability is not None and (
        resource.capability is None or resource.capability < request.min_capability
    ):
        return False
    if request.max_tier is not None:
        rank = TIER_RANK.get(resource.tier or "", 9)
        if rank > TIER_RANK.get(request.max_tier, 0):
            return False
    return True


def _options(
    actor: Actor,
    view: request_queries.RequestView,
    available: list[queries.ResourceView],
    used: dict[str, int],
    names: dict[str, str],
) -> list[dict[str, Any]]:
    """Return the resources this person may commit to a request, with free units."""
    request = view.request
    options = []
    for item in available:
        resource = item.resource
        free = resource.quantity - used.get(resource.id, 0)
        if free < 1 or not _fits(request, item):
            continue
        if request.to_department not in (None, resource.department):
            continue
        if not may_change_status(actor, resource.department):
            continue
        if not _oversees(actor) and resource.department != actor.department:
            continue
        options.append(
            {
                "id": resource.id,
                "name": resource.name,
                "department_name": names.get(resource.department, resource.department),
                "free": free,
                "capability": resource.capability,
                "units": min(free, view.open_units),
            }
        )
    return options


def _request_row(
    actor: Actor,
    view: request_queries.RequestView,
    *,
    language: str,
    types: dict[str, ResourceType],
    names: dict[str, str],
    titles: dict[str, str],
    options: list[dict[str, Any]],
    declined: str | None,
) -> dict[str, Any]:
    request = view.request
    of_type = types.get(request.type_code)
    department = actor.department
    answerable = department is not None and request.to_department in (
        None,
        department,
    )
    return {
        "id": request.id,
        "incident_id": request.incident_id,
        "incident_title": titles.get(request.incident_id, request.incident_id),
        "type": request.type_code,
        "type_name": of_type.name(language) if of_type else request.type_code,
        "unit": label(language, UNIT_LABELS, of_type.unit if of_type else None),
        "quantity": request.quantity,
        "committed_units": view.committed_units,
        "open_units": view.open_units,
        "priority": request.priority,
        "needed_by": request.needed_by,
        "min_capability": request.min_capability,
        "max_tier": request.max_tier,
        "place": request.location_name,
        "note": request.note,
        "requested_by_name": names.get(request.requested_by, request.requested_by),
        "to_department_name": None
        if request.to_department is None
        else names.get(request.to_department, request.to_department),
        "status": view.status.value,
        "status_label": label(language, REQUEST_STATUS_LABELS, view.status.value),
        "badge": REQUEST_BADGES[view.status.value],
        "options": options,
        "declined_reason": declined,
        "may_decline": answerable
        and declined is None
        and department is not None
        and may_register(actor, department),
        "may_cancel": may_change_status(actor, request.requested_by),
    }


def _commitment_row(
    actor: Actor,
    view: request_queries.CommitmentView,
    *,
    language: str,
    names: dict[str, str],
    resources: dict[str, str],
) -> dict[str, Any]:
    item = view.commitment
    following = sorted(
        COMMITMENT_TRANSITIONS[item.status], key=list(CommitmentStatus).index
    )
    return {
        "id": item.id,
        "request_id": item.request_id,
        "incident_id": view.incident_id,
        "resource_id": item.resource_id,
        "resource_name": resources.get(item.resource_id, item.resource_id),
        "department_name": names.get(item.department, item.department),
        "units": item.units,
        "status": item.status.value,
        "status_label": label(language, COMMITMENT_STATUS_LABELS, item.status.value),
        "badge": COMMITMENT_BADGES[item.status.value],
        "since": view.status_changed_at,
        "may_track": may_change_status(actor, item.department),
        "next": [
            {
                "code": status.value,
                "label": label(language, COMMITMENT_STATUS_LABELS, status.value),
            }
            for status in following
        ],
    }


def board_requests(conn: Connection, *, language: str, actor: Actor) -> dict[str, Any]:
    """Return the board's requests and commitments sections for a person."""
    oversees = _oversees(actor)
    department = None if oversees else actor.department
    views = request_queries.list_requests(
        conn, statuses=request_queries.OPEN_STATUSES, department=department
    )
    names = {d.code: d.name(language) for d in identity.list_departments(conn)}
    types = {item.code: item for item in queries.list_types(conn)}
    incidents = response.open_incidents(conn)
    titles = {item.id: item.title for item in incidents}
    every = queries.list_resources(conn)
    available = [v for v in every if v.resource.status is Status.AVAILABLE]
    used = request_queries.committed_by_resource(conn)
    rows = []
    for view in views:
        declined = next(
            (
                item.reason
                for item in request_queries.declines_of(conn, view.request.id)
                if item.department == actor.department
            ),
            None,
        )
        rows.append(
            _request_row(
                actor,
                view,
                language=language,
                types=types,
                names=names,
                titles=titles,
                options=_options(actor, view, available, used, names),
                declined=declined,
            )
        )
    commitments = (
        request_queries.list_commitments(conn, active_only=True)
        if oversees
        else []
        if actor.department is None
        else request_queries.list_commitments(
            conn, department=actor.department, active_only=True
        )
    )
    resource_names = {v.resource.id: v.resource.name for v in every}
    with_requests = (
        {v.request.incident_id for v in request_queries.list_requests(conn)}
        if oversees
        else set()
    )
    return {
        "requests": rows,
        "commitments": [
            _commitment_row(
                actor, item, language=language, names=names, resources=resource_names
            )
            for item in commitments
        ],
        "may_raise": may_raise(actor),
        "oversees": oversees,
        "raise_departments": [
            (code, name)
            for code, name in names.items()
            if oversees or code == actor.department
        ],
        "own_department": actor.department,
        "request_incidents": [
            {"id": item.id, "title": item.title} for item in incidents
        ],
        "request_types": [(item.code, item.name(language)) for item in types.values()],
        "allocation_incidents": [
            {"id": item.id, "title": item.title}
            for item in incidents
            if item.id in with_requests
        ],
    }


__all__ = ["COMMITMENT_BADGES", "REQUEST_BADGES", "board_requests", "may_raise"]
