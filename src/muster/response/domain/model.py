"""Incident rules (stdlib only): categories, validation, who may open one."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from muster.core.errors import PermissionDenied, ValidationFailed
from muster.core.messages import Actor, Event
from muster.response.domain.errors import Conflict
from muster.response.domain.events import (
    IncidentFactsRecorded,
    IncidentOpened,
    IncidentStatusChanged,
    ResponseActivated,
    ResponseLevelChanged,
)
from muster.response.domain.plans import ResponseLevel


class Category(StrEnum):
    """Emergency categories (突发事件类别, glossary §2)."""

    NATURAL_DISASTER = "NATURAL_DISASTER"
    ACCIDENT_DISASTER = "ACCIDENT_DISASTER"
    PUBLIC_HEALTH = "PUBLIC_HEALTH"
    SOCIAL_SECURITY = "SOCIAL_SECURITY"


OPENING_ROLES = ("admin", "commander", "duty_officer", "connector", "system")
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
    type_code: str | None = None


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
    type_code = (draft.type_code or "").strip().upper() or None
    if type_code is not None:
        check_type_code(type_code, Category(draft.category))
    return [
        IncidentOpened(
            incident_id=draft.incident_id,
            type_code=type_code,
            title=title,
            category=draft.category,
            latitude=draft.latitude,
            longitude=draft.longitude,
            description=draft.description.strip(),
            reporting_department=department,
        )
    ]


# --- the incident lifecycle and the response (plan activation, levels) ----------------


class IncidentStatus(StrEnum):
    """Where an incident stands: reported, verified, responding, recovering, closed."""

    REPORTED = "reported"
    VERIFIED = "verified"
    RESPONDING = "responding"
    RECOVERING = "recovering"
    CLOSED = "closed"


_NEXT_STATUS: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    IncidentStatus.REPORTED: frozenset(
        {IncidentStatus.VERIFIED, IncidentStatus.CLOSED}
    ),
    IncidentStatus.VERIFIED: frozenset({IncidentStatus.CLOSED}),
    IncidentStatus.RESPONDING: frozenset(
        {IncidentStatus.RECOVERING, IncidentStatus.CLOSED}
    ),
    IncidentStatus.RECOVERING: frozenset(
        {IncidentStatus.RESPONDING, IncidentStatus.CLOSED}
    ),
    IncidentStatus.CLOSED: frozenset(),
}
ROOT_CODES = {
    Category.NATURAL_DISASTER: "11000",
    Category.ACCIDENT_DISASTER: "12000",
    Category.PUBLIC_HEALTH: "13000",
    Category.SOCIAL_SECURITY: "14000",
}


@dataclass(frozen=True, slots=True)
class Incident:
    """An incident as folded from its stream."""

    id: str
    category: str
    type_code: str
    status: IncidentStatus
    plan_code: str | None = None
    plan_version: int | None = None
    level: ResponseLevel | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)
    version: int = 0


def evolve_incident(incident: Incident | None, event: Event) -> Incident | None:
    """Apply one event of an incident stream."""
    if isinstance(event, IncidentOpened):
        code = event.type_code or root_code(event.category)
        return Incident(
            id=event.incident_id,
            category=event.category,
            type_code=code,
            status=IncidentStatus.REPORTED,
            version=1,
        )
    if incident is None:
        return None
    incident = replace(incident, version=incident.version + 1)
    match event:
        case IncidentStatusChanged():
            return replace(
                incident,
                status=IncidentStatus(event.to_status),
                type_code=event.type_code or incident.type_code,
            )
        case ResponseActivated(plan_code=plan, plan_version=version, level=level):
            return replace(
                incident,
                status=IncidentStatus.RESPONDING,
                plan_code=plan,
                plan_version=version,
                level=ResponseLevel(level),
            )
        case ResponseLevelChanged(to_level=level):
            return replace(incident, level=ResponseLevel(level))
        case IncidentFactsRecorded():
            return replace(incident, facts={**incident.facts, **event.facts})
    return incident


def root_code(category: str) -> str:
    """Return the GB/T 35561 root code of a category name ("10000" if unknown)."""
    try:
        return ROOT_CODES[Category(category)]
    except ValueError:
        return "10000"


def fold_incident(events: Iterable[Event]) -> Incident | None:
    """Rebuild an incident from its stream."""
    incident: Incident | None = None
    for event in events:
        incident = evolve_incident(incident, event)
    return incident


def change_status(
    incident: Incident,
    to_status: str,
    *,
    reason: str,
    actor: Actor,
    type_code: str | None = None,
) -> list[Event]:
    """Verify, move to recovery, resume or close an incident."""
    if not actor.has_role("commander", "duty_officer", "admin"):
        raise PermissionDenied(
            "changing an incident's status needs the commander or duty officer role",
            action="change incident status",
        )
    try:
        target = IncidentStatus(to_status)
    except ValueError:
        raise ValidationFailed(
            f"status must be one of {', '.join(item.value for item in IncidentStatus)}",
            field="to_status",
        ) from None
    if target is IncidentStatus.RESPONDING and incident.level is None:
        raise Conflict("a response starts by activating a plan", detail={})
    if target not in _NEXT_STATUS[incident.status]:
        raise Conflict(
            f"an incident that is {incident.status.value} cannot become {target.value}",
            detail={"incident_id": incident.id},
        )
    if target is IncidentStatus.CLOSED and not reason.strip():
        raise ValidationFailed("closing an incident needs a reason", field="reason")
    if type_code is not None:
        check_type_code(type_code, Category(incident.category))
    return [
        IncidentStatusChanged(
            incident_id=incident.id,
            from_status=incident.status.value,
            to_status=target.value,
            reason=reason.strip(),
            type_code=type_code,
        )
    ]


_TYPE_CODE = re.compile(r"1[1-4][0A-Z]\d\d")
_FACT_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
MAX_FACTS = 40
MAX_FACT_TEXT = 200


def record_facts(
    incident: Incident, facts: Mapping[str, Any], *, actor: Actor
) -> list[Event]:
    """Record facts that plans' activation conditions read; nothing if unchanged."""
    if not actor.has_role("commander", "duty_officer", "admin", "connector", "system"):
        raise PermissionDenied(
            "recording incident facts needs the commander or duty officer role",
            action="record incident facts",
        )
    if incident.status is IncidentStatus.CLOSED:
        raise Conflict("the incident is closed", detail={"incident_id": incident.id})
    if not facts:
        raise ValidationFailed("give at least one fact", field="facts")
    clean: dict[str, Any] = {}
    for name, value in facts.items():
        if not isinstance(name, str) or not _FACT_NAME.fullmatch(name):
            raise ValidationFailed(
                f"fact name {str(name)[:40]!r}: use lower-case letters, digits, _",
                field="facts",
            )
        clean[name] = _fact_value(name, value)
    if len({**incident.facts, **clean}) > MAX_FACTS:
        raise ValidationFailed(
            f"an incident has at most {MAX_FACTS} facts", field="facts"
        )
    changed = {k: v for k, v in clean.items() if incident.facts.get(k) != v}
    if not changed:
        return []
    return [IncidentFactsRecorded(incident_id=incident.id, facts=changed)]


