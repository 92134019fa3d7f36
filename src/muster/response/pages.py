"""Server-rendered response pages: dashboard, incident form and incident detail."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool

from muster.core.errors import MusterError, ValidationFailed
from muster.core.messages import registered_event_types
from muster.identity import queries as identity_queries
from muster.response import queries
from muster.response.domain.commands import OpenIncident
from muster.response.domain.event_types import types_of_category
from muster.response.domain.model import Category
from muster.web.errors import message_for
from muster.web.i18n import N_
from muster.web.templating import Page, SignedInPage

router = APIRouter(include_in_schema=False)

CATEGORY_LABELS: dict[str, str] = {
    Category.NATURAL_DISASTER: N_("Natural disaster"),
    Category.ACCIDENT_DISASTER: N_("Accident disaster"),
    Category.PUBLIC_HEALTH: N_("Public-health event"),
    Category.SOCIAL_SECURITY: N_("Social-security event"),
}
STATUS_LABELS: dict[str, str] = {
    "open": N_("Open"),
    "reported": N_("Reported"),
    "verified": N_("Verified"),
    "responding": N_("Responding"),
    "recovering": N_("Recovering"),
    "closed": N_("Closed"),
}
LEVEL_LABELS: dict[str, str] = {
    "L1": N_("Level I"),
    "L2": N_("Level II"),
    "L3": N_("Level III"),
    "L4": N_("Level IV"),
}
TASK_STATUS_LABELS: dict[str, str] = {
    "assigned": N_("Assigned"),
    "acknowledged": N_("Acknowledged"),
    "in_progress": N_("In progress"),
    "done": N_("Done"),
    "declined": N_("Declined"),
    "blocked": N_("Blocked"),
    "skipped": N_("Skipped"),
}
DECISION_LABELS: dict[str, str] = {
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "expired": N_("Expired"),
    "concur": N_("Concurs"),
    "object": N_("Objects"),
    "all": N_("All must concur"),
    "majority": N_("Majority"),
    "veto": N_("Majority, with veto"),
}
ROLE_LABELS: dict[str, str] = {
    "commander": N_("Commander"),
    "deputy": N_("Deputy commander"),
    "liaison": N_("Liaison"),
    "information_officer": N_("Information officer"),
    "duty_officer": N_("Duty officer"),
    "head": N_("Head"),
}
REFUSALS: dict[str, str] = {
    "state_conflict": N_(
        "That is not possible in the current state; the page now shows the latest."
    ),
    "decision_required": N_(
        "This level needs a joint decision: propose one on the incident page."
    ),
    "validation:reason": N_("Give a reason."),
    "validation:what": N_("Say what happened."),
    "validation:departments": N_("Choose the departments that must sign."),
    "validation:level": N_("Choose a response level."),
}
NOTICES: dict[str, str] = {
    "status": N_("The incident status was changed."),
    "activated": N_("The plan is active; tasks went to the departments."),
    "level": N_("The response level was changed."),
    "unchanged": N_("Nothing changed."),
    "proposed": N_("The joint decision was proposed."),
    "signed": N_("Your department's position was recorded."),
    "task": N_("The task was updated."),
    "report": N_("The situation report was sent."),
    "facts": N_("The fact was recorded."),
}
NUMBER_EXPECTED = N_("Enter a number, for example 28.19.")
# Domain validation names "location" for both coordinates; the form shows it twice.
_FORM_FIELDS = {"location": ("latitude", "longitude")}

Text = Annotated[str, Form()]


@router.get("/")
def dashboard(page: SignedInPage) -> Response:
    """Show the person's department, the incident list and the live activity feed."""
    assert page.user is not None  # noqa: S101 - SignedInPage guarantees it
    hub = page.request.app.state.feed_hub
    items, head = hub.recent(page.user.actor)
    with page.muster.engine.connect() as conn:
        incidents = queries.list_incidents(conn)
        departments = _department_names(conn, page.language)
    return page.render(
        "dashboard.html",
        incidents=incidents,
        departments=departments,
        categories=_category_labels(page),
        feed_items=[item.payload(page.language) for item in items],
        feed_after=head,
        event_types=json.dumps(sorted(registered_event_types())),
    )


@router.get("/incidents/new")
def new_incident_form(page: SignedInPage) -> Response:
    """Show the form to open an incident."""
    return _render_form(page, values={}, errors={})


