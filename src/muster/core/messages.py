"""Commands, events, actors and the registry of event wire names (R3, R4).

Imported by every part's domain; depends on the standard library only.
"""

from __future__ import annotations

import dataclasses
import enum
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
    return {
        item.name: _to_json(getattr(event, item.name))
        for item in dataclasses.fields(event)
    }


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    """Return a class's resolved annotations (evaluated once per class: replay
    decodes every event, and resolving the strings each time was a third of it)."""
    found = _HINTS.get(cls)
    if found is None:
        found = _HINTS[cls] = typing.get_type_hints(cls)
    return found


def event_from_data(name: str, version: int, data: Mapping[str, JsonValue]) -> Event:
    """Rebuild an event from its wire name, version and payload, upcasting if needed."""
    cls = _REGISTRY.get(name)
    if cls is None:
        raise KeyError(f"unknown event type {name!r}")
    payload = dict(data)
    while version < cls.wire_version:
        payload = _UPCASTERS[(name, version)](payload)
        version += 1
    hints = _hints(cls)
    kwargs = {
        item.name: _from_json(hints[item.name], payload[item.name])
        for item in dataclasses.fields(cls)
        if item.name in payload
    }
    return cls(**kwargs)


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


def _from_json(hint: Any, value: JsonValue) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _from_json(options[0], value) if len(options) == 1 else value
    if origin in (tuple, frozenset, list):
        (inner, *_) = typing.get_args(hint) or (Any,)
        return origin(_from_json(inner, item) for item in value)
    if hint is datetime:
        return parse_utc(value)
    if hint is Decimal:
        return Decimal(value)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    supertype = getattr(hint, "__supertype__", None)  # NewType
    if supertype is not None:
        return _from_json(supertype, value)
    return value


__all__ = [
    "SYSTEM_ACTOR",
    "Actor",
    "Command",
    "Event",
    "event_from_data",
    "event_to_data",
    "event_type",
    "register_upcaster",
    "registered_event_types",
]
