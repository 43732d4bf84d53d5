"""ExecutionLoop: quotes -> risk -> orders -> fills -> positions -> freeze, on virtual time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from engine_support import (
    CheckingExchange,
    Rig,
    assert_books_agree,
    assert_loop_invariants,
    expected_freezes,
    make_rig,
)

from mmexec.canonical import dumps
from mmexec.compat import (
    ExecutionLoop,
    ExecutionParams,  # the original API: it carries the test's risk limits too
    FakeExchangeClient,
    InMemoryOrderStore,
    RuntimeRiskMonitor,
)
from mmexec.engine.clock import VirtualClock
from mmexec.engine.models import (
    FillEvent,
    OpenOrder,
    OrderState,
    PlaceOrderRequest,
    PlaceOrderResponse,
    Position,
    Quote,
    Side,
)

D = Decimal
START = 1_735_689_600_000
BTC_QTY = D("0.02")  # 1,000 USD of BTC at 50,000 in lots of 0.001


def _params(**kwargs: Any) -> ExecutionParams:
    base: dict[str, Any] = {"symbols": ["BTCUSDT"], "iterations": 0}
    base.update(kwargs)
    return ExecutionParams(**base)


def _rig(params: ExecutionParams | None = None, **kwargs: Any) -> Rig:
    return make_rig(params or _params(), **kwargs)


def _btc_quote(bid: str = "49990.0", ask: str = "50010.0") -> Quote:
    return Quote("BTCUSDT", bid, ask)


# ---------------------------------------------------------------- wiring
def test_loop_shares_the_exchange_clock() -> None:
    rig = _rig()
    assert rig.loop.clock is rig.exchange.clock is rig.clock


def test_explicit_clock_or_own_clock() -> None:
    clock = VirtualClock(5)
    store, risk = InMemoryOrderStore(), RuntimeRiskMonitor(1, 1, 1)
    assert ExecutionLoop(FakeExchangeClient(), store, risk, clock=clock).clock is clock

    class NoClockVenue:
        def place_limit(self, req: PlaceOrderRequest) -> PlaceOrderResponse:
            raise AssertionError

        def cancel(self, order_id: str) -> bool:
            return False

        def get_open_orders(self, symbol: str | None = None) -> list[OpenOrder]:
            return []

        def get_positions(self) -> list[Position]:
            return []

        def stream_fills(self) -> Iterator[FillEvent]:
            return iter(())

    own = ExecutionLoop(NoClockVenue(), store, risk)
    assert isinstance(own.clock, VirtualClock)
    assert own.on_fill() == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"symbols": []}, "symbols"),
        ({"iterations": -1}, "iterations"),
        ({"quote_interval_ms": 0}, "quote_interval_ms"),
        ({"unfreeze_after_ms": -1}, "unfreeze_after_ms"),
    ],
)
def test_execution_params_validation(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        _params(**kwargs)


def test_execution_params_refuse_repeated_symbols() -> None:
    with pytest.raises(ValueError, match="BTCUSDT"):
        _params(symbols=["BTCUSDT", "ETHUSDT", "BTCUSDT"])


# ---------------------------------------------------------------- quoting
def test_quote_places_one_order_per_side_at_the_touch() -> None:
    rig = _rig(fill_rate=0.0, reject_rate=0.0)
    rig.loop.on_quote(_btc_quote(), _params())
    bids = [o for o in rig.store.get_open_orders() if o.side is Side.BUY]
    asks = [o for o in rig.store.get_open_orders() if o.side is Side.SELL]
    assert [(o.price, o.qty) for o in bids] == [(D("49990.0"), BTC_QTY)]
    assert [(o.price, o.qty) for o in asks] == [(D("50010.0"), BTC_QTY)]
    assert [o.client_order_id for o in rig.store.orders()] == ["CLI00000001", "CLI00000002"]
    assert {o.order_id for o in rig.store.orders()} == {"ORD000001", "ORD000002"}
    assert rig.loop.stats.placed == 2
    assert rig.risk.open_exposure("BTCUSDT") == (D("999.800"), D("1000.200"))
    assert_books_agree(rig)


def test_off_grid_quotes_round_to_the_passive_side() -> None:
    rig = _rig(fill_rate=0.0, reject_rate=0.0)
    rig.loop.on_quote(_btc_quote("49990.07", "50010.01"), _params())
    prices = {o.side: o.price for o in rig.store.get_open_orders()}
    assert prices == {Side.BUY: D("49990.0"), Side.SELL: D("50010.1")}


def test_orders_rest_while_the_touch_stays_within_requote_bps() -> None:
    rig = _rig(_params(requote_bps=2), fill_rate=0.0, reject_rate=0.0)
    params = _params(requote_bps=2)
    rig.loop.on_quote(_btc_quote(), params)
    rig.loop.on_quote(_btc_quote("49995.0", "50015.0"), params)  # 5 USD = 1 bp: keep
    assert rig.loop.stats.placed == 2 and rig.loop.stats.canceled == 0
    rig.loop.on_quote(_btc_quote("50020.0", "50040.0"), params)  # 30 USD = 6 bps: replace both
    assert rig.loop.stats.placed == 4
    assert rig.loop.stats.canceled == 2
    assert {o.price for o in rig.store.get_open_orders()} == {D("50020.0"), D("50040.0")}
    assert len(rig.store.get_by_state(OrderState.CANCELED)) == 2
    assert_books_agree(rig)


def test_rejected_order_is_counted_and_retried() -> None:
    rig = _rig(fill_rate=0.0, reject_rate=1.0)
    rig.loop.on_quote(_btc_quote(), _params())
    assert rig.loop.stats.placed == 2 and rig.loop.stats.rejected == 2
    assert rig.store.counts()["REJECTED"] == 2
    assert rig.store.get_by_state(OrderState.REJECTED)[0].message
    assert rig.risk.open_exposure("BTCUSDT") == (D(0), D(0))  # nothing reserved for a rejected order
    rig.loop.on_quote(_btc_quote(), _params())
    assert rig.loop.stats.placed == 4


def test_risk_block_is_counted_and_not_sent() -> None:
    params = _params(max_inventory_usd_per_symbol=500)
    rig = _rig(params)
    rig.loop.on_quote(_btc_quote(), params)
    assert rig.loop.stats.placed == 0
    assert rig.exchange.requests == []
    assert rig.loop.stats.risk_blocks == 2 == rig.risk.blocks_total
    assert len(rig.store) == 0
    report = rig.loop.run_shadow(params)
    assert report["orders"]["risk_blocks"] == report["risk"]["blocks_total"] == 2


def test_blocked_side_waits_for_a_change_instead_of_counting_every_quote() -> None:
    params = _params(max_inventory_usd_per_symbol=500)
    rig = _rig(params)
    for _ in range(5):
        rig.loop.on_quote(_btc_quote(), params)
    assert rig.loop.stats.risk_blocks == 2
    rig.loop.on_quote(_btc_quote("49000.0", "50010.0"), params)  # the bid moved: try the bid again
    assert rig.loop.stats.risk_blocks == 3  # only the bid moved more than requote_bps


def test_worst_case_counts_resting_orders_of_the_same_side() -> None:
    # 1,000 USD per order, max 1,500: the first bid fits, a second bid on top of it would not.
    params = _params(max_inventory_usd_per_symbol=1500, symbols=["BTCUSDT"])
    rig = _rig(params, fill_rate=0.0, reject_rate=0.0)
    rig.loop.on_quote(_btc_quote(), params)
    assert rig.loop.stats.placed == 2
    rig.risk.on_fill("BTCUSDT", Side.BUY, BTC_QTY, D("49990.0"))  # an outside fill: long 1,000
    rig.loop.cancel_all()
    rig.loop.on_quote(_btc_quote("49000.0", "49020.0"), params)
    # long ~980 + a new bid of 980 > 1,500: blocked; the ask reduces inventory: placed
    assert [o.side for o in rig.store.get_open_orders()] == [Side.SELL]
    assert rig.loop.stats.risk_blocks == 1
    assert rig.exchange.violations == []


# ---------------------------------------------------------------- fills
def test_fill_updates_order_position_risk_and_listeners() -> None:
    rig = _rig(fill_rate=1.0, reject_rate=0.0, latency_ms=100)
    rig.loop.on_quote(_btc_quote(), _params())
    rig.clock.advance(99)
    assert rig.loop.on_fill() == 0
    rig.clock.advance(1)
    assert rig.loop.on_fill() == 2
    assert rig.loop.stats.filled == 2 and rig.loop.stats.fills == 2
    assert [o.state for o in rig.store.orders()] == [OrderState.FILLED, OrderState.FILLED]
    assert all(o.updated_ms == START + 100 for o in rig.store.orders())
    assert rig.store.get_positions() == {"BTCUSDT": D("0.000")}
    assert [f.client_order_id for f in rig.fills] == ["CLI00000001", "CLI00000002"]
    assert_books_agree(rig)
    # the filled sides are quoted again on the next quote
    rig.loop.on_quote(_btc_quote(), _params())
    assert rig.loop.stats.placed == 4


def test_partial_fills_update_everything_at_every_increment() -> None:
    rig = _rig(fill_rate=1.0, reject_rate=0.0, partial_fill_rate=1.0, latency_ms=100)
    params = _params()
    rig.loop.on_quote(_btc_quote(), params)
    rig.clock.advance(100)
    assert rig.loop.on_fill() == 2
    for order in rig.store.orders():
        assert order.state is OrderState.PARTIALLY_FILLED
        assert D(0) < order.filled_qty < order.qty
    assert rig.loop.stats.partial_fills == 2 and rig.loop.stats.filled == 0
    assert_books_agree(rig)
    position = sum((f.qty * f.side.sign for f in rig.fills), D(0))
    assert rig.risk.get_positions()["BTCUSDT"] == position
    rig.loop.on_quote(_btc_quote(), params)  # partially filled orders keep resting
    assert rig.loop.stats.placed == 2
    rig.clock.advance(100)
    assert rig.loop.on_fill() == 2
    assert all(o.state is OrderState.FILLED and o.filled_qty == o.qty for o in rig.store.orders())
    assert rig.loop.stats.filled == 2 and rig.loop.stats.fills == 4
    assert_books_agree(rig)


def test_partially_filled_then_canceled_counts_as_canceled_and_releases_the_rest() -> None:
    rig = _rig(fill_rate=1.0, reject_rate=0.0, partial_fill_rate=1.0)
    rig.loop.on_quote(_btc_quote(), _params())
    rig.clock.advance(100)
    rig.loop.on_fill()
    assert rig.loop.cancel_all() == 2
    assert rig.loop.stats.canceled == 2 and rig.loop.stats.filled == 0
    assert all(o.state is OrderState.CANCELED and o.filled_qty > 0 for o in rig.store.orders())
    assert rig.risk.open_exposure("BTCUSDT") == (D(0), D(0))
    rig.clock.advance(1_000)
    assert rig.loop.on_fill() == 0  # the rest never comes
    assert_books_agree(rig)


class _ScriptedVenue(FakeExchangeClient):
    """A venue that misbehaves on request: refuses cancels, answers without ids, sends strangers' fills."""

    refuse_cancel = False
    no_order_id = False

    def cancel(self, order_id: str) -> bool:
        return False if self.refuse_cancel else super().cancel(order_id)

    def place_limit(self, req: PlaceOrderRequest) -> PlaceOrderResponse:
        if self.no_order_id:
            return PlaceOrderResponse(True, req.client_order_id, None)
        return super().place_limit(req)

    def stream_fills(self) -> Iterator[FillEvent]:
        yield FillEvent("CLI99999999", "ORD999999", "BTCUSDT", Side.BUY, D(1), D(1), self.clock.now_ms())
        yield from super().stream_fills()

    def next_fill_ms(self) -> int | None:
        return self.clock.now_ms()


