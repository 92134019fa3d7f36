"""A commander's allocation page per incident (资源调配): propose, then approve, edit or
reject.

``GET /resources/incidents/{id}/allocation`` shows the incident's requests and its
newest recorded proposal (or ``?proposal=``): each assignment with why, the
shortfalls, the solver's status and seconds, how travel was reckoned and the roads
closed; ``POST …/allocation/propose`` computes and records a new proposal;
``POST …/allocation/{proposal_id}/decision`` approves it as it stands, approves it
edited (a units box per line; 0 drops the line) or rejects it with a reason, through
``allocation_service.decide`` (commitments and dispatch tasks in one transaction).
Commanders and admins only. Imported by ``web.app``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from muster.core.errors import MusterError, NotFound, PermissionDenied, ValidationFailed
from muster.identity import queries as identity
from muster.resources import allocation_service, queries, request_queries
from muster.resources.labels import (
    DONE_NOTICES,
    PROPOSAL_STATUS_LABELS,
    REQUEST_STATUS_LABELS,
    label,
)
from muster.resources.request_api import DECIDERS, record_proposal
from muster.resources.request_board import REQUEST_BADGES
from muster.resources.request_pages import refusal
from muster.response import queries as response
from muster.web.errors import status_for
from muster.web.templating import Page, SignedInPage

router = APIRouter(include_in_schema=False)

PAGE = "/resources/incidents/{incident_id}/allocation"
PROPOSE_SECONDS = 10.0


def _require_commander(page: Page) -> None:
    assert page.user is not None  # noqa: S101 - SignedInPage guarantees it
    if not page.user.actor.has_role(*DECIDERS):
        raise PermissionDenied(
            "the allocation page is for commanders", action="allocation page"
        )


def _proposal(
    view: request_queries.ProposalView, names: dict[str, str], places: dict[str, str]
) -> dict[str, Any]:
    """Return a recorded proposal shaped for the page."""
    document = view.document
    lines = [
        {
            **item,
            "index": index,
            "department_name": names.get(item["department"], item["department"]),
            "place": places.get(item["request_id"], ""),
        }
        for index, item in enumerate(document.get("assignments", []))
    ]
    return {
        "id": view.id,
        "status": view.status,
        "edited": view.edited,
        "decision_reason": view.decision_reason,
        "decided_by": view.decided_by,
        "decided_at": view.decided_at,
        "proposed_at": view.proposed_at,
        "approved": view.approved,
        "lines": lines,
        "shortfalls": document.get("shortfalls", []),
        "method": document.get("method", ""),
        "solver_status": document.get("solver_status", ""),
        "optimal": document.get("optimal", False),
        "fallback_reason": document.get("fallback_reason"),
        "seconds": document.get("seconds", 0),
        "unmet_units": document.get("unmet_units", 0),
        "travel_unit_minutes": document.get("travel_unit_minutes", 0),
        "travel": document.get("travel", ""),
        "road_layer": document.get("road_layer"),
        "closed_roads": sorted(document.get("closed_roads", {}).items()),
    }


def allocation_context(
    page: Page, incident_id: str, proposal_id: str | None
) -> dict[str, Any]:
    """Return what the allocation page renders."""
    with page.muster.engine.connect() as conn:
        incident = response.get_incident(conn, incident_id)
        if incident is None:
            raise NotFound(f"no incident {incident_id}", incident=incident_id)
        views = request_queries.list_requests(conn, incident_id=incident_id)
        proposals = request_queries.list_proposals(conn, incident_id=incident_id)
        names = {d.code: d.name(page.language) for d in identity.list_departments(conn)}
        types = {t.code: t.name(page.language) for t in queries.list_types(conn)}
    shown = next(
        (p for p in proposals if p.id == proposal_id),
        proposals[0] if proposals and proposal_id is None else None,
    )
    if proposal_id is not None and shown is None:
        raise NotFound(f"no proposal {proposal_id}", proposal=proposal_id)
    places = {v.request.id: v.request.location_name for v in views}
    return {
        "incident": incident,
        "requests": [
            {
                "id": v.request.id,
                "type_name": types.get(v.request.type_code, v.request.type_code),
                "quantity": v.request.quantity,
                "open_units": v.open_units,
                "priority": v.request.priority,
                "needed_by": v.request.needed_by,
                "place": v.request.location_name,
                "requested_by_name": names.get(
                    v.request.requested_by, v.request.requested_by
                ),
                "status": v.status.value,
                "status_label": label(
                    page.language, REQUEST_STATUS_LABELS, v.status.value
                ),
                "badge": REQUEST_BADGES[v.status.value],
            }
            for v in views
        ],
        "proposals": [
            {
                "id": p.id,
                "status_label": label(page.language, PROPOSAL_STATUS_LABELS, p.status),
                "proposed_at": p.proposed_at,
            }
            for p in proposals
        ],
        "proposal": None if shown is None else _proposal(shown, names, places),
        "page_url": PAGE.format(incident_id=incident_id),
    }


def _render(
    page: Page,
    incident_id: str,
    proposal_id: str | None,
    *,
    error: str = "",
    status_code: int = 200,
) -> Response:
    done = DONE_NOTICES.get(page.request.query_params.get("done", ""))
    return page.render(
        "resources_allocation.html",
        status_code=status_code,
        error=error,
        notice=page.translate(done) if done else "",
        **allocation_context(page, incident_id, proposal_id),
    )


@router.get(PAGE)
def allocation(incident_id: str, page: SignedInPage) -> Response:
    """Show an incident's requests and its allocation proposal (commanders)."""
    _require_commander(page)
    return _render(page, incident_id, page.request.query_params.get("proposal"))


