"""Events of the alerting part (wire names ``alerting.*``).

Projected by ``muster.alerting.projections``. ``content`` is
``domain.model.content_to_dict`` of the alert's CAP content; a published alert's
``xml`` is the exact CAP document that went out (signed or not).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from muster.core.messages import Event, event_type


@event_type("alerting.WarningTemplatesSet", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class WarningTemplatesSet(Event):
    """The deployment's warning templates changed."""

    document: dict[str, Any]


@event_type("alerting.AlertDrafted", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class AlertDrafted(Event):
    """An alert was composed for an incident (a draft)."""

    alert_id: str
    incident_id: str
    hazard: str
    colour: str
    content: dict[str, Any]
    required_departments: tuple[str, ...] = ()
    follows: str | None = None
    population: int | None = None


@event_type("alerting.AlertRevised", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class AlertRevised(Event):
    """A draft's content changed."""

    alert_id: str
    incident_id: str
    content: dict[str, Any]


@event_type("alerting.AlertApproved", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class AlertApproved(Event):
    """A second person approved the draft."""

    alert_id: str
    incident_id: str
    comment: str = ""


@event_type("alerting.ConcurrenceLinked", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class ConcurrenceLinked(Event):
    """The alert waits on (or rests on) this joint decision."""

    alert_id: str
    incident_id: str
    decision_id: str


@event_type("alerting.AlertPublished", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class AlertPublished(Event):
    """The alert went out: its CAP XML is frozen; it supersedes ``follows``."""

    alert_id: str
    incident_id: str
    identifier: str
    sender: str
    sent: str
    status: str
    msg_type: str
    colour: str
    headline: str
    xml: str
    digest: str
    signed: bool
    follows: str | None = None


@event_type("alerting.AlertDiscarded", version=1)
@dataclass(frozen=True, kw_only=True, slots=True)
class AlertDiscarded(Event):
    """An unpublished alert was dropped, with the reason."""

    alert_id: str
    incident_id: str
    reason: str


__all__ = [
    "AlertApproved",
    "AlertDiscarded",
    "AlertDrafted",
    "AlertPublished",
    "AlertRevised",
    "ConcurrenceLinked",
    "WarningTemplatesSet",
]