def test_fills_of_unknown_orders_are_counted_not_applied() -> None:
    venue = _ScriptedVenue(fill_rate=0.0, reject_rate=0.0)
    loop = ExecutionLoop(venue, InMemoryOrderStore(), RuntimeRiskMonitor(10_000, 50_000, 1.5))
    assert loop.on_fill() == 0
    assert loop.stats.unknown_fills == 1
    assert loop.risk_monitor.get_positions() == {}


def test_refused_cancel_keeps_the_order_open() -> None:
    venue = _ScriptedVenue(fill_rate=0.0, reject_rate=0.0)
    loop = ExecutionLoop(venue, InMemoryOrderStore(), RuntimeRiskMonitor(10_000, 50_000, 1.5))
    loop.on_quote(_btc_quote(), _params())
    venue.refuse_cancel = True
    assert loop.cancel_all() == 0
    assert loop.stats.cancel_failures == 2 and loop.stats.canceled == 0
    assert len(loop.order_store.get_open_orders()) == 2


def test_acceptance_without_an_exchange_id_is_a_reject() -> None:
    venue = _ScriptedVenue(fill_rate=0.0, reject_rate=0.0)
    venue.no_order_id = True
    loop = ExecutionLoop(venue, InMemoryOrderStore(), RuntimeRiskMonitor(10_000, 50_000, 1.5))
    loop.on_quote(_btc_quote(), _params())
    assert loop.stats.rejected == 2
    assert loop.order_store.get_open_orders() == []


