"""Masks: the one place where shared records are masked before they leave Muster.

Pure (stdlib only) and fail-closed: anything a mask cannot handle becomes ``None``.
Imported by the sharing part's read service, which masks every record it returns.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

MISSING_LABEL = "—"
"""The bucket ``aggregate_counts`` uses for a missing, ``None`` or empty value."""

_MIN_CELL = 0.001
_MAX_CELL = 1.0
_DEFAULT_CELL = 0.01
_GEOMETRY_TYPES = frozenset(
    {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}
)
_ALLOWED_FORMS = (
    "none, hide, name, phone, id_number, partial, grid, "
    f"or grid:<cell size in degrees, {_MIN_CELL} to {_MAX_CELL}>"
)


class MaskKind(StrEnum):
    """How a field's value is disguised before it is shared."""

    NONE = "none"
    GRID = "grid"
    PARTIAL = "partial"
    NAME = "name"
    PHONE = "phone"
    ID_NUMBER = "id_number"
    HIDE = "hide"


@dataclass(frozen=True, slots=True)
class Mask:
    """A mask kind plus, for ``GRID``, the grid cell size in degrees."""

    kind: MaskKind
    cell_degrees: float = _DEFAULT_CELL

    def __post_init__(self) -> None:
        # A plain "grid" string would slip past the `is MaskKind.GRID` checks below.
        object.__setattr__(self, "kind", MaskKind(self.kind))
        if not _MIN_CELL <= self.cell_degrees <= _MAX_CELL:  # also refuses NaN
            raise ValueError(
                f"grid cell size must be between {_MIN_CELL} and {_MAX_CELL} degrees, "
                f"got {self.cell_degrees!r}"
            )


_NO_MASK = Mask(MaskKind.NONE)
_KIND_TEXTS = frozenset(kind.value for kind in MaskKind)
_RESTRICTIVENESS = {
    MaskKind.NONE: 0,
    MaskKind.GRID: 1,
    MaskKind.PARTIAL: 2,
    MaskKind.NAME: 2,
    MaskKind.PHONE: 2,
    MaskKind.ID_NUMBER: 2,
    MaskKind.HIDE: 3,
}


def parse_mask(text: str) -> Mask:
    """Read a mask from its text form, such as ``"name"`` or ``"grid:0.05"``."""
    cleaned = text.strip().lower()
    kind_text, has_cell, cell_text = cleaned.partition(":")
    if kind_text not in _KIND_TEXTS:
        raise ValueError(f"unknown mask {text!r}; expected {_ALLOWED_FORMS}")
    kind = MaskKind(kind_text)
    if not has_cell:
        return Mask(kind)
    if kind is not MaskKind.GRID:
        raise ValueError(
            f"only grid takes a cell size, got {text!r}; expected {_ALLOWED_FORMS}"
        )
    try:
        return Mask(kind, float(cell_text))
    except ValueError:
        raise ValueError(
            f"bad grid cell size in {text!r}; expected {_ALLOWED_FORMS}"
        ) from None


def mask_text(mask: Mask) -> str:
    """Write a mask in the text form ``parse_mask`` reads back."""
    if mask.kind is MaskKind.GRID and mask.cell_degrees != _DEFAULT_CELL:
        return f"grid:{float(mask.cell_degrees)!r}"
    return mask.kind.value


def restrictiveness(mask: Mask) -> int:
    """Rank how much a mask hides: 0 (nothing) to 3 (the whole field)."""
    return _RESTRICTIVENESS[mask.kind]


_TIE_ORDER = tuple(MaskKind)


def mask_order(mask: Mask) -> tuple[int, int, float]:
    """Order masks from most to least revealing: by restrictiveness, then (text masks
    of equal rank, grids of different sizes) by a fixed order, so the choice among
    several permitting agreements never depends on the order they were found in."""
    return (restrictiveness(mask), _TIE_ORDER.index(mask.kind), mask.cell_degrees)


def least_restrictive(a: Mask, b: Mask) -> Mask:
    """Pick the mask that reveals more (ties broken by ``mask_order``)."""
    return b if mask_order(b) < mask_order(a) else a


def _mask_name(value: object) -> str:
    text = str(value)
    return text[:1] + "*" * (len(text) - 1) if len(text) > 1 else "*" * len(text)


def _mask_phone_or_id_number(value: object) -> str:
    # Eight, not seven, for phones too: with seven characters nothing would be starred.
    text = str(value)
    if len(text) < 8:
        return "*" * len(text)
    return text[:3] + "*" * (len(text) - 7) + text[-4:]


def _mask_partial(value: object) -> str:
    text = str(value)
    if len(text) <= 2:
        return "*" * len(text)
    return text[0] + "*" * (len(text) - 2) + text[-1]


_TEXT_MASKS: dict[MaskKind, Callable[[object], str]] = {
    MaskKind.NAME: _mask_name,
    MaskKind.PHONE: _mask_phone_or_id_number,
    MaskKind.ID_NUMBER: _mask_phone_or_id_number,
    MaskKind.PARTIAL: _mask_partial,
}
# floor() refuses NaN with ValueError and infinity with OverflowError.
_UNSNAPPABLE = (ValueError, OverflowError)


def _snap(value: object, cell: float) -> float:
    """Return the centre of the grid cell holding one coordinate."""
    if type(value) is not float and type(value) is not int:  # bool is not a number
        raise ValueError("coordinate is not a number")
    # The 1e-9 stops float noise (0.3 / 0.1 = 2.999…) from putting a point on a
    # cell edge into the cell below it. round(x * 1e6) / 1e6 rounds to 6 decimals
    # like round(x, 6), several times faster.
    return round((math.floor(value / cell + 1e-9) + 0.5) * cell * 1e6) / 1e6


