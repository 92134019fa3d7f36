"""Web pages of the review part (R13): the improvement plan's items and an incident's
review timeline.

``/review/improvements`` lists items with filters, marks the overdue ones and offers
start/complete/cancel to those allowed (``domain.improvements.may_change``).
``/review/incidents/{id}/timeline`` shows the filtered timeline with kinds, pins
(pin/unpin for those allowed) and CSV/JSON export links to the review API. Each form
sends one command through the bus; a refusal shows the page again with its message.
Imported by ``web.app``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from muster.core.clock import parse_utc
from muster.core.errors import MusterError, NotFound, ValidationFailed
from muster.core.messages import Actor, Command
from muster.identity import queries as identity
from muster.response import queries as response
from muster.review import queries
from muster.review.domain.commands import (
    IMPROVEMENT_ACTIONS,
    ChangeImprovementItem,
    ImprovementAction,
    PinTimelineEvent,
    UnpinTimelineEvent,
)
from muster.review.domain.improvements import may_change
from muster.review.domain.pins import may_pin
from muster.review.timeline import KINDS, TimelineFilter, review_timeline
from muster.web.errors import message_for, status_for
from muster.web.i18n import N_
from muster.web.summaries import Summarizer
from muster.web.templating import Page, SignedInPage

router = APIRouter(include_in_schema=False)

IMPROVEMENTS = "/review/improvements"
ACTIONS: dict[str, ImprovementAction] = {name: name for name in IMPROVEMENT_ACTIONS}
STATUS_LABELS: dict[str, str] = {
    "open": N_("Not started"),
    "in_progress": N_("In progress"),
    "done": N_("Done"),
    "cancelled": N_("Cancelled"),
    "active": N_("Open or in progress"),
    "overdue": N_("Overdue"),
}
ACTION_LABELS: dict[str, str] = {
    "start": N_("Start"),
    "complete": N_("Complete"),
    "cancel": N_("Cancel item"),
}
KIND_LABELS: dict[str, str] = {
    "level": N_("Response level"),
    "plan": N_("Plan"),
    "task": N_("Task"),
    "decision": N_("Joint decisions"),
    "report": N_("Report"),
    "escalation": N_("Escalation"),
    "status": N_("Incident status"),
    "data": N_("Data"),
    "sharing": N_("Data sharing"),
    "situation": N_("Situation"),
    "notification": N_("Notifications"),
    "other": N_("Other"),
}
NOTICES: dict[str, str] = {
    "in_progress": N_("The item was started."),
    "done": N_("The item was completed."),
    "cancelled": N_("The item was cancelled."),
    "pinned": N_("The event was pinned."),
    "unchanged": N_("The event was already pinned with this note."),
    "unpinned": N_("The event was unpinned."),
}


def _actor(page: Page) -> Actor:
    if page.user is None:  # SignedInPage guarantees a user
        raise NotFound("sign in first")
    return page.user.actor


def _labels(page: Page, labels: Mapping[str, str]) -> dict[str, str]:
    return {key: page.translate(text) for key, text in labels.items()}


def _refusal(page: Page, error: MusterError) -> str:
    lead = message_for(error, page.language)
    detail = error.message.strip()
    return f"{lead} {detail[:1].upper()}{detail[1:]}." if detail else lead


async def _act(
    page: Page,
    command: Command,
    *,
    back: str,
    render: Callable[[str, int], Response],
) -> Response:
    """Send a command from a form: redirect back with a notice, or show the refusal."""
    try:
        result = await run_in_threadpool(page.muster.bus.handle, command, _actor(page))
    except MusterError as error:
        if isinstance(error, NotFound):
            raise
        message, status = _refusal(page, error), status_for(error)
        return await run_in_threadpool(render, message, status)
    separator = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{separator}notice={result}", status_code=303)


def _department_names(conn: Any, language: str) -> dict[str, str]:
    return {item.code: item.name(language) for item in identity.list_departments(conn)}


# --- improvement items ---------------------------------------------------------------


@router.get(IMPROVEMENTS)
def improvements_page(
    page: SignedInPage,
    incident: str = "",
    department: str = "",
    status: str = "",
    notice: str = "",
) -> Response:
    """List improvement items with filters; overdue ones are marked."""
    chosen = {"incident": incident, "department": department, "status": status}
    text = page.translate(NOTICES[notice]) if notice in NOTICES else ""
    return _render_improvements(page, chosen, notice=text)


def _render_improvements(
    page: Page,
    chosen: Mapping[str, str],
    *,
    notice: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    status = chosen.get("status", "")
    actor = _actor(page)
    with page.muster.engine.connect() as conn:
        items = queries.list_improvements(
            conn,
            now=page.muster.clock.now(),
            incident_id=chosen.get("incident") or None,
            department=chosen.get("department") or None,
            status=status if status in queries.STATUS_FILTERS else None,
        )
        names = _department_names(conn, page.language)
        titles = {
            item.incident_id: _incident_title(conn, item.incident_id) for item in items
        }
    filters = {key: value for key, value in chosen.items() if value}
    return page.render(
        "review_improvements.html",
        status_code=status_code,
        items=items,
        changeable={
            item.id for item in items if may_change(actor, item.owner_department)
        },
        departments=names,
        incidents=titles,
        statuses=_labels(page, STATUS_LABELS),
        actions=_labels(page, ACTION_LABELS),
        chosen=chosen,
        back=f"{IMPROVEMENTS}?{urlencode(filters)}" if filters else IMPROVEMENTS,
        json_url="/api/v1/review/improvements?" + urlencode(filters),
        notice=notice,
        error=error,
    )


def _incident_title(conn: Any, incident_id: str) -> str:
    found = response.get_incident(conn, incident_id)
    return found.title if found is not None else incident_id


def _back(posted: Mapping[str, Any], default: str) -> str:
    """Return where a form goes back to: one of our own pages, never elsewhere."""
    back = str(posted.get("back") or "")
    return back if back.startswith("/review/") and "//" not in back else default


def _filters_of(back: str) -> dict[str, str]:
    query = parse_qs(urlsplit(back).query)
    return {key: values[0] for key, values in query.items() if key != "notice"}


@router.post(IMPROVEMENTS + "/{item_id}/{action}")
async def change_item(item_id: str, action: str, page: SignedInPage) -> Response:
    """Start, complete or cancel an item from the list."""
    if action not in ACTIONS:
        raise NotFound(f"no action {action}", action=action)
    posted = await page.request.form()  # already read (and cached) by the CSRF check
    back = _back(posted, IMPROVEMENTS)
    command = ChangeImprovementItem(
        item_id=item_id,
        action=ACTIONS[action],
        note=str(posted.get("note") or ""),
    )

    def render(message: str, status: int) -> Response:
        chosen = dict.fromkeys(("incident", "department", "status"), "")
        chosen.update(_filters_of(back))
        return _render_improvements(page, chosen, error=message, status_code=status)

    return await _act(page, command, back=back, render=render)


# --- review timeline -----------------------------------------------------------------


def _timeline_path(incident_id: str) -> str:
    return f"/review/incidents/{incident_id}/timeline"


@router.get("/review/incidents/{incident_id}/timeline")
def timeline_page(
    incident_id: str,
    page: SignedInPage,
    department: str = "",
    kind: str = "",
    pinned: str = "",
    since: str = "",
    until: str = "",
    notice: str = "",
) -> Response:
    """Show an incident's timeline with filters, pins and export links."""
    chosen = {
        "department": department, "kind": kind, "pinned": pinned,
        "since": since, "until": until,
    }  # fmt: skip
    text = page.translate(NOTICES[notice]) if notice in NOTICES else ""
    return _render_timeline(page, incident_id, chosen, notice=text)


