"""The one money context and the fixed-point value types."""

from __future__ import annotations

from decimal import Decimal, Inexact

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mmexec.accounting import pnl
from mmexec.fees import calc
from mmexec.money import MONEY_CONTEXT, Price, Quantity, from_ticks, to_ticks


def test_fees_and_pnl_share_the_one_context() -> None:
    assert calc.FEE_CONTEXT is MONEY_CONTEXT
    assert pnl.MONEY_CONTEXT is MONEY_CONTEXT
    with pytest.raises(Inexact):
        MONEY_CONTEXT.divide(Decimal(1), Decimal(3))


@given(st.integers(-10**12, 10**12), st.integers(0, 12))
def test_price_round_trips_through_decimal(raw: int, precision: int) -> None:
    price = Price(raw, precision)
    assert Price.of(price.as_decimal(), precision) == price
    assert Price.parse(format(price.as_decimal(), "f")).as_decimal() == price.as_decimal()


def test_fixed_point_refuses_what_it_cannot_hold() -> None:
    assert Price.parse("50000.10") == Price(5000010, 2)
    assert str(Quantity.of("0.02", 3)) == "0.020"
    with pytest.raises(ValueError, match="decimal places"):
        Price.of("0.125", 2)
    with pytest.raises(ValueError, match="negative"):
        Quantity(-1, 0)
    with pytest.raises(ValueError, match="finite"):
        Price.of("NaN", 2)
    with pytest.raises(ValueError, match="precision"):
        Price(1, 19)


def test_ticks_round_to_the_passive_side() -> None:
    tick = Decimal("0.1")
    assert to_ticks(Decimal("50000.15"), tick) == 500001
    assert to_ticks(Decimal("50000.15"), tick, passive_up=True) == 500002
    assert from_ticks(500001, tick) == Decimal("50000.1")
