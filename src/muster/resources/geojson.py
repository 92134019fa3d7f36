"""Resources and resource requests as GeoJSON, labelled in the reader's language.

A resource is a point with its type, quantity, capability, status, readiness and (now,
not at a past moment) the units under active commitments ("4 of 4 units committed").
A request is a point at the place it asks for, with its status, type, units still
needed and priority; its collection carries the map's texts (``labels``).

Used by the API (``GET /api/v1/resources?format=geojson``,
``GET /api/v1/resource-requests?format=geojson``) and the situation map (the
``resources`` layer through ``muster.situation.api``, now or at a past moment; the
requests layer fetched by ``static/map.js``). Reads through the part's queries;
department names come from identity's queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.engine import Connection

from muster.identity import queries as identity
from muster.resources import queries, request_queries
from muster.resources.domain.model import ResourceType
from muster.resources.history import resources_at
from muster.resources.labels import (
    MEASURE_LABELS,
    REQUEST_MAP_LABELS,
    REQUEST_STATUS_LABELS,
    STATUS_LABELS,
    UNIT_LABELS,
    committed_label,
    label,
    ready_label,
    translated,
)

Feature = dict[str, Any]


def resource_features(
    views: Iterable[queries.ResourceView],
    types: Mapping[str, ResourceType],
    *,
    language: str,
    department_names: Mapping[str, str],
    committed: Mapping[str, int] | None = None,
) -> list[Feature]:
    """Return one GeoJSON point per resource, with labels in ``language``.

    ``committed`` (units under active commitments per resource id) adds
    ``committed_units`` and its label; None (a past moment) leaves them out."""
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
        if committed is not None:
            units = committed.get(item.id, 0)
            properties["committed_units"] = units
            properties["committed_label"] = committed_label(
                language, units, item.quantity
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
        views,
        types,
        language=language,
        department_names=names,
        committed=request_queries.committed_by_resource(conn),
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
    committed = None if at is not None else request_queries.committed_by_resource(conn)
    return resource_features(
        views, types, language=language, department_names=names, committed=committed
    )


MAP_STATUSES = ("open", "partly_committed", "committed", "declined")
"""Requests the map shows: not yet cancelled or closed."""


def request_features(
    views: Iterable[request_queries.RequestView],
    types: Mapping[str, ResourceType],
    *,
    language: str,
    department_names: Mapping[str, str],
) -> list[Feature]:
    """Return one GeoJSON point per request, with labels in ``language``."""
    features: list[Feature] = []
    for view in views:
        item = view.request
        of_type = types.get(item.type_code)
        properties = view.to_json()
        del properties["location"]
        properties.update(
            {
                "location_name": item.location_name,
                "type_name": of_type.name(language) if of_type else item.type_code,
                "unit_label": label(
                    language, UNIT_LABELS, of_type.unit if of_type else None
                ),
                "status_label": label(
                    language, REQUEST_STATUS_LABELS, view.status.value
                ),
                "requested_by_name": department_names.get(
                    item.requested_by, item.requested_by
                ),
                "to_department_name": None
                if item.to_department is None
                else department_names.get(item.to_department, item.to_department),
                "committed_label": committed_label(
                    language, view.committed_units, item.quantity
                ),
                "link": f"/resources#request-{item.id}",
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


def requests_collection(
    conn: Connection,
    *,
    language: str,
    incident_id: str | None = None,
    statuses: Iterable[str] = MAP_STATUSES,
) -> dict[str, Any]:
    """Return requests (by default those not cancelled or closed) as a GeoJSON
    FeatureCollection whose ``labels`` are the map's texts for the layer."""
    views = request_queries.list_requests(
        conn, incident_id=incident_id, statuses=list(statuses)
    )
    types = {item.code: item for item in queries.list_types(conn)}
    names = {item.code: item.name(language) for item in identity.list_departments(conn)}
    features = request_features(views, types, language=language, department_names=names)
    return {
        "type": "FeatureCollection",
        "features": features,
        "labels": translated(language, REQUEST_MAP_LABELS),
    }


__all__ = [
    "MAP_STATUSES",
    "map_features",
    "request_features",
    "requests_collection",
    "resource_features",
    "resources_collection",
]
