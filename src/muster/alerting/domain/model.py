"""Public warnings as CAP 1.2 alerts: colours, content, states and rules (stdlib only).

A warning colour (预警级别: red, orange, yellow, blue; glossary §4) maps to CAP
severity, urgency and certainty (``COLOUR_CODES``, documented in
docs/public-warnings.md). An alert is composed as a draft (its CAP content:
identifier, sender, status, msgType, references, info blocks per language, areas),
approved by a second authorised person (``check_approver``: never its author), then
published: its content is frozen and its CAP XML is kept as published. An Update or
Cancel is a new alert whose ``references`` name every earlier alert of the same
warning; publishing it supersedes the one it follows. Imported by the handlers, the
projections, the CAP writer and the pages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from muster.alerting.domain.errors import AlertInvalid, AlertStateConflict

MAX_TEXT = 4000
MAX_SHORT = 200
IDENTIFIER = re.compile(r"^[^\s,<&]{1,200}$")  # CAP: no spaces, commas, < or &


class Colour(StrEnum):
    """Warning colours, highest first (预警级别 一级 … 四级)."""

    RED = "red"
    ORANGE = "orange"
    YELLOW = "yellow"
    BLUE = "blue"


COLOUR_CODES: dict[Colour, tuple[str, str, str]] = {
    Colour.RED: ("Extreme", "Immediate", "Likely"),
    Colour.ORANGE: ("Severe", "Expected", "Likely"),
    Colour.YELLOW: ("Moderate", "Expected", "Likely"),
    Colour.BLUE: ("Minor", "Future", "Possible"),
}
"""Colour → CAP (severity, urgency, certainty)."""

COLOUR_NAMES: dict[Colour, tuple[str, str]] = {
    Colour.RED: ("红色", "Red"),
    Colour.ORANGE: ("橙色", "Orange"),
    Colour.YELLOW: ("黄色", "Yellow"),
    Colour.BLUE: ("蓝色", "Blue"),
}

CATEGORIES = (
    "Geo",
    "Met",
    "Safety",
    "Security",
    "Rescue",
    "Fire",
    "Health",
    "Env",
    "Transport",
    "Infra",
    "CBRNE",
    "Other",
)
RESPONSE_TYPES = (
    "Shelter",
    "Evacuate",
    "Prepare",
    "Execute",
    "Avoid",
    "Monitor",
    "Assess",
    "AllClear",
    "None",
)
MSG_TYPES = ("Alert", "Update", "Cancel")


class AlertState(StrEnum):
    """Where an alert stands."""

    DRAFT = "draft"
    APPROVED = "approved"
    PUBLISHED = "published"
    DISCARDED = "discarded"


@dataclass(frozen=True, slots=True)
class Area:
    """A CAP area: its description, polygons ("lat,lon lat,lon …", closed),
    circles ("lat,lon radius_km") and geocodes (valueName, value)."""

    description: str
    polygons: tuple[str, ...] = ()
    circles: tuple[str, ...] = ()
    geocodes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Info:
    """One CAP info block, in one language."""

    language: str
    categories: tuple[str, ...]
    event: str
    urgency: str
    severity: str
    certainty: str
    headline: str
    description: str
    instruction: str = ""
    response_types: tuple[str, ...] = ()
    sender_name: str = ""
    web: str = ""
    contact: str = ""
    event_codes: tuple[tuple[str, str], ...] = ()
    parameters: tuple[tuple[str, str], ...] = ()
    effective: str | None = None  # ISO-8601 with offset
    expires: str | None = None


@dataclass(frozen=True, slots=True)
class AlertContent:
    """What the CAP alert says, apart from ``sent`` (set when it is published)."""

    identifier: str
    sender: str
    status: str  # Actual or Exercise
    msg_type: str  # Alert, Update, Cancel
    scope: str
    infos: tuple[Info, ...]
    areas: tuple[Area, ...]
    references: tuple[str, ...] = ()  # "sender,identifier,sent" of earlier alerts
    note: str = ""
    incidents: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """An alert with its workflow: who wrote and approved it, its state."""

    id: str
    incident_id: str
    hazard: str
    colour: Colour
    content: AlertContent
    state: AlertState
    author: str
    author_department: str | None
    approver: str | None = None
    decision_id: str | None = None
    required_departments: tuple[str, ...] = ()
    follows: str | None = None  # the alert an Update/Cancel follows
    sent: str | None = None
    superseded_by: str | None = None
    versions: int = 1
    approvals: tuple[str, ...] = field(default_factory=tuple)


def check_content(content: AlertContent) -> None:
    """Refuse content the CAP 1.2 rules or Muster's rules forbid, naming the field."""
    if not IDENTIFIER.match(content.identifier) or not IDENTIFIER.match(content.sender):
        raise AlertInvalid(
            "identifier and sender must have no spaces, commas, '<' or '&'",
            field="identifier",
        )
    if content.status not in ("Actual", "Exercise"):
        raise AlertInvalid("status is Actual or Exercise", field="status")
    if content.msg_type not in MSG_TYPES:
        raise AlertInvalid("msgType is Alert, Update or Cancel", field="msg_type")
    if content.msg_type != "Alert" and not content.references:
        raise AlertInvalid(
            "an Update or Cancel references earlier alerts", field="references"
        )
    if not content.infos:
        raise AlertInvalid("an alert needs at least one info block", field="infos")
    if not content.areas:
        raise AlertInvalid("an alert needs at least one area", field="areas")
    for info in content.infos:
        _check_info(info)
    for area in content.areas:
        _check_area(area)