def _render_timeline(
    page: Page,
    incident_id: str,
    chosen: Mapping[str, str],
    *,
    notice: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    zone = page.muster.settings.zone
    where = TimelineFilter(
        departments=frozenset({chosen["department"]} - {""}),
        kinds=frozenset({chosen["kind"]} & set(KINDS)),
        pinned_only=chosen.get("pinned") == "1",
        since=_local(chosen.get("since", ""), zone, "since"),
        until=_local(chosen.get("until", ""), zone, "until"),
    )
    with page.muster.engine.connect() as conn:
        incident = response.get_incident(conn, incident_id)
        found = review_timeline(
            conn, incident_id, summarise=Summarizer(page.muster).timeline, where=where
        )
        names = _department_names(conn, page.language)
    filters = {key: value for key, value in chosen.items() if value}
    api = f"/api/v1/review/incidents/{incident_id}/timeline?"
    api_filters = {
        "department": chosen.get("department", ""),
        "kind": chosen.get("kind", ""),
        "pinned": "true" if where.pinned_only else "",
        "since": where.since.isoformat() if where.since else "",
        "until": where.until.isoformat() if where.until else "",
    }
    api_filters = {key: value for key, value in api_filters.items() if value}
    path = _timeline_path(incident_id)
    return page.render(
        "review_timeline.html",
        status_code=status_code,
        incident=incident,
        timeline=found,
        log=found.log_range(),
        departments=names,
        kinds=_labels(page, KIND_LABELS),
        chosen=chosen,
        may_pin=may_pin(_actor(page)),
        back=f"{path}?{urlencode(filters)}" if filters else path,
        csv_url=api + urlencode({**api_filters, "format": "csv"}),
        json_url=api + urlencode({**api_filters, "format": "json"}),
        notice=notice,
        error=error,
    )


def _local(text: str, zone: ZoneInfo, name: str) -> datetime | None:
    """Read a time from a form: with a zone as given, without one in local time."""
    if not text.strip():
        return None
    try:
        return parse_utc(text.strip())
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text.strip()).replace(tzinfo=zone)
    except ValueError:
        raise ValidationFailed(f"{name} is no date and time", field=name) from None


@router.post("/review/incidents/{incident_id}/pins")
async def pin_event(incident_id: str, page: SignedInPage) -> Response:
    """Pin a timeline event with a note."""
    posted = await page.request.form()
    back = _back(posted, _timeline_path(incident_id))
    seq = str(posted.get("seq") or "")
    command = PinTimelineEvent(
        incident_id=incident_id,
        seq=int(seq) if seq.isdigit() else 0,
        note=str(posted.get("note") or ""),
    )
    return await _act(
        page, command, back=back, render=_timeline_render(page, incident_id, back)
    )


@router.post("/review/incidents/{incident_id}/pins/{seq}/unpin")
async def unpin_event(incident_id: str, seq: int, page: SignedInPage) -> Response:
    """Remove a pin."""
    posted = await page.request.form()
    back = _back(posted, _timeline_path(incident_id))
    command = UnpinTimelineEvent(incident_id=incident_id, seq=seq)
    return await _act(
        page, command, back=back, render=_timeline_render(page, incident_id, back)
    )


def _timeline_render(
    page: Page, incident_id: str, back: str
) -> Callable[[str, int], Response]:
    def render(message: str, status: int) -> Response:
        chosen = dict.fromkeys(("department", "kind", "pinned", "since", "until"), "")
        chosen.update(_filters_of(back))
        return _render_timeline(
            page, incident_id, chosen, error=message, status_code=status
        )

    return render


__all__ = ["router"]
