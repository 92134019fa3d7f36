"""Live-feed summaries of the resources and alerting parts' events (translatable).

Imported by ``web.summaries``: ``PART_TEMPLATES`` (one message id per wire name) and
``part_params`` (the parameters those messages read, names resolved through the
summariser's cached lookups).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from muster.resources.labels import STATUS_LABELS
from muster.web.i18n import N_

PREFIXES = ("resources.", "alerting.")

PART_TEMPLATES: dict[str, str] = {
    "resources.ResourceRequested": N_(
        "%(department)s requested %(quantity)s × %(type)s for “%(incident)s”"
    ),
    "resources.RequestCancelled": N_(
        "Resource request %(request)s was cancelled: %(reason)s"
    ),
    "resources.ResourceCommitted": N_(
        "%(department)s committed %(units)s × %(resource)s to request %(request)s"
    ),
    "resources.RequestDeclined": N_(
        "%(department)s declined resource request %(request)s: %(reason)s"
    ),
    "resources.CommitmentStatusChanged": N_(
        "%(resource)s of %(department)s: %(status)s (request %(request)s)"
    ),
    "resources.ResourceStatusChanged": N_(
        "%(resource)s of %(department)s is now %(status)s"
    ),
    "resources.AllocationProposed": N_(
        "%(actor)s recorded a resource allocation proposal for “%(incident)s”"
    ),
    "resources.AllocationDecided": N_(
        "%(actor)s %(decision)s the resource allocation for “%(incident)s”"
    ),
    "alerting.AlertDrafted": N_(
        "%(actor)s drafted a %(colour)s public warning for “%(incident)s”"
    ),
    "alerting.AlertApproved": N_(
        "%(actor)s approved a public warning for “%(incident)s”"
    ),
    "alerting.AlertPublished": N_("Public warning published: %(headline)s"),
    "alerting.AlertDiscarded": N_(
        "A draft public warning for “%(incident)s” was discarded: %(reason)s"
    ),
}

STATUS_WORDS: dict[str, str] = {
    **STATUS_LABELS,
    "committed": N_("Committed"),
}
DECISION_WORDS: dict[str, str] = {"approve": N_("approved"), "reject": N_("rejected")}
COLOUR_WORDS: dict[str, str] = {
    "red": N_("red"),
    "orange": N_("orange"),
    "yellow": N_("yellow"),
    "blue": N_("blue"),
}


def part_params(
    data: Mapping[str, Any],
    *,
    department: Callable[[str], object],
    incident: Callable[[object], str],
    label: Callable[[Mapping[str, str], object], object],
) -> dict[str, object]:
    """Return the parameters of a resources or alerting summary."""
    code = str(data.get("department") or data.get("requested_by") or "")
    return {
        "department": department(code) if code else "",
        "incident": incident(data.get("incident_id")),
        "quantity": data.get("quantity", ""),
        "units": data.get("units", ""),
        "type": data.get("type_code", ""),
        "request": data.get("request_id", ""),
        "resource": data.get("resource_id", ""),
        "status": label(STATUS_WORDS, data.get("to_status")),
        "decision": label(DECISION_WORDS, data.get("decision")),
        "colour": label(COLOUR_WORDS, data.get("colour")),
        "headline": data.get("headline", ""),
        "reason": str(data.get("reason", ""))[:120],
    }


__all__ = ["PART_TEMPLATES", "PREFIXES", "part_params"]