# ---------------------------------------------------------------- freeze
def test_edge_update_above_threshold_changes_nothing() -> None:
    rig = _rig(fill_rate=0.0, reject_rate=0.0)
    rig.loop.on_quote(_btc_quote(), _params())
    assert rig.loop.on_edge_update("BTCUSDT", 3.0) is False
    assert rig.loop.on_edge_update("BTCUSDT", "1.5") is False
    assert len(rig.store.get_open_orders()) == 2 and not rig.risk.is_frozen()


def test_freeze_cancels_every_open_order_and_stops_quoting() -> None:
    params = _params(symbols=["BTCUSDT", "ETHUSDT"])
    rig = _rig(params, fill_rate=1.0, reject_rate=0.0, latency_ms=100)
    rig.loop.on_quote(_btc_quote(), params)
    rig.loop.on_quote(Quote("ETHUSDT", "2999.0", "3001.0"), params)
    assert len(rig.exchange.get_open_orders()) == 4
    rig.clock.advance(50)
    assert rig.loop.on_edge_update("ETHUSDT", 1.2) is True
    assert rig.risk.is_frozen()
    assert rig.store.get_open_orders() == [] and rig.exchange.get_open_orders() == []
    assert rig.loop.stats.canceled == 4
    assert rig.risk.last_freeze_reason == "Edge below threshold"
    assert rig.risk.last_freeze_symbol == "ETHUSDT"
    assert rig.risk.freeze_log[-1].timestamp_ms == START + 50
    assert rig.risk.open_exposure("BTCUSDT") == (D(0), D(0))
    # while frozen: no orders, and the canceled orders' fills never arrive
    for _ in range(3):
        rig.clock.advance(100)
        rig.loop.on_fill()
        rig.loop.on_quote(_btc_quote("48000.0", "48020.0"), params)
    assert rig.loop.stats.placed == 4
    assert rig.loop.stats.fills == 0
    assert rig.loop.on_edge_update("BTCUSDT", 0.1) is False  # latched: no second freeze
    assert rig.risk.freezes_total == 1
    assert rig.exchange.violations == []


