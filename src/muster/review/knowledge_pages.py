"""What a department knew at a moment: ``GET /review/knew?department=&at=&incident=``.

The page (and ``GET /api/v1/review/knew``, its JSON twin) lists what the log shows
reached the department up to the moment, each item with the seq of its event, and
the log range and chain head hash it was computed from (``muster.review.knowledge``).
A department's own people, commanders and administrators may look; anyone else is
refused, and the refusal is logged. The replay page links here for each department
of the incident. Imported by ``web.app``, which mounts ``router``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from muster.core.cli import parse_moment_option
from muster.core.clock import isoformat_utc
from muster.core.errors import PermissionDenied
from muster.core.messages import Actor
from muster.identity import queries as identity_queries
from muster.response.pages import labels
from muster.review.domain.knowledge_items import may_see_knowledge, require_may_see
from muster.review.knowledge import (
    SECTIONS,
    department_knowledge,
    knowledge_json,
)
from muster.web.deps import CurrentActor, MusterDep
from muster.web.i18n import N_
from muster.web.templating import SignedInPage

router = APIRouter()

# The sharing part's wording of its decisions, and the states of the items here.
DECISIONS: dict[str, str] = {
    "allow": N_("Allowed"),
    "aggregate": N_("Counts only"),
    "deny": N_("Denied"),
}
STATES: dict[str, str] = {
    "requested": N_("Waiting for an answer"),
    "approved": N_("Approved"),
    "denied": N_("Denied"),
    "queued": N_("Queued"),
    "delivered": N_("Delivered"),
    "failed": N_("Delivery failed"),
    "read": N_("Read"),
    "reassigned": N_("Moved to another department"),
}
Code = Annotated[str, Query(max_length=64)]
Moment = Annotated[str, Query(max_length=64)]


def _require(muster: MusterDep, actor: Actor, department: str) -> None:
    """Refuse (and log the refusal) unless the actor may see the department's."""
    try:
        require_may_see(
            actor_department=actor.department,
            actor_roles=actor.roles,
            department=department,
        )
    except PermissionDenied as refusal:
        # Looking is no command; the bus logs the refusal like a command's.
        muster.bus.record_refusal("ReadKnowledge", actor, refusal)
        raise


@router.get("/review/knew", include_in_schema=False)
def knew_page(
    page: SignedInPage,
    department: Code = "",
    at: Moment = "",
    incident: Code = "",
) -> Response:
    """Show what a department knew at a moment (the form alone until one is chosen)."""
    actor = page.user.actor if page.user is not None else None
    assert actor is not None  # noqa: S101 - SignedInPage guarantees it
    muster = page.muster
    moment = parse_moment_option(at, "at") if at else muster.clock.now()
    if department:
        _require(muster, actor, department)  # before reading: a refusal is written
    with muster.engine.connect() as conn:
        registered = identity_queries.list_departments(conn)
        choices = [
            (item.code, item.name(page.language))
            for item in registered
            if may_see_knowledge(
                actor_department=actor.department,
                actor_roles=actor.roles,
                department=item.code,
            )
        ]
        document: dict[str, Any] | None = None
        if department:
            report = department_knowledge(
                conn, department, moment, incident or None, store=muster.store
            )
            document = knowledge_json(report)
        names = {item.code: item.name(page.language) for item in registered}
        people = {
            item.id: item.display_name for item in identity_queries.list_users(conn)
        }
    return page.render(
        "review_knew.html",
        choices=choices,
        chosen={
            "department": department or actor.department or "",
            "at": isoformat_utc(moment),
            "incident": incident,
        },
        knew=document,
        sections=SECTIONS,
        department_names=names,
        people=people,
        labels=labels(page),
        decisions={key: page.translate(text) for key, text in DECISIONS.items()},
        states={key: page.translate(text) for key, text in STATES.items()},
    )


@router.get("/api/v1/review/knew", tags=["review"])
def knew_json(
    actor: CurrentActor,
    muster: MusterDep,
    department: Code,
    at: Moment,
    incident: Code = "",
) -> dict[str, Any]:
    """Return what a department knew at a moment, computed from the log: shared data
    shown to it, access requests, notifications, tasks (as they stood), situation
    reports, decisions and assessments it was invited to, escalations; each item with
    its event's seq, and the log range and chain head hash."""
    moment = parse_moment_option(at, "at")
    _require(muster, actor, department)
    with muster.engine.connect() as conn:
        report = department_knowledge(
            conn, department, moment, incident or None, store=muster.store
        )
    return knowledge_json(report)


__all__ = ["DECISIONS", "STATES", "router"]
