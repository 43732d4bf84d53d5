"""Helpers for the engine tests: a checking exchange, component wiring, and spec-level oracles."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from mmexec.compat import (
    ExecutionLoop,
    ExecutionParams,  # the original API: it carries the test's risk limits too
    FakeExchangeClient,
    InMemoryOrderStore,
    RuntimeRiskMonitor,
)
from mmexec.engine.clock import VirtualClock
from mmexec.engine.models import FillEvent, PlaceOrderRequest, PlaceOrderResponse, Side, to_decimal
from mmexec.engine.risk import exact_edge

ZERO = Decimal(0)


class CheckingExchange(FakeExchangeClient):
    """The fake venue, checking the spec's pre-trade promises on every placement it receives.

    At each ``place_limit`` it recomputes, from the order store and the fills seen (not from the risk monitor),
    the worst case of the book plus the new order and records any breach of the limits, and it records any
    order that arrives while trading is frozen.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.loop: ExecutionLoop | None = None
        self.violations: list[str] = []
        self.marks: dict[str, Decimal] = {}
        self.requests: list[PlaceOrderRequest] = []

    def attach(self, loop: ExecutionLoop) -> None:
        self.loop = loop
        loop.fill_listeners.append(self._on_fill)

    def _on_fill(self, fill: FillEvent) -> None:
        self.marks[fill.symbol] = fill.price

    def place_limit(self, req: PlaceOrderRequest) -> PlaceOrderResponse:
        self.requests.append(req)
        loop = self.loop
        if loop is not None:
            risk = loop.risk_monitor
            if risk.is_frozen():
                self.violations.append(f"{req.client_order_id} placed while frozen")
            self._check_worst_case(loop.order_store, risk, req)
        return super().place_limit(req)

    def _check_worst_case(self, store: InMemoryOrderStore, risk: RuntimeRiskMonitor, req: PlaceOrderRequest) -> None:
        positions = store.get_positions()
        open_notional: dict[tuple[str, Side], Decimal] = {}
        for order in store.get_open_orders():
            key = (order.symbol, order.side)
            open_notional[key] = open_notional.get(key, ZERO) + order.remaining_qty * order.price
        symbols = {req.symbol} | set(positions) | {s for s, _ in open_notional}
        mids = self.loop.last_mids() if self.loop is not None else {}
        total = ZERO
        for symbol in symbols:
            pos = positions.get(symbol, ZERO)
            buys = open_notional.get((symbol, Side.BUY), ZERO)
            sells = open_notional.get((symbol, Side.SELL), ZERO)
            if symbol == req.symbol:
                pos_usd = pos * req.price
                new = req.qty * req.price
                if req.side is Side.BUY:
                    before, other = pos_usd + buys, abs(pos_usd - sells)
                    worst_new = abs(before + new)
                else:
                    before, other = pos_usd - sells, abs(pos_usd + buys)
                    worst_new = abs(before - new)
                if worst_new <= abs(before):  # reduces its side's worst case: allowed whatever the limits
                    return
                if worst_new > risk.max_inventory_usd_per_symbol:
                    self.violations.append(f"{req.client_order_id}: {symbol} worst case {worst_new} > max_inv")
                total += max(worst_new, other)
            else:
                mid = mids.get(symbol)  # every symbol is valued at its latest mid (its last fill price before)
                pos_usd = pos * (mid if mid is not None else self.marks.get(symbol, ZERO))
                total += max(abs(pos_usd + buys), abs(pos_usd - sells))
        if total > risk.max_total_notional_usd:
            self.violations.append(f"{req.client_order_id}: total worst case {total} > max_total")


@dataclass
class Rig:
    clock: VirtualClock
    exchange: CheckingExchange
    store: InMemoryOrderStore
    risk: RuntimeRiskMonitor
    loop: ExecutionLoop
    fills: list[FillEvent] = field(default_factory=list)


def make_rig(
    params: ExecutionParams,
    *,
    fill_rate: float = 0.7,
    reject_rate: float = 0.05,
    latency_ms: int = 100,
    partial_fill_rate: float = 0.0,
    retain_terminal: int = 10_000,
    start_ms: int = 1_735_689_600_000,
) -> Rig:
    clock = VirtualClock(start_ms)
    exchange = CheckingExchange(fill_rate, reject_rate, latency_ms, partial_fill_rate, params.seed, clock=clock)
    store = InMemoryOrderStore(retain_terminal=retain_terminal)
    risk = RuntimeRiskMonitor(params.max_inventory_usd_per_symbol, params.max_total_notional_usd,
                              params.edge_freeze_threshold_bps)
    loop = ExecutionLoop(exchange, store, risk)
    exchange.attach(loop)
    rig = Rig(clock, exchange, store, risk, loop)
    loop.fill_listeners.append(rig.fills.append)
    return rig


