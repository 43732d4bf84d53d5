"""Invariants of the engine under generated inputs (hypothesis): exact positions, legal lifecycles only,
worst-case limits never exceeded, consistent books in random shadow runs, order fates independent of
unrelated orders."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from engine_support import assert_loop_invariants, expected_freezes, make_rig
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule

from mmexec.canonical import dumps
from mmexec.compat import (
    ExecutionParams,  # the original API: it carries the test's risk limits too
    FakeExchangeClient,
    InMemoryOrderStore,
    RuntimeRiskMonitor,
)
from mmexec.engine.clock import VirtualClock
from mmexec.engine.models import OrderState, PlaceOrderRequest, Side
from mmexec.engine.order_store import LEGAL_TRANSITIONS, OrderStoreError, UnknownOrder

D = Decimal
S = OrderState
SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
SIDES = st.sampled_from([Side.BUY, Side.SELL])
LOTS = st.integers(min_value=1, max_value=5000)  # quantities in whole lots of 0.001
FILL_STATES = {S.PARTIALLY_FILLED, S.FILLED}


def _lots(n: int) -> Decimal:
    return D(n) * D("0.001")


# ---------------------------------------------------------------- position == exact sum of fills
@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(SYMBOLS), SIDES, st.lists(LOTS, min_size=1, max_size=4)),
                min_size=1, max_size=12))
def test_position_is_the_exact_sum_of_any_fill_sequence(orders: list[tuple[str, Side, list[int]]]) -> None:
    store = InMemoryOrderStore(retain_terminal=3)
    risk = RuntimeRiskMonitor(10**12, 10**12, 0)
    expected: dict[str, Decimal] = {}
    for symbol, side, parts in orders:
        qty = sum((_lots(p) for p in parts), D(0))
        order = store.create(symbol, side, qty, D("3000.01"))
        store.mark_open(order.client_order_id, "X" + order.client_order_id)
        for part in parts:
            store.apply_fill(order.client_order_id, _lots(part))
            risk.on_fill(symbol, side, _lots(part), D("3000.01"))
            expected[symbol] = expected.get(symbol, D(0)) + side.sign * _lots(part)
        assert order.state is S.FILLED and order.filled_qty == qty
    assert store.get_positions() == expected
    assert risk.get_positions() == expected
    for qty in expected.values():
        # printed exactly: a multiple of 0.001 never carries binary noise
        assert json.loads(dumps({"q": qty}))["q"] == float(str(qty))
        assert D(repr(float(qty))) == qty


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    partial=st.floats(0, 1),
    orders=st.lists(st.tuples(st.sampled_from(SYMBOLS), SIDES, LOTS), min_size=1, max_size=25),
)
def test_fake_exchange_position_is_the_exact_sum_of_its_fills(seed: int, partial: float,
                                                               orders: list[tuple[str, Side, int]]) -> None:
    clock = VirtualClock()
    venue = FakeExchangeClient(fill_rate=0.8, reject_rate=0.1, latency_ms=10, partial_fill_rate=partial,
                               seed=seed, clock=clock)
    fills = []
    for n, (symbol, side, lots) in enumerate(orders, 1):
        venue.place_limit(PlaceOrderRequest(f"CLI{n:08d}", symbol, side, _lots(lots), "100"))
        clock.advance(7)
        fills.extend(venue.stream_fills())
    clock.advance(1000)
    fills.extend(venue.stream_fills())
    expected: dict[str, Decimal] = {}
    for f in fills:
        expected[f.symbol] = expected.get(f.symbol, D(0)) + f.side.sign * f.qty
    assert {p.symbol: p.qty for p in venue.get_positions()} == expected
    filled_per_order: dict[str, Decimal] = {}
    for f in fills:
        filled_per_order[f.client_order_id] = filled_per_order.get(f.client_order_id, D(0)) + f.qty
    for coid, qty in filled_per_order.items():
        n = int(coid[3:])
        assert qty == _lots(orders[n - 1][2])  # every fill schedule adds up to the order exactly


# ---------------------------------------------------------------- order store state machine
class OrderStoreMachine(RuleBasedStateMachine):
    """Random operations on a store with a tiny retention; a model says which ones are legal."""

    RETAIN = 3
    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.store = InMemoryOrderStore(retain_terminal=self.RETAIN)
        self.model: dict[str, dict[str, Any]] = {}
        self.retired: list[str] = []  # terminal orders in the order they became terminal
        self.counts = dict.fromkeys(S, 0)
        self.positions: dict[str, Decimal] = {}
        self.exchange_seq = 0

    # -- helpers
    def _held(self, coid: str) -> bool:
        return coid not in self.retired or coid in self.retired[-self.RETAIN:]

    def _snapshot(self) -> Any:
        return ([o.to_dict() for o in self.store.orders()], self.store.counts(), self.store.get_positions())

    def _move(self, coid: str, new: OrderState) -> None:
        m = self.model[coid]
        self.counts[m["state"]] -= 1
        self.counts[new] += 1
        m["state"] = new
        if new.is_terminal:
            self.retired.append(coid)

    def _attempt(self, coid: str, legal: bool, action: Any) -> bool:
        if not self._held(coid):
            with pytest.raises(UnknownOrder):
                action()
            return False
        if legal:
            action()
            return True
        before = self._snapshot()
        with pytest.raises(OrderStoreError):
            action()
        assert self._snapshot() == before  # a refused operation changes nothing
        return False

    # -- rules
    @rule(target=orders, symbol=st.sampled_from(SYMBOLS[:2]), side=SIDES, lots=st.integers(1, 8))
    def create(self, symbol: str, side: Side, lots: int) -> str:
        order = self.store.create(symbol, side, _lots(lots), D(100))
        assert order.state is S.PENDING
        self.model[order.client_order_id] = {"state": S.PENDING, "filled": D(0), "qty": _lots(lots),
                                             "side": side, "symbol": symbol, "opened": False}
        self.counts[S.PENDING] += 1
        return order.client_order_id

    @rule(coid=orders)
    def mark_open(self, coid: str) -> None:
        self.exchange_seq += 1
        oid = f"ORD{self.exchange_seq:06d}"
        legal = S.OPEN in LEGAL_TRANSITIONS[self.model[coid]["state"]]
        if self._attempt(coid, legal, lambda: self.store.mark_open(coid, oid)):
            self._move(coid, S.OPEN)
            self.model[coid]["opened"] = True
            assert self.store.get_by_exchange_id(oid) is self.store.get(coid)

    @rule(coid=orders, message=st.sampled_from(["", "no margin"]))
    def mark_rejected(self, coid: str, message: str) -> None:
        legal = S.REJECTED in LEGAL_TRANSITIONS[self.model[coid]["state"]]
        if self._attempt(coid, legal, lambda: self.store.mark_rejected(coid, message)):
            self._move(coid, S.REJECTED)

    @rule(coid=orders)
    def cancel(self, coid: str) -> None:
        legal = S.CANCELED in LEGAL_TRANSITIONS[self.model[coid]["state"]]
        if self._attempt(coid, legal, lambda: self.store.mark_canceled(coid)):
            self._move(coid, S.CANCELED)

    @rule(coid=orders, lots=st.integers(-1, 9))
    def fill(self, coid: str, lots: int) -> None:
        m = self.model[coid]
        qty = _lots(lots)
        filled = m["filled"] + qty
        new = S.FILLED if filled == m["qty"] else S.PARTIALLY_FILLED
        # a fill that raced the cancel of an order that was open on the venue still counts; it stays CANCELED
        late = m["state"] is S.CANCELED and m["opened"]
        legal = qty > 0 and filled <= m["qty"] and (late or new in LEGAL_TRANSITIONS[m["state"]])
        if self._attempt(coid, legal, lambda: self.store.apply_fill(coid, qty)):
            m["filled"] = filled
            sign = m["side"].sign
            self.positions[m["symbol"]] = self.positions.get(m["symbol"], D(0)) + sign * qty
            if not late:
                self._move(coid, new)

    @rule(coid=orders, new=st.sampled_from(list(S)))
    def generic_transition(self, coid: str, new: OrderState) -> None:
        # fill states are reachable only through apply_fill
        legal = new in LEGAL_TRANSITIONS[self.model[coid]["state"]] and new not in FILL_STATES
        if self._attempt(coid, legal, lambda: self.store.transition(coid, new)):
            self._move(coid, new)

    @rule(coid=consumes(orders))
    def forget(self, coid: str) -> None:
        """Stop operating on an order (keeps the bundle small so fresh orders get exercised)."""

    # -- invariants
    @invariant()
    def store_matches_model(self) -> None:
        for coid, m in self.model.items():
            order = self.store.get(coid)
            if not self._held(coid):
                assert order is None
                continue
            assert order is not None
            assert order.state is m["state"]
            assert order.filled_qty == m["filled"]
            assert D(0) <= order.filled_qty <= order.qty
            if order.state is not S.CANCELED:  # late fills may complete a canceled order; it stays CANCELED
                assert (order.state is S.FILLED) == (order.filled_qty == order.qty)
            if order.state is S.PARTIALLY_FILLED:
                assert D(0) < order.filled_qty < order.qty
        assert self.store.counts() == {s.value: n for s, n in self.counts.items()}
        assert self.store.get_positions() == {k: v for k, v in self.positions.items()}
        active = [c for c, m in self.model.items() if m["state"].is_active]
        assert [o.client_order_id for o in self.store.get_open_orders()] == active
        terminal_held = sum(1 for c in self.retired[-self.RETAIN:])
        assert len(self.store) == terminal_held + sum(1 for m in self.model.values() if not m["state"].is_terminal)


TestOrderStoreMachine = OrderStoreMachine.TestCase
TestOrderStoreMachine.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)


# ---------------------------------------------------------------- risk: worst case never exceeds the limits
PRICES = {"BTCUSDT": D("50000"), "ETHUSDT": D("3000"), "SOLUSDT": D("150.5")}
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("order"), st.sampled_from(SYMBOLS), SIDES, st.integers(1, 400)),
        st.tuples(st.just("fill"), st.integers(0, 50), st.integers(1, 4)),
        st.tuples(st.just("cancel"), st.integers(0, 50)),
    ),
    min_size=5,
    max_size=60,
)


@settings(max_examples=80, deadline=None)
@given(
    max_inv=st.integers(0, 30_000),
    max_total=st.integers(0, 60_000),
    ops=OPS,
)
def test_risk_never_lets_the_worst_case_exceed_the_limits(max_inv: int, max_total: int, ops: list[Any]) -> None:
    risk = RuntimeRiskMonitor(max_inv, max_total, 1.5)
    scale = {"BTCUSDT": D("0.001"), "ETHUSDT": D("0.01"), "SOLUSDT": D("0.1")}
    pos: dict[str, Decimal] = dict.fromkeys(SYMBOLS, D(0))
    live: list[list[Any]] = []  # [symbol, side, remaining qty]
    blocks = 0

    def worst(symbol: str, extra: tuple[Side, Decimal] | None = None) -> tuple[Decimal, Decimal]:
        p = PRICES[symbol]
        buys = sum((q * p for s, sd, q in live if s == symbol and sd is Side.BUY), D(0))
        sells = sum((q * p for s, sd, q in live if s == symbol and sd is Side.SELL), D(0))
        if extra is not None:
            if extra[0] is Side.BUY:
                buys += extra[1] * p
            else:
                sells += extra[1] * p
        return abs(pos[symbol] * p + buys), abs(pos[symbol] * p - sells)

    for op in ops:
        if op[0] == "order":
            _, symbol, side, n = op
            qty = n * scale[symbol]
            b, s = worst(symbol, (side, qty))
            fits_symbol = (b if side is Side.BUY else s) <= max_inv
            others = sum((max(worst(x)) for x in SYMBOLS if x != symbol), D(0))
            fits_total = others + max(b, s) <= max_total
            allowed = risk.check_before_order(symbol, side, qty, PRICES[symbol])
            assert allowed == (fits_symbol and fits_total)  # blocks exactly the orders that do not fit
            if allowed:
                risk.on_order_open(symbol, side, qty, PRICES[symbol])
                live.append([symbol, side, qty])
            else:
                blocks += 1
        elif op[0] == "fill" and live:
            order = live[op[1] % len(live)]
            symbol, side, remaining = order
            qty = remaining if op[2] == 1 else (remaining / op[2]).quantize(scale[symbol]) or remaining
            risk.on_order_release(symbol, side, qty, PRICES[symbol])
            risk.on_fill(symbol, side, qty, PRICES[symbol])
            pos[symbol] += side.sign * qty
            order[2] -= qty
            if order[2] == 0:
                live.remove(order)
        elif op[0] == "cancel" and live:
            symbol, side, remaining = live.pop(op[1] % len(live))
            risk.on_order_release(symbol, side, remaining, PRICES[symbol])
        # the invariant: whatever happened, the worst case of the book is within both limits
        assert all(max(worst(x)) <= max_inv for x in SYMBOLS)
        assert sum((max(worst(x)) for x in SYMBOLS), D(0)) <= max_total
        assert {k: v for k, v in risk.get_positions().items() if v} == {k: v for k, v in pos.items() if v}
    assert risk.blocks_total == blocks


# ---------------------------------------------------------------- random shadow runs
# Values are drawn from small menus around the ~1,000 USD quote size, so that almost every generated run
# mixes accepted, blocked, filled, partially filled and canceled orders (free integers shrink towards
# degenerate runs where nothing trades).
RUNS = st.fixed_dictionaries(
    {
        "symbols": st.lists(st.sampled_from(["BTCUSDT", "ETHUSDT", "SOLUSDT", "DOGEUSDT"]), min_size=1,
                            max_size=3, unique=True),
        "iterations": st.integers(20, 150),
        "seed": st.integers(0, 2**31),
        "quote_interval_ms": st.sampled_from([1, 50, 100, 250]),
        "max_inventory_usd_per_symbol": st.sampled_from([900, 1500, 2500, 5000, 10_000]),
        "max_total_notional_usd": st.sampled_from([1500, 3000, 8000, 50_000]),
        "edge_freeze_threshold_bps": st.sampled_from(["-100", "1.5", "2.2", "2.8"]),
        "unfreeze_after_ms": st.sampled_from([None, 0, 150, 1000]),
        "requote_bps": st.sampled_from(["0", "1", "2", "5"]),
    }
)
VENUES = st.fixed_dictionaries(
    {
        "fill_rate": st.sampled_from([0.0, 0.3, 0.7, 1.0]),
        "reject_rate": st.sampled_from([0.0, 0.05, 0.3]),
        "partial_fill_rate": st.sampled_from([0.0, 0.5, 1.0]),
        "latency_ms": st.sampled_from([0, 1, 100, 450]),
    }
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(run=RUNS, venue=VENUES)
def test_random_shadow_runs_keep_every_invariant(run: dict[str, Any], venue: dict[str, Any]) -> None:
    params = ExecutionParams(**run, utc="2025-01-01T00:00:00Z")
    rig = make_rig(params, **venue)
    report = json.loads(dumps(rig.loop.run(params)))
    assert_loop_invariants(rig, report)  # placed = filled + rejected + canceled + open; books agree; limits held
    timeline = expected_freezes(params, rig.loop.run_started_ms)
    assert rig.risk.freezes_total == len(timeline.events)
    assert rig.risk.unfreezes_total == timeline.unfreezes
    assert report["risk"]["frozen"] is timeline.frozen_at_end
    # same params, fresh components: byte-identical report
    again = make_rig(params, **venue)
    assert dumps(again.loop.run_shadow(params)) == dumps(report)


# ---------------------------------------------------------------- per-order fates are independent
@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(-(2**40), 2**63),
    target=st.integers(1, 10**6),
    others=st.lists(st.integers(1, 10**6), max_size=15),
    rates=st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1)),
)
def test_an_unrelated_order_never_changes_another_orders_fate(seed: int, target: int, others: list[int],
                                                              rates: tuple[float, float, float]) -> None:
    assume(target not in others)
    fill_rate, reject_rate, partial = rates

    def fate(before: list[int]) -> tuple[Any, ...]:
        clock = VirtualClock()
        venue = FakeExchangeClient(fill_rate, reject_rate, 50, partial, seed, clock=clock)
        for n in before:
            venue.place_limit(PlaceOrderRequest(f"CLI{n:08d}", "ETHUSDT", Side.SELL, "0.33", "3000"))
            clock.advance(13)
        placed_at = clock.now_ms()
        response = venue.place_limit(PlaceOrderRequest(f"CLI{target:08d}", "BTCUSDT", Side.BUY, "0.02", "50000"))
        clock.advance(10_000)
        mine = [(f.timestamp_ms - placed_at, f.qty, f.price) for f in venue.stream_fills()
                if f.client_order_id == f"CLI{target:08d}"]
        return response.success, response.state, tuple(mine)

    assert fate([]) == fate(others)
