"""GeoJSON geometry checks (RFC 7946), pure; used by validation and the parser."""

from __future__ import annotations

import math
import reprlib
from collections.abc import Mapping, Sequence

_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 60


class _Bad(ValueError):
    """A geometry is malformed; the message says where and why."""


# Nesting depth of "coordinates" per GeoJSON type (RFC 7946 section 3.1).
_COORDINATE_DEPTH = {
    "Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2,
    "Polygon": 2, "MultiPolygon": 3,
}  # fmt: skip
GEOMETRY_TYPES: frozenset[str] = frozenset({*_COORDINATE_DEPTH, "GeometryCollection"})
_MAX_COLLECTION_NESTING = 4  # RFC 7946 discourages nesting collections at all


def geometry_problem(geometry: object) -> str | None:
    """Explain what is wrong with a GeoJSON geometry object, or return ``None``.

    Checks the type, that coordinates are finite numbers nested as the type requires,
    longitude in [-180, 180] and latitude in [-90, 90] (WGS 84, RFC 7946), lines of 2+
    positions and polygon rings closed with 4+ positions.
    """
    try:
        _check_geometry(geometry, "", 0)
    except _Bad as bad:
        return str(bad)
    return None


def _check_geometry(geometry: object, path: str, nesting: int) -> None:
    if not isinstance(geometry, Mapping):
        raise _Bad(f"{path or 'the geometry'} is not a JSON object")
    kind = geometry.get("type")
    if kind == "GeometryCollection":
        members = geometry.get("geometries")
        if not isinstance(members, list | tuple):
            raise _Bad(f"{path}geometries must be an array")
        if nesting >= _MAX_COLLECTION_NESTING:
            raise _Bad(f"{path}geometries: collections nested too deep")
        for index, member in enumerate(members):
            _check_geometry(member, f"{path}geometries[{index}].", nesting + 1)
        return
    if not isinstance(kind, str) or kind not in _COORDINATE_DEPTH:
        raise _Bad(f"{path}type: {_SHORT.repr(kind)} is not a geometry")
    coordinates = geometry.get("coordinates")
    _check_coordinates(kind, coordinates, f"{path}coordinates")


def _check_coordinates(kind: str, value: object, path: str) -> None:
    depth = _COORDINATE_DEPTH[kind]
    if depth == 0:
        _check_position(value, path)
        return
    items = _array(value, path)
    if kind.startswith("Multi"):
        single = kind.removeprefix("Multi")
        for index, item in enumerate(items):
            _check_coordinates(single, item, f"{path}[{index}]")
    elif kind == "LineString":
        _check_positions(items, path, minimum=2)
    else:  # Polygon: closed rings
        if not items:
            raise _Bad(f"{path}: a polygon needs at least one ring")
        for index, ring in enumerate(items):
            ring_path = f"{path}[{index}]"
            positions = _check_positions(_array(ring, ring_path), ring_path, minimum=4)
            if positions[0] != positions[-1]:
                raise _Bad(f"{ring_path}: the ring is not closed")


def _array(value: object, path: str) -> Sequence[object]:
    if not isinstance(value, list | tuple):
        raise _Bad(f"{path}: expected an array")
    return value


def _check_positions(
    items: Sequence[object], path: str, *, minimum: int
) -> Sequence[object]:
    if len(items) < minimum:
        raise _Bad(f"{path}: needs at least {minimum} positions")
    for index, position in enumerate(items):
        _check_position(position, path, index)
    return items


def _check_position(value: object, path: str, index: int | None = None) -> None:
    if (
        isinstance(value, list | tuple)
        and 2 <= len(value) <= 3
        and all(
            type(number) is int or (type(number) is float and math.isfinite(number))
            for number in value
        )
    ):
        lon, lat = value[0], value[1]
        if -180 <= lon <= 180 and -90 <= lat <= 90:
            return
        where = path if index is None else f"{path}[{index}]"
        raise _Bad(
            f"{where}: longitude {lon:g}, latitude {lat:g} is off the globe "
            "(GeoJSON needs WGS 84 longitude, latitude; projected coordinates?)",
        )
    where = path if index is None else f"{path}[{index}]"
    raise _Bad(f"{where}: a position is 2 or 3 finite numbers")


__all__ = ["GEOMETRY_TYPES", "geometry_problem"]
