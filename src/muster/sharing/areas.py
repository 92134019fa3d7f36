"""Which grant circles hold each record of a list read: vectorised with numpy.

A read of thousands of records asks Cedar once per circle (ADR 0010), then has to
put every record in the circles that hold it. Points and circle centres become unit
vectors; a point lies within a circle of angular radius θ exactly when the dot
product of the two vectors is at least cos θ — one matrix product for the whole
list. Within 1e-12 of that threshold (a few millimetres at 10 km, far wider than
the product's rounding) the plain great-circle test of ``Grant.covers`` decides, so
the answer is the same as testing each point in Python (property-tested).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain

import numpy as np
import numpy.typing as npt

from muster.sharing.domain.grants import EARTH_RADIUS_KM, Grant, Positioned

_TOLERANCE = 1e-12

FloatArray = npt.NDArray[np.float64]


def _unit_vectors(latitudes: FloatArray, longitudes: FloatArray) -> FloatArray:
    """Return an (n, 3) array of unit vectors for positions in degrees."""
    lat, lon = np.radians(latitudes), np.radians(longitudes)
    cos_lat = np.cos(lat)
    return np.stack([cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)], 1)


class AreaIndex:
    """The circles of area-limited grants on one dataset, ready to place records."""

    def __init__(self, grants: Sequence[Grant]) -> None:
        circles = sorted(
            (grant for grant in grants if grant.radius_km is not None),
            key=lambda grant: grant.grant_id,
        )
        self._grants = tuple(circles)
        self.grant_ids: tuple[str, ...] = tuple(g.grant_id for g in circles)
        self._centres = _unit_vectors(
            np.array([g.latitude for g in circles], dtype=np.float64),
            np.array([g.longitude for g in circles], dtype=np.float64),
        ).T  # (3, circles)
        self._thresholds = np.cos(
            np.array([g.radius_km or 0.0 for g in circles], dtype=np.float64)
            / EARTH_RADIUS_KM
        )
        words = -(-len(circles) // 64)
        self._zero: object = 0 if words <= 1 else (0,) * words
        self._keys: dict[object, frozenset[str]] = {}

    def group(
        self, rows: Iterable[Positioned]
    ) -> dict[frozenset[str], list[Positioned]]:
        """Group rows by the set of circles holding their ``position``."""
        listed = rows if isinstance(rows, list) else list(rows)
        if not listed:
            return {}
        if not self._grants:
            return {frozenset(): listed}
        positions = [row.position for row in listed]
        keys: Sequence[object]
        if None in positions:  # no position: in no circle, order kept
            found = iter(self._membership([at for at in positions if at is not None]))
            keys = [self._zero if at is None else next(found) for at in positions]
        else:
            keys = self._membership(positions)  # type: ignore[arg-type]
        by_key: dict[object, list[Positioned]] = {}
        for row, key in zip(listed, keys, strict=True):
            bucket = by_key.get(key)
            if bucket is None:
                by_key[key] = [row]
            else:
                bucket.append(row)
        return {self._areas(key): members for key, members in by_key.items()}

    def covering(self, position: tuple[float, float] | None) -> frozenset[str]:
        """Return the ids of the grants whose circle holds the position."""
        if position is None or not self._grants:
            return frozenset()
        return self._areas(self._membership([position])[0])

    def _membership(self, positions: Sequence[tuple[float, float]]) -> list[object]:
        """Return one hashable key per position: the bits of the circles holding it."""
        flat = np.fromiter(
            chain.from_iterable(positions), dtype=np.float64, count=2 * len(positions)
        ).reshape(len(positions), 2)
        with np.errstate(invalid="ignore", over="ignore"):
            margin = _unit_vectors(flat[:, 0], flat[:, 1]) @ self._centres
            margin -= self._thresholds
            inside = margin >= 0.0
            near = np.abs(margin) < _TOLERANCE
        if near.any():
            rows, cols = np.nonzero(near)
            for row, col in zip(rows.tolist(), cols.tolist(), strict=True):
                lat, lon = positions[row]
                inside[row, col] = self._grants[col].covers(lat, lon)
        packed = np.packbits(inside, axis=1, bitorder="little")
        spare = -packed.shape[1] % 8
        if spare:
            packed = np.pad(packed, ((0, 0), (0, spare)))
        words = packed.view("<u8")  # (positions, circles / 64 rounded up)
        if words.shape[1] == 1:
            return words[:, 0].tolist()  # type: ignore[no-any-return]
        return [tuple(word) for word in words.tolist()]

    def _areas(self, key: object) -> frozenset[str]:
        """Return the grant ids a membership key stands for (remembered)."""
        found = self._keys.get(key)
        if found is None:
            words = key if isinstance(key, tuple) else (key,)
            found = frozenset(
                self.grant_ids[64 * index + bit]
                for index, word in enumerate(words)
                for bit in range(64)
                if int(word) >> bit & 1
            )
            self._keys[key] = found
        return found


__all__ = ["AreaIndex"]
