"""Domain models: exact Decimal money and quantities, enums for sides and states, frozen events."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmexec.engine.models import (
    FillEvent,
    OpenOrder,
    OrderState,
    PlaceOrderRequest,
    PlaceOrderResponse,
    Position,
    Quote,
    Side,
    to_decimal,
)


def test_side_sign_and_opposite() -> None:
    assert Side.BUY.sign == 1
    assert Side.SELL.sign == -1
    assert Side.BUY.opposite is Side.SELL
    assert Side.SELL.opposite is Side.BUY
    assert Side("SELL") is Side.SELL
    assert str(Side.BUY) == "BUY"


def test_order_states_are_the_issue_list() -> None:
    assert [s.value for s in OrderState] == [
        "PENDING", "OPEN", "PARTIALLY_FILLED", "FILLED", "CANCELED", "REJECTED",
    ]
    assert {s for s in OrderState if s.is_terminal} == {OrderState.FILLED, OrderState.CANCELED, OrderState.REJECTED}
    assert {s for s in OrderState if s.is_active} == {OrderState.OPEN, OrderState.PARTIALLY_FILLED}
    assert not OrderState.PENDING.is_terminal
    assert not OrderState.PENDING.is_active


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.1, Decimal("0.1")),
        (0.15, Decimal("0.15")),
        (50000.0, Decimal("50000.0")),
        (3, Decimal(3)),
        ("0.30", Decimal("0.30")),
        (Decimal("1.25"), Decimal("1.25")),
    ],
)
def test_to_decimal_reads_operator_numbers_exactly(value: object, expected: Decimal) -> None:
    result = to_decimal(value)  # type: ignore[arg-type]
    assert isinstance(result, Decimal)
    assert result == expected


@pytest.mark.parametrize("value", [None, [1], object(), b"1"])
def test_to_decimal_refuses_non_numbers(value: object) -> None:
    with pytest.raises(TypeError):
        to_decimal(value)  # type: ignore[arg-type]


def test_float_sums_stay_exact_through_the_models() -> None:
    # 0.1 + 0.05 is 0.15000000000000002 in float arithmetic; the models never do float arithmetic.
    a = PlaceOrderRequest("CLI00000001", "BTCUSDT", "BUY", 0.1, 50000.0)
    b = PlaceOrderRequest("CLI00000002", "BTCUSDT", Side.BUY, 0.05, "50000")
    assert a.qty + b.qty == Decimal("0.15")
    assert str(a.qty + b.qty) == "0.15"


def test_place_order_request_normalises_types() -> None:
    req = PlaceOrderRequest("CLI00000001", "ETHUSDT", "SELL", "0.33", 3000)
    assert req.side is Side.SELL
    assert isinstance(req.qty, Decimal) and req.qty == Decimal("0.33")
    assert isinstance(req.price, Decimal) and req.price == 3000
    assert req == PlaceOrderRequest("CLI00000001", "ETHUSDT", Side.SELL, Decimal("0.33"), Decimal(3000))


def test_place_order_request_refuses_an_unknown_side() -> None:
    with pytest.raises(ValueError):
        PlaceOrderRequest("CLI00000001", "ETHUSDT", "HOLD", 1, 1)


def _frozen_instances() -> list[object]:
    return [
        PlaceOrderRequest("CLI00000001", "BTCUSDT", Side.BUY, 1, 2),
        PlaceOrderResponse(True, "CLI00000001", "ORD000001"),
        OpenOrder("ORD000001", "CLI00000001", "BTCUSDT", Side.BUY, Decimal(1), Decimal(2), Decimal(0),
                  OrderState.OPEN),
        Position("BTCUSDT", Decimal("0.5")),
        FillEvent("CLI00000001", "ORD000001", "BTCUSDT", Side.BUY, Decimal(1), Decimal(2), 0),
        Quote("BTCUSDT", 1, 2),
    ]


@pytest.mark.parametrize("instance", _frozen_instances(), ids=lambda o: type(o).__name__)
def test_events_are_frozen_and_slotted(instance: object) -> None:
    # Hot-path messages are named tuples, the rest frozen slotted dataclasses: both refuse assignment.
    fields = getattr(instance, "_fields", None) or [f.name for f in dataclasses.fields(instance)]  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        setattr(instance, fields[0], "x")
    assert not hasattr(instance, "__dict__")


def test_response_defaults_and_raw_is_not_compared() -> None:
    ok = PlaceOrderResponse(True, "CLI00000001", "ORD000001")
    assert ok.state is OrderState.OPEN
    assert ok.message == ""
    assert ok == PlaceOrderResponse(True, "CLI00000001", "ORD000001", raw={"retCode": 0})
    assert hash(ok) == hash(PlaceOrderResponse(True, "CLI00000001", "ORD000001", raw={"retCode": 0}))
    assert ok != PlaceOrderResponse(False, "CLI00000001", None, OrderState.REJECTED, "no")
    assert ok != (True, "CLI00000001", "ORD000001", OrderState.OPEN, "")  # not equal to a bare tuple
    assert len({ok, PlaceOrderResponse(True, "CLI00000001", "ORD000001", raw={})}) == 1


def test_position_default_entry_price() -> None:
    assert Position("BTCUSDT", Decimal("-0.02")).avg_price == 0


def test_fill_notional_is_exact() -> None:
    fill = FillEvent("CLI00000001", "ORD000001", "ETHUSDT", Side.SELL, Decimal("0.33"), Decimal("3000.01"), 5)
    assert fill.notional == Decimal("990.0033")
    assert fill.is_maker is True


def test_quote_mid_is_exact_and_converts_inputs() -> None:
    q = Quote("BTCUSDT", 49999.9, "50000.0", timestamp_ms=7)
    assert q.bid == Decimal("49999.9")
    assert q.mid == Decimal("49999.95")
    assert q.timestamp_ms == 7
    assert Quote("X", 1, 2).timestamp_ms == 0


@settings(max_examples=100, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_reads_as_its_shortest_repr(value: float) -> None:
    # "0.1 means exactly 0.1": the Decimal is the float's shortest round-trip text, not its binary expansion.
    d = to_decimal(value)
    assert float(d) == value
    assert d == Decimal(repr(value))
