"""JSON column values are the text ``JSONEncoder.encode`` wrote, byte for byte.

``response/projection_rows.to_json`` calls the C encoder that ``encode`` makes, with
the same settings, kept per thread between calls (replay writes a timeline row per
event). Any value, odd ones included, gives the same text or the same error, from
any number of threads.
"""

from __future__ import annotations

import enum
import json
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from muster.response.projection_rows import to_json

REFERENCE = json.JSONEncoder(ensure_ascii=False, sort_keys=True)


class Level(enum.StrEnum):
    """A str subclass, which the json module writes as its text."""

    L1 = "L1"


class Count(enum.IntEnum):
    """An int subclass, written as its number."""

    ONE = 1


texts = st.text() | st.sampled_from(["\ud800", "Zoë 张三 🚒", '"\\\n\u0007\u2028'])
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | texts
    | st.sampled_from([Level.L1, Count.ONE, 2**80, -0.0])
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(texts, inner, max_size=4)
    ),
    max_leaves=14,
)


def outcome(encode: Any, value: Any) -> str:
    """The text, or the error's type and message."""
    try:
        return str(encode(value))
    except (TypeError, ValueError) as error:
        return f"{type(error).__name__}: {error}"


@settings(deadline=None, max_examples=400)
@given(value=values)
def test_given_any_value_when_written_then_the_text_is_json_encoder_s(
    value: Any,
) -> None:
    """Same keys order, separators, escapes, floats (NaN too) and numbers."""
    assert outcome(to_json, value) == outcome(REFERENCE.encode, value)


@pytest.mark.parametrize(
    "value",
    [
        "top-level text",
        {3: "int key", 2.5: "float key", True: "bool key", None: "null key"},
        {"b": 1, 1: "mixed keys cannot be sorted"},
        {"a": Decimal("1.5")},
        {"a": {1, 2}},
        float("inf"),
    ],
)
def test_given_odd_values_when_written_then_same_text_or_same_error(
    value: Any,
) -> None:
    """Non-text keys, unsortable keys, unsupported types: as the encoder did."""
    assert outcome(to_json, value) == outcome(REFERENCE.encode, value)


def test_given_a_circular_value_when_written_twice_then_the_same_error_each_time() -> (
    None
):
    """Each call has its own circular-reference check, as each encode call had."""
    loop: list[Any] = []
    loop.append(loop)

    first = outcome(to_json, loop)

    assert first == outcome(REFERENCE.encode, loop)
    assert outcome(to_json, [loop]) == outcome(REFERENCE.encode, [loop])
    assert outcome(to_json, {"a": [1]}) == '{"a": [1]}'


def test_given_threads_writing_shared_values_when_at_once_then_each_text_is_right() -> (
    None
):
    """Each thread keeps its own encoder: shared values are never taken for loops."""
    shared = {"deep": [{"k": [1, 2, {"x": "张三"}]}] * 3}
    values = [shared, [shared, shared], {"a": shared, "b": [shared]}]
    expected = [REFERENCE.encode(value) for value in values]

    def write(_index: int) -> list[str]:
        return [to_json(value) for _ in range(200) for value in values][-3:]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(write, range(8)))

    assert all(result == expected for result in results)
