"""Scenario grants (stdlib only): which agreements an incident's state switches on.

An agreement with an incident condition applies only while some incident meets it:
not closed, of a listed GB/T 35561 category, at or above the level, and then only to
records within ``within_km`` of the incident. ``reconcile`` compares the grants that
should hold with those that do and says which to activate and which to end; the
handler turns that into ``GrantActivated`` / ``GrantEnded`` events (ADR 0010).
Imported by the sharing handlers and the read service (``covering_grants``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeVar

from muster.sharing.domain.agreements import Agreement

EARTH_RADIUS_KM = 6371.0088


class HasPosition(Protocol):
    """Anything with a (lat, lon) position, or None."""

    @property
    def position(self) -> tuple[float, float] | None:
        """Return the position."""
        ...


Positioned = TypeVar("Positioned", bound=HasPosition)


@dataclass(frozen=True, slots=True)
class IncidentState:
    """What a grant needs to know of an incident."""

    id: str
    type_code: str | None
    level: str | None
    status: str
    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class Grant:
    """An agreement switched on by an incident, within a circle around it."""

    grant_id: str
    agreement_code: str
    dataset: str
    incident_id: str
    level: str = field(
        compare=False
    )  # a level change within the condition keeps the grant
    latitude: float
    longitude: float
    radius_km: float | None

    def covers(self, latitude: float, longitude: float) -> bool:
        """Tell whether a position lies within the grant's area."""
        if self.radius_km is None:
            return True
        return distance_km(self.latitude, self.longitude, latitude, longitude) <= (
            self.radius_km
        )


def grant_id(agreement_code: str, incident_id: str) -> str:
    """Return the stable id of an agreement's grant for an incident."""
    return f"{agreement_code}@{incident_id}"


def wanted_grants(
    agreements: Iterable[Agreement],
    incidents: Sequence[IncidentState],
    now: datetime,
) -> dict[str, Grant]:
    """Return the grants the current incidents call for, by id."""
    wanted: dict[str, Grant] = {}
    for agreement in agreements:
        condition = agreement.incident
        if condition is None or not agreement.in_force(now):
            continue
        for incident in incidents:
            if incident.status == "closed" or incident.level is None:
                continue
            if condition.level_met(incident.level) and condition.category_met(
                incident.type_code
            ):
                key = grant_id(agreement.code, incident.id)
                wanted[key] = Grant(
                    grant_id=key,
                    agreement_code=agreement.code,
                    dataset=agreement.dataset,
                    incident_id=incident.id,
                    level=incident.level,
                    latitude=incident.latitude,
                    longitude=incident.longitude,
                    radius_km=condition.within_km,
                )
    return wanted


def end_reason(
    grant: Grant,
    agreements: Mapping[str, Agreement],
    incidents: Mapping[str, IncidentState],
    now: datetime,
) -> str:
    """Say why a grant no longer holds (for the GrantEnded event and the log page)."""
    agreement = agreements.get(grant.agreement_code)
    incident = incidents.get(grant.incident_id)
    if agreement is None:
        return "agreement_revoked"
    if not agreement.in_force(now):
        return "agreement_expired"
    if incident is None or incident.status == "closed":
        return "incident_closed"
    condition = agreement.incident
    if condition is None:
        return "agreement_changed"
    if not condition.level_met(incident.level):
        return "level_below_condition"
    if not condition.category_met(incident.type_code):
        return "category_changed"
    return "area_changed"


def reconcile(
    agreements: Mapping[str, Agreement],
    incidents: Sequence[IncidentState],
    active: Mapping[str, Grant],
    now: datetime,
) -> tuple[list[Grant], list[tuple[Grant, str]]]:
    """Return (grants to activate, (grant, reason) to end) to match the incidents."""
    wanted = wanted_grants(agreements.values(), incidents, now)
    by_id = {incident.id: incident for incident in incidents}
    start = [grant for key, grant in wanted.items() if active.get(key) != grant]
    end = [
        (grant, end_reason(grant, agreements, by_id, now))
        for key, grant in active.items()
        if key not in wanted or wanted[key] != grant
    ]
    return start, end


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance between two positions in km."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lon2 - lon1)
    a = (
        math.sin(dphi / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def record_position(
    values: Mapping[str, object],
    geometry: Mapping[str, object] | None,
    point_fields: Sequence[str],
) -> tuple[float, float] | None:
    """Return a record's (lat, lon): its first point field, else its GeoJSON Point."""
    for name in point_fields:
        value = values.get(name)
        if isinstance(value, list | tuple) and len(value) == 2:
            lat, lon = value
            if isinstance(lat, int | float) and isinstance(lon, int | float):
                return float(lat), float(lon)
    if geometry is not None and geometry.get("type") == "Point":
        coordinates = geometry.get("coordinates")
        if isinstance(coordinates, list | tuple) and len(coordinates) >= 2:
            lon, lat = coordinates[0], coordinates[1]
            if isinstance(lat, int | float) and isinstance(lon, int | float):
                return float(lat), float(lon)
    return None


def covering_grants(
    position: tuple[float, float] | None, grants: Sequence[Grant]
) -> frozenset[str]:
    """Return the ids of the area-limited grants whose circle holds the position."""
    if position is None:
        return frozenset()
    lat, lon = position
    return frozenset(
        grant.grant_id
        for grant in grants
        if grant.radius_km is not None and grant.covers(lat, lon)
    )


__all__ = [
    "Grant",
    "IncidentState",
    "covering_grants",
    "distance_km",
    "end_reason",
    "grant_id",
    "reconcile",
    "record_position",
    "wanted_grants",
]
