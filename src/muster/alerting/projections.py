"""Projections of the alerting part: the templates in force and every alert.

``PROJECTIONS`` (the set "alerting", owning ``alerting_templates`` and ``alerts``) is
listed in ``muster.bootstrap.PROJECTIONS``. Publishing an Update or Cancel marks the
alert it follows as superseded.
"""

from __future__ import annotations

import json

from sqlalchemy import delete, insert, update
from sqlalchemy.engine import Connection

from muster.alerting.domain.events import (
    AlertApproved,
    AlertDiscarded,
    AlertDrafted,
    AlertPublished,
    AlertRevised,
    ConcurrenceLinked,
    WarningTemplatesSet,
)
from muster.alerting.read_models import alerts, templates
from muster.core.eventlog.projections import ProjectionSet, Projector
from muster.core.eventlog.store import Envelope
from muster.core.messages import Event


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _headline(content: dict[str, object]) -> str:
    infos = content.get("infos")
    if isinstance(infos, list) and infos and isinstance(infos[0], dict):
        return str(infos[0].get("headline", ""))
    return ""


def on_templates_set(
    event: WarningTemplatesSet, envelope: Envelope, conn: Connection
) -> None:
    """Keep the templates in force."""
    conn.execute(delete(templates))
    conn.execute(
        insert(templates),
        {"key": "current", "document": _json(event.document), "seq": envelope.seq},
    )


def on_drafted(event: AlertDrafted, envelope: Envelope, conn: Connection) -> None:
    """Add the draft."""
    content = event.content
    conn.execute(
        insert(alerts),
        {
            "id": event.alert_id,
            "incident_id": event.incident_id,
            "hazard": event.hazard,
            "colour": event.colour,
            "state": "draft",
            "msg_type": content["msg_type"],
            "status": content["status"],
            "identifier": content["identifier"],
            "sender": content["sender"],
            "headline": _headline(content),
            "content": _json(content),
            "required_departments": _json(list(event.required_departments)),
            "decision_id": None,
            "follows": event.follows,
            "superseded_by": None,
            "author": envelope.actor_id,
            "author_department": envelope.actor_department,
            "approver": None,
            "approved_at": None,
            "population": event.population,
            "sent": None,
            "xml": None,
            "digest": None,
            "signed": False,
            "drafted_at": envelope.occurred_at,
            "published_at": None,
            "discard_reason": "",
            "seq": envelope.seq,
        },
    )


def _set(conn: Connection, alert_id: str, seq: int, **values: object) -> None:
    conn.execute(
        update(alerts).where(alerts.c.id == alert_id).values(seq=seq, **values)
    )


def on_revised(event: AlertRevised, envelope: Envelope, conn: Connection) -> None:
    """Replace the draft's content."""
    _set(
        conn,
        event.alert_id,
        envelope.seq,
        content=_json(event.content),
        headline=_headline(event.content),
    )


def on_approved(event: AlertApproved, envelope: Envelope, conn: Connection) -> None:
    """Record the second person's approval."""
    _set(
        conn,
        event.alert_id,
        envelope.seq,
        state="approved",
        approver=envelope.actor_id,
        approved_at=envelope.occurred_at,
    )


def on_linked(event: ConcurrenceLinked, envelope: Envelope, conn: Connection) -> None:
    """Record the joint decision the alert rests on."""
    _set(conn, event.alert_id, envelope.seq, decision_id=event.decision_id)


def on_published(event: AlertPublished, envelope: Envelope, conn: Connection) -> None:
    """Freeze the alert as published; the one it follows is superseded."""
    _set(
        conn,
        event.alert_id,
        envelope.seq,
        state="published",
        sent=event.sent,
        xml=event.xml,
        digest=event.digest,
        signed=event.signed,
        published_at=envelope.occurred_at,
    )
    if event.follows is not None:
        _set(conn, event.follows, envelope.seq, superseded_by=event.alert_id)


def on_discarded(event: AlertDiscarded, envelope: Envelope, conn: Connection) -> None:
    """Mark the alert discarded, with the reason."""
    _set(
        conn,
        event.alert_id,
        envelope.seq,
        state="discarded",
        discard_reason=event.reason,
    )


_PROJECTORS: dict[type[Event], list[Projector]] = {
    WarningTemplatesSet: [on_templates_set],
    AlertDrafted: [on_drafted],
    AlertRevised: [on_revised],
    AlertApproved: [on_approved],
    ConcurrenceLinked: [on_linked],
    AlertPublished: [on_published],
    AlertDiscarded: [on_discarded],
}

PROJECTIONS = ProjectionSet(
    name="alerting", handlers=_PROJECTORS, tables=[templates, alerts]
)

__all__ = ["PROJECTIONS"]
