"""HTTP API of the response part: list, show and open incidents (R13)."""

from __future__ import annotations

from fastapi import APIRouter

from muster.core.errors import NotFound
from muster.response import queries
from muster.response.domain.commands import OpenIncident
from muster.response.schemas import IncidentCreated, IncidentIn, IncidentOut
from muster.web.deps import CurrentActor, MusterDep

router = APIRouter(prefix="/api/incidents", tags=["response"])


@router.get("", response_model=list[IncidentOut])
def list_incidents(_actor: CurrentActor, muster: MusterDep) -> list[IncidentOut]:
    """List incidents, newest first."""
    with muster.engine.connect() as conn:
        return [IncidentOut.of(view) for view in queries.list_incidents(conn)]


@router.get("/{incident_id}", response_model=IncidentOut)
def get_incident(
    incident_id: str, _actor: CurrentActor, muster: MusterDep
) -> IncidentOut:
    """Show one incident."""
    with muster.engine.connect() as conn:
        view = queries.get_incident(conn, incident_id)
    if view is None:
        raise NotFound(f"no incident {incident_id}", incident=incident_id)
    return IncidentOut.of(view)


@router.post("", status_code=201, response_model=IncidentCreated)
def open_incident(
    body: IncidentIn, actor: CurrentActor, muster: MusterDep
) -> IncidentCreated:
    """Open an incident for the caller's department (or the one named)."""
    command = OpenIncident(
        title=body.title,
        category=body.category.value,
        latitude=body.latitude,
        longitude=body.longitude,
        description=body.description,
        reporting_department=body.reporting_department,
    )
    incident_id = muster.bus.handle(command, actor)
    return IncidentCreated(id=str(incident_id))


__all__ = ["router"]
