"""The warnings in force: what the public Atom feed, the map layer and the public
warnings page show, and when that last changed.

The **feed** lists every current alert (published, not superseded, not expired),
Cancels included, since a Cancel is how a receiver learns that a warning ended. The
**map** and the public page show the warnings **in force**: the same without Cancels,
so a cancelled warning disappears. In a live deployment, alerts with CAP status
Exercise are never shown; a drill's sandbox shows them (every alert there is one).
``map_collection`` turns alerts into the map's GeoJSON (circles as points with a
radius, polygons as polygons; districts named only by geocode have no shape).
Pure reads over ``alerting.queries``; imported by the alerting API and pages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy.engine import Connection

from muster.alerting import queries
from muster.alerting.domain.model import Area, Info
from muster.alerting.queries import AlertView
from muster.core.clock import parse_utc

EXERCISE = "Exercise"
CANCEL = "Cancel"
XML_PATH = "/warnings/alerts/{identifier}.xml"
FEED_PATH = "/warnings/feed.atom"


def xml_path(identifier: str) -> str:
    """Return the public path of an alert's CAP XML."""
    return XML_PATH.format(identifier=quote(identifier, safe=""))


def expires_at(view: AlertView) -> datetime | None:
    """Return when an alert expires (its info blocks' latest ``expires``), or None."""
    moments = [
        parse_utc(info.expires) for info in view.record.content.infos if info.expires
    ]
    return max(moments) if moments else None


def is_expired(view: AlertView, now: datetime) -> bool:
    """Tell whether an alert's time is up."""
    moment = expires_at(view)
    return moment is not None and moment <= now


def is_shown(view: AlertView, *, include_exercise: bool) -> bool:
    """Tell whether an alert may be shown to the public of this deployment."""
    return include_exercise or view.record.content.status != EXERCISE


def feed_alerts(
    conn: Connection, *, now: datetime, include_exercise: bool
) -> list[AlertView]:
    """Return the current published alerts, newest first (Cancels included)."""
    return [
        view
        for view in queries.published(conn, current_only=True)
        if is_shown(view, include_exercise=include_exercise)
        and not is_expired(view, now)
    ]


def in_force(
    conn: Connection, *, now: datetime, include_exercise: bool
) -> list[AlertView]:
    """Return the warnings in force, newest first (no Cancels)."""
    return [
        view
        for view in feed_alerts(conn, now=now, include_exercise=include_exercise)
        if view.record.content.msg_type != CANCEL
    ]


def last_change(
    conn: Connection, *, now: datetime, include_exercise: bool
) -> datetime | None:
    """Return when the feed last changed: the newest publication, or a current
    alert's expiry that has passed since; None before anything was published."""
    moments = [
        parse_utc(view.published_at)
        for view in queries.published(conn, limit=1)
        if view.published_at
    ]
    for view in queries.published(conn, current_only=True):
        moment = expires_at(view)
        if (
            moment is not None
            and moment <= now
            and is_shown(view, include_exercise=include_exercise)
        ):
            moments.append(moment)
    return max(moments) if moments else None


def info_for(view: AlertView, language: str) -> Info:
    """Return the alert's info block in a language (else its first)."""
    infos = view.record.content.infos
    return next((info for info in infos if info.language == language), infos[0])


@dataclass(frozen=True, slots=True)
class MapTexts:
    """The reader's words for the layer: msgType labels and colour names."""

    msg_types: Mapping[str, str]
    colours: Mapping[str, str]


def map_collection(
    views: Iterable[AlertView], *, language: str, texts: MapTexts
) -> dict[str, Any]:
    """Return the map layer's GeoJSON: one feature per circle or polygon."""
    features: list[dict[str, Any]] = []
    for view in views:
        properties = _properties(view, language=language, texts=texts)
        for area in view.record.content.areas:
            features.extend(_shapes(area, properties))
    return {"type": "FeatureCollection", "features": features}


def _properties(view: AlertView, *, language: str, texts: MapTexts) -> dict[str, Any]:
    record = view.record
    info = info_for(view, language)
    return {
        "alert_id": record.id,
        "incident_id": record.incident_id,
        "identifier": record.content.identifier,
        "colour": record.colour.value,
        "colour_label": texts.colours.get(record.colour.value, record.colour.value),
        "msg_type": record.content.msg_type,
        "msg_type_label": texts.msg_types.get(
            record.content.msg_type, record.content.msg_type
        ),
        "status": record.content.status,
        "event": info.event,
        "headline": info.headline,
        "sent": record.sent,
        "expires": info.expires,
        "population": view.population,
        "xml_url": xml_path(record.content.identifier),
        "link": f"/incidents/{quote(record.incident_id, safe='')}/warnings",
    }


def _shapes(area: Area, properties: dict[str, Any]) -> list[dict[str, Any]]:
    """Return an area's circles (points with ``radius_km``) and polygons."""
    shapes: list[dict[str, Any]] = []
    for circle in area.circles:
        point, radius = circle.split()
        lat, lon = (float(value) for value in point.split(","))
        shapes.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {
                    **properties,
                    "area": area.description,
                    "radius_km": float(radius),
                },
            }
        )
    for polygon in area.polygons:
        ring = []
        for pair in polygon.split():
            lat, lon = (float(value) for value in pair.split(","))
            ring.append([lon, lat])
        shapes.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {**properties, "area": area.description},
            }
        )
    return shapes


__all__ = [
    "FEED_PATH",
    "MapTexts",
    "expires_at",
    "feed_alerts",
    "in_force",
    "info_for",
    "is_expired",
    "is_shown",
    "last_change",
    "map_collection",
    "xml_path",
]
