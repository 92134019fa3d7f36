"""Resource requests and commitments: the rules (stdlib only).

A **request** asks for ``quantity`` units of a resource type for an incident, with a
minimum capability per unit (in the type's measure) or a maximum tier (I the most
capable), at a place, needed by a time, with a priority (1-5; by default from the
incident's response level: L1 → 4 … L4 → 1). It may be addressed to one department
or to any that holds the type. A department **commits** units of one of its own
resources to a request (``Commitment``) or **declines** it with a reason. A
commitment is tracked (committed → en route → on scene → released) until it is
released; released units leave the request's count, so the request is open again.

A request's status follows from its commitments (``request_status``): open (nothing
committed), partly committed, committed (all units), declined (addressed to one
department, which declined), cancelled, or closed (every commitment released after
it was fully committed). Imported by the handlers, projections, queries, the
allocation service and the EDXL-RM mapping.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from muster.resources.domain.errors import ResourceInvalid, TransitionNotAllowed

REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
MAX_NOTE = 1000
MAX_PRIORITY = 5
LEVEL_PRIORITY = {"L1": 4, "L2": 3, "L3": 2, "L4": 1}
"""Default priority of a request by its incident's response level (L1 highest)."""
TIER_RANK = {"I": 1, "II": 2, "III": 3}


class RequestStatus(StrEnum):
    """Where a request stands (derived from its commitments and declines)."""

    OPEN = "open"
    PARTLY_COMMITTED = "partly_committed"
    COMMITTED = "committed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    CLOSED = "closed"


class CommitmentStatus(StrEnum):
    """Where committed units stand, until released."""

    COMMITTED = "committed"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    RELEASED = "released"


COMMITMENT_TRANSITIONS: dict[CommitmentStatus, frozenset[CommitmentStatus]] = {
    CommitmentStatus.COMMITTED: frozenset(
        {
            CommitmentStatus.EN_ROUTE,
            CommitmentStatus.ON_SCENE,
            CommitmentStatus.RELEASED,
        }
    ),
    CommitmentStatus.EN_ROUTE: frozenset(
        {CommitmentStatus.ON_SCENE, CommitmentStatus.RELEASED}
    ),
    CommitmentStatus.ON_SCENE: frozenset({CommitmentStatus.RELEASED}),
    CommitmentStatus.RELEASED: frozenset(),
}

ACTIVE = frozenset(
    {CommitmentStatus.COMMITTED, CommitmentStatus.EN_ROUTE, CommitmentStatus.ON_SCENE}
)


@dataclass(frozen=True, slots=True)
class ResourceRequest:
    """A request for units of a type, for an incident."""

    id: str
    incident_id: str
    requested_by: str
    type_code: str
    quantity: int
    latitude: float
    longitude: float
    priority: int
    location_name: str = ""
    min_capability: float | None = None
    max_tier: str | None = None
    needed_by: str | None = None  # ISO-8601 UTC
    to_department: str | None = None  # None: any department holding the type
    task_id: str | None = None
    note: str = ""
    cancelled: bool = False


@dataclass(frozen=True, slots=True)
class Commitment:
    """Units of one resource committed to one request."""

    id: str
    request_id: str
    resource_id: str
    department: str
    units: int
    status: CommitmentStatus = CommitmentStatus.COMMITTED
    eta: str | None = None  # ISO-8601 UTC
    note: str = ""


@dataclass(frozen=True, slots=True)
class Decline:
    """A department's refusal of a request, with its reason."""

    request_id: str
    department: str
    reason: str


def default_priority(level: str | None) -> int:
    """Return a request's priority from its incident's response level."""
    return LEVEL_PRIORITY.get(level or "", 1)


def check_request(request: ResourceRequest, *, tiers: tuple[str, ...]) -> None:
    """Refuse a request whose fields break the rules, naming the field."""
    if not REQUEST_ID.match(request.id):
        raise ResourceInvalid(
            "a request id is 1-100 letters, digits or . _ : -", field="request_id"
        )
    if not 1 <= request.quantity <= 1_000_000:
        raise ResourceInvalid(
            "a request asks for 1 to 1,000,000 units", field="quantity"
        )
    if not 1 <= request.priority <= MAX_PRIORITY:
        raise ResourceInvalid(f"priority is 1-{MAX_PRIORITY}", field="priority")
    if not (-90 <= request.latitude <= 90 and -180 <= request.longitude <= 180):
        raise ResourceInvalid("the place is off the globe", field="latitude")
    if request.min_capability is not None and request.min_capability < 0:
        raise ResourceInvalid("a minimum capability is ≥ 0", field="min_capability")
    if request.max_tier is not None and request.max_tier not in tiers:
        allowed = ", ".join(tiers) or "none (the type is not tiered)"
        raise ResourceInvalid(f"tier must be one of {allowed}", field="max_tier")
    if request.needed_by is not None:
        check_time(request.needed_by, "needed_by")
    if len(request.note) > MAX_NOTE or len(request.location_name) > MAX_NOTE:
        raise ResourceInvalid(f"notes are at most {MAX_NOTE} characters", field="note")


