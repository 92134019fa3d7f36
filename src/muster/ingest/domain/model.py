"""Ingest rules (stdlib only): who may submit data, duplicates, data quality.

Quality measures are pure functions of counts and times so that scorecards can
recompute them from the log: freshness against the dataset's SLA, completeness of
required fields, validity rate, volume against the recent rhythm, and consistency
between nearby stations that measure the same thing.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from muster.core.errors import PermissionDenied
from muster.core.messages import Actor

STEWARD_ROLES = ("admin", "commander", "duty_officer", "analyst", "connector", "system")
STALE_FACTOR = 3  # late up to 3 update intervals, stale beyond


class Freshness(StrEnum):
    """How recent a dataset's data is against its expected update interval."""

    ON_TIME = "on_time"
    LATE = "late"
    STALE = "stale"
    NO_DATA = "no_data"


def require_steward(actor: Actor, owner_department: str, *, action: str) -> None:
    """Refuse unless the actor submits for the owning department (or is admin)."""
    if actor.has_role("admin", "system"):
        return
    if not actor.has_role(*STEWARD_ROLES):
        raise PermissionDenied(f"{action} needs a data steward role", action=action)
    if actor.department != owner_department:
        raise PermissionDenied(
            f"{action}: only {owner_department} submits data to this dataset",
            action=action,
        )


def freshness(
    last_received: datetime | None, *, interval: timedelta, now: datetime
) -> Freshness:
    """Classify the age of the newest data against the update interval (SLA)."""
    if last_received is None:
        return Freshness.NO_DATA
    age = now - last_received
    if age <= interval:
        return Freshness.ON_TIME
    if age <= interval * STALE_FACTOR:
        return Freshness.LATE
    return Freshness.STALE


def rate(part: int, whole: int) -> float | None:
    """Return part/whole, or None when there is nothing to measure."""
    return part / whole if whole else None


def volume_is_anomalous(
    current: int, history: Sequence[int], *, threshold: float = 3.0
) -> bool:
    """Tell whether the latest window's count departs from the recent rhythm.

    Needs at least 4 past windows. A silent window after a busy rhythm, or a count
    more than ``threshold`` standard deviations from the mean, is anomalous.
    """
    if len(history) < 4:
        return False
    mean = statistics.fmean(history)
    if current == 0 and mean >= 1:
        return True
    spread = statistics.pstdev(history)
    if spread == 0:
        return current != mean and abs(current - mean) > max(1.0, 0.5 * mean)
    return abs(current - mean) / spread > threshold


@dataclass(frozen=True, slots=True)
class Reading:
    """One station's value of a metric in a time bucket."""

    dataset_code: str
    station: str
    metric: str
    value: float
    latitude: float
    longitude: float
    bucket: str  # e.g. the hour, "2026-07-01T03"


@dataclass(frozen=True, slots=True)
class Disagreement:
    """Two nearby stations measuring the same thing disagree beyond the tolerance."""

    first: Reading
    second: Reading
    distance_km: float


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance between two points in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = (
        math.sin(dphi / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    )
    return 6371.0088 * 2 * math.asin(min(1.0, math.sqrt(a)))


def disagreements(
    readings: Sequence[Reading],
    *,
    max_distance_km: float,
    relative_tolerance: float,
    absolute_tolerance: float,
) -> list[Disagreement]:
    """Find pairs of different stations, same metric and bucket, that disagree."""
    groups: dict[tuple[str, str], list[Reading]] = {}
    for reading in readings:
        groups.setdefault((reading.metric, reading.bucket), []).append(reading)
    found: list[Disagreement] = []
    for group in groups.values():
        for index, first in enumerate(group):
            for second in group[index + 1 :]:
                if first.station == second.station:
                    continue
                distance = distance_km(
                    first.latitude, first.longitude, second.latitude, second.longitude
                )
                gap = abs(first.value - second.value)
                scale = max(abs(first.value), abs(second.value))
                if distance <= max_distance_km and gap > max(
                    absolute_tolerance, relative_tolerance * scale
                ):
                    found.append(Disagreement(first, second, round(distance, 3)))
    return found


__all__ = [
    "Disagreement",
    "Freshness",
    "Reading",
    "disagreements",
    "distance_km",
    "freshness",
    "rate",
    "require_steward",
    "volume_is_anomalous",
]
