"""Commands, events, actors and the registry of event wire names (R3, R4).

Imported by every part's domain; depends on the standard library only.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal, TypeVar

from muster.core.clock import isoformat_utc, parse_utc

JsonValue = Any  # JSON-compatible value; kept loose at the serialisation edge only

ActorKind = Literal["user", "api_key", "system"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Actor:
    """Who asks for a command: a person, a machine connector or Muster itself."""

    kind: ActorKind
    id: str
    department: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    name: str = ""

    def has_role(self, *roles: str) -> bool:
        """Tell whether the actor holds any of the given roles."""
        return any(role in self.roles for role in roles)

    def to_data(self) -> dict[str, JsonValue]:
        """Return the actor as it is recorded in an event envelope."""
        return {"kind": self.kind, "id": self.id, "department": self.department}


SYSTEM_ACTOR = Actor(kind="system", id="muster", roles=frozenset({"system"}))


@dataclass(frozen=True, kw_only=True, slots=True)
class Command:
    """A request that may be refused. Subclasses are named VerbNoun."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Event:
    """A fact that happened. Subclasses are named NounVerbed and registered."""

    wire_name: ClassVar[str] = ""
    wire_version: ClassVar[int] = 0


E = TypeVar("E", bound=type[Event])
T = TypeVar("T")

_REGISTRY: dict[str, type[Event]] = {}
Upcaster = Callable[[dict[str, JsonValue]], dict[str, JsonValue]]
_UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def event_type(name: str, *, version: int = 1) -> Callable[[E], E]:
    """Register an event class under a stable wire name and version."""

    def register(cls: E) -> E:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"event type {name!r} registered twice")
        cls.wire_name = name
        cls.wire_version = version
        _REGISTRY[name] = cls
        return cls

    return register


def register_upcaster(name: str, *, from_version: int, upcaster: Upcaster) -> None:
    """Register a function turning version N payloads of an event into N+1."""
    _UPCASTERS[(name, from_version)] = upcaster


def registered_event_types() -> Mapping[str, type[Event]]:
    """Return the registry of wire names to event classes."""
    return dict(_REGISTRY)


def event_to_data(event: Event) -> dict[str, JsonValue]:
    """Turn an event into a JSON-compatible dict (its payload)."""
    data: dict[str, JsonValue] = {}
    for name in _field_names(type(event)):
        value = getattr(event, name)
        data[name] = value if type(value) in _PLAIN else _to_json(value)
    return data


# Types that are their own JSON form (checked by exact type: enums may subclass str).
_PLAIN: frozenset[type] = frozenset({str, int, float, bool, type(None)})

Converter = Callable[[JsonValue], Any]
"""Turns one decoded JSON value (never None) into the field's Python value."""

_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
_DECODERS: dict[type, tuple[tuple[str, Converter | None], ...]] = {}
_SHORTCUTS: dict[type, _Shortcut] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    found = _FIELD_NAMES.get(cls)
    if found is None:
        names = tuple(item.name for item in dataclasses.fields(cls))
        found = _FIELD_NAMES[cls] = names
    return found


def _decoder(cls: type) -> tuple[tuple[str, Converter | None], ...]:
    """Return each field's name and converter (None: the JSON value is kept as is).

    Built once per class from its resolved annotations: replay decodes every event
    of the log, and resolving the annotation strings per event was a third of it.
    """
    found = _DECODERS.get(cls)
    if found is None:
        hints = typing.get_type_hints(cls)
        found = _DECODERS[cls] = tuple(
            (name, _converter(hints[name])) for name in _field_names(cls)
        )
    return found


def event_from_data(name: str, version: int, data: Mapping[str, JsonValue]) -> Event:
    """Rebuild an event from its wire name, version and payload, upcasting if needed."""
    cls = _REGISTRY.get(name)
    if cls is None:
        raise KeyError(f"unknown event type {name!r}")
    payload = data
    if version < cls.wire_version:
        upcast = dict(data)
        while version < cls.wire_version:
            upcast = _UPCASTERS[(name, version)](upcast)
            version += 1
        payload = upcast
    shortcut = _shortcut(cls)
    if shortcut.as_is and payload.keys() == shortcut.names:
        # Every field, no other key, nothing to convert: the values as they are.
        if shortcut.construct is not None:
            return shortcut.construct(payload)
        return cls(**payload)
    kwargs: dict[str, Any] = {}
    for field_name, convert in _decoder(cls):
        if field_name in payload:
            value = payload[field_name]
            if convert is not None and value is not None:
                value = convert(value)
            kwargs[field_name] = value
    return cls(**kwargs)


