"""Canonical JSON: the bytes of json.dumps(sort_keys, compact, ensure_ascii=False) + newline; NaN refused."""

from __future__ import annotations

import json
from decimal import Decimal
from enum import Enum
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmexec.canonical import NonFiniteNumberError, decimal_to_number, dumps, dumps_str, loads, to_jsonable
from mmexec.engine.models import OrderState, Side


def _reference(obj: Any) -> bytes:
    return (json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8")


INT64 = st.integers(min_value=-(2**63), max_value=2**64 - 1)
FINITE = st.floats(allow_nan=False, allow_infinity=False)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | INT64 | FINITE | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=25,
)


@settings(max_examples=100, deadline=None)
@given(JSON_VALUES)
def test_bytes_equal_json_dumps(obj: Any) -> None:
    assert dumps(obj) == _reference(obj)


@settings(max_examples=200, deadline=None)
@given(FINITE)
def test_every_float_prints_like_json_dumps(value: float) -> None:
    assert dumps({"v": value}) == _reference({"v": value})
    assert dumps([value]) == _reference([value])


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1e-05, "1e-05"),
        (-1.5e-07, "-1.5e-07"),
        (5e-324, "5e-324"),
        (0.0001, "0.0001"),
        (0.00015, "0.00015"),
        (1e16, "1e+16"),
        (123456789.125, "123456789.125"),
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (2.0, "2.0"),
    ],
)
def test_float_spellings(value: float, text: str) -> None:
    assert dumps(value) == f"{text}\n".encode()


def test_layout_sorted_compact_utf8_newline() -> None:
    obj = {"b": [1, 2, {"z": None, "a": True}], "a": "é€😀", "A": "\u2028\n\t\"\\"}
    out = dumps(obj)
    assert out == _reference(obj)
    assert out.endswith(b"}\n") and out.count(b"\n") == 1
    assert "é€😀".encode() in out  # raw UTF-8, no \\u escapes
    assert b" " not in out
    assert out.index(b'"A"') < out.index(b'"a"') < out.index(b'"b"')


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("0.15"), "0.15"),
        (Decimal("0.1") + Decimal("0.05"), "0.15"),
        (Decimal("50000.00"), "50000.0"),
        (Decimal("-0.33"), "-0.33"),
        (Decimal("5938.218"), "5938.218"),
        (Decimal(7), "7.0"),
        (Decimal("0"), "0.0"),
        (Decimal("0.00001"), "1e-05"),
        (Decimal("1E+20"), "1e+20"),
        (Decimal("-0.000"), "0.0"),
        (Decimal("2186925.49856273171527"), "2186925.49856273171527"),  # a float would say 2186925.498562732
        (Decimal("123456789012345678901234"), "1.23456789012345678901234e+23"),
        (Decimal("1e400"), "1e+400"),
    ],
)
def test_decimals_become_numbers_at_the_edge(value: Decimal, text: str) -> None:
    assert dumps({"x": value}) == f'{{"x":{text}}}\n'.encode()


@settings(max_examples=200, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_decimal_is_written_exactly(value: Decimal) -> None:
    text = dumps([value])
    assert Decimal(json.loads(text, parse_float=str)[0]) == value  # the exact value, every digit
    if Decimal(repr(float(value))) == value:  # a float holds it exactly: the bytes json.dumps gives that float
        assert text == _reference([float(value)])


@settings(max_examples=100, deadline=None)
@given(FINITE)
def test_decimal_of_a_float_prints_like_the_float(value: float) -> None:
    assert dumps([Decimal(repr(value))]) == _reference([value if value else 0.0])


def test_float_arithmetic_noise_never_appears_for_exact_sums() -> None:
    fills = [Decimal("0.05"), Decimal("0.1")]
    assert dumps({"qty": sum(fills, Decimal(0))}) == b'{"qty":0.15}\n'
    assert 0.05 + 0.1 == 0.15000000000000002  # what float arithmetic would have written


@pytest.mark.parametrize(
    "bad",
    [
        float("nan"),
        float("inf"),
        -float("inf"),
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("Infinity"),
        Decimal("-Infinity"),
    ],
    ids=repr,
)
def test_non_finite_numbers_are_refused(bad: Any) -> None:
    with pytest.raises(NonFiniteNumberError):
        dumps(bad)
    with pytest.raises(ValueError, match=r"positions\.by_symbol\.BTCUSDT"):
        dumps({"positions": {"by_symbol": {"BTCUSDT": bad}}})
    with pytest.raises(ValueError, match=r"\[1\]"):
        dumps([0, bad])


def test_never_written_as_null() -> None:
    with pytest.raises(NonFiniteNumberError):
        to_jsonable({"a": [1.0, float("nan")]})


class Color(Enum):
    RED = "red"


def test_enums_tuples_and_nesting() -> None:
    obj = {"side": Side.BUY, "state": OrderState.PARTIALLY_FILLED, "c": Color.RED, "t": (1, (2, 3))}
    assert dumps(obj) == b'{"c":"red","side":"BUY","state":"PARTIALLY_FILLED","t":[1,[2,3]]}\n'


@pytest.mark.parametrize("bad", [{1: "x"}, {("a",): 1}, {"ok": {2: 3}}])
def test_non_string_keys_are_refused(bad: Any) -> None:
    with pytest.raises(TypeError, match="keys must be strings"):
        dumps(bad)


@pytest.mark.parametrize("bad", [object(), {1, 2}, b"bytes", complex(1, 2)])
def test_unknown_types_are_refused(bad: Any) -> None:
    with pytest.raises(TypeError, match="cannot write"):
        dumps({"x": bad})


def test_integers_beyond_64_bits_are_written_exactly() -> None:
    assert dumps(2**64) == _reference(2**64)
    assert dumps([-(2**63) - 1, 10**99]) == _reference([-(2**63) - 1, 10**99])
    assert dumps(2**64 - 1) == _reference(2**64 - 1)
    assert dumps(-(2**63)) == _reference(-(2**63))


def test_plain_mode_gives_json_dumps_ready_data() -> None:
    obj = {"q": Decimal("0.00001"), "x": [Decimal("1.5"), Side.SELL], "n": None}
    plain = to_jsonable(obj, fragments=False)
    assert plain == {"q": 1e-05, "x": [1.5, "SELL"], "n": None}
    assert _reference(plain) == dumps(obj)


def test_decimal_to_number() -> None:
    assert decimal_to_number(Decimal("0.1"), fragments=False) == 0.1
    assert decimal_to_number(Decimal("-0"), fragments=False) == 0.0
    with pytest.raises(NonFiniteNumberError, match="at x"):
        decimal_to_number(Decimal("NaN"), "x")


def test_round_trip_and_text_form() -> None:
    obj = {"a": [1, 2.5, "x", None, True], "b": {"c": -3}}
    assert loads(dumps(obj)) == obj
    assert loads(dumps_str(obj)) == obj
    assert dumps_str(obj) == dumps(obj).decode("utf-8")
