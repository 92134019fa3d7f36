"""Translatable labels of the resources part's codes and messages: statuses, kinds,
units, capability measures, request and commitment statuses, the board's notices.

Message ids marked with ``N_``; translated where shown. Imported by the resource
board and its request and allocation pages, the GeoJSON layers
(``muster.resources.geojson``) and the CLI's help.
"""

from __future__ import annotations

from muster.web import i18n
from muster.web.i18n import N_

STATUS_LABELS: dict[str, str] = {
    "available": N_("Available"),
    "assigned": N_("Assigned"),
    "en_route": N_("En route"),
    "on_scene": N_("On scene"),
    "out_of_service": N_("Out of service"),
    "released": N_("Released"),
}
KIND_LABELS: dict[str, str] = {
    "team": N_("Team"),
    "vehicle": N_("Vehicle"),
    "equipment": N_("Equipment"),
    "facility": N_("Facility"),
    "supply": N_("Supplies"),
}
UNIT_LABELS: dict[str, str] = {
    "team": N_("teams"),
    "vehicle": N_("vehicles"),
    "boat": N_("boats"),
    "unit": N_("units"),
    "set": N_("sets"),
    "tent": N_("tents"),
    "site": N_("sites"),
    "bed": N_("beds"),
    "seat": N_("seats"),
    "litre": N_("litres"),
    "kg": N_("kg"),
    "ration": N_("rations"),
    "item": N_("items"),
    "bag": N_("bags"),
}
MEASURE_LABELS: dict[str, str] = {
    "m3_per_h": N_("m³/h"),
    "kW": N_("kW"),
    "persons": N_("persons"),
    "beds": N_("beds"),
    "patients": N_("patients"),
    "seats": N_("seats"),
}

REQUEST_STATUS_LABELS: dict[str, str] = {
    "open": N_("Open"),
    "partly_committed": N_("Partly committed"),
    "committed": N_("Committed"),
    "declined": N_("Declined"),
    "cancelled": N_("Cancelled"),
    "closed": N_("Closed"),
}
COMMITMENT_STATUS_LABELS: dict[str, str] = {
    "committed": N_("Committed"),
    "en_route": N_("En route"),
    "on_scene": N_("On scene"),
    "released": N_("Released"),
}
PROPOSAL_STATUS_LABELS: dict[str, str] = {
    "proposed": N_("Awaiting decision"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
}
DONE_NOTICES: dict[str, str] = {
    "raised": N_("Request raised."),
    "committed": N_("Units committed to the request."),
    "declined": N_("Request declined."),
    "cancelled": N_("Request cancelled."),
    "tracked": N_("Commitment updated."),
    "proposed": N_("Proposal recorded: approve, edit or reject it below."),
    "approved": N_("Allocation approved: the units are committed and tasks sent."),
    "rejected": N_("Allocation rejected."),
}
REFUSALS: dict[str, str] = {
    "units": N_(
        "Those units do not fit: the resource has fewer free units, or the request "
        "needs fewer."
    ),
    "resource_id": N_(
        "That resource does not fit the request (type, capability per unit or tier)."
    ),
    "department": N_("The request is addressed to another department."),
    "reason": N_("Say why."),
    "quantity": N_("Ask for 1 to 1,000,000 units."),
    "priority": N_("The priority is 1 (routine) to 5 (most urgent)."),
    "needed_by": N_("Needed within: a whole number of minutes."),
    "resource_request_conflict": N_(
        "This can no longer be done: the request, the resource or the proposal has "
        "changed since the page was shown."
    ),
}
"""Board messages for refusals, by the refused field (or the error's code)."""
COMMITTED_OF = N_("%(committed)s of %(quantity)s units committed")
REQUEST_MAP_LABELS: dict[str, str] = {
    "layer": N_("Resource requests"),
    "requested_by": N_("Requested by"),
    "to_department": N_("Asked of"),
    "any_department": N_("Any department holding the type"),
    "type": N_("Type"),
    "open_units": N_("Units still needed"),
    "priority": N_("Priority"),
    "needed_by": N_("Needed by"),
    "status": N_("Status"),
    "place": N_("Location"),
    "open_board": N_("Answer on the resource board"),
    "legend_open": N_("Request, open"),
    "legend_partly_committed": N_("Request, partly committed"),
    "legend_committed": N_("Request, committed"),
    "legend_declined": N_("Request, declined"),
}


def translated(language: str, labels: dict[str, str]) -> dict[str, str]:
    """Return a label table in a language (for the map's texts)."""
    return {code: i18n.translate(language, text) for code, text in labels.items()}


def label(language: str, labels: dict[str, str], code: str | None) -> str:
    """Return a code's label in a language (the code itself if it has none)."""
    if code is None:
        return ""
    return i18n.translate(language, labels[code]) if code in labels else code


def committed_label(language: str, committed: int, quantity: int) -> str:
    """Return "N of M units committed" in a language."""
    return i18n.translate(
        language, COMMITTED_OF, committed=committed, quantity=quantity
    )


def ready_label(language: str, minutes: int) -> str:
    """Return "ready now" or "ready in N min" in a language."""
    if minutes == 0:
        return i18n.translate(language, N_("Ready now"))
    return i18n.translate(language, N_("Ready in %(minutes)s min"), minutes=minutes)


__all__ = [
    "COMMITMENT_STATUS_LABELS",
    "COMMITTED_OF",
    "DONE_NOTICES",
    "KIND_LABELS",
    "MEASURE_LABELS",
    "PROPOSAL_STATUS_LABELS",
    "REFUSALS",
    "REQUEST_MAP_LABELS",
    "REQUEST_STATUS_LABELS",
    "STATUS_LABELS",
    "UNIT_LABELS",
    "committed_label",
    "label",
    "ready_label",
    "translated",
]
