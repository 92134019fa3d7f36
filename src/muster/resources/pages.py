"""The resource board (应急资源): ``GET /resources`` (every department, or one with
``?department=``), ``GET /resources/live`` (its live sections alone, for
``static/live.js``) and ``POST /resources/{id}/status`` (the status forms).

The board shows the open resource requests the person may answer and their
department's commitments (``muster.resources.request_board``; the forms post to
``muster.resources.request_pages``), counts units per type and status, lists the
resources with their capability, place, readiness and status, and offers a status
form on each resource the person may change (the department's duty officers and
heads, commanders and admins; ``muster.resources.domain.permissions``). It follows
the live feed: a status changed or a request answered elsewhere shows without a
reload. Imported by ``web.app`` and ``request_pages``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from muster.core.errors import MusterError, NotFound
from muster.core.messages import registered_event_types
from muster.identity import queries as identity
from muster.resources import queries
from muster.resources.domain.commands import ChangeResourceStatus
from muster.resources.domain.errors import ResourceInvalid, TransitionNotAllowed
from muster.resources.domain.model import (
    CODE,
    ENGAGED,
    STATUS_ORDER,
    ResourceType,
    next_statuses,
)
from muster.resources.domain.permissions import may_change_status
from muster.resources.labels import (
    DONE_NOTICES,
    KIND_LABELS,
    MEASURE_LABELS,
    STATUS_LABELS,
    UNIT_LABELS,
    label,
    ready_label,
)
from muster.resources.request_board import board_requests
from muster.response import queries as response
from muster.web.errors import message_for, status_for
from muster.web.i18n import N_
from muster.web.templating import Page, SignedInPage

router = APIRouter(include_in_schema=False)

BOARD = "/resources"
STATUS_BADGES = {
    "available": "badge-ok",
    "assigned": "badge-task-assigned",
    "en_route": "badge-task-acknowledged",
    "on_scene": "badge-level",
    "out_of_service": "badge-bad",
    "released": "badge-none",
}
TRANSITION = N_("A resource that is %(current)s cannot become %(requested)s.")
NEEDS_REASON = N_("Going out of service needs a reason.")
CHANGED = N_("Status changed to %(status)s.")
INCIDENT_ONLY_ENGAGED = N_(
    "Only an assigned, en-route or on-scene resource works for an incident."
)
ENGAGED_CODES = frozenset(status.value for status in ENGAGED)
Text = Annotated[str, Form()]


def _statuses(page: Page) -> list[dict[str, str]]:
    return [
        {
            "code": status.value,
            "label": label(page.language, STATUS_LABELS, status.value),
            "badge": STATUS_BADGES[status.value],
        }
        for status in STATUS_ORDER
    ]


def _amount(page: Page, quantity: float, unit: str | None) -> str:
    number = f"{quantity:,.0f}" if quantity == int(quantity) else f"{quantity:,.1f}"
    return f"{number} {label(page.language, UNIT_LABELS, unit)}".strip()


def _capability(page: Page, amount: float | None, measure: str | None) -> str:
    if amount is None:
        return ""
    return f"{amount:,.0f} {label(page.language, MEASURE_LABELS, measure)}"


def _summary(
    page: Page, tallies: list[queries.Tally], types: dict[str, ResourceType]
) -> list[dict[str, Any]]:
    """Sum the tallies by type (over the departments shown), in catalog order."""
    by_type: dict[str, queries.Tally] = {}
    for item in tallies:
        held = by_type.setdefault(item.type_code, queries.Tally("", item.type_code))
        for status, count in item.by_status.items():
            held.by_status[status] += count
        for status, amount in item.capability.items():
            held.capability[status] = held.capability.get(status, 0.0) + amount
    rows = []
    for code in [*types, *sorted(set(by_type) - set(types))]:
        if code not in by_type:
            continue
        item, of_type = by_type[code], types.get(code)
        available = item.capability.get("available")
        measure = of_type.measure if of_type else None
        rows.append(
            {
                "code": code,
                "name": of_type.name(page.language) if of_type else code,
                "kind": label(page.language, KIND_LABELS, of_type.kind.value)
                if of_type
                else "",
                "unit": label(page.language, UNIT_LABELS, of_type.unit)
                if of_type
                else "",
                "counts": [item.by_status[status.value] for status in STATUS_ORDER],
                "total": item.total,
                "available_capability": _capability(page, available, measure),
            }
        )
    return rows


def _row(
    page: Page,
    view: queries.ResourceView,
    types: dict[str, ResourceType],
    names: dict[str, str],
) -> dict[str, Any]:
    item = view.resource
    of_type = types.get(item.type_code)
    assert page.user is not None  # noqa: S101 - SignedInPage guarantees it
    measure = of_type.measure if of_type else None
    return {
        "id": item.id,
        "name": item.name,
        "department": item.department,
        "department_name": names.get(item.department, item.department),
        "type": of_type.name(page.language) if of_type else item.type_code,
        "tier": item.tier or "",
        "amount": _amount(page, item.quantity, of_type.unit if of_type else None),
        "capability": _capability(page, item.capability, measure),
        "place": item.location_name,
        "lat": item.latitude,
        "lon": item.longitude,
        "ready": ready_label(page.language, item.ready_minutes),
        "status": item.status.value,
        "status_label": label(page.language, STATUS_LABELS, item.status.value),
        "badge": STATUS_BADGES[item.status.value],
        "since": view.status_since,
        "reason": item.status_reason,
        "incident_id": item.incident_id,
        "notes": item.notes,
        "may_change": may_change_status(page.user.actor, item.department),
        "next": [
            {
                "code": status.value,
                "label": label(page.language, STATUS_LABELS, status.value),
                "engaged": status in ENGAGED,
            }
            for status in next_statuses(item.status)
        ],
    }


def board_context(page: Page, department: str | None) -> dict[str, Any]:
    """Return what the board and its live sections render."""
    assert page.user is not None  # noqa: S101 - SignedInPage guarantees it
    with page.muster.engine.connect() as conn:
        requests = board_requests(conn, language=page.language, actor=page.user.actor)
        departments = identity.list_departments(conn)
        names = {item.code: item.name(page.language) for item in departments}
        if department is not None and department not in names:
            raise NotFound(f"no department {department}", department=department)
        views = queries.list_resources(conn, department=department)
        types = {item.code: item for item in queries.list_types(conn)}
        incidents = [
            {"id": item.id, "title": item.title}
            for item in response.open_incidents(conn)
        ]
        head = page.muster.store.head(conn)[0]
    tallies = queries.tally(views, types)
    return {
        **requests,
        "department": department,
        "shown_name": names.get(department or "", ""),
        "departments": [(item.code, names[item.code]) for item in departments],
        "statuses": _statuses(page),
        "summary": _summary(page, tallies, types),
        "rows": [_row(page, view, types, names) for view in views],
        "incidents": incidents,
        "feed_after": head,
        "event_types": sorted(
            name for name in registered_event_types() if name.startswith("resources.")
        ),
    }


def _department(page: Page) -> str | None:
    return page.request.query_params.get("department") or None


def render_board(
    page: Page,
    department: str | None,
    *,
    error: str = "",
    status_code: int = 200,
) -> Response:
    """Render the board, with a notice (``?notice=`` a status, ``?done=`` what a
    request form did) or a refusal's message."""
    notice = page.request.query_params.get("notice", "")
    changed = label(page.language, STATUS_LABELS, notice) if notice else ""
    done = DONE_NOTICES.get(page.request.query_params.get("done", ""))
    message = page.translate(CHANGED, status=changed) if changed else ""
    return page.render(
        "resources_board.html",
        status_code=status_code,
        error=error,
        notice=page.translate(done) if done else message,
        **board_context(page, department),
    )


