"""Incident rules (stdlib only): categories, validation, who may open one."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from muster.core.errors import PermissionDenied, ValidationFailed
from muster.core.messages import Actor, Event
from muster.response.domain.events import IncidentOpened


class Category(StrEnum):
    """Emergency categories (突发事件类别, glossary §2)."""

    NATURAL_DISASTER = "NATURAL_DISASTER"
    ACCIDENT_DISASTER = "ACCIDENT_DISASTER"
    PUBLIC_HEALTH = "PUBLIC_HEALTH"
    SOCIAL_SECURITY = "SOCIAL_SECURITY"


OPENING_ROLES = ("admin", "commander", "duty_officer", "connector")
MAX_TITLE = 200
MAX_DESCRIPTION = 5000


@dataclass(frozen=True, kw_only=True, slots=True)
class IncidentDraft:
    """What a person or connector supplies to open an incident."""

    incident_id: str
    title: str
    category: str
    latitude: float
    longitude: float
    description: str
    reporting_department: str | None


def open_incident(draft: IncidentDraft, *, actor: Actor) -> list[Event]:
    """Decide to open an incident, or explain why not."""
    if not actor.has_role(*OPENING_ROLES):
        raise PermissionDenied(
            "opening an incident needs the commander, duty officer or admin role",
            action="open incident",
        )
    department = draft.reporting_department or actor.department
    if actor.kind == "api_key" and department != actor.department:
        raise PermissionDenied(
            f"this API key acts for {actor.department} only", action="open incident"
        )
    if department is None:
        raise ValidationFailed(
            "an incident needs a reporting department", field="department"
        )
    title = draft.title.strip()
    if not title or len(title) > MAX_TITLE:
        raise ValidationFailed(
            f"title must have 1-{MAX_TITLE} characters", field="title"
        )
    if draft.category not in {item.value for item in Category}:
        raise ValidationFailed(
            f"category must be one of {[item.value for item in Category]}",
            field="category",
        )
    if not -90.0 <= draft.latitude <= 90.0 or not -180.0 <= draft.longitude <= 180.0:
        raise ValidationFailed("location is outside the globe", field="location")
    if len(draft.description) > MAX_DESCRIPTION:
        raise ValidationFailed(
            f"description is longer than {MAX_DESCRIPTION} characters",
            field="description",
        )
    return [
        IncidentOpened(
            incident_id=draft.incident_id,
            title=title,
            category=draft.category,
            latitude=draft.latitude,
            longitude=draft.longitude,
            description=draft.description.strip(),
            reporting_department=department,
        )
    ]


__all__ = ["Category", "IncidentDraft", "open_incident"]
