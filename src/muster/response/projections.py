"""Projections of the response part: events -> its tables. Imported by bootstrap."""

from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from muster.core.eventlog.projections import ProjectionSet, Projector
from muster.core.eventlog.store import Envelope
from muster.core.messages import Event
from muster.response.domain.events import IncidentOpened
from muster.response.read_models import PROJECTED_TABLES, incidents

_INSERT_INCIDENT = insert(incidents)


def on_incident_opened(
    event: IncidentOpened, envelope: Envelope, conn: Connection
) -> None:
    """Insert the new incident."""
    conn.execute(
        _INSERT_INCIDENT,
        {
            "id": event.incident_id,
            "title": event.title,
            "category": event.category,
            "latitude": event.latitude,
            "longitude": event.longitude,
            "description": event.description,
            "status": "open",
            "reporting_department": event.reporting_department,
            "opened_at": envelope.recorded_at,
            "opened_by": envelope.actor_id,
        },
    )


_HANDLERS: dict[type[Event], list[Projector]] = {IncidentOpened: [on_incident_opened]}

PROJECTIONS = ProjectionSet(
    name="response", handlers=_HANDLERS, tables=PROJECTED_TABLES
)

__all__ = ["PROJECTIONS"]
