"""Resources as GeoJSON: one point per resource with its type, quantity, capability,
status and readiness, labelled in the reader's language.

Used by the API (``GET /api/v1/resources?format=geojson``) and the situation map's
``resources`` layer (``muster.situation.api``, now or at a past moment). Reads through
``muster.resources.queries``; department names come from identity's queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.engine import Connection

from muster.identity import queries as identity
from muster.resources import queries
from muster.resources.domain.model import ResourceType
from muster.resources.history import resources_at
from muster.resources.labels import (
    MEASURE_LABELS,
    STATUS_LABELS,
    UNIT_LABELS,
    label,
    ready_label,
)

Feature = dict[str, Any]


def resource_features(
    views: Iterable[queries.ResourceView],
    types: Mapping[str, ResourceType],
    *,
    language: str,
    department_names: Mapping[str, str],
) -> list[Feature]:
    """Return one GeoJSON point per resource, with labels in ``language``."""
    features: list[Feature] = []
    for view in views:
        item = view.resource
        of_type = types.get(item.type_code)
        properties = view.to_json(of_type)
        del properties["location"]
        properties.update(
            {
                "location_name": item.location_name,
                "department_name": department_names.get(
                    item.department, item.department
                ),
                "type_name": of_type.name(language) if of_type else item.type_code,
                "status_label": label(language, STATUS_LABELS, item.status.value),
                "unit_label": label(
                    language, UNIT_LABELS, of_type.unit if of_type else None
                ),
                "measure_label": label(
                    language, MEASURE_LABELS, of_type.measure if of_type else None
                ),
                "ready_label": ready_label(language, item.ready_minutes),
                "link": f"/resources?department={item.department}#{item.id}",
            }
        )
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [item.longitude, item.latitude],
                },
                "properties": properties,
            }
        )
    return features


def resources_collection(
    conn: Connection,
    *,
    language: str,
    department: str | None = None,
    type_code: str | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    """Return the resources (optionally of one department, type or status) as a
    GeoJSON FeatureCollection."""
    views = queries.list_resources(
        conn, department=department, type_code=type_code, status=status
    )
    types = {item.code: item for item in queries.list_types(conn)}
    names = {item.code: item.name(language) for item in identity.list_departments(conn)}
    features = resource_features(
        views, types, language=language, department_names=names
    )
    return {"type": "FeatureCollection", "features": features}


def map_features(
    conn: Connection, *, language: str, at: str | None = None
) -> list[Feature]:
    """Return every resource as a point for the situation map: now, or as of a past
    moment ``at`` (ISO UTC) folded from the log."""
    views = queries.list_resources(conn) if at is None else resources_at(conn, at)
    types = {item.code: item for item in queries.list_types(conn)}
    names = {item.code: item.name(language) for item in identity.list_departments(conn)}
    return resource_features(views, types, language=language, department_names=names)


__all__ = ["map_features", "resource_features", "resources_collection"]
