"""Events of the response part."""

from __future__ import annotations

from dataclasses import dataclass

from muster.core.messages import Event, event_type


@event_type("response.IncidentOpened", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class IncidentOpened(Event):
    """An incident was opened at a place, in a category, by a department."""

    incident_id: str
    title: str
    category: str
    latitude: float
    longitude: float
    description: str
    reporting_department: str
