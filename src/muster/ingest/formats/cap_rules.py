"""CAP 1.2 rules the OASIS XSD cannot express (§3.2): references, geometry, scope.

Each reader takes the element it checks, so a rejection names its line and XPath.
Imported by ``cap.py`` only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from muster.ingest.formats import FormatRejected
from muster.ingest.formats._xmltext import aware_datetime, where

MESSAGE_TYPES_NEEDING_REFERENCES = frozenset({"Update", "Cancel", "Ack", "Error"})
Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class CapReference:
    """One earlier message referenced by an alert (CAP ``references`` triple)."""

    sender: str
    identifier: str
    sent: datetime


def _semantic(element: etree._Element, message: str) -> FormatRejected:
    """Build a ``semantic`` rejection located at ``element``."""
    line, path = where(element)
    return FormatRejected(message, reason="semantic", line=line, xpath=path)


def read_references(
    element: etree._Element | None, *, msg_type: str, alert: etree._Element
) -> tuple[CapReference, ...]:
    """Read ``references``; Update/Cancel/Ack/Error must reference something."""
    tokens = [] if element is None else (element.text or "").split()
    if not tokens and msg_type in MESSAGE_TYPES_NEEDING_REFERENCES:
        raise _semantic(
            alert if element is None else element,
            f"a {msg_type} message must carry non-empty references "
            "(sender,identifier,sent of each earlier message)",
        )
    return tuple(_reference(token, element) for token in tokens if element is not None)


def _reference(token: str, element: etree._Element) -> CapReference:
    """Read one ``sender,identifier,sent`` triple from references."""
    parts = token.split(",")
    if len(parts) != 3 or not all(parts):
        raise _semantic(
            element,
            f"references item {token!r} is not a sender,identifier,sent triple",
        )
    sender, identifier, sent = parts
    moment = aware_datetime(sent, element=element, what="references sent time")
    return CapReference(sender=sender, identifier=identifier, sent=moment)


def read_polygon(element: etree._Element) -> tuple[Point, ...]:
    """Read a polygon: at least 4 ``lat,lon`` pairs, the first equal to the last."""
    text = element.text or ""
    tokens = text.split()
    # One float() pass over all numbers; a pair is then checked, not re-parsed.
    if any(token.count(",") != 1 for token in tokens):
        bad = next(token for token in tokens if token.count(",") != 1)
        raise _semantic(element, f"coordinate pair {bad!r} is not 'lat,lon'")
    try:
        numbers = [float(number) for number in text.replace(",", " ").split()]
    except ValueError:
        raise _semantic(element, "a polygon coordinate is not a number") from None
    if len(numbers) != 2 * len(tokens):
        raise _semantic(element, "a polygon pair lacks its latitude or longitude")
    latitudes, longitudes = numbers[0::2], numbers[1::2]
    if not all(-90 <= value <= 90 for value in latitudes) or not all(
        -180 <= value <= 180 for value in longitudes
    ):
        raise _semantic(element, "a polygon coordinate is out of range or not finite")
    points = tuple(zip(latitudes, longitudes, strict=True))
    if len(points) < 4:
        raise _semantic(
            element, f"a polygon needs at least 4 coordinate pairs, found {len(points)}"
        )
    if points[0] != points[-1]:
        raise _semantic(element, "a polygon must be closed (first pair = last pair)")
    return points


def read_circle(element: etree._Element) -> tuple[float, float, float]:
    """Read a circle ``lat,lon radius`` (radius in km, zero or more)."""
    tokens = (element.text or "").split()
    if len(tokens) != 2:
        raise _semantic(element, "a circle must be written 'lat,lon radius'")
    latitude, longitude = _point(tokens[0], element)
    radius = _number(tokens[1], element, what="circle radius")
    if radius < 0:
        raise _semantic(element, f"circle radius {tokens[1]!r} is negative")
    return latitude, longitude, radius


def _point(token: str, element: etree._Element) -> Point:
    """Read one WGS 84 ``lat,lon`` pair and check its ranges."""
    parts = token.split(",")
    if len(parts) != 2:
        raise _semantic(element, f"coordinate pair {token!r} is not 'lat,lon'")
    latitude = _number(parts[0], element, what="latitude")
    longitude = _number(parts[1], element, what="longitude")
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise _semantic(element, f"coordinate pair {token!r} is out of range")
    return latitude, longitude


def _number(text: str, element: etree._Element, *, what: str) -> float:
    """Read a finite decimal number."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise _semantic(element, f"{what} {text!r} is not a finite number")
    return value


def read_altitude_ceiling(
    altitude: etree._Element | None, ceiling: etree._Element | None
) -> tuple[float | None, float | None]:
    """Read altitude and ceiling (feet); a ceiling is only allowed with an altitude."""
    if ceiling is not None and altitude is None:
        raise _semantic(ceiling, "ceiling may only be given together with altitude")
    return _height(altitude), _height(ceiling)


def _height(element: etree._Element | None) -> float | None:
    """Read an optional altitude or ceiling value."""
    if element is None:
        return None
    name = etree.QName(element).localname
    return _number((element.text or "").strip(), element, what=name)


def check_scope(
    alert: etree._Element,
    *,
    scope: str,
    restriction: str | None,
    addresses: tuple[str, ...],
) -> None:
    """Restricted alerts need a restriction; Private alerts need addresses."""
    if scope == "Restricted" and not restriction:
        raise _semantic(alert, "a Restricted alert must say its restriction")
    if scope == "Private" and not addresses:
        raise _semantic(alert, "a Private alert must list its addresses")