def _check_info(info: Info) -> None:
    if not info.categories or not set(info.categories) <= set(CATEGORIES):
        raise AlertInvalid(
            f"categories are among {', '.join(CATEGORIES)}", field="category"
        )
    if not set(info.response_types) <= set(RESPONSE_TYPES):
        raise AlertInvalid(
            f"response types are among {', '.join(RESPONSE_TYPES)}",
            field="response_type",
        )
    for name, text, limit in (
        ("event", info.event, MAX_SHORT),
        ("headline", info.headline, MAX_SHORT),
        ("description", info.description, MAX_TEXT),
    ):
        if not text.strip() or len(text) > limit:
            raise AlertInvalid(
                f"{name} ({info.language}) must be 1-{limit} characters", field=name
            )
    if len(info.instruction) > MAX_TEXT:
        raise AlertInvalid("instruction is too long", field="instruction")


def _check_area(area: Area) -> None:
    if not area.description.strip():
        raise AlertInvalid("an area needs a description", field="area")
    for polygon in area.polygons:
        points = polygon.split()
        if len(points) < 4 or points[0] != points[-1]:
            raise AlertInvalid(
                "a polygon has ≥ 4 points, the first repeated last", field="polygon"
            )
        for point in points:
            _check_point(point)
    for circle in area.circles:
        parts = circle.split()
        if len(parts) != 2:
            raise AlertInvalid("a circle is 'lat,lon radius_km'", field="circle")
        _check_point(parts[0])
        if _number(parts[1], "circle") < 0:
            raise AlertInvalid("a circle's radius is ≥ 0", field="circle")


def _check_point(point: str) -> None:
    pair = point.split(",")
    if len(pair) != 2:
        raise AlertInvalid(f"'{point}' is not lat,lon", field="area")
    lat, lon = (_number(value, "area") for value in pair)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise AlertInvalid(f"'{point}' is off the globe", field="area")