@router.post("/incidents")
async def open_incident(
    page: SignedInPage,
    title: Text = "",
    category: Text = "",
    latitude: Text = "",
    longitude: Text = "",
    description: Text = "",
    type_code: Text = "",
) -> Response:
    """Open an incident from the form; on bad input show the form again."""
    assert page.user is not None  # noqa: S101 - SignedInPage guarantees it
    values = {
        "title": title,
        "category": category,
        "latitude": latitude,
        "longitude": longitude,
        "description": description,
        "type_code": type_code,
    }
    coordinates, errors = _coordinates(page, latitude, longitude)
    if coordinates is None:
        return _render_form(page, values=values, errors=errors, status_code=422)
    command = OpenIncident(
        title=title,
        category=category,
        latitude=coordinates[0],
        longitude=coordinates[1],
        description=description,
        type_code=type_code.strip() or None,
    )
    try:
        incident_id = await run_in_threadpool(
            page.muster.bus.handle, command, page.user.actor
        )
    except ValidationFailed as error:
        field = str(error.params.get("field", ""))
        message = message_for(error, page.language)
        errors = dict.fromkeys(_FORM_FIELDS.get(field, (field,)), message)
        return _render_form(page, values=values, errors=errors, status_code=422)
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)


def _coordinates(
    page: Page, latitude: str, longitude: str
) -> tuple[tuple[float, float] | None, dict[str, str]]:
    errors: dict[str, str] = {}
    parsed: dict[str, float] = {}
    for name, raw in (("latitude", latitude), ("longitude", longitude)):
        try:
            parsed[name] = float(raw.strip())
        except ValueError:
            errors[name] = page.translate(NUMBER_EXPECTED)
    if errors:
        return None, errors
    return (parsed["latitude"], parsed["longitude"]), errors


def _render_form(
    page: Page,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    return page.render(
        "incident_new.html",
        status_code=status_code,
        values=values,
        errors=errors,
        categories=_category_labels(page),
        type_groups=type_groups(page),
    )


def type_groups(page: Page) -> list[tuple[str, list[tuple[str, str]]]]:
    """The GB/T 35561 types grouped by category, named in the page's language."""
    labels = _category_labels(page)
    return [
        (
            labels[category],
            [
                (item.code, item.name(page.language))
                for item in types_of_category(category)
            ],
        )
        for category in labels
    ]


def _category_labels(page: Page) -> dict[str, str]:
    return {code: page.translate(label) for code, label in CATEGORY_LABELS.items()}


def labels(page: Page) -> dict[str, dict[str, str]]:
    """Return every response label translated into the page's language."""
    tables = {
        "categories": CATEGORY_LABELS,
        "statuses": STATUS_LABELS,
        "levels": LEVEL_LABELS,
        "task_statuses": TASK_STATUS_LABELS,
        "decisions": DECISION_LABELS,
        "roles": ROLE_LABELS,
    }
    return {
        name: {code: page.translate(label) for code, label in table.items()}
        for name, table in tables.items()
    }


def refusal_text(page: Page, error: MusterError) -> str:
    """Return the translated message of a refused form action."""
    detail = str(error.params.get("field") or error.params.get("reason") or "")
    key = (
        f"{error.code}:{detail}" if f"{error.code}:{detail}" in REFUSALS else error.code
    )
    if key in REFUSALS:
        return page.translate(REFUSALS[key])
    return message_for(error, page.language)


def notice_text(page: Page, notice: str) -> str:
    """Return the translated text of a success notice key ("" if unknown)."""
    return page.translate(NOTICES[notice]) if notice in NOTICES else ""


def department_names(conn: Connection, language: str) -> dict[str, str]:
    """Return every department's name in a language by code."""
    return _department_names(conn, language)


def _department_names(conn: Connection, language: str) -> dict[str, str]:
    departments = identity_queries.list_departments(conn)
    return {view.code: view.name(language) for view in departments}


__all__ = [
    "CATEGORY_LABELS",
    "DECISION_LABELS",
    "LEVEL_LABELS",
    "ROLE_LABELS",
    "STATUS_LABELS",
    "TASK_STATUS_LABELS",
    "department_names",
    "labels",
    "notice_text",
    "refusal_text",
    "router",
]
