"""HTTP API of resource requests, commitments and allocation proposals (R13).

``POST /api/v1/resource-requests`` raises a request; ``GET …/resource-requests``
lists them (``?incident=&open=true&department=``; ``format=geojson`` gives the
situation map's requests layer); ``GET …/{id}`` shows one with its commitments and
declines; ``POST …/{id}/commitments``, ``…/declines`` and ``…/cancel`` answer it;
``POST /api/v1/resource-commitments/{id}/status`` tracks committed units.
Commanders compute and record an allocation with
``POST /api/v1/incidents/{id}/allocation-proposals``, read it with
``GET /api/v1/allocation-proposals/{id}`` and decide it with ``POST …/{id}/decision``
(approve as proposed or with edited ``assignments``, or reject with a reason).
The handlers decide who may do what; refusals are MusterErrors, answered as
problem+json by ``web.errors``; the models are in ``request_schemas``. Imported by
``web.app`` and ``allocation_pages`` (``record_proposal``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool

from muster.core.errors import NotFound, PermissionDenied
from muster.core.messages import Actor
from muster.resources import allocation_service, request_queries
from muster.resources.domain.commands import (
    CancelRequest,
    ChangeCommitmentStatus,
    CommitResource,
    DeclineRequest,
    RecordAllocationProposal,
    RequestResource,
)
from muster.resources.geojson import MAP_STATUSES, requests_collection
from muster.resources.request_schemas import (
    CommitIn,
    CreatedOut,
    DecisionIn,
    DecisionOut,
    DeclineIn,
    ProposalOut,
    ProposeIn,
    ReasonIn,
    RequestDetailOut,
    RequestIn,
    RequestOut,
    ResultOut,
    TrackIn,
)
from muster.web.deps import CurrentActor, Language, MusterDep

router = APIRouter(prefix="/api/v1", tags=["resources"])

Text = Annotated[str | None, Query(max_length=64)]
DECIDERS = ("commander", "admin", "system")
"""Who may compute a proposal (recording and deciding it check the same roles)."""


def _own_department(actor: Actor, given: str | None) -> str:
    department = given or actor.department
    if not department:
        raise PermissionDenied(
            "name the department: you act for none", action="resource request"
        )
    return department


def _request_or_404(conn: Connection, request_id: str) -> request_queries.RequestView:
    view = request_queries.get_request(conn, request_id)
    if view is None:
        raise NotFound(f"no request {request_id}", request=request_id)
    return view


@router.post("/resource-requests", status_code=201, response_model=CreatedOut)
async def raise_request(
    body: RequestIn, actor: CurrentActor, muster: MusterDep
) -> CreatedOut:
    """Raise a request (the requesting department's duty officers, heads and API
    keys, commanders, admins)."""
    command = RequestResource(
        incident_id=body.incident_id,
        requested_by=_own_department(actor, body.requested_by),
        type_code=body.type,
        quantity=body.quantity,
        latitude=body.location.lat,
        longitude=body.location.lon,
        location_name=body.location.name,
        min_capability=body.min_capability,
        max_tier=body.max_tier,
        needed_by=None if body.needed_by is None else body.needed_by.isoformat(),
        priority=body.priority,
        to_department=body.to_department or None,
        task_id=body.task_id or None,
        note=body.note,
    )
    outcome = await run_in_threadpool(muster.bus.handle, command, actor)
    return CreatedOut(id=str(outcome))


@router.get("/resource-requests")
def list_requests(
    _actor: CurrentActor,
    muster: MusterDep,
    language: Language,
    incident: Text = None,
    department: Text = None,
    open_only: Annotated[bool, Query(alias="open")] = False,
    output: Annotated[Literal["json", "geojson"], Query(alias="format")] = "json",
) -> Any:
    """Requests, most urgent first; ``open=true`` only those still open;
    ``department`` those it made or that are addressed to it or to all.
    ``format=geojson``: the map's layer (not cancelled or closed by default)."""
    open_statuses = list(request_queries.OPEN_STATUSES)
    with muster.engine.connect() as conn:
        if output == "geojson":
            body = requests_collection(
                conn,
                language=language,
                incident_id=incident or None,
                statuses=open_statuses if open_only else MAP_STATUSES,
            )
            return JSONResponse(
                body,
                media_type="application/geo+json",
                headers={"Cache-Control": "no-store"},
            )
        views = request_queries.list_requests(
            conn,
            incident_id=incident or None,
            statuses=open_statuses if open_only else None,
            department=department or None,
        )
    return [RequestOut.model_validate(view.to_json()) for view in views]


@router.get("/resource-requests/{request_id}", response_model=RequestDetailOut)
def get_request(
    request_id: str, _actor: CurrentActor, muster: MusterDep
) -> RequestDetailOut:
    """One request with its commitments (released ones too) and declines."""
    with muster.engine.connect() as conn:
        view = _request_or_404(conn, request_id)
        made = request_queries.list_commitments(conn, request_id=request_id)
        declines = request_queries.declines_of(conn, request_id)
    return RequestDetailOut.model_validate(
        {
            **view.to_json(),
            "commitments": [item.to_json() for item in made],
            "declines": [
                {"department": item.department, "reason": item.reason}
                for item in declines
            ],
        }
    )