def test_freeze_cancels_orders_placed_outside_the_quoting_books_too() -> None:
    params = _params(symbols=["BTCUSDT"])
    rig = _rig(params, fill_rate=0.0, reject_rate=0.0)
    rig.loop.on_quote(_btc_quote(), params)
    for symbol, price in (("BTCUSDT", "49000.0"), ("XRPUSDT", "0.6")):  # a manual order, and one in a bookless symbol
        order = rig.store.create(symbol, Side.BUY, D(1), D(price))
        response = rig.exchange.place_limit(PlaceOrderRequest(order.client_order_id, symbol, Side.BUY, 1, price))
        rig.store.mark_open(order.client_order_id, response.order_id or "")
    assert len(rig.exchange.get_open_orders()) == 4
    assert rig.loop.on_edge_update("SOLUSDT", -1) is True  # a symbol the loop never quoted can freeze it
    assert rig.store.get_open_orders() == [] and rig.exchange.get_open_orders() == []
    assert rig.risk.last_freeze_symbol == "SOLUSDT"


def test_on_quote_for_an_unknown_symbol_uses_the_params_reference_price() -> None:
    params = _params(ref_prices={"NEWUSDT": "2.5"})
    rig = _rig(params, fill_rate=0.0, reject_rate=0.0)
    rig.loop.on_quote(Quote("NEWUSDT", "2.499", "2.501"), params)
    orders = rig.store.get_open_orders()
    assert {o.price for o in orders} == {D("2.499"), D("2.501")}
    assert all(o.qty * D("2.5") <= 1000 for o in orders)


