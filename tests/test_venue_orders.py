"""One venue order record (fake, Bybit dry-run, queue venue) and the params without echoed risk limits."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mmexec
from mmexec.compat import ExecutionParams as CompatParams
from mmexec.engine.models import OrderState, Side
from mmexec.engine.params import ExecutionParams
from mmexec.exchanges.bybit.venue import DryRunVenue
from mmexec.exchanges.orders import VenueOrder

D = Decimal
T0 = 1_735_689_600_000
RISK_KEYWORDS = {"max_inventory_usd_per_symbol": 2500, "max_total_notional_usd": 4000,
                 "edge_freeze_threshold_bps": "2.2"}


def test_venue_order_reports_itself_as_an_open_order() -> None:
    order = VenueOrder("ORD000001", "CLI00000001", "BTCUSDT", False, 12, 500001)
    assert (order.side, order.leaves) == (Side.SELL, 12)
    first = order.open_order(D("0.1"), D("0.001"))
    assert (first.qty, first.price, first.filled_qty, first.state) == (D("0.012"), D("50000.1"), D(0), OrderState.OPEN)
    order.filled = 5
    later = order.open_order(D("0.1"), D("0.001"))
    assert (later.filled_qty, later.state, order.leaves) == (D("0.005"), OrderState.PARTIALLY_FILLED, 7)


def test_every_venue_keeps_the_one_record() -> None:
    from mmexec.exchanges import fake, queue
    from mmexec.exchanges.bybit import venue as bybit

    for record in (fake._RestingOrder, queue._Order, bybit._Order):
        assert issubclass(record, VenueOrder)


def _place(venue: DryRunVenue, qty: str, price: str, link_id: str) -> None:
    venue.handle("POST /v5/order/create", {"category": "linear", "symbol": "BTCUSDT", "side": "Buy",
                                           "orderType": "Limit", "qty": qty, "price": price,
                                           "orderLinkId": link_id}, T0)


def _item(venue: DryRunVenue, now_ms: int, link_id: str) -> dict[str, Any]:
    for open_only in (0, 1):
        found = venue.handle("GET /v5/order/realtime", {"category": "linear", "symbol": "BTCUSDT",
                                                         "orderLinkId": link_id, "openOnly": str(open_only)},
                             now_ms)["list"]
        if found:
            return dict(found[0])
    raise AssertionError(f"{link_id} not found")


@settings(max_examples=60, deadline=None)
@given(qty=st.decimals(min_value=D("0.001"), max_value=D("500"), places=3),
       price=st.decimals(min_value=D("0.5"), max_value=D("99999"), places=2),
       n=st.integers(0, 10_000))
def test_dry_run_partial_fills_are_exact_quarters_in_lots(qty: Decimal, price: Decimal, n: int) -> None:
    venue = DryRunVenue(fill_rate=1.0, partial_fill_rate=1.0, fill_latency_ms=100, seed=n)
    link_id = f"L{n}"
    _place(venue, str(qty), str(price), link_id)
    first = _item(venue, T0 + 100, link_id)
    assert first["orderStatus"] == "PartiallyFilled"
    cum = D(first["cumExecQty"])
    assert cum * 4 / qty in {1, 2, 3}  # a quarter, a half or three quarters, exactly
    assert D(first["leavesQty"]) == qty - cum and D(first["cumExecValue"]) == cum * price
    done = _item(venue, T0 + 200, link_id)
    assert (done["orderStatus"], D(done["cumExecQty"]), done["leavesQty"]) == ("Filled", qty, "0")
    assert D(done["cumExecValue"]) == qty * price and D(done["avgPrice"]) == price
    executions = venue.drain_executions(T0 + 200)
    assert sum(D(e["execQty"]) for e in executions) == qty


def test_engine_params_hold_no_risk_limits() -> None:
    with pytest.raises(TypeError):
        ExecutionParams(symbols=["BTCUSDT"], iterations=1, **RISK_KEYWORDS)  # type: ignore[arg-type]


def test_the_original_api_still_takes_the_risk_keywords() -> None:
    params = CompatParams(symbols=["BTCUSDT"], iterations=1, **RISK_KEYWORDS)  # type: ignore[arg-type]
    assert isinstance(params, ExecutionParams) and mmexec.ExecutionParams is CompatParams
    assert (params.max_inventory_usd_per_symbol, params.edge_freeze_threshold_bps) == (2500, "2.2")
