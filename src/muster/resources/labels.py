"""Translatable labels of the resources part's codes: statuses, kinds, units and
capability measures.

Message ids marked with ``N_``; translated where shown. Imported by the resource
board, the API's GeoJSON (``muster.resources.geojson``) and the CLI's help.
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


def label(language: str, labels: dict[str, str], code: str | None) -> str:
    """Return a code's label in a language (the code itself if it has none)."""
    if code is None:
        return ""
    return i18n.translate(language, labels[code]) if code in labels else code


def ready_label(language: str, minutes: int) -> str:
    """Return "ready now" or "ready in N min" in a language."""
    if minutes == 0:
        return i18n.translate(language, N_("Ready now"))
    return i18n.translate(language, N_("Ready in %(minutes)s min"), minutes=minutes)


__all__ = [
    "KIND_LABELS",
    "MEASURE_LABELS",
    "STATUS_LABELS",
    "UNIT_LABELS",
    "label",
    "ready_label",
]
