"""Command handlers for resource requests and commitments (R6).

``REQUEST_HANDLERS`` is merged into the resources part's table. A request is raised
by its department (or a commander), answered by the holding departments (commit or
decline), tracked until released; committing the last free units of a resource
moves it to assigned for the incident, and releasing its last commitment moves it
to released (its department then makes it available again). Allocation proposals
are recorded and decided by commanders (``allocation_handlers``).
"""

from __future__ import annotations

import uuid

from muster.core.bus import Handler
from muster.core.errors import NotFound, PermissionDenied
from muster.core.messages import Actor, Command, Event
from muster.core.uow import UnitOfWork
from muster.identity import queries as identity
from muster.resources import queries, request_queries
from muster.resources.domain.commands import (
    CancelRequest,
    ChangeCommitmentStatus,
    CommitResource,
    DeclineRequest,
    RequestResource,
)
from muster.resources.domain.errors import (
    RequestConflict,
    ResourceInvalid,
    UnknownResource,
    UnknownResourceType,
)
from muster.resources.domain.events import (
    CommitmentStatusChanged,
    RequestCancelled,
    RequestDeclined,
    ResourceCommitted,
    ResourceRequested,
    ResourceStatusChanged,
)
from muster.resources.domain.model import ENGAGED, Resource, Status
from muster.resources.domain.permissions import may_change_status
from muster.resources.domain.requests import (
    ACTIVE,
    CommitmentStatus,
    RequestStatus,
    ResourceRequest,
    change_commitment,
    check_commitment,
    check_request,
    check_time,
    default_priority,
)
from muster.resources.handlers import resource_stream
from muster.resources.request_queries import RequestView
from muster.response import queries as response

_OWNERS = ("duty_officer", "head", "connector")


def request_stream(request_id: str) -> str:
    """Return the stream of a request (its commitments and declines go there too)."""
    return f"resource-request-{request_id}"


def _speaks_for(actor: Actor, department: str) -> bool:
    """Tell whether an actor may act for a department on requests."""
    if actor.has_role("admin", "system", "commander"):
        return True
    return actor.department == department and actor.has_role(*_OWNERS)


def request_resource(command: RequestResource, uow: UnitOfWork) -> str:
    """Raise a request; answer its id ("unchanged" for an import seen before)."""
    with uow:
        if not _speaks_for(uow.actor, command.requested_by):
            raise PermissionDenied(
                "requesting resources needs a duty officer, head or API key of the "
                "requesting department, a commander or an admin",
                action="request resource",
            )
        if command.request_id is not None:
            known = request_queries.get_request(uow.conn, command.request_id)
            if known is not None:
                if command.external_ref and known.external_ref == command.external_ref:
                    return "unchanged"
                raise RequestConflict(
                    f"request {command.request_id} exists",
                    request_id=command.request_id,
                )
        incident = response.get_incident(uow.conn, command.incident_id)
        if incident is None:
            raise NotFound(
                f"no incident {command.incident_id}", incident=command.incident_id
            )
        if incident.status == "closed":
            raise RequestConflict("the incident is closed")
        for code in filter(None, (command.requested_by, command.to_department)):
            if identity.get_department(uow.conn, code) is None:
                raise NotFound(f"no department {code}", department=code)
        of_type = queries.get_type(uow.conn, command.type_code)
        if of_type is None:
            raise UnknownResourceType(
                f"no resource type {command.type_code}", type=command.type_code
            )
        needed_by = command.needed_by
        if needed_by is not None:
            needed_by = check_time(needed_by, "needed_by").isoformat()
        request = ResourceRequest(
            id=command.request_id or f"RQ-{uuid.uuid4().hex[:12]}",
            incident_id=incident.id,
            requested_by=command.requested_by,
            type_code=of_type.code,
            quantity=command.quantity,
            latitude=incident.latitude
            if command.latitude is None
            else command.latitude,
            longitude=incident.longitude
            if command.longitude is None
            else command.longitude,
            priority=command.priority or default_priority(incident.level),
            location_name=command.location_name.strip(),
            min_capability=command.min_capability,
            max_tier=command.max_tier,
            needed_by=needed_by,
            to_department=command.to_department,
            task_id=command.task_id,
            note=command.note.strip(),
        )
        check_request(request, tiers=of_type.tiers)
        event = ResourceRequested(
            request_id=request.id,
            incident_id=request.incident_id,
            requested_by=request.requested_by,
            type_code=request.type_code,
            quantity=request.quantity,
            latitude=request.latitude,
            longitude=request.longitude,
            priority=request.priority,
            location_name=request.location_name,
            min_capability=request.min_capability,
            max_tier=request.max_tier,
            needed_by=request.needed_by,
            to_department=request.to_department,
            task_id=request.task_id,
            note=request.note,
            external_ref=command.external_ref,
        )
        uow.append(request_stream(request.id), [event], expected_version=0)
        uow.commit()
    return request.id