def _fact_value(name: str, value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        raise ValidationFailed(f"fact {name} needs a number or a text", field="facts")
    if isinstance(value, int | float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValidationFailed(f"fact {name} is not a finite number", field="facts")
        return int(value) if float(value).is_integer() else float(value)
    text = str(value).strip()
    try:
        return _fact_value(name, float(text))
    except (ValueError, ValidationFailed):
        pass
    if not text or len(text) > MAX_FACT_TEXT:
        raise ValidationFailed(
            f"fact {name} must be a number or 1-{MAX_FACT_TEXT} characters",
            field="facts",
        )
    return text


def check_type_code(code: str, category: Category) -> None:
    """Refuse a type code that is not GB/T 35561-shaped or not in the category."""
    if not _TYPE_CODE.fullmatch(code):
        raise ValidationFailed(
            "type code must be a GB/T 35561 code like 11A51", field="type_code"
        )
    if code[:2] != ROOT_CODES[category][:2]:
        raise ValidationFailed(
            f"type code {code} is not in the category {category.value} "
            f"({ROOT_CODES[category][:2]}…)",
            field="type_code",
        )


__all__ = [
    "Category",
    "Incident",
    "IncidentDraft",
    "IncidentStatus",
    "change_status",
    "evolve_incident",
    "fold_incident",
    "open_incident",
    "record_facts",
    "root_code",
]
