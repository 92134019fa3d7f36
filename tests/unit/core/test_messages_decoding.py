"""Event payloads decode and encode as the per-call type-hint walk did.

``core/messages.py`` builds one converter per field and class (replay decodes every
event of the log); these tests hold it to the original algorithm, kept here as the
reference, over every kind of field type an event may declare. ``decoded_as_is``
says when an event's payload is the stored one (the timeline then reuses it).
"""

from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NewType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from muster.core.clock import isoformat_utc, parse_utc
from muster.core.eventlog.store import Envelope
from muster.core.messages import (  # _decoder: the per-class plan under test
    Event,
    _decoder,
    decoded_as_is,
    event_from_data,
    event_to_data,
    event_type,
    registered_event_types,
    slot_constructor,
)

Code = NewType("Code", str)


class Level(enum.Enum):
    """A value-typed enum field."""

    L1 = "L1"
    L2 = "L2"


class Colour(enum.StrEnum):
    """A str enum: not plain JSON although it is a str."""

    RED = "red"
    BLUE = "blue"


@event_type("test.EveryKindOfField")
@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class EveryKindOfField(Event):
    """One field per kind of type hint the decoder handles."""

    name: str
    count: int
    ratio: float
    flag: bool
    at: datetime
    when: datetime | None
    amount: Decimal
    level: Level
    colour: Colour
    code: Code
    codes: tuple[Code, ...]
    moments: tuple[datetime, ...]
    tags: frozenset[str]
    levels: list[Level]
    facts: dict[str, Any]
    either: int | str
    optional_level: Level | None = None


def reference_from_json(hint: Any, value: Any) -> Any:
    """The decoder as it was: walk the hint for every value."""
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return reference_from_json(options[0], value) if len(options) == 1 else value
    if origin in (tuple, frozenset, list):
        (inner, *_) = typing.get_args(hint) or (Any,)
        return origin(reference_from_json(inner, item) for item in value)
    if hint is datetime:
        return parse_utc(value)
    if hint is Decimal:
        return Decimal(value)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    supertype = getattr(hint, "__supertype__", None)
    if supertype is not None:
        return reference_from_json(supertype, value)
    return value


def reference_to_json(value: object) -> Any:
    """The encoder as it was: every value through the type checks."""
    if isinstance(value, datetime):
        return isoformat_utc(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple | list | frozenset | set):
        items = [reference_to_json(item) for item in value]
        return sorted(items) if isinstance(value, frozenset | set) else items
    if isinstance(value, dict):
        return {str(key): reference_to_json(item) for key, item in value.items()}
    return value


def reference_decode(cls: type[Event], data: dict[str, Any]) -> Event:
    hints = typing.get_type_hints(cls)
    return cls(
        **{
            item.name: reference_from_json(hints[item.name], data[item.name])
            for item in dataclasses.fields(cls)
            if item.name in data
        }
    )


moments = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)
texts = st.text(max_size=12)
events = st.builds(
    EveryKindOfField,
    name=texts,
    count=st.integers(),
    ratio=st.floats(allow_nan=False),
    flag=st.booleans(),
    at=moments,
    when=st.none() | moments,
    amount=st.decimals(allow_nan=False, allow_infinity=False, places=3),
    level=st.sampled_from(Level),
    colour=st.sampled_from(Colour),
    code=texts.map(Code),
    codes=st.lists(texts.map(Code), max_size=3).map(tuple),
    moments=st.lists(moments, max_size=3).map(tuple),
    tags=st.frozensets(texts, max_size=3),
    levels=st.lists(st.sampled_from(Level), max_size=3),
    facts=st.dictionaries(texts, st.integers() | texts, max_size=3),
    either=st.integers() | texts,
    optional_level=st.none() | st.sampled_from(Level),
)


@settings(deadline=None, max_examples=200)
@given(event=events)
def test_given_any_event_when_encoded_then_the_payload_is_the_reference_one(
    event: EveryKindOfField,
) -> None:
    """``event_to_data`` gives the payload the type-checking encoder gave."""
    expected = {
        item.name: reference_to_json(getattr(event, item.name))
        for item in dataclasses.fields(event)
    }

    assert event_to_data(event) == expected


@settings(deadline=None, max_examples=200)
@given(event=events, dropped=st.sets(st.just("optional_level")))
def test_given_any_payload_when_decoded_then_the_event_is_the_reference_one(
    event: EveryKindOfField, dropped: set[str]
) -> None:
    """``event_from_data`` rebuilds what the hint walk rebuilt, fields left out too."""
    data = {k: v for k, v in event_to_data(event).items() if k not in dropped}

    decoded = event_from_data("test.EveryKindOfField", 1, data)

    assert decoded == reference_decode(EveryKindOfField, data)
    assert type(decoded.level) is Level  # type: ignore[attr-defined]
    assert type(decoded.colour) is Colour  # type: ignore[attr-defined]
    if not dropped:
        assert decoded == event


