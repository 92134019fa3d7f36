"""Pydantic models of the requests API (R13): what comes in and what goes out.

Only ``muster.resources.request_api`` imports them; never a table or a domain object.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Id = Annotated[str, Field(min_length=1, max_length=100)]


class PlaceIn(BaseModel):
    """Where the units are wanted (default: the incident's position)."""

    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    name: str = Field(default="", max_length=1000)


class RequestIn(BaseModel):
    """A request for units of a type, for an incident."""

    incident_id: Id
    requested_by: str | None = Field(
        default=None, max_length=64, description="Default: your department."
    )
    type: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=1_000_000)
    location: PlaceIn = Field(default_factory=PlaceIn)
    min_capability: float | None = Field(
        default=None, ge=0, description="Per unit, in the type's measure."
    )
    max_tier: Literal["I", "II", "III"] | None = None
    needed_by: AwareDatetime | None = None
    priority: int | None = Field(
        default=None, ge=1, le=5, description="Default: from the response level."
    )
    to_department: str | None = Field(
        default=None, max_length=64, description="None: any department."
    )
    task_id: str | None = Field(default=None, max_length=100)
    note: str = Field(default="", max_length=1000)


class LocationOut(BaseModel):
    """A place."""

    lat: float
    lon: float
    name: str


class RequestOut(BaseModel):
    """A request with its derived status and the units committed to it."""

    id: str
    incident_id: str
    requested_by: str
    type: str
    quantity: int
    committed_units: int
    open_units: int
    min_capability: float | None
    max_tier: str | None
    location: LocationOut
    needed_by: str | None
    priority: int
    to_department: str | None
    task_id: str | None
    note: str
    status: str
    cancel_reason: str
    requested_at: str
    external_ref: str


class CommitmentOut(BaseModel):
    """Units of one resource committed to a request, and where they stand."""

    id: str
    request_id: str
    incident_id: str
    resource_id: str
    department: str
    units: int
    status: str
    eta: str | None
    note: str
    proposal_id: str | None
    external_ref: str
    committed_at: str
    status_changed_at: str


class DeclineOut(BaseModel):
    """A department's refusal of a request."""

    department: str
    reason: str


class RequestDetailOut(RequestOut):
    """A request with every commitment made to it and every decline."""

    commitments: list[CommitmentOut]
    declines: list[DeclineOut]


class CommitIn(BaseModel):
    """Units of one of your department's resources to commit."""

    resource_id: Id
    units: int = Field(default=1, ge=1)
    eta: AwareDatetime | None = None
    note: str = Field(default="", max_length=1000)


class DeclineIn(BaseModel):
    """A refusal, with its reason."""

    department: str | None = Field(
        default=None, max_length=64, description="Default: your department."
    )
    reason: str = Field(min_length=1, max_length=1000)


class ReasonIn(BaseModel):
    """Why."""

    reason: str = Field(min_length=1, max_length=1000)


class TrackIn(BaseModel):
    """Where committed units stand now."""

    status: Literal["committed", "en_route", "on_scene", "released"]
    note: str = Field(default="", max_length=1000)


class ProposeIn(BaseModel):
    """How long the solver may take before the greedy fallback."""

    time_limit_seconds: float = Field(default=10.0, gt=0, le=60)


class AssignmentIn(BaseModel):
    """Units of one resource for one request (an edited approval)."""

    supply_id: Id
    request_id: Id
    units: int = Field(ge=0)


class DecisionIn(BaseModel):
    """A commander's decision on a proposal."""

    decision: Literal["approve", "reject"]
    reason: str = Field(default="", max_length=1000)
    assignments: list[AssignmentIn] | None = Field(
        default=None, description="Approve these instead of the proposal's (0 drops)."
    )


class ProposalOut(BaseModel):
    """A recorded proposal: the optimiser's document and the decision on it."""

    model_config = ConfigDict(extra="allow")

    id: str
    incident_id: str
    status: str
    edited: bool
    decision_reason: str
    decided_by: str | None
    approved_assignments: list[dict[str, Any]]
    proposed_by: str
    proposed_at: str
    decided_at: str | None


class DecisionOut(BaseModel):
    """What a decision did: the commitments made and the tasks added."""

    proposal_id: str
    decision: str
    edited: bool
    commitments: list[str]
    tasks: list[str]


class CreatedOut(BaseModel):
    """The id of what was created."""

    id: str


class ResultOut(BaseModel):
    """What a command did."""

    result: str


__all__ = [
    "AssignmentIn",
    "CommitIn",
    "CommitmentOut",
    "CreatedOut",
    "DecisionIn",
    "DecisionOut",
    "DeclineIn",
    "DeclineOut",
    "LocationOut",
    "PlaceIn",
    "ProposalOut",
    "ProposeIn",
    "ReasonIn",
    "RequestDetailOut",
    "RequestIn",
    "RequestOut",
    "ResultOut",
    "TrackIn",
]