def _number(text: str, field_name: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise AlertInvalid(f"'{text}' is not a number", field=field_name) from None


def check_editable(alert: AlertRecord) -> None:
    """Refuse to change an alert that is no longer a draft."""
    if alert.state is not AlertState.DRAFT:
        raise AlertStateConflict(
            f"alert {alert.id} is {alert.state.value}: published alerts never change; "
            "send an Update or Cancel instead",
            alert_id=alert.id,
        )


def check_approver(alert: AlertRecord, actor_id: str) -> None:
    """The two-person rule: a draft is approved by someone other than its author."""
    if alert.state is not AlertState.DRAFT:
        raise AlertStateConflict(
            f"alert {alert.id} is {alert.state.value}", alert_id=alert.id
        )
    if actor_id == alert.author:
        raise AlertStateConflict(
            "the author cannot approve their own alert (two-person rule)",
            alert_id=alert.id,
        )


def check_publishable(alert: AlertRecord, decision_outcome: str | None) -> None:
    """An approved alert may go out once its required concurrence is approved."""
    if alert.state is not AlertState.APPROVED:
        raise AlertStateConflict(
            f"alert {alert.id} is {alert.state.value}; it needs a second person's "
            "approval before it is published",
            alert_id=alert.id,
        )
    if alert.required_departments:
        if alert.decision_id is None:
            raise AlertStateConflict(
                "this alert needs the concurrence of "
                f"{', '.join(alert.required_departments)}: link a joint decision",
                alert_id=alert.id,
            )
        if decision_outcome != "approved":
            raise AlertStateConflict(
                f"joint decision {alert.decision_id} is not approved yet "
                f"({decision_outcome or 'open'})",
                alert_id=alert.id,
            )


def reference(sender: str, identifier: str, sent: str) -> str:
    """Return a CAP reference, "sender,identifier,sent"."""
    return f"{sender},{identifier},{sent}"


def content_to_dict(content: AlertContent) -> dict[str, object]:
    """Return the content as JSON-ready data (events carry it so)."""
    return {
        "identifier": content.identifier,
        "sender": content.sender,
        "status": content.status,
        "msg_type": content.msg_type,
        "scope": content.scope,
        "references": list(content.references),
        "note": content.note,
        "incidents": list(content.incidents),
        "infos": [_info_dict(info) for info in content.infos],
        "areas": [
            {
                "description": area.description,
                "polygons": list(area.polygons),
                "circles": list(area.circles),
                "geocodes": [list(pair) for pair in area.geocodes],
            }
            for area in content.areas
        ],
    }


def _info_dict(info: Info) -> dict[str, object]:
    return {
        "language": info.language,
        "categories": list(info.categories),
        "event": info.event,
        "urgency": info.urgency,
        "severity": info.severity,
        "certainty": info.certainty,
        "headline": info.headline,
        "description": info.description,
        "instruction": info.instruction,
        "response_types": list(info.response_types),
        "sender_name": info.sender_name,
        "web": info.web,
        "contact": info.contact,
        "event_codes": [list(pair) for pair in info.event_codes],
        "parameters": [list(pair) for pair in info.parameters],
        "effective": info.effective,
        "expires": info.expires,
    }


def content_from_dict(data: Mapping[str, Any]) -> AlertContent:
    """Return the content an event or a row carries."""
    return AlertContent(
        identifier=str(data["identifier"]),
        sender=str(data["sender"]),
        status=str(data["status"]),
        msg_type=str(data["msg_type"]),
        scope=str(data["scope"]),
        references=tuple(data.get("references", ())),
        note=str(data.get("note", "")),
        incidents=tuple(data.get("incidents", ())),
        infos=tuple(
            Info(
                language=item["language"],
                categories=tuple(item["categories"]),
                event=item["event"],
                urgency=item["urgency"],
                severity=item["severity"],
                certainty=item["certainty"],
                headline=item["headline"],
                description=item["description"],
                instruction=item.get("instruction", ""),
                response_types=tuple(item.get("response_types", ())),
                sender_name=item.get("sender_name", ""),
                web=item.get("web", ""),
                contact=item.get("contact", ""),
                event_codes=tuple(_pair(p) for p in item.get("event_codes", ())),
                parameters=tuple(_pair(p) for p in item.get("parameters", ())),
                effective=item.get("effective"),
                expires=item.get("expires"),
            )
            for item in data["infos"]
        ),
        areas=tuple(
            Area(
                description=item["description"],
                polygons=tuple(item.get("polygons", ())),
                circles=tuple(item.get("circles", ())),
                geocodes=tuple(_pair(p) for p in item.get("geocodes", ())),
            )
            for item in data["areas"]
        ),
    )


def _pair(value: Sequence[Any]) -> tuple[str, str]:
    return str(value[0]), str(value[1])


__all__ = [
    "CATEGORIES",
    "COLOUR_CODES",
    "COLOUR_NAMES",
    "MSG_TYPES",
    "RESPONSE_TYPES",
    "AlertContent",
    "AlertRecord",
    "AlertState",
    "Area",
    "Colour",
    "Info",
    "check_approver",
    "check_content",
    "check_editable",
    "check_publishable",
    "content_from_dict",
    "content_to_dict",
    "reference",
]