def _open_request(uow: UnitOfWork, request_id: str) -> RequestView:
    """Return a request that may still be answered, or refuse."""
    view = request_queries.get_request(uow.conn, request_id)
    if view is None:
        raise NotFound(f"no request {request_id}", request=request_id)
    if view.status in (RequestStatus.CANCELLED, RequestStatus.CLOSED):
        raise RequestConflict(
            f"request {request_id} is {view.status.value}", request_id=request_id
        )
    return view


def cancel_request(command: CancelRequest, uow: UnitOfWork) -> str:
    """Withdraw a request; its commitments stay tracked until released."""
    with uow:
        view = _open_request(uow, command.request_id)
        if not _speaks_for(uow.actor, view.request.requested_by):
            raise PermissionDenied(
                "cancelling a request needs its department, a commander or an admin",
                action="cancel request",
            )
        if not command.reason.strip():
            raise ResourceInvalid("say why the request is cancelled", field="reason")
        event = RequestCancelled(
            request_id=view.request.id,
            incident_id=view.request.incident_id,
            reason=command.reason.strip(),
        )
        stream = request_stream(view.request.id)
        uow.append(stream, [event], expected_version=uow.stream_version(stream))
        uow.commit()
    return RequestStatus.CANCELLED.value


def commit_events(
    uow: UnitOfWork,
    view: RequestView,
    resource: Resource,
    units: int,
    *,
    eta: str | None = None,
    note: str = "",
    proposal_id: str | None = None,
    commitment_id: str | None = None,
    external_ref: str = "",
) -> tuple[ResourceCommitted, list[ResourceStatusChanged]]:
    """Check and build the events committing ``units`` of a resource to a request.

    Used by ``CommitResource`` and by an approved allocation (several in one
    transaction: the tallies read include what the transaction wrote before)."""
    if resource.status is not Status.AVAILABLE:
        raise RequestConflict(
            f"resource {resource.id} is {resource.status.value}",
            resource_id=resource.id,
        )
    used = request_queries.committed_by_resource(uow.conn).get(resource.id, 0)
    free = resource.quantity - used
    check_commitment(
        view.request,
        request_queries.commitments_of(uow.conn, view.request.id),
        units=units,
        department=resource.department,
        type_code=resource.type_code,
        capability=resource.capability,
        tier=resource.tier,
        free_units=free,
    )
    event = ResourceCommitted(
        commitment_id=commitment_id or f"CM-{uuid.uuid4().hex[:12]}",
        request_id=view.request.id,
        incident_id=view.request.incident_id,
        resource_id=resource.id,
        department=resource.department,
        units=units,
        eta=None if eta is None else check_time(eta, "eta").isoformat(),
        note=note.strip(),
        proposal_id=proposal_id,
        external_ref=external_ref,
    )
    moved = []
    if units == free:  # the last free units: the resource works for the incident
        moved.append(
            ResourceStatusChanged(
                resource_id=resource.id,
                department=resource.department,
                from_status=resource.status.value,
                to_status=Status.ASSIGNED.value,
                reason=f"committed to {view.request.id}",
                incident_id=view.request.incident_id,
            )
        )
    return event, moved


def append_commitment(
    uow: UnitOfWork, event: ResourceCommitted, moved: list[ResourceStatusChanged]
) -> None:
    """Append a commitment to its request's stream and any status change to the
    resource's."""
    stream = request_stream(event.request_id)
    uow.append(stream, [event], expected_version=uow.stream_version(stream))
    if moved:
        stream = resource_stream(event.resource_id)
        uow.append(stream, list(moved), expected_version=uow.stream_version(stream))


def _resource(uow: UnitOfWork, resource_id: str) -> Resource:
    found = queries.get_resource(uow.conn, resource_id)
    if found is None:
        raise UnknownResource(f"no resource {resource_id}", resource=resource_id)
    return found.resource


def commit_resource(command: CommitResource, uow: UnitOfWork) -> str:
    """Commit units of a department's resource to a request; answer the
    commitment id ("unchanged" for an import seen before)."""
    with uow:
        if command.commitment_id is not None:
            known = request_queries.get_commitment(uow.conn, command.commitment_id)
            if known is not None:
                if command.external_ref and known.external_ref == command.external_ref:
                    return "unchanged"
                raise RequestConflict(
                    f"commitment {command.commitment_id} exists",
                    commitment_id=command.commitment_id,
                )
        view = _open_request(uow, command.request_id)
        resource = _resource(uow, command.resource_id)
        if not may_change_status(uow.actor, resource.department):
            raise PermissionDenied(
                "committing a resource needs a duty officer, head or API key of its "
                "department, a commander or an admin",
                action="commit resource",
            )
        event, moved = commit_events(
            uow,
            view,
            resource,
            command.units,
            eta=command.eta,
            note=command.note,
            proposal_id=command.proposal_id,
            commitment_id=command.commitment_id,
            external_ref=command.external_ref,
        )
        append_commitment(uow, event, moved)
        uow.commit()
    return event.commitment_id