@router.get(BOARD)
def board(page: SignedInPage) -> Response:
    """Show the resource board of every department, or of one."""
    return render_board(page, _department(page))


@router.get(BOARD + "/live")
def board_live(page: SignedInPage) -> Response:
    """Return the board's live sections alone (an HTML fragment)."""
    context = board_context(page, _department(page))
    return page.render("resources_board_live.html", **context)


def _refusal(page: Page, error: MusterError) -> str:
    if isinstance(error, TransitionNotAllowed):
        return page.translate(
            TRANSITION,
            current=label(page.language, STATUS_LABELS, str(error.params["current"])),
            requested=label(
                page.language, STATUS_LABELS, str(error.params["requested"])
            ),
        )
    if isinstance(error, ResourceInvalid) and error.params.get("field") == "reason":
        return page.translate(NEEDS_REASON)
    if (
        isinstance(error, ResourceInvalid)
        and error.params.get("field") == "incident_id"
    ):
        return page.translate(INCIDENT_ONLY_ENGAGED)
    return message_for(error, page.language)


@router.post(BOARD + "/{resource_id}/status")
async def change_status(
    resource_id: str,
    page: SignedInPage,
    status: Text,
    reason: Annotated[str, Form(max_length=500)] = "",
    incident_id: Annotated[str, Form(max_length=64)] = "",
    department: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Move a resource to another status from the board."""
    assert page.user is not None  # noqa: S101 - SignedInPage guarantees it
    command = ChangeResourceStatus(
        resource_id=resource_id,
        status=status,
        reason=reason,
        # The form keeps the incident selected; it counts only for engaged statuses.
        incident_id=incident_id if incident_id and status in ENGAGED_CODES else None,
    )
    try:
        await run_in_threadpool(page.muster.bus.handle, command, page.user.actor)
    except MusterError as error:
        if isinstance(error, NotFound) and error.params.get("resource"):
            raise
        message, code = _refusal(page, error), status_for(error)
        shown = department if CODE.match(department) else None
        return await run_in_threadpool(
            lambda: render_board(page, shown, error=message, status_code=code)
        )
    query = f"department={department}&" if CODE.match(department) else ""
    return RedirectResponse(
        f"{BOARD}?{query}notice={status}#{resource_id}", status_code=303
    )


__all__ = ["STATUS_BADGES", "board_context", "render_board", "router"]