# ---------------------------------------------------------------- run_shadow
@pytest.mark.parametrize(
    ("rig_kwargs", "param_kwargs"),
    [
        ({}, {}),
        ({"partial_fill_rate": 0.5, "latency_ms": 250}, {"symbols": ["BTCUSDT", "ETHUSDT", "SOLUSDT"]}),
        ({"fill_rate": 0.95, "reject_rate": 0.0},
         {"max_inventory_usd_per_symbol": 2500, "max_total_notional_usd": 4000}),
        ({"latency_ms": 0, "partial_fill_rate": 1.0}, {"unfreeze_after_ms": 300, "edge_freeze_threshold_bps": 2.0}),
    ],
)
def test_run_shadow_keeps_the_books_consistent(rig_kwargs: dict[str, Any], param_kwargs: dict[str, Any]) -> None:
    params = _params(iterations=400, **param_kwargs)
    rig = make_rig(params, **rig_kwargs)
    report = rig.loop.run_shadow(params)
    assert_loop_invariants(rig, report)


def test_run_shadow_report_shape_and_values() -> None:
    params = _params(symbols=["BTCUSDT", "ETHUSDT"], iterations=200, utc="2025-01-01T00:00:00Z")
    rig = make_rig(params, partial_fill_rate=0.3)
    report = rig.loop.run_shadow(params)
    assert report["execution"]["iterations"] == 200
    assert report["execution"]["symbols"] == ["BTCUSDT", "ETHUSDT"]
    assert report["execution"]["quotes"] == 400
    assert report["execution"]["virtual_ms"] == 200 * 100 == rig.clock.now_ms() - START
    assert report["runtime"]["utc"] == "2025-01-01T00:00:00Z"
    for key in ("placed", "filled", "rejected", "canceled", "risk_blocks"):
        assert isinstance(report["orders"][key], int)
    for key in ("frozen", "freeze_events", "last_freeze_reason", "last_freeze_symbol", "blocks_total",
                "freezes_total"):
        assert key in report["risk"]
    assert report["orders"]["placed"] > 0 and report["orders"]["fills"] > 0
    # JSON-native (floats, not Decimals) and exactly the store's position, printed short
    text = json.dumps(report)
    exact = rig.store.get_positions()
    positions = report["positions"]
    for symbol in params.symbols:
        value = positions["by_symbol"][symbol]
        assert isinstance(value, float)
        assert D(repr(value)) == exact.get(symbol, D(0))
        mid = D(repr(positions["last_mid"][symbol]))
        assert D(repr(positions["net_pos_usd"][symbol])) == exact.get(symbol, D(0)) * mid
    assert D(repr(positions["total_notional_usd"])) == sum(
        (abs(D(repr(v))) for v in positions["net_pos_usd"].values()), D(0)
    )
    assert "000000000" not in text  # no binary float noise such as 0.15000000000000002
    assert_loop_invariants(rig, report)


def test_run_keeps_exact_decimals_and_canonical_json_prints_them_short() -> None:
    params = _params(symbols=["ETHUSDT"], iterations=300, utc="2025-01-01T00:00:00Z")
    rig = make_rig(params, fill_rate=0.9, reject_rate=0.0, partial_fill_rate=0.5)
    report = rig.loop.run(params)
    qty = report["positions"]["by_symbol"]["ETHUSDT"]
    assert isinstance(qty, Decimal)
    assert qty == sum((f.qty * f.side.sign for f in rig.fills), D(0))
    text = dumps(report).decode()
    assert f'"ETHUSDT":{float(qty)!r}' in text or qty == 0