def decline_request(command: DeclineRequest, uow: UnitOfWork) -> str:
    """A department declines a request with its reason."""
    with uow:
        view = _open_request(uow, command.request_id)
        actor = uow.actor
        own = actor.department == command.department and actor.has_role(*_OWNERS)
        if not (own or actor.has_role("admin", "system")):
            raise PermissionDenied(
                "declining a request needs a duty officer, head or API key of the "
                "declining department",
                action="decline request",
            )
        if identity.get_department(uow.conn, command.department) is None:
            raise NotFound(
                f"no department {command.department}", department=command.department
            )
        if not command.reason.strip():
            raise ResourceInvalid("say why the request is declined", field="reason")
        event = RequestDeclined(
            request_id=view.request.id,
            incident_id=view.request.incident_id,
            department=command.department,
            reason=command.reason.strip(),
            external_ref=command.external_ref,
        )
        stream = request_stream(view.request.id)
        uow.append(stream, [event], expected_version=uow.stream_version(stream))
        uow.commit()
    return "declined"


def change_commitment_status(command: ChangeCommitmentStatus, uow: UnitOfWork) -> str:
    """Track a commitment (en route, on scene, released); answer its status."""
    with uow:
        view = request_queries.get_commitment(uow.conn, command.commitment_id)
        if view is None:
            raise NotFound(
                f"no commitment {command.commitment_id}",
                commitment=command.commitment_id,
            )
        commitment = view.commitment
        if not may_change_status(uow.actor, commitment.department):
            raise PermissionDenied(
                "tracking a commitment needs its department, a commander or an admin",
                action="track commitment",
            )
        target = change_commitment(commitment, command.status)
        if target is None:
            return "unchanged"
        event = CommitmentStatusChanged(
            commitment_id=commitment.id,
            request_id=commitment.request_id,
            incident_id=view.incident_id,
            resource_id=commitment.resource_id,
            department=commitment.department,
            from_status=commitment.status.value,
            to_status=target.value,
            note=command.note.strip(),
        )
        stream = request_stream(commitment.request_id)
        uow.append(stream, [event], expected_version=uow.stream_version(stream))
        mirrored = _mirror(
            uow, view.incident_id, commitment.id, commitment.resource_id, target
        )
        if mirrored:
            stream = resource_stream(commitment.resource_id)
            uow.append(stream, mirrored, expected_version=uow.stream_version(stream))
        uow.commit()
    return target.value


def _mirror(
    uow: UnitOfWork,
    incident_id: str,
    commitment_id: str,
    resource_id: str,
    target: CommitmentStatus,
) -> list[Event]:
    """Move a fully committed resource along with its commitments.

    While engaged, the resource shows the least advanced of its active
    commitments; when its last commitment is released, it is released."""
    resource = _resource(uow, resource_id)
    if resource.status not in ENGAGED:
        return []
    others = [
        c.commitment.status
        for c in request_queries.list_commitments(
            uow.conn, resource_id=resource_id, active_only=True
        )
        if c.commitment.id != commitment_id
    ]
    states = [*others, *([target] if target in ACTIVE else [])]
    order = [
        CommitmentStatus.COMMITTED,
        CommitmentStatus.EN_ROUTE,
        CommitmentStatus.ON_SCENE,
    ]
    if states:
        least = min(states, key=order.index)
        wanted = {
            CommitmentStatus.COMMITTED: Status.ASSIGNED,
            CommitmentStatus.EN_ROUTE: Status.EN_ROUTE,
            CommitmentStatus.ON_SCENE: Status.ON_SCENE,
        }[least]
    else:
        wanted = Status.RELEASED
    if wanted is resource.status:
        return []
    return [
        ResourceStatusChanged(
            resource_id=resource.id,
            department=resource.department,
            from_status=resource.status.value,
            to_status=wanted.value,
            reason=f"commitment {commitment_id} {target.value}",
            incident_id=incident_id if wanted in ENGAGED else None,
        )
    ]


REQUEST_HANDLERS: dict[type[Command], Handler] = {
    RequestResource: request_resource,
    CancelRequest: cancel_request,
    CommitResource: commit_resource,
    DeclineRequest: decline_request,
    ChangeCommitmentStatus: change_commitment_status,
}

__all__ = [
    "REQUEST_HANDLERS",
    "append_commitment",
    "commit_events",
    "request_stream",
]
