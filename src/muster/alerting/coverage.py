"""Estimate the population an alert's area covers, from the pack's population grid.

The grid is the layer the cascade model counts people with (a rule's ``population:
{layer, property}``, ``population_grid`` / ``resident_population`` in the example
pack), read from its dataset's stored records through the situation part's read-only
assessment service. A cell counts in full when its ``district`` is one of the alert's
districts, else by the share of its area inside the alert's circles and polygons
(areas on a local kilometre plane). None when the deployment has no grid. Imported by
the alerting handlers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import shapely
from shapely.geometry import Point, Polygon, shape
from sqlalchemy.engine import Connection

from muster.alerting.domain.model import Area
from muster.situation.assess_service import current_model, read_layer

KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON = 111.320


def population_spec(conn: Connection) -> tuple[Any, str] | None:
    """Return the population grid's layer spec and property, or None."""
    model = current_model(conn)
    if model is None:
        return None
    for rule in model.rules:
        layer = None if rule.population is None else rule.population.layer
        if rule.population is not None and layer is not None and layer in model.layers:
            return model.layers[layer], rule.population.property
    return None


def population_covered(
    conn: Connection, areas: Sequence[Area], districts: Sequence[str] = ()
) -> int | None:
    """Return the estimated residents inside the areas, or None without a grid."""
    found = population_spec(conn)
    if found is None:
        return None
    spec, prop = found
    layer = read_layer(conn, spec, [])
    if layer is None:
        return None
    features = list(layer[0].collection.get("features", []))
    if not features:
        return None
    lat0 = _mean_lat(areas, features)
    kx = KM_PER_DEG_LON * math.cos(math.radians(lat0))
    shapes = [s for area in areas for s in _shapes(area, kx)]
    union = shapely.union_all(shapes) if shapes else None
    wanted = set(districts)
    total = 0.0
    for feature in features:
        props = feature.get("properties") or {}
        people = props.get(prop)
        if not isinstance(people, int | float) or isinstance(people, bool):
            continue
        if props.get("district") in wanted:
            total += float(people)
            continue
        if union is None or not feature.get("geometry"):
            continue
        cell = _scaled(shape(feature["geometry"]), kx)
        if cell.area > 0 and cell.intersects(union):
            total += float(people) * cell.intersection(union).area / cell.area
    return round(total)


def _mean_lat(areas: Sequence[Area], features: Sequence[dict[str, Any]]) -> float:
    for area in areas:
        for circle in area.circles:
            return float(circle.split()[0].split(",")[0])
    first = features[0].get("geometry") or {}
    return float(shape(first).centroid.y) if first else 0.0


def _shapes(area: Area, kx: float) -> list[Any]:
    """Return an area's circles and polygons on the kilometre plane."""
    result: list[Any] = []
    for circle in area.circles:
        point, radius = circle.split()
        lat, lon = (float(v) for v in point.split(","))
        result.append(Point(lon * kx, lat * KM_PER_DEG_LAT).buffer(float(radius), 64))
    for polygon in area.polygons:
        pairs = [tuple(float(v) for v in p.split(",")) for p in polygon.split()]
        result.append(Polygon([(lon * kx, lat * KM_PER_DEG_LAT) for lat, lon in pairs]))
    return result


def _scaled(geometry: Any, kx: float) -> Any:
    """Return a lon/lat geometry on the kilometre plane."""
    return shapely.transform(geometry, lambda xy: xy * [kx, KM_PER_DEG_LAT])


__all__ = ["population_covered", "population_spec"]
