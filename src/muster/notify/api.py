"""HTTP API of the notify part (R13): the caller's in-app notifications.

``GET /api/v1/notifications`` lists them, unread first; ``POST
/api/v1/notifications/{id}/read`` marks one read. A caller only ever sees and marks
their own (an API key has none). Refusals are MusterErrors, answered as
problem+json by ``web.errors``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from muster.notify import queries
from muster.notify.domain.commands import MarkNotificationRead
from muster.notify.domain.errors import UnknownNotification
from muster.notify.schemas import NotificationOut, ReadOut
from muster.web.deps import CurrentActor, MusterDep

router = APIRouter(prefix="/api/v1/notifications", tags=["notify"])

MAX_LIMIT = 200


@router.get("", response_model=list[NotificationOut])
def list_notifications(
    actor: CurrentActor,
    muster: MusterDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> list[NotificationOut]:
    """List the caller's in-app notifications: unread first, newest first within."""
    if actor.kind != "user":
        return []  # notifications are addressed to people, never to API keys
    with muster.engine.connect() as conn:
        items = queries.user_notifications(conn, actor.id, limit=limit)
    return [NotificationOut.of(item) for item in items]


@router.post("/{notification_id}/read", response_model=ReadOut)
async def mark_read(
    notification_id: str, actor: CurrentActor, muster: MusterDep
) -> ReadOut:
    """Mark one of the caller's notifications read (another's is answered 404)."""
    if actor.kind != "user":
        raise UnknownNotification(
            f"no notification {notification_id}", notification_id=notification_id
        )
    command = MarkNotificationRead(notification_id=notification_id)
    changed = await run_in_threadpool(muster.bus.handle, command, actor)
    return ReadOut(changed=bool(changed))


__all__ = ["router"]
