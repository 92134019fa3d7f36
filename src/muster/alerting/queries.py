"""Read the alerting part's tables: the templates in force and alerts.

Used by the handlers (state checks), the Atom feed and per-alert XML, the pages, the
map layer and the CLI. Pure reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Row

from muster.alerting.domain.model import (
    AlertRecord,
    AlertState,
    Colour,
    content_from_dict,
    content_to_dict,
)
from muster.alerting.domain.templates import WarningTemplates, parse_templates
from muster.alerting.read_models import alerts, templates
from muster.response.queries import IncidentView


@dataclass(frozen=True, slots=True)
class AlertView:
    """An alert as stored: its record plus when things happened and its XML."""

    record: AlertRecord
    population: int | None
    drafted_at: str
    approved_at: str | None
    published_at: str | None
    xml: str | None
    digest: str | None
    signed: bool
    discard_reason: str

    @property
    def is_current(self) -> bool:
        """Tell whether this is the latest published alert of its warning."""
        return (
            self.record.state is AlertState.PUBLISHED
            and self.record.superseded_by is None
        )

    def to_json(self) -> dict[str, Any]:
        """Return the alert as the API and ``--json`` print it (without the XML)."""
        item = self.record
        return {
            "id": item.id,
            "incident_id": item.incident_id,
            "hazard": item.hazard,
            "colour": item.colour.value,
            "state": item.state.value,
            "identifier": item.content.identifier,
            "sender": item.content.sender,
            "status": item.content.status,
            "msg_type": item.content.msg_type,
            "references": list(item.content.references),
            "headline": {i.language: i.headline for i in item.content.infos},
            "author": item.author,
            "approver": item.approver,
            "decision_id": item.decision_id,
            "required_departments": list(item.required_departments),
            "follows": item.follows,
            "superseded_by": item.superseded_by,
            "current": self.is_current,
            "sent": item.sent,
            "population": self.population,
            "signed": self.signed,
            "digest": self.digest,
            "drafted_at": self.drafted_at,
            "approved_at": self.approved_at,
            "published_at": self.published_at,
            "discard_reason": self.discard_reason,
            "content": content_to_dict(item.content),
        }


def _view(row: Row[Any]) -> AlertView:
    return AlertView(
        record=AlertRecord(
            id=row.id,
            incident_id=row.incident_id,
            hazard=row.hazard,
            colour=Colour(row.colour),
            content=content_from_dict(json.loads(row.content)),
            state=AlertState(row.state),
            author=row.author,
            author_department=row.author_department,
            approver=row.approver,
            decision_id=row.decision_id,
            required_departments=tuple(json.loads(row.required_departments)),
            follows=row.follows,
            sent=row.sent,
            superseded_by=row.superseded_by,
        ),
        population=row.population,
        drafted_at=row.drafted_at,
        approved_at=row.approved_at,
        published_at=row.published_at,
        xml=row.xml,
        digest=row.digest,
        signed=bool(row.signed),
        discard_reason=row.discard_reason,
    )


def speakers(incident: IncidentView, templates: WarningTemplates | None) -> set[str]:
    """Return the departments that speak for an incident's warnings: its lead, its
    information officer's department (the plan's command roles) and the issuers."""
    roles = incident.command_roles or {}
    named = {incident.lead_department, roles.get("information_officer")}
    issuers = set() if templates is None else set(templates.issuers)
    return {code for code in named if code} | issuers


def current_templates(conn: Connection) -> WarningTemplates | None:
    """Return the warning templates in force, or None before a pack set them."""
    row = conn.execute(select(templates.c.document)).first()
    return None if row is None else parse_templates(json.loads(row[0]))


def templates_document(conn: Connection) -> dict[str, Any] | None:
    """Return the templates document as loaded (for pages listing hazards)."""
    row = conn.execute(select(templates.c.document)).first()
    return None if row is None else dict(json.loads(row[0]))


def get_alert(conn: Connection, alert_id: str) -> AlertView | None:
    """Return an alert, or None."""
    row = conn.execute(select(alerts).where(alerts.c.id == alert_id)).first()
    return None if row is None else _view(row)


def by_identifier(conn: Connection, identifier: str) -> AlertView | None:
    """Return the alert with this CAP identifier, or None."""
    row = conn.execute(select(alerts).where(alerts.c.identifier == identifier)).first()
    return None if row is None else _view(row)


def list_alerts(
    conn: Connection,
    *,
    incident_id: str | None = None,
    states: Iterable[str] | None = None,
    limit: int = 500,
) -> list[AlertView]:
    """Return alerts, newest first."""
    query = select(alerts)
    if incident_id is not None:
        query = query.where(alerts.c.incident_id == incident_id)
    if states is not None:
        query = query.where(alerts.c.state.in_(list(states)))
    rows = conn.execute(query.order_by(alerts.c.drafted_at.desc()).limit(limit))
    return [_view(row) for row in rows]


def published(
    conn: Connection, *, current_only: bool = False, limit: int = 10_000
) -> list[AlertView]:
    """Return published alerts, newest first (``current_only``: not superseded)."""
    query = select(alerts).where(alerts.c.state == AlertState.PUBLISHED.value)
    if current_only:
        query = query.where(alerts.c.superseded_by.is_(None))
    rows = conn.execute(query.order_by(alerts.c.published_at.desc()).limit(limit))
    return [_view(row) for row in rows]


__all__ = [
    "AlertView",
    "by_identifier",
    "current_templates",
    "get_alert",
    "list_alerts",
    "published",
    "speakers",
    "templates_document",
]
