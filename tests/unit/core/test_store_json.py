"""Stored bodies decode as ``json.loads`` decoded them, by orjson on replay.

``core/eventlog/store.py`` hands replay's bodies (the stored UTF-8 bytes) to orjson
and leaves what orjson refuses to ``json.loads``; text bodies (``read_all``) go to
``json.loads`` as before. These tests hold ``_loads`` to ``json.loads`` of the text
on any JSON the json module writes within 64-bit integers (``NaN``, lone surrogates,
bad input...) and on canonical bodies (every body the store writes), with the one
difference orjson has there: an integer literal past 64 bits, which canonical JSON
writes only for a whole float from 2**64 up to 1e21, is that float (the value the
event held live), where ``json.loads`` made it an int.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from muster.core.eventlog.chain import canonical_bytes
from muster.core.eventlog.store import _loads  # the decoder under test

texts = st.text() | st.sampled_from(
    ["\ud800", "a\udfffb", "Zoë 张三 🚒", '"\\\n\u0007']
)
numbers = (
    st.integers(-(2**63), 2**63 - 1)
    | st.sampled_from([2**63 - 1, -(2**63), 10**18, -(10**18), 2**53])
    | st.floats()
)
values = st.recursive(
    st.none() | st.booleans() | numbers | texts,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4)
    ),
    max_leaves=12,
)
canonical = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def outcome(decode: Any, body: Any) -> str:
    """The value's repr (NaN equals NaN, -0.0 is not 0.0, 1 is not 1.0) or the error."""
    try:
        return repr(decode(body))
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError
        return type(error).__name__


def reference(body: bytes) -> Any:
    """What replay decoded before: json.loads of the driver's text."""
    return json.loads(body.decode("utf-8"))


def past_64_bits_as_floats(body: bytes) -> Any:
    """json.loads, but integer literals past 64 bits read as floats (as orjson)."""

    def number(text: str) -> int | float:
        value = int(text)
        return value if -(2**63) <= value < 2**64 else float(text)

    return json.loads(body.decode("utf-8"), parse_int=number)


@settings(deadline=None, max_examples=300)
@given(value=canonical)
def test_given_a_canonical_body_when_decoded_then_as_json_loads(value: Any) -> None:
    """Every body the store writes decodes as the json module decoded it, save one.

    The exception: whole floats from 2**64 up to 1e21, written as integer literals.
    """
    body = canonical_bytes({"data": value})

    assert outcome(_loads, body) == outcome(past_64_bits_as_floats, body)
    assert outcome(_loads, body.decode("utf-8")) == outcome(reference, body)


@pytest.mark.parametrize("number", [2.0**64, 1e20, 123456789012345678901.0])
def test_given_a_whole_float_past_64_bits_when_replayed_then_it_is_the_float_held(
    number: float,
) -> None:
    """Canonical JSON writes it as an integer literal; replay reads the float back."""
    body = canonical_bytes({"data": {"n": number}})

    assert b"e" not in body.split(b'"n":')[1]  # an integer literal, no exponent
    assert repr(_loads(body)["data"]["n"]) == repr(number)
    assert type(reference(body)["data"]["n"]) is int  # what json.loads made of it


@settings(deadline=None, max_examples=400)
@given(value=values, ascii_only=st.booleans())
def test_given_any_json_the_json_module_writes_when_decoded_then_as_json_loads(
    value: Any, ascii_only: bool
) -> None:
    """NaN, infinities, 64-bit integers, lone surrogates: as before."""
    body = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")

    assert outcome(_loads, body) == outcome(reference, body)


@pytest.mark.parametrize(
    "body",
    [b'{"a": 1', b"", b"[1,]", b'{"a": NaN}x', b'{"a": "\xff"}', b"\xef\xbb\xbf{}"],
)
def test_given_bad_json_or_utf8_when_decoded_then_it_fails_as_json_loads(
    body: bytes,
) -> None:
    """Refused input is json.loads's to refuse, with its kind of error."""
    assert outcome(_loads, body) == outcome(reference, body)
    assert outcome(_loads, body) in {"JSONDecodeError", "UnicodeDecodeError"}


@pytest.mark.parametrize(
    "body",
    [
        b'{"a": 1, "a": 2}',
        b'{"at_limit": 9223372036854775807, "low": -9223372036854775808}',
        b'{"id": "1234567890123456789012"}',
        b"[1e400, -0, -0.0, 1E5, 0.1e-999]",
    ],
)
def test_given_edge_numbers_and_duplicate_keys_when_decoded_then_as_json_loads(
    body: bytes,
) -> None:
    """Last duplicate wins; 64-bit integers stay exact; overflow as before."""
    assert outcome(_loads, body) == outcome(reference, body)


@pytest.mark.parametrize("number", [2**53, -(2**53), 2**63, 2**64, float("nan")])
def test_given_a_number_out_of_the_canonical_domain_when_stored_then_it_is_refused(
    number: float,
) -> None:
    """No body holds an int past 2**53 (nor NaN): appending refuses it."""
    with pytest.raises(ValueError, match=r"not representable|domain"):
        canonical_bytes({"data": {"n": number}})
