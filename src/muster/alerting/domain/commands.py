"""Commands of the alerting part: templates, compose, approve, link, publish, discard.

Sent by the pack loader (``warnings.yaml``), the CLI, the API and the incident's
warning pages; handled by ``muster.alerting.handlers``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from muster.core.messages import Command


@dataclass(frozen=True, kw_only=True, slots=True)
class SetWarningTemplates(Command):
    """Store the deployment's warning templates (the pack's ``warnings.yaml``)."""

    document: dict[str, Any]


@dataclass(frozen=True, kw_only=True, slots=True)
class ComposeAlert(Command):
    """Draft an alert for an incident from the template of a hazard and colour.

    The area is a circle of ``radius_km`` around the incident (default: its fact
    ``radius_km``, else 5 km), plus the named ``districts``; texts given here replace
    the template's (keys ``zh-CN`` and ``en``). ``follows`` names a published alert
    this one updates or cancels (``msg_type`` Update or Cancel)."""

    incident_id: str
    hazard: str
    colour: str
    msg_type: str = "Alert"
    follows: str | None = None
    radius_km: float | None = None
    districts: tuple[str, ...] = ()
    headline: dict[str, str] = field(default_factory=dict)
    description: dict[str, str] = field(default_factory=dict)
    instruction: dict[str, str] = field(default_factory=dict)
    response_types: tuple[str, ...] | None = None
    expires_hours: float | None = None
    note: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class ReviseAlert(Command):
    """Change a draft's texts (its author or another authorised person); a
    revision clears nothing else (a draft has no approval yet)."""

    alert_id: str
    headline: dict[str, str] = field(default_factory=dict)
    description: dict[str, str] = field(default_factory=dict)
    instruction: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class ApproveAlert(Command):
    """A second authorised person approves a draft (never its author)."""

    alert_id: str
    comment: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class LinkConcurrence(Command):
    """Tie an alert to the joint decision that gives the required concurrence."""

    alert_id: str
    decision_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class PublishAlert(Command):
    """Publish an approved alert (its concurrence approved, if required)."""

    alert_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class DiscardAlert(Command):
    """Drop a draft or an approved alert that was never published."""

    alert_id: str
    reason: str


__all__ = [
    "ApproveAlert",
    "ComposeAlert",
    "DiscardAlert",
    "LinkConcurrence",
    "PublishAlert",
    "ReviseAlert",
    "SetWarningTemplates",
]
