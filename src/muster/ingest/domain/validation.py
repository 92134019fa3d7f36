"""Check one record against its dataset's field rules; convert values; give all reasons.

Pure (stdlib and ``muster.core.errors`` only). Imported by the ingest handlers, the
quality code and ``muster.ingest.formats`` (which shares :func:`geometry_problem`).
"""

from __future__ import annotations

import contextlib
import functools
import math
import reprlib
import sys
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Literal, NamedTuple, Protocol, get_args

from muster.core.errors import ValidationFailed
from muster.ingest.domain.geometry import GEOMETRY_TYPES, geometry_problem

FieldType = Literal[
    "string", "integer", "number", "boolean", "datetime", "date", "point", "geometry",
    "enum",
]  # fmt: skip
RuleCode = Literal[
    "required", "type", "choice", "minimum", "maximum", "max_length", "unknown_field",
    "format",
]  # fmt: skip
FIELD_TYPES: frozenset[str] = frozenset(get_args(FieldType))


@dataclass(frozen=True, kw_only=True, slots=True)
class FieldRule:
    """What one field of a dataset must hold (from the catalog's schema)."""

    name: str
    type: FieldType
    required: bool = False
    unit: str | None = None
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None

    def __post_init__(self) -> None:
        """Refuse a rule that could never be checked consistently."""
        low, high = self.minimum, self.maximum
        problem = None
        if self.type not in FIELD_TYPES:
            problem = f"unknown field type {self.type!r}"
        elif self.type == "enum" and not self.choices:
            problem = "an enum field needs choices"
        elif not all(math.isfinite(bound) for bound in (low or 0, high or 0)):
            problem = "minimum and maximum must be finite"
        elif low is not None and high is not None and low > high:
            problem = "minimum is greater than maximum"
        elif self.max_length is not None and self.max_length < 1:
            problem = "max_length must be at least 1"
        if problem is not None:
            raise ValidationFailed(f"field {self.name!r}: {problem}", field=self.name)


@dataclass(frozen=True, kw_only=True, slots=True)
class Reason:
    """Why one field of a record is not acceptable (machine code plus English text).

    Rules: ``required`` (missing), ``type`` (cannot be read as the field's type),
    ``format`` (right kind, unusable form: no timezone, off the globe, bad geometry,
    not finite), ``choice``, ``minimum``, ``maximum``, ``max_length``, and
    ``unknown_field`` (a field the dataset does not define, when those are refused).
    """

    field: str
    rule: RuleCode
    message: str
    value: str
    """A short ``repr`` of the offending value."""


class ValidationOutcome(NamedTuple):
    """Typed values of the rule fields, every reason found, and completeness.

    A named tuple rather than a frozen dataclass: one is built per row of large
    batches, and building a tuple costs a fraction of a frozen dataclass's setattrs.
    """

    values: dict[str, object]
    """Converted values of the fields that passed; ``None`` for absent optional ones."""
    reasons: tuple[Reason, ...]
    completeness: float
    """Share of required fields present (valid or not); 1.0 when none is required."""

    @property
    def is_valid(self) -> bool:
        """Tell whether the record passed every rule."""
        return not self.reasons


class _Invalid(Exception):
    """A converter refused a value: ``args`` are (rule code, message)."""

    args: tuple[RuleCode, str]


Converter = Callable[[object], object]

_INT64 = 2**63
_FLOAT_MAX = sys.float_info.max  # default bounds: infinity and NaN fall outside
_TRUE = frozenset({"true", "1", "是"})
_FALSE = frozenset({"false", "0", "否"})
_CACHE_LIMIT = 4096  # distinct strings remembered per converter (times, places)
_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 60

# Numbers in text: float() accepts the decimal forms Decimal() does (sign, digits,
# point, exponent, surrounding spaces, Unicode decimal digits such as full-width ones)
# and rounds correctly, so float(text) == float(Decimal(text)); no regex needed. Only
# digit-grouping underscores ("1_000") and non-finite results (nan, inf, 1e400) are
# refused on top.


def _number(rule: FieldRule) -> Converter:
    low = -_FLOAT_MAX if rule.minimum is None else rule.minimum
    high = _FLOAT_MAX if rule.maximum is None else rule.maximum

    def convert(raw: object) -> float:
        if type(raw) is float:
            value = raw
        elif type(raw) is str and "_" not in raw:
            try:
                value = float(raw)
            except ValueError:
                raise _Invalid("type", "expected a number like 12.5") from None
        else:
            value = _float_from_other(raw)
        if low <= value <= high:
            return value
        raise _out_of_bounds(value, rule)

    return convert


