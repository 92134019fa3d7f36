"""Read functions of the response part."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Connection

from muster.response.read_models import incidents


@dataclass(frozen=True, slots=True)
class IncidentView:
    """An incident as listed and shown."""

    id: str
    title: str
    category: str
    latitude: float
    longitude: float
    description: str
    status: str
    reporting_department: str
    opened_at: str
    opened_by: str


def list_incidents(conn: Connection, *, limit: int = 200) -> list[IncidentView]:
    """Return incidents, newest first."""
    rows = conn.execute(
        select(incidents).order_by(incidents.c.opened_at.desc()).limit(limit)
    )
    return [IncidentView(**row._mapping) for row in rows]


def get_incident(conn: Connection, incident_id: str) -> IncidentView | None:
    """Return one incident, or None."""
    row = conn.execute(select(incidents).where(incidents.c.id == incident_id)).first()
    return IncidentView(**row._mapping) if row is not None else None


__all__ = ["IncidentView", "get_incident", "list_incidents"]
