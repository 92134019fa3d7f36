"""The department inbox: the signed-in user's department's tasks, with the buttons to
acknowledge, start, complete, decline or block them.

Each action posts the task version the user saw, so when two people act on the same
task the second gets a clear conflict instead of a duplicate. ``/inbox/live`` returns
the task list alone for ``static/live.js``. Imported by ``web.app``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from muster.core.errors import MusterError, NotFound
from muster.core.messages import registered_event_types
from muster.response import queries
from muster.response.domain.commands import ActOnTask, CheckChecklistItem
from muster.response.pages import department_names, labels, notice_text, refusal_text
from muster.web.errors import status_for
from muster.web.templating import Page, SignedInPage

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form()]
# Which actions each task status offers (the domain decides; this hides the rest).
ACTIONS_BY_STATUS: dict[str, tuple[str, ...]] = {
    "assigned": ("acknowledge", "decline"),
    "acknowledged": ("start", "complete", "block"),
    "in_progress": ("complete", "block"),
    "blocked": ("start",),
    "declined": (),
    "done": (),
    "skipped": (),
}


def inbox_context(page: Page) -> dict[str, Any]:
    """Return what the inbox and its live list render."""
    assert page.user is not None  # noqa: S101 - SignedInPage guarantees it
    department = page.user.actor.department
    with page.muster.engine.connect() as conn:
        tasks = (
            queries.department_inbox(conn, department, include_closed=True)
            if department
            else []
        )
        incidents = {
            task.incident_id: queries.get_incident(conn, task.incident_id)
            for task in tasks
        }
        departments = department_names(conn, page.language)
        head = page.muster.store.head(conn)[0]
    open_tasks = [task for task in tasks if task.status not in ("done", "skipped")]
    closed = [task for task in tasks if task.status in ("done", "skipped")]
    return {
        "tasks": open_tasks,
        "closed_tasks": closed[-20:],
        "incidents": incidents,
        "departments": departments,
        "department": department,
        "labels": labels(page),
        "actions": ACTIONS_BY_STATUS,
        "now": page.muster.clock.now().isoformat(),
        "feed_after": head,
        "event_types": sorted(
            name for name in registered_event_types() if name.startswith("response.")
        ),
    }


def _render(
    page: Page, *, notice: str = "", error: str = "", status_code: int = 200
) -> Response:
    return page.render(
        "inbox.html",
        status_code=status_code,
        notice=notice_text(page, notice),
        error=error,
        **inbox_context(page),
    )


@router.get("/inbox")
def inbox(page: SignedInPage, notice: str = "") -> Response:
    """Show the department's tasks."""
    return _render(page, notice=notice)


@router.get("/inbox/live")
def inbox_live(page: SignedInPage) -> Response:
    """Return the inbox's task list alone (an HTML fragment)."""
    return page.render("inbox_live.html", **inbox_context(page))


def _back(next_: str) -> str:
    """Return a safe local path to go back to (the inbox by default)."""
    if next_.startswith("/") and not next_.startswith("//") and "\\" not in next_:
        return next_.split("?", 1)[0]
    return "/inbox"


async def _act(
    page: Page, command: ActOnTask | CheckChecklistItem, next_: str
) -> Response:
    assert page.user is not None  # noqa: S101 - SignedInPage guarantees it
    try:
        await run_in_threadpool(page.muster.bus.handle, command, page.user.actor)
    except MusterError as error:
        if isinstance(error, NotFound):
            raise
        message, status = refusal_text(page, error), status_for(error)
        return await run_in_threadpool(
            lambda: _render(page, error=message, status_code=status)
        )
    return RedirectResponse(f"{_back(next_)}?notice=task", status_code=303)


@router.post("/tasks/{task_id}/act")
async def act_on_task(
    task_id: str,
    page: SignedInPage,
    action: Text = "",
    note: Text = "",
    expected_version: Text = "",
    next: Text = "/inbox",
) -> Response:
    """Acknowledge, start, complete, decline or block a task (the version seen)."""
    version = int(expected_version) if expected_version.isdigit() else None
    command = ActOnTask(
        task_id=task_id, action=action, note=note, expected_version=version
    )
    return await _act(page, command, next)


@router.post("/tasks/{task_id}/checklist")
async def check_item(
    task_id: str,
    page: SignedInPage,
    index: Text = "",
    checked: Text = "",
    next: Text = "/inbox",
) -> Response:
    """Tick or untick a checklist item."""
    command = CheckChecklistItem(
        task_id=task_id,
        index=int(index) if index.isdigit() else -1,
        checked=checked == "1",
    )
    return await _act(page, command, next)


__all__ = ["ACTIONS_BY_STATUS", "inbox_context", "router"]