def check_time(value: str, field: str) -> datetime:
    """Return an ISO-8601 time with an offset as aware UTC, or refuse it."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ResourceInvalid(f"{field} is not an ISO-8601 time", field=field) from None
    if moment.utcoffset() is None:
        raise ResourceInvalid(f"{field} needs a UTC offset", field=field)
    return moment.astimezone(UTC)


def committed_units(commitments: Iterable[Commitment]) -> int:
    """Return the units still committed (released ones no longer count)."""
    return sum(c.units for c in commitments if c.status in ACTIVE)


def request_status(
    request: ResourceRequest,
    commitments: Iterable[Commitment],
    declines: Iterable[Decline],
) -> RequestStatus:
    """Return where a request stands."""
    if request.cancelled:
        return RequestStatus.CANCELLED
    made = list(commitments)
    active = committed_units(made)
    if active >= request.quantity:
        return RequestStatus.COMMITTED
    if active > 0:
        return RequestStatus.PARTLY_COMMITTED
    if made and sum(c.units for c in made) >= request.quantity:
        return RequestStatus.CLOSED
    if request.to_department is not None and any(
        d.department == request.to_department for d in declines
    ):
        return RequestStatus.DECLINED
    return RequestStatus.OPEN


def check_commitment(
    request: ResourceRequest,
    commitments: Iterable[Commitment],
    *,
    units: int,
    department: str,
    type_code: str,
    capability: float | None,
    tier: str | None,
    free_units: int,
) -> None:
    """Refuse units that do not fit the request or the resource.

    The resource must be of the requested type, capable enough, of a good enough
    tier, and have ``units`` free; the request must be open for that many more.
    """
    if request.cancelled:
        raise TransitionNotAllowed("the request was cancelled")
    if request.to_department is not None and department != request.to_department:
        raise ResourceInvalid(
            f"the request is addressed to {request.to_department}", field="department"
        )
    if type_code != request.type_code:
        raise ResourceInvalid(
            f"the request asks for {request.type_code}, not {type_code}",
            field="resource_id",
        )
    if request.min_capability is not None and (
        capability is None or capability < request.min_capability
    ):
        raise ResourceInvalid(
            f"the request needs at least {request.min_capability:g} per unit",
            field="resource_id",
        )
    if request.max_tier is not None and (
        tier is None or TIER_RANK.get(tier, 9) > TIER_RANK[request.max_tier]
    ):
        raise ResourceInvalid(
            f"the request needs tier {request.max_tier} or better", field="resource_id"
        )
    if units < 1:
        raise ResourceInvalid("commit at least one unit", field="units")
    if units > free_units:
        raise ResourceInvalid(
            f"the resource has {free_units} free unit(s)", field="units"
        )
    open_units = request.quantity - committed_units(commitments)
    if units > open_units:
        raise ResourceInvalid(
            f"the request needs {max(open_units, 0)} more unit(s)", field="units"
        )


def change_commitment(commitment: Commitment, target: str) -> CommitmentStatus | None:
    """Return the commitment's new status, None if it is already there, or refuse."""
    try:
        status = CommitmentStatus(target)
    except ValueError:
        names = ", ".join(s.value for s in CommitmentStatus)
        raise ResourceInvalid(
            f"status must be one of {names}", field="status"
        ) from None
    if status is commitment.status:
        return None
    if status not in COMMITMENT_TRANSITIONS[commitment.status]:
        raise TransitionNotAllowed(
            f"a commitment cannot go from {commitment.status.value} to {status.value}"
        )
    return status


__all__ = [
    "ACTIVE",
    "COMMITMENT_TRANSITIONS",
    "LEVEL_PRIORITY",
    "TIER_RANK",
    "Commitment",
    "CommitmentStatus",
    "Decline",
    "RequestStatus",
    "ResourceRequest",
    "change_commitment",
    "check_commitment",
    "check_request",
    "check_time",
    "committed_units",
    "default_priority",
    "request_status",
]
