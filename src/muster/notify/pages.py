"""The signed-in user's in-app notifications: ``/notifications`` lists them (unread
first) with "mark read" and "mark all read"; ``/notifications/count`` answers the
unread count as JSON for the badge ``static/notifications.js`` keeps live.

A user only ever sees and marks their own. Imported by ``web.app``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from muster.notify import queries
from muster.notify.domain.commands import MarkNotificationRead
from muster.web.deps import CurrentUser, MusterDep
from muster.web.i18n import N_
from muster.web.templating import Page, SignedInPage

router = APIRouter(include_in_schema=False)

PAGE_LIMIT = 100
MARK_ALL_LIMIT = 500
NOTICES: dict[str, str] = {
    "read": N_("The notification was marked read."),
    "all_read": N_("All notifications were marked read."),
}


def notifications_context(page: Page) -> dict[str, Any]:
    """Return what the notifications page renders."""
    assert page.user is not None  # noqa: S101 - SignedInPage guarantees it
    user_id = page.user.actor.id
    with page.muster.engine.connect() as conn:
        items = queries.user_notifications(conn, user_id, limit=PAGE_LIMIT)
        unread = queries.unread_count(conn, user_id)
    return {"items": items, "unread_notifications": unread}


@router.get("/notifications")
def notifications(page: SignedInPage, notice: str = "") -> Response:
    """Show the signed-in user's notifications, unread first."""
    text = page.translate(NOTICES[notice]) if notice in NOTICES else ""
    return page.render("notifications.html", notice=text, **notifications_context(page))


@router.get("/notifications/count")
def notifications_count(user: CurrentUser, muster: MusterDep) -> JSONResponse:
    """Return the signed-in user's unread count (for the navigation badge)."""
    with muster.engine.connect() as conn:
        unread = queries.unread_count(conn, user.actor.id)
    return JSONResponse({"unread": unread}, headers={"Cache-Control": "no-store"})


@router.post("/notifications/read-all")
async def mark_all_read(page: SignedInPage) -> Response:
    """Mark every unread notification of the signed-in user read."""
    assert page.user is not None  # noqa: S101 - SignedInPage guarantees it
    actor = page.user.actor

    def mark_all() -> None:
        with page.muster.engine.connect() as conn:
            items = queries.user_notifications(conn, actor.id, limit=MARK_ALL_LIMIT)
        for item in items:
            if not item.is_read:
                page.muster.bus.handle(
                    MarkNotificationRead(notification_id=item.notification_id), actor
                )

    await run_in_threadpool(mark_all)
    return RedirectResponse("/notifications?notice=all_read", status_code=303)


@router.post("/notifications/{notification_id}/read")
async def mark_read(notification_id: str, page: SignedInPage) -> Response:
    """Mark one of the signed-in user's notifications read."""
    assert page.user is not None  # noqa: S101 - SignedInPage guarantees it
    await run_in_threadpool(
        page.muster.bus.handle,
        MarkNotificationRead(notification_id=notification_id),
        page.user.actor,
    )
    return RedirectResponse("/notifications?notice=read", status_code=303)


__all__ = ["NOTICES", "notifications_context", "router"]