def decoded_as_is(cls: type[Event], version: int, data: Mapping[str, Any]) -> bool:
    """Tell whether ``event_to_data`` gives ``data`` back for an event decoded from it.

    True when the payload is the current version's, holds every field and no other
    key, and the class neither converts a field's JSON value (datetimes, enums,
    tuples...) nor has a ``__post_init__``: the event then holds the decoded values
    themselves. A caller needing the payload of an event read from the log may then
    use the stored one (live, the envelope's data is ``event_to_data`` of the event).
    """
    shortcut = _shortcut(cls)
    return (
        shortcut.as_is and version == cls.wire_version and data.keys() == shortcut.names
    )


def slot_constructor(cls: type[T]) -> Callable[[Mapping[str, Any]], T] | None:
    """Return a function making a frozen dataclass from a mapping of all its fields.

    The instance is the one ``cls(**values)`` makes, built faster: a frozen
    dataclass's ``__init__`` sets each field with ``object.__setattr__`` (looking
    the name up), the dearest part of decoding an event; this sets each slot with
    its own descriptor, as ``dataclasses`` writes an ``__init__`` (generated code,
    field names only). A missing field raises ``KeyError``. None when it might not
    be the same instance: no slots, a ``__post_init__``, or an ``__init__`` taking
    other parameters than the fields (an ``InitVar``, a hand-written one).
    """
    if not dataclasses.is_dataclass(cls) or hasattr(cls, "__post_init__"):
        return None
    names = [item.name for item in dataclasses.fields(cls) if item.init]
    if list(inspect.signature(cls).parameters) != names:
        return None
    slots = [getattr(cls, name, None) for name in names]
    if not all(isinstance(slot, types.MemberDescriptorType) for slot in slots):
        return None
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls}
    lines = ["def construct(values):", "    instance = new(cls)"]
    for index, (name, slot) in enumerate(zip(names, slots, strict=True)):
        namespace[f"set_{index}"] = slot.__set__  # type: ignore[union-attr]
        lines.append(f"    set_{index}(instance, values[{name!r}])")
    lines.append("    return instance")
    exec("\n".join(lines), namespace)  # noqa: S102 - field names, as dataclasses do
    construct: Callable[[Mapping[str, Any]], T] = namespace["construct"]
    return construct


class _Shortcut:
    """How ``event_from_data`` decodes a payload holding exactly the fields."""

    __slots__ = ("as_is", "construct", "names")

    def __init__(self, cls: type[Event]) -> None:
        decoder = _decoder(cls)
        self.names = frozenset(name for name, _convert in decoder)
        """The payload's keys when it holds every field and no other."""
        self.as_is = not hasattr(cls, "__post_init__") and all(
            convert is None for _name, convert in decoder
        )
        """Such a payload's values are the event's fields, as they are."""
        self.construct = slot_constructor(cls) if self.as_is else None


def _shortcut(cls: type[Event]) -> _Shortcut:
    found = _SHORTCUTS.get(cls)
    if found is None:
        found = _SHORTCUTS[cls] = _Shortcut(cls)
    return found


def _to_json(value: object) -> JsonValue:
    if isinstance(value, datetime):
        return isoformat_utc(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple | list | frozenset | set):
        items = [_to_json(item) for item in value]
        return sorted(items) if isinstance(value, frozenset | set) else items
    if isinstance(value, dict):
        return {str(key): _to_json(item) for key, item in value.items()}
    return value


def _converter(hint: Any) -> Converter | None:
    """Return the converter for a field's type; None when the JSON value is kept."""
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _converter(options[0]) if len(options) == 1 else None
    if origin in (tuple, frozenset, list):
        (inner, *_) = typing.get_args(hint) or (Any,)
        return _collection(origin, _converter(inner))
    if hint is datetime:
        return parse_utc
    if hint is Decimal:
        return Decimal
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint
    supertype = getattr(hint, "__supertype__", None)  # NewType
    if supertype is not None:
        return _converter(supertype)
    return None


def _collection(origin: Any, item: Converter | None) -> Converter:
    if item is None:
        return lambda value: origin(value)

    def convert(value: JsonValue) -> Any:
        return origin(None if entry is None else item(entry) for entry in value)

    return convert


__all__ = [
    "SYSTEM_ACTOR",
    "Actor",
    "Command",
    "Event",
    "decoded_as_is",
    "event_from_data",
    "event_to_data",
    "event_type",
    "register_upcaster",
    "registered_event_types",
    "slot_constructor",
]