def test_stats_export_every_counter() -> None:
    params = _params(iterations=50)
    rig = make_rig(params)
    report = rig.loop.run_shadow(params)
    stats = rig.loop.stats.to_dict()
    assert {k: stats[k] for k in ("placed", "filled", "rejected", "canceled", "risk_blocks")} == {
        k: report["orders"][k] for k in ("placed", "filled", "rejected", "canceled", "risk_blocks")
    }
    assert stats["iterations"] == 50 and stats["quotes"] == 50
    assert all(isinstance(v, int) and v >= 0 for v in stats.values())


def test_progress_is_reported_in_order_up_to_the_total() -> None:
    params = _params(iterations=250)
    rig = make_rig(params)
    seen: list[tuple[int, int]] = []
    rig.loop.run_shadow(params, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (250, 250)
    assert [d for d, _ in seen] == sorted({d for d, _ in seen})
    assert all(total == 250 for _, total in seen)


def test_zero_iterations_report_is_empty_but_complete() -> None:
    params = _params(symbols=["BTCUSDT", "ETHUSDT"], iterations=0, utc="2025-01-01T00:00:00Z")
    report = make_rig(params).loop.run_shadow(params)
    assert report["orders"]["placed"] == 0
    assert report["positions"]["by_symbol"] == {"BTCUSDT": 0.0, "ETHUSDT": 0.0}
    assert report["positions"]["net_pos_usd"] == {"BTCUSDT": 0.0, "ETHUSDT": 0.0}
    # every map lists every symbol: no quote yet means no mid (null), not a missing key (#9)
    assert report["positions"]["last_mid"] == {"BTCUSDT": None, "ETHUSDT": None}
    assert report["risk"]["frozen"] is False
    assert report["execution"]["virtual_ms"] == 0


def test_report_without_utc_is_stamped_now() -> None:
    params = _params(iterations=1)
    utc = make_rig(params).loop.run_shadow(params)["runtime"]["utc"]
    assert len(utc) == 20 and utc.endswith("Z") and utc[10] == "T"


@pytest.mark.parametrize(
    "param_kwargs",
    [
        {"symbols": ["BTCUSDT", "ETHUSDT"], "iterations": 600},
        {"symbols": ["BTCUSDT", "ETHUSDT", "SOLUSDT"], "iterations": 600, "unfreeze_after_ms": 0},
        {"symbols": ["ETHUSDT"], "iterations": 800, "unfreeze_after_ms": 500, "seed": 7,
         "edge_freeze_threshold_bps": 2},
        {"symbols": ["BTCUSDT"], "iterations": 300, "edge_freeze_threshold_bps": "-100"},
    ],
)
def test_freezes_and_unfreezes_follow_the_edge_rule(param_kwargs: dict[str, Any]) -> None:
    params = _params(**param_kwargs)
    rig = make_rig(params, start_ms=START)
    report = rig.loop.run(params)
    expected = expected_freezes(params, START)
    got = [(e.symbol, e.timestamp_ms, e.edge_bps) for e in rig.risk.freeze_log]
    assert got == expected.events[-len(got):] if got else expected.events == []
    assert rig.risk.freezes_total == len(expected.events)
    assert rig.risk.unfreezes_total == expected.unfreezes
    assert report["risk"]["frozen"] is expected.frozen_at_end
    if expected.events:
        assert report["risk"]["last_freeze_symbol"] == expected.events[-1][0]
        assert report["risk"]["last_freeze_reason"] == "Edge below threshold"
    assert rig.exchange.violations == []  # nothing placed while frozen
    assert_loop_invariants(rig, to_plain(report))


def to_plain(report: dict[str, Any]) -> dict[str, Any]:
    return json.loads(dumps(report))


def test_risk_monitor_sees_the_latest_edge_after_a_run() -> None:
    params = _params(symbols=["BTCUSDT", "ETHUSDT"], iterations=600)
    rig = make_rig(params)
    rig.loop.run(params)
    timeline = expected_freezes(params, rig.loop.run_started_ms)
    assert timeline.events  # an edge dipped below the threshold during the run ...
    assert all(e >= 1.5 for e in timeline.last_edges.values())  # ... and every edge is back above it now
    assert rig.risk.edges_recovered() is True


def test_freeze_events_count_every_freeze_even_when_the_log_is_bounded() -> None:
    params = _params(iterations=3000, unfreeze_after_ms=0, edge_freeze_threshold_bps="2.5")
    rig = make_rig(params)
    report = rig.loop.run_shadow(params)
    assert len(expected_freezes(params, rig.loop.run_started_ms).events) > 100  # more than the log keeps
    assert report["risk"]["freeze_events"] == report["risk"]["freezes_total"]


def test_unfreeze_waits_at_least_the_cool_down() -> None:
    params = _params(symbols=["BTCUSDT", "ETHUSDT"], iterations=1500, unfreeze_after_ms=1000)
    rig = make_rig(params)
    frozen_since: list[int] = []
    waits: list[int] = []
    original_unfreeze = rig.risk.unfreeze

    def unfreeze() -> bool:
        waits.append(rig.clock.now_ms() - frozen_since[-1])
        return original_unfreeze()

    original_freeze = rig.risk.freeze

    def freeze(*args: Any, **kwargs: Any) -> None:
        frozen_since.append(rig.clock.now_ms())
        original_freeze(*args, **kwargs)

    rig.risk.unfreeze = unfreeze  # type: ignore[method-assign]
    rig.risk.freeze = freeze  # type: ignore[method-assign]
    rig.loop.run_shadow(params)
    assert waits, "expected at least one unfreeze in a long run"
    assert min(waits) >= 1000
    assert rig.exchange.violations == []


def test_long_run_keeps_memory_flat() -> None:
    params = _params(symbols=["BTCUSDT", "ETHUSDT"], iterations=3000, unfreeze_after_ms=0)
    rig = make_rig(params, retain_terminal=50, partial_fill_rate=0.3)
    report = rig.loop.run_shadow(params)
    assert report["orders"]["placed"] > 200
    assert len(rig.store) <= 50 + 2 * len(params.symbols)
    assert len(rig.exchange.get_open_orders()) <= 2 * len(params.symbols)
    assert rig.exchange.pending_fill_count() <= 4 * len(params.symbols)
    assert report["orders"]["placed"] == rig.store.total_created


def test_same_components_same_report() -> None:
    params = _params(symbols=["BTCUSDT", "ETHUSDT"], iterations=300, utc="2025-01-01T00:00:00Z",
                     unfreeze_after_ms=200)
    a = make_rig(params, partial_fill_rate=0.4).loop.run_shadow(params)
    b = make_rig(params, partial_fill_rate=0.4).loop.run_shadow(params)
    assert dumps(a) == dumps(b)
    c = make_rig(params, partial_fill_rate=0.4, start_ms=START + 86_400_000).loop.run_shadow(params)
    # another start time (another MM_FREEZE_UTC_ISO) changes at most the freeze events' time stamps
    def timeless(report: dict[str, Any]) -> dict[str, Any]:
        log = report["risk"].pop("freeze_log")
        return {**report, "freeze_log": [(e["symbol"], e["reason"], e["edge_bps"]) for e in log]}

    assert timeless(a) == timeless(c)


def test_checking_exchange_detects_a_breach() -> None:
    # guard the guard: a placement beyond the limits is reported
    params = _params(max_inventory_usd_per_symbol=100)
    rig = make_rig(params)
    rig.exchange.place_limit(PlaceOrderRequest("X1", "BTCUSDT", Side.BUY, "1", "50000"))
    rig.risk.freeze("test", "BTCUSDT")
    rig.exchange.place_limit(PlaceOrderRequest("X2", "BTCUSDT", Side.BUY, "0.001", "50000"))
    assert len(rig.exchange.violations) == 2
    assert isinstance(rig.exchange, CheckingExchange)