@router.post(PAGE + "/propose")
async def propose(incident_id: str, page: SignedInPage) -> Response:
    """Compute and record a proposal for the incident's open requests."""
    _require_commander(page)
    assert page.user is not None  # noqa: S101 - SignedInPage guarantees it
    actor = page.user.actor
    try:
        proposal_id = await run_in_threadpool(
            lambda: record_proposal(
                page.muster,
                actor,
                incident_id,
                language=page.language,
                seconds=PROPOSE_SECONDS,
            )
        )
    except MusterError as error:
        if isinstance(error, NotFound) and error.params.get("incident"):
            raise
        message, code = refusal(page, error), status_for(error)
        return await run_in_threadpool(
            lambda: _render(page, incident_id, None, error=message, status_code=code)
        )
    url = PAGE.format(incident_id=incident_id)
    return RedirectResponse(
        f"{url}?proposal={proposal_id}&done=proposed", status_code=303
    )


def _edited(page: Page, proposal_id: str, form: dict[str, str]) -> list[dict[str, Any]]:
    """Return the assignments of an edited approval: each proposed line with the
    units typed for it (0 or empty drops it)."""
    with page.muster.engine.connect() as conn:
        view = request_queries.get_proposal(conn, proposal_id)
    if view is None:
        raise NotFound(f"no proposal {proposal_id}", proposal=proposal_id)
    chosen = []
    for index, item in enumerate(view.document.get("assignments", [])):
        typed = form.get(f"units_{index}", "").strip() or "0"
        try:
            units = int(typed)
        except ValueError:
            raise ValidationFailed("units are whole numbers", field="units") from None
        if units < 0:
            raise ValidationFailed("units are ≥ 0", field="units")
        chosen.append(
            {
                "supply_id": item["supply_id"],
                "request_id": item["request_id"],
                "units": units,
            }
        )
    return chosen


@router.post(PAGE + "/{proposal_id}/decision")
async def decide(incident_id: str, proposal_id: str, page: SignedInPage) -> Response:
    """Approve (as proposed or edited) or reject a proposal."""
    _require_commander(page)
    assert page.user is not None  # noqa: S101 - SignedInPage guarantees it
    actor = page.user.actor
    form = {
        key: value
        for key, value in (await page.request.form()).items()
        if isinstance(value, str)
    }
    decision = form.get("decision", "")
    reason = form.get("reason", "")[:1000]

    def run() -> dict[str, Any]:
        assignments = (
            _edited(page, proposal_id, form) if form.get("edited") == "1" else None
        )
        return allocation_service.decide(
            page.muster.bus,
            actor,
            page.muster.engine,
            proposal_id,
            decision,
            reason=reason,
            assignments=assignments,
            now=page.muster.clock.now(),
        )

    try:
        outcome = await run_in_threadpool(run)
    except MusterError as error:
        message, code = refusal(page, error), status_for(error)
        return await run_in_threadpool(
            lambda: _render(
                page, incident_id, proposal_id, error=message, status_code=code
            )
        )
    done = "approved" if outcome["decision"] == "approve" else "rejected"
    url = PAGE.format(incident_id=incident_id)
    return RedirectResponse(
        f"{url}?proposal={proposal_id}&done={done}", status_code=303
    )


__all__ = ["allocation_context", "router"]