@dataclass
class FreezeTimeline:
    events: list[tuple[str, int, Decimal]]  # (symbol, virtual ms, the exact edge compared)
    unfreezes: int
    frozen_at_end: bool
    last_edges: dict[str, float]


def expected_freezes(params: ExecutionParams, start_ms: int) -> FreezeTimeline:
    """The spec's freeze rule, replayed on the synthetic market's own edge stream.

    Per step (at start + k * interval): the freeze lifts if ``unfreeze_after_ms`` have passed since it began and
    every symbol's latest edge is at/above the threshold; then each symbol's new edge freezes trading if it is
    below the threshold and trading is not frozen already (the freeze is latched).
    """
    market = params.make_market()
    walks = [(s, market.walk(s)) for s in params.symbols]
    threshold = to_decimal(params.edge_freeze_threshold_bps)
    after = params.unfreeze_after_ms
    frozen_at: int | None = None
    last: dict[str, float] = {}
    events: list[tuple[str, int, Decimal]] = []
    unfreezes = 0
    for k in range(1, params.iterations + 1):
        now = start_ms + k * params.quote_interval_ms
        if (frozen_at is not None and after is not None and now - frozen_at >= after
                and all(e >= threshold for e in last.values())):
            frozen_at = None
            unfreezes += 1
        for symbol, step in walks:
            edge = step()[2]
            last[symbol] = edge
            if frozen_at is None and edge < threshold:
                frozen_at = now
                events.append((symbol, now, exact_edge(edge, threshold)))
    return FreezeTimeline(events, unfreezes, frozen_at is not None, last)


def open_notional_by_side(orders: Iterable[Any]) -> dict[tuple[str, Side], Decimal]:
    out: dict[tuple[str, Side], Decimal] = {}
    for order in orders:
        key = (order.symbol, order.side)
        out[key] = out.get(key, ZERO) + order.remaining_qty * order.price
    return out


def assert_books_agree(rig: Rig) -> None:
    """Order store, risk monitor and exchange tell the same story."""
    store_pos = {s: q for s, q in rig.store.get_positions().items() if q}
    risk_pos = {s: q for s, q in rig.risk.get_positions().items() if q}
    venue_pos = {p.symbol: p.qty for p in rig.exchange.get_positions() if p.qty}
    assert store_pos == risk_pos == venue_pos
    store_open = {(o.order_id, o.filled_qty) for o in rig.store.get_open_orders()}
    venue_open = {(o.order_id, o.filled_qty) for o in rig.exchange.get_open_orders()}
    assert store_open == venue_open
    reserved = open_notional_by_side(rig.store.get_open_orders())
    for symbol in {o.symbol for o in rig.store.orders()} | set(rig.risk.get_positions()):
        assert rig.risk.open_exposure(symbol) == (
            reserved.get((symbol, Side.BUY), ZERO), reserved.get((symbol, Side.SELL), ZERO),
        )


def assert_loop_invariants(rig: Rig, report: dict[str, Any]) -> None:
    orders = report["orders"]
    # every accepted order ends FILLED or CANCELED (partially filled ones included) or is still open
    assert orders["placed"] == orders["filled"] + orders["rejected"] + orders["canceled"] + orders["open"]
    counts = rig.store.counts()
    assert counts["PENDING"] == 0
    assert counts["FILLED"] == orders["filled"]
    assert counts["CANCELED"] == orders["canceled"]
    assert counts["REJECTED"] == orders["rejected"]
    assert counts["OPEN"] + counts["PARTIALLY_FILLED"] == orders["open"]
    assert rig.store.total_created == orders["placed"]
    # each fill either completes its order ("filled") or leaves it partially filled ("partial_fills")
    assert orders["fills"] == orders["filled"] + orders["partial_fills"] == len(rig.fills)
    assert orders["risk_blocks"] == report["risk"]["blocks_total"]
    assert len(rig.exchange.requests) == orders["placed"]
    assert_books_agree(rig)
    by_fills: dict[str, Decimal] = {}
    for fill in rig.fills:  # a position is the exact sum of its fills
        by_fills[fill.symbol] = by_fills.get(fill.symbol, ZERO) + (fill.qty if fill.side is Side.BUY else -fill.qty)
    assert {s: q for s, q in by_fills.items() if q} == {s: q for s, q in rig.store.get_positions().items() if q}
    assert rig.exchange.violations == []
    assert report["risk"]["freezes_total"] >= report["risk"]["freeze_events"]
    if report["risk"]["frozen"]:
        assert orders["open"] == 0