def _snap_coordinates(value: object, cell: float) -> object:
    if isinstance(value, list | tuple):
        return [_snap_coordinates(item, cell) for item in value]
    return _snap(value, cell)


def _snap_geometry(geometry: Mapping[str, object], cell: float) -> dict[str, object]:
    # Only type and coordinates are copied: a "bbox" would give the exact extent away.
    kind = geometry.get("type")
    if kind == "GeometryCollection":
        members = geometry.get("geometries")
        if not isinstance(members, list | tuple) or not all(
            isinstance(member, Mapping) for member in members
        ):
            raise ValueError("not a geometry collection")
        return {"type": kind, "geometries": [_snap_geometry(m, cell) for m in members]}
    if kind not in _GEOMETRY_TYPES or "coordinates" not in geometry:
        raise ValueError("not a GeoJSON geometry")
    coordinates = _snap_coordinates(geometry["coordinates"], cell)
    return {"type": kind, "coordinates": coordinates}


def _grid_masker(cell: float) -> Callable[[object], object]:
    def mask_location(value: object) -> object:
        """Snap a [lat, lon] point or a GeoJSON geometry to grid cell centres."""
        try:
            if (type(value) is list or type(value) is tuple) and len(value) == 2:
                snapped = (_snap(value[0], cell), _snap(value[1], cell))
                return list(snapped) if isinstance(value, list) else snapped
            if isinstance(value, Mapping):
                return _snap_geometry(value, cell)
        except _UNSNAPPABLE:
            pass
        return None  # fail closed: an unknown shape is never shared as it is

    return mask_location


def _value_masker(mask: Mask) -> Callable[[object], object] | None:
    """Return what masks one non-``None`` value, or ``None`` when nothing is masked."""
    if mask.kind is MaskKind.NONE:
        return None
    if mask.kind is MaskKind.HIDE:
        return lambda value: None
    if mask.kind is MaskKind.GRID:
        return _grid_masker(mask.cell_degrees)
    return _TEXT_MASKS[mask.kind]


def mask_value(value: object, mask: Mask) -> object:
    """Mask one field value; ``None`` stays ``None`` and ``HIDE`` gives ``None``."""
    masker = _value_masker(mask)
    return value if masker is None or value is None else masker(value)


_ABSENT = object()


def compile_masker(
    fields: Sequence[str], masks: Mapping[str, Mask]
) -> Callable[[Mapping[str, object]], dict[str, object]]:
    """Build the function that masks every record of one list request.

    The returned function gives a new dict with only ``fields``, in that order,
    skipping fields the record lacks and fields whose mask is ``HIDE``. Masks are
    resolved once here, so the per-record work is a dict lookup per field.
    """
    plan = tuple(
        (field, _value_masker(mask))
        for field in dict.fromkeys(fields)
        if (mask := masks.get(field, _NO_MASK)).kind is not MaskKind.HIDE
    )
    if not plan:
        return lambda record: {}
    general = _general_masker(plan)
    fast = _generated_masker(plan)

    def mask_record(record: Mapping[str, object]) -> dict[str, object]:
        # The usual record has every field: one generated dict display copies and
        # masks it; a record lacking a field takes the general path.
        try:
            return fast(record)
        except KeyError:
            return general(record)

    return mask_record


Plan = tuple[tuple[str, Callable[[object], object] | None], ...]


def _general_masker(plan: Plan) -> Callable[[Mapping[str, object]], dict[str, object]]:
    def mask_any(record: Mapping[str, object]) -> dict[str, object]:
        return {
            field: value if masker is None or value is None else masker(value)
            for field, masker in plan
            if (value := record.get(field, _ABSENT)) is not _ABSENT
        }

    return mask_any


def _generated_masker(
    plan: Plan,
) -> Callable[[Mapping[str, object]], dict[str, object]]:
    """Return ``lambda r: {"a": r["a"], "b": (None if (v1 := r["b"]) is None else
    m1(v1)), ...}``: a dict display is about twice as fast per record as a loop over
    the plan. Field names enter the source only as ``repr`` string literals."""
    maskers: dict[str, object] = {}
    parts = []
    for number, (field, masker) in enumerate(plan):
        name = repr(str(field))
        if masker is None:
            parts.append(f"{name}: r[{name}]")
        else:
            maskers[f"m{number}"] = masker
            parts.append(
                f"{name}: (None if (v{number} := r[{name}]) is None "
                f"else m{number}(v{number}))"
            )
    source = "lambda r: {" + ", ".join(parts) + "}"
    generated: Callable[[Mapping[str, object]], dict[str, object]]
    generated = eval(source, {"__builtins__": {}, **maskers})  # noqa: S307
    return generated


def mask_geometry(
    geometry: Mapping[str, object] | None, mask: Mask
) -> dict[str, object] | None:
    """Mask a record's GeoJSON geometry: kept, snapped to the grid, or dropped."""
    if geometry is None:
        return None
    if mask.kind is MaskKind.NONE:
        return dict(geometry)
    if mask.kind is MaskKind.GRID:
        try:
            return _snap_geometry(geometry, mask.cell_degrees)
        except _UNSNAPPABLE:
            return None
    return None  # a text mask cannot disguise a shape, and HIDE hides it


def aggregate_counts(
    rows: Iterable[Mapping[str, object]], by_field: str
) -> list[tuple[str, int]]:
    """Count rows per value of ``by_field``, most frequent first, then by value."""
    counts = Counter(
        MISSING_LABEL if value is None or value == "" else str(value)
        for value in (row.get(by_field) for row in rows)
    )
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))