def _float_from_other(raw: object) -> float:
    if isinstance(raw, float | int | Decimal) and not isinstance(raw, bool):
        try:
            return float(raw)
        except (OverflowError, ValueError):  # a huge int, a signalling NaN
            raise _Invalid("format", "the number is out of range") from None
    raise _Invalid("type", f"expected a number, got {_kind(raw)}")


def _integer(rule: FieldRule) -> Converter:
    low = -_INT64 if rule.minimum is None else max(-_INT64, math.ceil(rule.minimum))
    high = _INT64 - 1 if rule.maximum is None else min(_INT64 - 1, rule.maximum)

    def convert(raw: object) -> int:
        if type(raw) is int:
            value = raw
        elif type(raw) is str and "_" not in raw and len(raw) < 30:
            try:
                value = int(raw)
            except ValueError:
                value = _whole(raw)  # "12.0" from spreadsheets
        else:
            value = _whole(raw)
        if low <= value <= high:
            return value
        raise _out_of_bounds(value, rule)

    return convert


def _whole(raw: object) -> int:
    """Read a whole number given as "12.0", 12.0 or Decimal("12") (not 12.5)."""
    if type(raw) is str and "_" not in raw and len(raw) < 30:
        with contextlib.suppress(ArithmeticError):  # decimal.InvalidOperation
            raw = Decimal(raw)
    if isinstance(raw, float | Decimal):
        try:
            value = int(raw)
        except (OverflowError, ValueError):  # NaN, infinity
            raise _Invalid("format", "the number is not finite") from None
        if value == raw:
            return value
    raise _Invalid("type", f"expected a whole number like 12, got {_kind(raw)}")


def _out_of_bounds(value: float, rule: FieldRule) -> _Invalid:
    if not math.isfinite(value):
        return _Invalid("format", "the number is not finite")
    if rule.minimum is not None and value < rule.minimum:
        return _Invalid("minimum", f"{value:g} is below the minimum {rule.minimum:g}")
    if rule.maximum is not None and value > rule.maximum:
        return _Invalid("maximum", f"{value:g} is above the maximum {rule.maximum:g}")
    return _Invalid("format", "the number is outside the 64-bit integer range")


def _to_bool(raw: object) -> bool:
    if raw is True or raw is False:
        return raw
    if type(raw) is str:
        text = raw.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    elif type(raw) is int and raw in (0, 1):
        return raw == 1
    raise _Invalid("type", "expected true/false, 1/0 or 是/否")


def _to_str(raw: object) -> str:
    if type(raw) is str and not raw.isspace():  # blank text counts as absent
        return raw
    if type(raw) is int and -_INT64 <= raw < _INT64:  # numeric codes sent as JSON
        return str(raw)
    raise _Invalid("type", f"expected text, got {_kind(raw)}")


def _text(rule: FieldRule) -> Converter:
    choices, longest = frozenset(rule.choices), rule.max_length
    if not choices and longest is None:
        return _to_str

    def convert(raw: object) -> str:
        value = raw if type(raw) is str and not raw.isspace() else _to_str(raw)
        if choices and value not in choices:
            listed = ", ".join(rule.choices[:10])
            raise _Invalid("choice", f"{value!r} is not one of: {listed}")
        if longest is not None and len(value) > longest:
            raise _Invalid("max_length", f"longer than {longest} characters")
        return value

    return convert


def _memoized(from_text: Callable[[str], object], other: Converter) -> Converter:
    """Remember conversions of text: a batch repeats its times and places a lot."""
    cache: dict[str, object] = {}

    def convert(raw: object) -> object:
        if type(raw) is not str:
            return other(raw)
        value = cache.get(raw)
        if value is None:
            value = from_text(raw)  # refusals raise and are not remembered
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
            cache[raw] = value
        return value

    return convert


def _datetime(default_timezone: tzinfo | None) -> Converter:
    def from_text(text: str) -> datetime:
        try:
            moment = datetime.fromisoformat(text.strip())
        except ValueError:
            raise _Invalid(
                "type", "expected an ISO-8601 time like 2024-07-01T08:00:00+08:00"
            ) from None
        return to_utc(moment)

    def to_utc(raw: object) -> datetime:
        if not isinstance(raw, datetime):
            raise _Invalid("type", f"expected a date and time, got {_kind(raw)}")
        if raw.utcoffset() is None:
            if default_timezone is None:
                raise _Invalid("format", "the time has no UTC offset (add +08:00 or Z)")
            raw = raw.replace(tzinfo=default_timezone)
        try:
            return raw.astimezone(UTC)
        except OverflowError:
            raise _Invalid("format", "the time is out of range") from None

    return _memoized(from_text, to_utc)