@router.post(
    "/resource-requests/{request_id}/commitments",
    status_code=201,
    response_model=CreatedOut,
)
async def commit(
    request_id: str, body: CommitIn, actor: CurrentActor, muster: MusterDep
) -> CreatedOut:
    """Commit units of a resource (its department's duty officers, heads and API
    keys, commanders, admins)."""
    command = CommitResource(
        request_id=request_id,
        resource_id=body.resource_id,
        units=body.units,
        eta=None if body.eta is None else body.eta.isoformat(),
        note=body.note,
    )
    outcome = await run_in_threadpool(muster.bus.handle, command, actor)
    return CreatedOut(id=str(outcome))


@router.post("/resource-requests/{request_id}/declines", response_model=ResultOut)
async def decline(
    request_id: str, body: DeclineIn, actor: CurrentActor, muster: MusterDep
) -> ResultOut:
    """Decline a request for a department (its duty officers, heads, API keys)."""
    command = DeclineRequest(
        request_id=request_id,
        department=_own_department(actor, body.department),
        reason=body.reason,
    )
    outcome = await run_in_threadpool(muster.bus.handle, command, actor)
    return ResultOut(result=str(outcome))


@router.post("/resource-requests/{request_id}/cancel", response_model=ResultOut)
async def cancel(
    request_id: str, body: ReasonIn, actor: CurrentActor, muster: MusterDep
) -> ResultOut:
    """Withdraw a request (its department, a commander or an admin)."""
    command = CancelRequest(request_id=request_id, reason=body.reason)
    outcome = await run_in_threadpool(muster.bus.handle, command, actor)
    return ResultOut(result=str(outcome))


@router.post("/resource-commitments/{commitment_id}/status", response_model=ResultOut)
async def track(
    commitment_id: str, body: TrackIn, actor: CurrentActor, muster: MusterDep
) -> ResultOut:
    """Move committed units on (en route, on scene, released); the new status, or
    unchanged."""
    command = ChangeCommitmentStatus(
        commitment_id=commitment_id, status=body.status, note=body.note
    )
    outcome = await run_in_threadpool(muster.bus.handle, command, actor)
    return ResultOut(result=str(outcome))


def record_proposal(
    muster: MusterDep,
    actor: Actor,
    incident_id: str,
    *,
    language: str,
    seconds: float,
) -> str:
    """Compute the allocation for an incident's open requests and record it (the
    API and the allocation page); answer the proposal's id."""
    if not actor.has_role(*DECIDERS):
        raise PermissionDenied(
            "proposing an allocation needs the commander role",
            action="propose allocation",
        )
    with muster.engine.connect() as conn:
        document = allocation_service.propose_for(
            conn,
            incident_id,
            muster.clock.now(),
            language=language,
            time_limit_seconds=seconds,
        )
    command = RecordAllocationProposal(incident_id=incident_id, proposal=document)
    return str(muster.bus.handle(command, actor))


def _proposal_out(muster: MusterDep, proposal_id: str) -> ProposalOut:
    with muster.engine.connect() as conn:
        view = request_queries.get_proposal(conn, proposal_id)
    if view is None:
        raise NotFound(f"no proposal {proposal_id}", proposal=proposal_id)
    return ProposalOut.model_validate(view.to_json())


@router.post(
    "/incidents/{incident_id}/allocation-proposals",
    status_code=201,
    response_model=ProposalOut,
)
async def propose(
    incident_id: str,
    actor: CurrentActor,
    muster: MusterDep,
    language: Language,
    body: ProposeIn | None = None,
) -> ProposalOut:
    """Compute and record an allocation of available units to the incident's open
    requests (commanders): assignments with why, shortfalls, solver status."""
    seconds = (body or ProposeIn()).time_limit_seconds
    proposal_id = await run_in_threadpool(
        lambda: record_proposal(
            muster, actor, incident_id, language=language, seconds=seconds
        )
    )
    return await run_in_threadpool(_proposal_out, muster, proposal_id)


@router.get(
    "/incidents/{incident_id}/allocation-proposals", response_model=list[ProposalOut]
)
def list_proposals(
    incident_id: str, _actor: CurrentActor, muster: MusterDep
) -> list[ProposalOut]:
    """The incident's recorded proposals, newest first."""
    with muster.engine.connect() as conn:
        views = request_queries.list_proposals(conn, incident_id=incident_id)
    return [ProposalOut.model_validate(view.to_json()) for view in views]


@router.get("/allocation-proposals/{proposal_id}", response_model=ProposalOut)
def get_proposal(
    proposal_id: str, _actor: CurrentActor, muster: MusterDep
) -> ProposalOut:
    """One recorded proposal and the decision on it."""
    return _proposal_out(muster, proposal_id)


@router.post("/allocation-proposals/{proposal_id}/decision", response_model=DecisionOut)
async def decide(
    proposal_id: str, body: DecisionIn, actor: CurrentActor, muster: MusterDep
) -> DecisionOut:
    """Approve (as proposed, or the edited ``assignments``) or reject (with a
    reason) a proposal (commanders); an approval commits the units and adds one
    dispatch task per sending department, in one transaction."""
    assignments = (
        None
        if body.assignments is None
        else [item.model_dump() for item in body.assignments]
    )
    outcome = await run_in_threadpool(
        lambda: allocation_service.decide(
            muster.bus,
            actor,
            muster.engine,
            proposal_id,
            body.decision,
            reason=body.reason,
            assignments=assignments,
            now=muster.clock.now(),
        )
    )
    return DecisionOut.model_validate(outcome)


__all__ = ["DECIDERS", "record_proposal", "router"]
