"""The incident page: lifecycle, plan activation and levels, departments, the task
board, joint decisions, reporting clocks and the timeline.

``/incidents/{id}/live`` returns the live sections alone; ``static/live.js`` fetches it
when the feed reports an event of this incident. Forms post a command through the bus
and redirect (303) with a notice, or show the page again with the refusal.
Imported by ``web.app``, which mounts ``router``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from muster.core.errors import MusterError, NotFound, ValidationFailed
from muster.core.messages import Command, registered_event_types
from muster.response import queries, views
from muster.response.domain.commands import (
    ActivatePlan,
    ChangeIncidentStatus,
    ChangeResponseLevel,
    ProposeDecision,
    ReassignTask,
    RecordIncidentFacts,
    SignDecision,
    SkipTask,
)
from muster.response.domain.event_types import types_of_category
from muster.response.pages import (
    department_names,
    labels,
    notice_text,
    refusal_text,
)
from muster.web.errors import status_for
from muster.web.summaries import Summarizer
from muster.web.templating import Page, SignedInPage

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form()]
# The lifecycle buttons each status offers (the domain decides; this only hides
# buttons that would certainly be refused).
NEXT_STATUSES: dict[str, tuple[str, ...]] = {
    "reported": ("verified", "closed"),
    "verified": ("closed",),
    "responding": ("recovering", "closed"),
    "recovering": ("responding", "closed"),
    "closed": (),
}
LEVELS = ("L4", "L3", "L2", "L1")
RESPONSE_EVENT_PREFIX = "response."


def _user_actor(page: Page) -> Any:
    assert page.user is not None  # noqa: S101 - SignedInPage guarantees it
    return page.user.actor


def incident_context(page: Page, incident_id: str) -> dict[str, Any]:
    """Return what the incident page and its live sections render."""
    actor = _user_actor(page)
    with page.muster.engine.connect() as conn:
        view = views.overview(conn, incident_id)
        if view is None:
            raise NotFound(f"no incident {incident_id}", incident=incident_id)
        departments = department_names(conn, page.language)
        plans = views.plans_for_type(queries.list_plans(conn), view.incident.type_code)
        entries = queries.incident_timeline(conn, incident_id, limit=2000)
        summaries = Summarizer(page.muster).timeline(conn, entries)
        head = page.muster.store.head(conn)[0]
    return {
        "view": view,
        "incident": view.incident,
        "departments": departments,
        "plans": plans,
        "suggestions": views.suggestions(plans, view.incident.facts),
        "facts": sorted((view.incident.facts or {}).items()),
        "decision_points": _decision_points(view.plan, page.language),
        "type_choices": [
            (item.code, item.name(page.language))
            for item in types_of_category(view.incident.category)
        ],
        "levels": LEVELS,
        "labels": labels(page),
        "next_statuses": NEXT_STATUSES.get(view.incident.status, ()),
        "timeline": [
            (entry, summary[page.language])
            for entry, summary in zip(entries, summaries, strict=True)
        ],
        "can_command": actor.has_role("commander", "admin"),
        "can_change_status": actor.has_role("commander", "duty_officer", "admin"),
        "can_report": actor.department is not None
        and actor.has_role("commander", "duty_officer", "head", "admin"),
        "my_department": actor.department,
        "now": page.muster.clock.now().isoformat(),
        "feed_after": head,
        "event_types": sorted(
            name
            for name in registered_event_types()
            if name.startswith(RESPONSE_EVENT_PREFIX)
        ),
    }


def render_incident(
    page: Page,
    incident_id: str,
    *,
    notice: str = "",
    error: str = "",
    status_code: int = 200,
    values: dict[str, Any] | None = None,
) -> Response:
    """Render the whole incident page."""
    context = incident_context(page, incident_id)
    return page.render(
        "incident_detail.html",
        status_code=status_code,
        notice=notice_text(page, notice),
        error=error,
        values=values or {},
        **context,
    )


@router.get("/incidents/{incident_id}")
def incident_detail(incident_id: str, page: SignedInPage, notice: str = "") -> Response:
    """Show an incident and its coordinated response."""
    return render_incident(page, incident_id, notice=notice)


@router.get("/incidents/{incident_id}/live")
def incident_live(incident_id: str, page: SignedInPage) -> Response:
    """Return the live sections of the incident page (an HTML fragment)."""
    return page.render("incident_live.html", **incident_context(page, incident_id))


async def run_form_command(
    page: Page,
    incident_id: str,
    command: Command,
    *,
    notice: str,
    values: dict[str, Any] | None = None,
    anchor: str = "",
) -> Response:
    """Dispatch a command from a form; redirect with a notice or show the refusal."""
    try:
        result = await run_in_threadpool(
            page.muster.bus.handle, command, _user_actor(page)
        )
    except MusterError as error:
        if isinstance(error, NotFound):
            raise
        message, status = refusal_text(page, error), status_for(error)
        return await run_in_threadpool(
            lambda: render_incident(
                page, incident_id, error=message, status_code=status, values=values
            )
        )
    if result == "unchanged":
        notice = "unchanged"
    return RedirectResponse(
        f"/incidents/{incident_id}?notice={notice}{anchor}", status_code=303
    )


@router.post("/incidents/{incident_id}/status")
async def change_status(
    incident_id: str,
    page: SignedInPage,
    to_status: Text = "",
    reason: Text = "",
    type_code: Text = "",
) -> Response:
    """Verify (setting the incident's type), recover, resume or close the incident."""
    command = ChangeIncidentStatus(
        incident_id=incident_id,
        to_status=to_status,
        reason=reason,
        type_code=type_code.strip() or None,
    )
    return await run_form_command(page, incident_id, command, notice="status")


@router.post("/incidents/{incident_id}/facts")
async def record_facts(
    incident_id: str, page: SignedInPage, name: Text = "", value: Text = ""
) -> Response:
    """Record one fact (a name and a number or short text) about the incident."""
    command = RecordIncidentFacts(
        incident_id=incident_id, facts={name.strip(): value.strip()}
    )
    return await run_form_command(
        page, incident_id, command, notice="facts", values={"fact_name": name}
    )


@router.post("/incidents/{incident_id}/activation")
async def activate_plan(
    incident_id: str,
    page: SignedInPage,
    plan_code: Text = "",
    level: Text = "",
    reason: Text = "",
) -> Response:
    """Activate a plan at a level."""
    command = ActivatePlan(
        incident_id=incident_id, plan_code=plan_code, level=level, reason=reason
    )
    return await run_form_command(page, incident_id, command, notice="activated")


@router.post("/incidents/{incident_id}/level")
async def change_level(
    incident_id: str, page: SignedInPage, level: Text = "", reason: Text = ""
) -> Response:
    """Change the response level with a reason."""
    command = ChangeResponseLevel(incident_id=incident_id, level=level, reason=reason)
    return await run_form_command(page, incident_id, command, notice="level")


@router.post("/incidents/{incident_id}/decisions")
async def propose_decision(incident_id: str, page: SignedInPage) -> Response:
    """Propose a joint decision to the chosen departments."""
    form = await page.request.form()
    departments = tuple(str(item) for item in form.getlist("departments"))
    values: dict[str, Any] = {key: str(form.get(key, "")) for key in _DECISION_FIELDS}
    values["departments"] = departments
    try:
        deadline = int(values["deadline_minutes"] or "60")
    except ValueError:
        deadline = 0  # refused by the handler with the deadline message
    evidence = tuple(
        line.strip() for line in values["evidence"].splitlines() if line.strip()
    )
    command = ProposeDecision(
        incident_id=incident_id,
        title=values["title"],
        proposal=values["proposal"],
        departments=departments,
        rule=values["rule"] or "all",
        veto=tuple(str(item) for item in form.getlist("veto")),
        raises_to=values["raises_to"] or None,
        deadline_minutes=deadline,
        decision_key=values["decision_key"] or None,
        evidence=evidence,
    )
    return await run_form_command(
        page, incident_id, command, notice="proposed", values=values
    )


_DECISION_FIELDS = (
    "title", "proposal", "rule", "raises_to", "deadline_minutes", "decision_key",
    "evidence",
)  # fmt: skip


def _decision_points(
    plan: queries.PlanSummary | None, language: str
) -> list[tuple[str, str]]:
    """The plan's decision points as (key, title) for the proposal form."""
    if plan is None:
        return []
    zh = language.startswith("zh")
    return [
        (str(point["key"]), str(point["title_zh" if zh else "title_en"]))
        for level in plan.document.get("levels", [])
        for point in level.get("decisions", [])
    ]


@router.post("/decisions/{decision_id}/sign")
async def sign_decision(
    decision_id: str,
    page: SignedInPage,
    incident_id: Text = "",
    position: Text = "",
    comment: Text = "",
) -> Response:
    """Concur with or object to a proposal for the user's department."""
    command = SignDecision(decision_id=decision_id, position=position, comment=comment)
    return await run_form_command(page, incident_id, command, notice="signed")


@router.post("/tasks/{task_id}/skip")
async def skip_task(
    task_id: str, page: SignedInPage, incident_id: Text = "", reason: Text = ""
) -> Response:
    """Skip a plan task with a reason (commanders)."""
    command = SkipTask(task_id=task_id, reason=reason)
    return await run_form_command(page, incident_id, command, notice="task")


@router.post("/tasks/{task_id}/reassign")
async def reassign_task(
    task_id: str,
    page: SignedInPage,
    incident_id: Text = "",
    to_department: Text = "",
    reason: Text = "",
) -> Response:
    """Move a task to another department with a reason (commanders)."""
    if not to_department:
        raise ValidationFailed("choose a department", field="to_department")
    command = ReassignTask(task_id=task_id, to_department=to_department, reason=reason)
    return await run_form_command(page, incident_id, command, notice="task")


__all__ = ["incident_context", "render_incident", "router", "run_form_command"]
