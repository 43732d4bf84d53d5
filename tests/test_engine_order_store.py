"""InMemoryOrderStore: sequential ids, only legal transitions, exact fills, queries, bounded retention."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mmexec.canonical import dumps, loads
from mmexec.compat import InMemoryOrderStore
from mmexec.engine.models import OrderState, Side
from mmexec.engine.order_store import (
    LEGAL_TRANSITIONS,
    IllegalTransition,
    OrderStoreError,
    StoredOrder,
    UnknownOrder,
)

S = OrderState
D = Decimal
# The lifecycle of the issue / seed diagram.
EXPECTED_LEGAL = {
    (S.PENDING, S.OPEN), (S.PENDING, S.REJECTED), (S.PENDING, S.CANCELED),
    (S.OPEN, S.PARTIALLY_FILLED), (S.OPEN, S.FILLED), (S.OPEN, S.CANCELED),
    (S.OPEN, S.REJECTED),  # a venue may reject an order it acknowledged (post-only taking liquidity on arrival)
    (S.PARTIALLY_FILLED, S.PARTIALLY_FILLED), (S.PARTIALLY_FILLED, S.FILLED), (S.PARTIALLY_FILLED, S.CANCELED),
}


def _order_in(store: InMemoryOrderStore, state: OrderState, symbol: str = "BTCUSDT") -> StoredOrder:
    """A fresh order driven into ``state`` through legal steps only."""
    order = store.create(symbol, Side.BUY, D("1.0"), D("100"))
    coid = order.client_order_id
    if state is S.PENDING:
        return order
    if state is S.REJECTED:
        return store.mark_rejected(coid, "no")
    if state is S.CANCELED:
        return store.mark_canceled(coid)
    store.mark_open(coid, "X" + coid)
    if state is S.PARTIALLY_FILLED:
        store.apply_fill(coid, D("0.25"))
    elif state is S.FILLED:
        store.apply_fill(coid, D("1.0"))
    return order


def test_client_ids_are_sequential_and_zero_padded() -> None:
    store = InMemoryOrderStore()
    ids = [store.create("BTCUSDT", Side.BUY, D(1), D(1)).client_order_id for _ in range(3)]
    assert ids == ["CLI00000001", "CLI00000002", "CLI00000003"]
    assert InMemoryOrderStore(id_prefix="T").next_client_order_id() == "T00000001"


def test_new_order_is_pending_with_given_fields() -> None:
    store = InMemoryOrderStore()
    order = store.create("ETHUSDT", Side.SELL, D("0.33"), D("3000.01"), now_ms=1234)
    assert order.state is S.PENDING
    assert (order.symbol, order.side, order.qty, order.price) == ("ETHUSDT", Side.SELL, D("0.33"), D("3000.01"))
    assert order.filled_qty == 0 and order.remaining_qty == D("0.33")
    assert order.order_id is None
    assert order.created_ms == order.updated_ms == 1234
    assert store.require(order.client_order_id) is order
    assert "CLI00000001" in repr(order)


def test_explicit_client_ids_and_duplicates() -> None:
    store = InMemoryOrderStore()
    store.create("BTCUSDT", Side.BUY, D(1), D(1), client_order_id="mine-1")
    assert store.get("mine-1") is not None
    with pytest.raises(OrderStoreError, match="duplicate"):
        store.create("BTCUSDT", Side.BUY, D(1), D(1), client_order_id="mine-1")


def test_transition_table_is_the_lifecycle() -> None:
    table = {(old, new) for old, targets in LEGAL_TRANSITIONS.items() for new in targets}
    assert table == EXPECTED_LEGAL


def _drive(store: InMemoryOrderStore, order: StoredOrder, new: OrderState) -> None:
    """Ask for ``old -> new`` through the operation that means it (fills go through apply_fill)."""
    coid = order.client_order_id
    if new is S.FILLED:
        store.apply_fill(coid, order.remaining_qty if order.remaining_qty > 0 else D(1), now_ms=99)
    elif new is S.PARTIALLY_FILLED:
        store.apply_fill(coid, D("0.25"), now_ms=99)
    elif new is S.OPEN:
        store.mark_open(coid, "ORD-" + coid, now_ms=99)
    else:
        store.transition(coid, new, now_ms=99)


@pytest.mark.parametrize("old", list(S))
@pytest.mark.parametrize("new", list(S))
def test_only_legal_transitions_are_accepted(old: OrderState, new: OrderState) -> None:
    store = InMemoryOrderStore()
    order = _order_in(store, old)
    before = order.to_dict()
    counts_before = store.counts()
    positions_before = store.get_positions()
    if (old, new) in EXPECTED_LEGAL:
        _drive(store, order, new)
        assert order.state is new
        assert order.updated_ms == 99
    else:
        with pytest.raises(OrderStoreError):
            _drive(store, order, new)
        with pytest.raises(IllegalTransition, match=f"{old.value} -> {new.value}"):
            store.transition(order.client_order_id, new, now_ms=99)
        assert order.to_dict() == before  # a refused change changes nothing
        assert store.counts() == counts_before
        assert store.get_positions() == positions_before


def test_mark_helpers_set_ids_and_messages() -> None:
    store = InMemoryOrderStore()
    a = store.create("BTCUSDT", Side.BUY, D(1), D(1))
    b = store.create("BTCUSDT", Side.BUY, D(1), D(1))
    store.mark_open(a.client_order_id, "ORD000001", now_ms=5)
    store.mark_rejected(b.client_order_id, "insufficient margin", now_ms=6)
    assert a.state is S.OPEN and a.order_id == "ORD000001" and a.updated_ms == 5
    assert b.state is S.REJECTED and b.message == "insufficient margin" and b.updated_ms == 6
    assert store.get_by_exchange_id("ORD000001") is a
    assert store.get_by_exchange_id("ORD999999") is None
    store.mark_canceled(a.client_order_id)
    assert a.state is S.CANCELED
    assert a.updated_ms == 5  # no time given: unchanged


def test_refused_reject_leaves_the_message_alone() -> None:
    store = InMemoryOrderStore()
    order = _order_in(store, S.PARTIALLY_FILLED)
    with pytest.raises(IllegalTransition):
        store.mark_rejected(order.client_order_id, "late reject")
    assert order.message == ""


def test_an_acknowledged_order_may_be_rejected() -> None:
    store = InMemoryOrderStore()
    order = _order_in(store, S.OPEN)
    store.mark_rejected(order.client_order_id, "EC_PostOnlyWillTakeLiquidity")
    assert order.state is S.REJECTED and order.message == "EC_PostOnlyWillTakeLiquidity"
    assert store.get_open_orders() == []


@pytest.mark.parametrize("target", [S.FILLED, S.PARTIALLY_FILLED])
def test_generic_transition_cannot_fake_a_fill(target: OrderState) -> None:
    # "the order reaches FILLED exactly when the filled quantity equals its quantity": only apply_fill may
    # move an order into a fill state, otherwise state and filled_qty (and positions) disagree.
    store = InMemoryOrderStore()
    order = _order_in(store, S.OPEN)
    with pytest.raises(OrderStoreError):
        store.transition(order.client_order_id, target)
    assert order.state is S.OPEN


def test_partial_fills_accumulate_and_fill_exactly_at_quantity() -> None:
    store = InMemoryOrderStore()
    order = _order_in(store, S.OPEN)
    coid = order.client_order_id
    store.apply_fill(coid, D("0.1"), now_ms=10)
    assert order.state is S.PARTIALLY_FILLED and order.filled_qty == D("0.1")
    store.apply_fill(coid, D("0.2"), now_ms=11)
    assert order.state is S.PARTIALLY_FILLED and order.filled_qty == D("0.3")
    assert order.remaining_qty == D("0.7")
    assert store.get_open_orders() == [order]
    store.apply_fill(coid, D("0.7"), now_ms=12)
    assert order.state is S.FILLED and order.filled_qty == order.qty
    assert order.updated_ms == 12
    assert store.get_open_orders() == []
    assert store.get_positions() == {"BTCUSDT": D("1.0")}


@pytest.mark.parametrize("qty", [D(0), D("-0.1")])
def test_non_positive_fill_is_refused(qty: Decimal) -> None:
    store = InMemoryOrderStore()
    order = _order_in(store, S.OPEN)
    with pytest.raises(OrderStoreError, match="positive"):
        store.apply_fill(order.client_order_id, qty)
    assert order.filled_qty == 0 and order.state is S.OPEN
    assert store.get_positions() == {}


def test_overfill_is_refused_and_changes_nothing() -> None:
    store = InMemoryOrderStore()
    order = _order_in(store, S.PARTIALLY_FILLED)
    with pytest.raises(OrderStoreError, match="overfill"):
        store.apply_fill(order.client_order_id, D("0.76"))
    assert order.filled_qty == D("0.25") and order.state is S.PARTIALLY_FILLED
    assert store.get_positions() == {"BTCUSDT": D("0.25")}


@pytest.mark.parametrize("state", [S.PENDING, S.CANCELED, S.REJECTED])
def test_fill_on_an_inactive_order_is_refused(state: OrderState) -> None:
    store = InMemoryOrderStore()
    order = _order_in(store, state)
    with pytest.raises(OrderStoreError):
        store.apply_fill(order.client_order_id, D("0.5"))
    assert order.filled_qty == 0
    assert store.get_positions() == {}


def test_positions_are_the_exact_signed_sum_of_fills() -> None:
    store = InMemoryOrderStore()
    buy = store.create("ETHUSDT", Side.BUY, D("0.3"), D(3000))
    sell = store.create("ETHUSDT", Side.SELL, D("0.15"), D(3001))
    store.mark_open(buy.client_order_id, "ORD1")
    store.mark_open(sell.client_order_id, "ORD2")
    store.apply_fill(buy.client_order_id, D("0.1"))
    store.apply_fill(buy.client_order_id, D("0.2"))
    store.apply_fill(sell.client_order_id, D("0.05"))
    position = store.get_positions()["ETHUSDT"]
    assert position == D("0.25")
    assert str(position) == "0.25"  # never 0.25000000000000006
    store.get_positions()["ETHUSDT"] = D(99)  # a copy: the caller cannot corrupt the book
    assert store.get_positions()["ETHUSDT"] == D("0.25")


def test_unknown_order() -> None:
    store = InMemoryOrderStore()
    assert store.get("CLI00000009") is None
    with pytest.raises(UnknownOrder):
        store.require("CLI00000009")
    with pytest.raises(KeyError):
        store.mark_canceled("CLI00000009")


def test_queries_by_state_symbol_and_id() -> None:
    store = InMemoryOrderStore()
    p = _order_in(store, S.PENDING, "BTCUSDT")
    o = _order_in(store, S.OPEN, "ETHUSDT")
    pf = _order_in(store, S.PARTIALLY_FILLED, "BTCUSDT")
    f = _order_in(store, S.FILLED, "ETHUSDT")
    c = _order_in(store, S.CANCELED, "BTCUSDT")
    r = _order_in(store, S.REJECTED, "SOLUSDT")
    assert store.get_by_state(S.PENDING) == [p]
    assert store.get_by_state(S.OPEN) == [o]
    assert store.get_by_state("PARTIALLY_FILLED") == [pf]  # type: ignore[arg-type]
    assert store.get_by_state(S.FILLED) == [f]
    assert store.get_by_state(S.CANCELED) == [c]
    assert store.get_by_state(S.REJECTED) == [r]
    assert set(map(id, store.get_by_symbol("BTCUSDT"))) == {id(p), id(pf), id(c)}
    assert store.get_by_symbol("XRPUSDT") == []
    assert store.get_open_orders() == [o, pf]  # active only, in creation order
    assert store.get_open_orders("ETHUSDT") == [o]
    assert store.get_by_exchange_id(o.order_id or "") is o
    assert len(store) == 6
    assert {x.client_order_id for x in store.orders()} == {x.client_order_id for x in (p, o, pf, f, c, r)}
    assert store.counts() == {s.value: 1 for s in S}
    assert store.total_created == 6


def test_terminal_orders_are_retained_up_to_the_limit_oldest_first() -> None:
    store = InMemoryOrderStore(retain_terminal=2)
    filled = [_order_in(store, S.FILLED) for _ in range(5)]
    live = _order_in(store, S.OPEN)
    assert len(store) == 3  # two retained terminal orders + one live
    assert [o.client_order_id for o in store.get_by_state(S.FILLED)] == [
        filled[3].client_order_id, filled[4].client_order_id,
    ]
    assert store.get(filled[0].client_order_id) is None
    assert store.get_by_exchange_id(filled[0].order_id or "") is None
    assert store.get_by_exchange_id(filled[4].order_id or "") is filled[4]
    assert store.get(live.client_order_id) is live
    # eviction forgets orders, never history: counts and positions cover every order ever stored
    assert store.counts()["FILLED"] == 5
    assert store.total_created == 6
    assert store.get_positions() == {"BTCUSDT": D("5.0")}


def test_retain_zero_keeps_only_live_orders() -> None:
    store = InMemoryOrderStore(retain_terminal=0)
    done = _order_in(store, S.FILLED)
    canceled = _order_in(store, S.CANCELED)
    live = _order_in(store, S.PARTIALLY_FILLED)
    assert list(store.orders()) == [live]
    assert store.get(done.client_order_id) is None and store.get(canceled.client_order_id) is None
    assert store.get_by_exchange_id(done.order_id or "") is None
    assert store.counts()["FILLED"] == 1 and store.counts()["CANCELED"] == 1


def test_negative_retention_is_refused() -> None:
    with pytest.raises(ValueError):
        InMemoryOrderStore(retain_terminal=-1)


def test_memory_stays_flat_over_many_orders() -> None:
    store = InMemoryOrderStore(retain_terminal=100)
    for _ in range(5000):
        _order_in(store, S.FILLED)
    assert len(store) == 100
    assert store.counts()["FILLED"] == 5000


def test_export_is_complete_and_canonical_json_ready() -> None:
    store = InMemoryOrderStore(retain_terminal=10)
    o = _order_in(store, S.PARTIALLY_FILLED, "ETHUSDT")
    _order_in(store, S.REJECTED)
    exported = store.export()
    assert exported["counts"]["PARTIALLY_FILLED"] == 1
    assert exported["counts"]["REJECTED"] == 1
    assert exported["positions"] == {"ETHUSDT": D("0.25")}
    assert exported["retained_terminal"] == 1
    assert exported["retain_terminal_limit"] == 10
    row = next(r for r in exported["orders"] if r["client_order_id"] == o.client_order_id)
    assert row == {
        "client_order_id": o.client_order_id, "order_id": o.order_id, "symbol": "ETHUSDT", "side": "BUY",
        "qty": D("1.0"), "price": D(100), "filled_qty": D("0.25"), "state": "PARTIALLY_FILLED",
        "created_ms": 0, "updated_ms": 0, "message": "",
    }
    assert store.to_dict() == exported
    again = loads(dumps(exported))
    assert again["positions"] == {"ETHUSDT": 0.25}