def test_given_every_registered_event_class_when_its_decoder_is_built_then_it_is() -> (
    None
):
    """Each event class of the application gets a converter per field."""
    import muster.bootstrap  # noqa: F401 - registers every part's events

    classes = registered_event_types()

    assert len(classes) > 50
    for cls in classes.values():
        names = [name for name, _convert in _decoder(cls)]
        assert names == [item.name for item in dataclasses.fields(cls)]


# A payload for a field that is absent from the class is ignored, as before.
def test_given_an_unknown_key_when_decoded_then_it_is_ignored() -> None:
    """Keys the class does not declare are ignored."""
    event = EveryKindOfField(
        name="n", count=1, ratio=0.5, flag=True, at=datetime(2026, 7, 1, tzinfo=UTC),
        when=None, amount=Decimal("1.50"), level=Level.L1, colour=Colour.RED,
        code=Code("c"), codes=(), moments=(), tags=frozenset(), levels=[], facts={},
        either=1,
    )  # fmt: skip
    data = {**event_to_data(event), "retired_field": 1}

    assert event_from_data("test.EveryKindOfField", 1, data) == event


@event_type("test.PlainFields")
@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class PlainFields(Event):
    """Fields whose JSON values are kept as they are (no converter)."""

    name: str
    count: int
    ratio: float
    flag: bool
    facts: dict[str, Any]
    anything: Any
    note: str | None = None


@event_type("test.Normalised")
@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Normalised(Event):
    """Plain fields, but the event changes a value after ``__init__``."""

    name: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", self.name.strip())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3)
    ),
    max_leaves=8,
)
plain_payloads = st.fixed_dictionaries(
    {
        "name": texts, "count": st.integers(), "ratio": st.floats(allow_nan=False),
        "flag": st.booleans(), "facts": st.dictionaries(texts, json_values),
        "anything": json_values, "note": st.none() | texts,
    }
)  # fmt: skip


@settings(deadline=None, max_examples=200)
@given(payload=plain_payloads)
def test_given_a_plain_payload_when_decoded_as_is_then_the_event_gives_it_back(
    payload: dict[str, Any],
) -> None:
    """``decoded_as_is``: the event's payload is the stored one, value for value."""
    event = event_from_data("test.PlainFields", 1, payload)

    assert decoded_as_is(PlainFields, 1, payload)
    assert event_to_data(event) == payload
    assert json.dumps(event_to_data(event), sort_keys=True) == json.dumps(
        payload, sort_keys=True
    )


@settings(deadline=None, max_examples=50)
@given(payload=plain_payloads, event=events)
def test_given_a_payload_that_is_not_kept_as_is_when_asked_then_no(
    payload: dict[str, Any], event: EveryKindOfField
) -> None:
    """Converters, a missing or extra key, an older version, ``__post_init__``: no."""
    missing = {k: v for k, v in payload.items() if k != "note"}

    assert not decoded_as_is(EveryKindOfField, 1, event_to_data(event))
    assert not decoded_as_is(PlainFields, 1, missing)
    assert not decoded_as_is(PlainFields, 1, {**payload, "retired": 1})
    assert not decoded_as_is(PlainFields, 0, payload)
    assert not decoded_as_is(Normalised, 1, {"name": " x "})
    assert event_to_data(event_from_data("test.Normalised", 1, {"name": " x "})) == {
        "name": "x"
    }


def test_given_every_registered_event_class_when_built_by_slots_then_as_by_init() -> (
    None
):
    """``slot_constructor`` makes the instance ``cls(**values)`` makes, still frozen."""
    import muster.bootstrap  # noqa: F401 - registers every part's events

    built = 0
    classes: list[type[Any]] = [*registered_event_types().values(), Envelope]
    for cls in classes:
        construct = slot_constructor(cls)
        if construct is None:
            continue
        values = {item.name: f"v{i}" for i, item in enumerate(dataclasses.fields(cls))}
        made = construct(values)
        expected = cls(**values)
        assert (type(made), made, repr(made)) == (
            type(expected),
            expected,
            repr(expected),
        )
        with pytest.raises(dataclasses.FrozenInstanceError):
            made.__setattr__(next(iter(values)), "changed")
        built += 1
    assert built > 50


@dataclasses.dataclass(frozen=True, slots=True)
class WithInitVar:
    """``__init__`` takes a parameter that is not a field."""

    name: str
    scale: dataclasses.InitVar[int] = 1


@dataclasses.dataclass(frozen=True)
class WithoutSlots:
    """Fields in ``__dict__``, no slot descriptors."""

    name: str


def test_given_a_class_whose_init_does_more_when_asked_then_no_slot_constructor() -> (
    None
):
    """``__post_init__``, an ``InitVar``, no slots: None (build it by calling it)."""
    assert slot_constructor(Normalised) is None
    assert slot_constructor(WithInitVar) is None
    assert slot_constructor(WithoutSlots) is None
    assert slot_constructor(PlainFields) is not None
    with pytest.raises(KeyError):
        slot_constructor(PlainFields)({"name": "only one"})  # type: ignore[misc]