def _date_from_text(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise _Invalid("type", "expected an ISO-8601 date like 2024-07-01") from None


def _date_from_other(raw: object) -> date:
    if type(raw) is date:
        return raw
    raise _Invalid("type", f"expected a date, got {_kind(raw)}")


def _point_from_text(text: str) -> tuple[float, float]:
    """Read "latitude,longitude" (an ASCII or full-width comma) as (lat, lon)."""
    first, comma, second = text.replace("，", ",").partition(",")
    try:
        if comma and "_" not in text:
            return _on_globe(float(first), float(second))
    except ValueError:
        pass
    raise _Invalid("type", "expected 'latitude,longitude' like 28.19,112.97")


def _point_from_other(raw: object) -> tuple[float, float]:
    """Read a GeoJSON Point (longitude first) as (lat, lon)."""
    if not isinstance(raw, Mapping) or raw.get("type") != "Point":
        raise _Invalid("type", "expected 'latitude,longitude' or a GeoJSON Point")
    coordinates = _to_geometry(raw)["coordinates"]
    if not isinstance(coordinates, list | tuple):  # cannot happen: checked above
        raise _Invalid("format", "a Point needs coordinates")
    return float(coordinates[1]), float(coordinates[0])


def _on_globe(lat: float, lon: float) -> tuple[float, float]:
    if -90 <= lat <= 90 and -180 <= lon <= 180:
        return lat, lon
    swapped = -90 <= lon <= 90 and -180 <= lat <= 180
    hint = " (latitude and longitude swapped?)" if swapped else ""
    raise _Invalid(
        "format", f"latitude {lat:g}, longitude {lon:g} is off the globe{hint}"
    )


def _to_geometry(raw: object) -> dict[str, object]:
    problem = geometry_problem(raw)
    if problem is not None or not isinstance(raw, Mapping):
        rule: RuleCode = "format" if isinstance(raw, Mapping) else "type"
        raise _Invalid(rule, problem or "expected a GeoJSON geometry")
    return dict(raw)


def _kind(raw: object) -> str:
    return type(raw).__name__


def _converter(rule: FieldRule, default_timezone: tzinfo | None) -> Converter:
    match rule.type:
        case "integer":
            return _integer(rule)
        case "number":
            return _number(rule)
        case "boolean":
            return _to_bool
        case "datetime":
            return _datetime(default_timezone)
        case "date":
            return _memoized(_date_from_text, _date_from_other)
        case "point":
            return _memoized(_point_from_text, _point_from_other)
        case "geometry":
            return _to_geometry
        case _:  # string, enum
            return _text(rule)


class RecordValidator(Protocol):
    """What :func:`compile_rules` returns: call it once per record of a batch."""

    def __call__(
        self,
        values: Mapping[str, object],
        geometry: Mapping[str, object] | None = None,
    ) -> ValidationOutcome:
        """Check one record; never raises for any values, lists every reason."""
        ...


def _build(
    rules: Sequence[FieldRule],
    allow_unknown: bool,
    default_timezone: tzinfo | None,
    unrolled: bool = True,
) -> RecordValidator:
    names = [rule.name for rule in rules]
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    if repeated:
        raise ValidationFailed(
            f"field(s) defined twice: {', '.join(repeated)}", field=repeated[0]
        )
    steps = tuple((rule.name, _converter(rule, default_timezone)) for rule in rules)
    known = frozenset(names)
    required = frozenset(rule.name for rule in rules if rule.required)
    geometric = frozenset(
        rule.name for rule in rules if rule.type in ("point", "geometry")
    )
    total = len(required)
    new_outcome = tuple.__new__  # skips the named tuple's Python-level __new__

    # A closure rather than a class with __call__: its constants are cell variables
    # and calling it skips the bound-method machinery. It runs once per row of large
    # batches; per field the hot path is one lookup, one converter call, one store.
    def validate(
        values: Mapping[str, object], geometry: Mapping[str, object] | None = None
    ) -> ValidationOutcome:
        typed: dict[str, object] = {}
        reasons: list[Reason] = []
        missing = 0
        get = values.get
        for name, convert in steps:
            raw = get(name)
            if raw or (raw is not None and raw != ""):
                try:
                    typed[name] = convert(raw)
                    continue
                except _Invalid as invalid:
                    if type(raw) is not str or not raw.isspace():  # blank is absent
                        reasons.append(_reason(name, *invalid.args, raw))
                        continue
            if geometry is not None and name in geometric:
                try:
                    typed[name] = convert(geometry)
                except _Invalid as invalid:
                    reasons.append(_reason(name, *invalid.args, geometry))
            elif name in required:
                missing += 1
                reasons.append(_reason(name, "required", "a value is required", raw))
            else:
                typed[name] = None
        if not allow_unknown:
            # Names starting with "_" are parser metadata (a GeoJSON feature's "_id").
            reasons.extend(
                _reason(str(key), "unknown_field", "the dataset has no such field", raw)
                for key, raw in values.items()
                if key not in known and not str(key).startswith("_")
            )
        complete = 1.0 - missing / total if total else 1.0
        return new_outcome(ValidationOutcome, (typed, tuple(reasons), complete))

    return _fast_path(steps, known, allow_unknown, validate) if unrolled else validate


def _fast_path(
    steps: tuple[tuple[str, Converter], ...],
    known: frozenset[str],
    allow_unknown: bool,
    general: RecordValidator,
) -> RecordValidator:
    """Unroll the per-field loop for the common record: every field present and valid.

    The generated function reads each field, converts it and builds the typed values
    in one expression; any absent, blank or refused value, or an unknown field, hands
    the record to ``general``, which gives every reason. So the outcome is always the
    one ``general`` would give. Only variable names ``n0``, ``c0``… appear in the
    generated source; field names are passed as values, never as code.
    """
    if not steps or len(steps) > 64:
        return general
    namespace: dict[str, object] = {
        "general": general, "invalid": _Invalid, "known": known,
        "outcome": functools.partial(tuple.__new__, ValidationOutcome),
        "none": None, "empty": (),
    }  # fmt: skip
    reads, absent, pairs = [], [], []
    for index, (name, convert) in enumerate(steps):
        namespace[f"n{index}"], namespace[f"c{index}"] = name, convert
        reads.append(f"r{index} = get(n{index})")
        absent.append(f'r{index} is None or r{index} == ""')
        pairs.append(f"n{index}: c{index}(r{index})")
    unknown = (
        ""
        if allow_unknown
        else "    if not known.issuperset(values): return general(values, geometry)\n"
    )
    source = (
        "def validate(values, geometry=None):\n"
        "    get = values.get\n"
        + "".join(f"    {read}\n" for read in reads)
        + f"    if {' or '.join(absent)}: return general(values, geometry)\n"
        + unknown
        + "    try:\n"
        + f"        typed = {{{', '.join(pairs)}}}\n"
        + "    except invalid:\n"
        + "        return general(values, geometry)\n"
        + "    return outcome((typed, empty, 1.0))\n"
    )
    exec(source, namespace)  # noqa: S102 - source built above from fixed fragments
    fast = namespace["validate"]
    return fast  # type: ignore[return-value]


def _reason(name: str, rule: RuleCode, message: str, raw: object) -> Reason:
    return Reason(
        field=name, rule=rule, message=f"{name}: {message}", value=_SHORT.repr(raw)
    )


_cached = functools.lru_cache(maxsize=64)(_build)


def compile_rules(
    rules: Sequence[FieldRule],
    *,
    allow_unknown: bool = True,
    default_timezone: tzinfo | None = None,
) -> RecordValidator:
    """Build a validator for a batch; naive times are refused without a timezone."""
    try:
        return _cached(tuple(rules), allow_unknown, default_timezone)
    except TypeError:  # an unhashable rule (choices given as a list): build afresh
        return _build(rules, allow_unknown, default_timezone)


def validate_record(
    rules: Sequence[FieldRule],
    values: Mapping[str, object],
    *,
    geometry: Mapping[str, object] | None = None,
    allow_unknown: bool = True,
    default_timezone: tzinfo | None = None,
) -> ValidationOutcome:
    """Check one record against rules (see :func:`compile_rules` for batches)."""
    validator = compile_rules(
        rules, allow_unknown=allow_unknown, default_timezone=default_timezone
    )
    return validator(values, geometry)


def completeness(
    rules: Sequence[FieldRule],
    values: Mapping[str, object],
    *,
    geometry: Mapping[str, object] | None = None,
) -> float:
    """Return the share of required fields that have a value (1.0 if none needed)."""
    return compile_rules(rules)(values, geometry).completeness


__all__ = [
    "FIELD_TYPES",
    "GEOMETRY_TYPES",
    "FieldRule",
    "FieldType",
    "Reason",
    "RecordValidator",
    "RuleCode",
    "ValidationOutcome",
    "compile_rules",
    "completeness",
    "geometry_problem",
    "validate_record",
]
