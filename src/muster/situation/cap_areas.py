"""CAP alerts as triggers see them: event, severity, expiry and areas with a centre.

The alert was checked when it was accepted (schema, rules, signature); here its
stored text is read again without the signature check to get the areas' shapes. An
area's centre is the mean of its first polygon's vertices (closing vertex left out)
or its first circle's centre. Imported by the trigger evaluation service.
"""

from __future__ import annotations

from muster.ingest.formats.cap import CapArea, parse_cap
from muster.situation.domain.triggers import AlertArea, AlertInfo


def _centre(area: CapArea) -> tuple[float, float] | None:
    if area.polygons:
        ring = area.polygons[0][:-1] or area.polygons[0]
        return (
            round(sum(p[0] for p in ring) / len(ring), 6),
            round(sum(p[1] for p in ring) / len(ring), 6),
        )
    if area.circles:
        lat, lon, _ = area.circles[0]
        return lat, lon
    return None


def alert_infos(document: str) -> tuple[str, list[AlertInfo]]:
    """Return an alert's message type and its info blocks."""
    alert = parse_cap(document.encode("utf-8"), verify_signatures=False)
    infos = [
        AlertInfo(
            event=info.event,
            severity=info.severity,
            headline=info.headline or "",
            expires=info.expires,
            areas=tuple(
                AlertArea(
                    key=(area.geocodes[0][1] if area.geocodes else area.description),
                    description=area.description,
                    geocodes=tuple(value for _, value in area.geocodes),
                    centre=_centre(area),
                )
                for area in info.areas
            ),
        )
        for info in alert.infos
    ]
    return alert.msg_type, infos


__all__ = ["alert_infos"]
