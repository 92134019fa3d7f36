"""Command handlers of the response part (R6)."""

from __future__ import annotations

import uuid

from muster.core.bus import Handler
from muster.core.messages import Command
from muster.core.uow import UnitOfWork
from muster.response.domain.commands import OpenIncident
from muster.response.domain.model import IncidentDraft, open_incident


def handle_open_incident(command: OpenIncident, uow: UnitOfWork) -> str:
    """Open an incident; return its id."""
    incident_id = str(uuid.uuid4())
    draft = IncidentDraft(
        incident_id=incident_id,
        title=command.title,
        category=command.category,
        latitude=command.latitude,
        longitude=command.longitude,
        description=command.description,
        reporting_department=command.reporting_department,
    )
    with uow:
        events = open_incident(draft, actor=uow.actor)
        uow.append(f"incident-{incident_id}", events, expected_version=0)
        uow.commit()
    return incident_id


COMMAND_HANDLERS: dict[type[Command], Handler] = {OpenIncident: handle_open_incident}

__all__ = ["COMMAND_HANDLERS"]
