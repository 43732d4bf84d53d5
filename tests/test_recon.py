"""Reconciliation: all zeros when healthy; injected discrepancies are found and named."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal as D

from mmexec.accounting.ledger import FeeLedger
from mmexec.accounting.recon import KINDS, reconcile
from mmexec.compat import (
    ExecutionLoop,
    ExecutionParams,  # the original API: it carries the test's risk limits too
    FakeExchangeClient,
    InMemoryOrderStore,
    RuntimeRiskMonitor,
)
from mmexec.engine.models import FillEvent, PlaceOrderRequest, Side
from mmexec.fees.profiles import VIP2_PROFILE, build_profile_map

PARAMS = ExecutionParams(symbols=["BTCUSDT", "ETHUSDT"], iterations=120, edge_freeze_threshold_bps=-1000,
                         utc="2025-01-01T00:00:00Z")


class DroppingExchange(FakeExchangeClient):
    """Loses the n-th fill on its way to the client (the venue still executed it)."""

    def __init__(self, drop: int, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._drop, self._seen = drop, 0

    def stream_fills(self) -> Iterator[FillEvent]:
        for fill in super().stream_fills():
            self._seen += 1
            if self._seen != self._drop:
                yield fill


def _run(exchange: FakeExchangeClient) -> tuple[ExecutionLoop, FeeLedger]:
    loop = ExecutionLoop(exchange, InMemoryOrderStore(), RuntimeRiskMonitor(10_000, 50_000, -1000))
    ledger = FeeLedger(VIP2_PROFILE)
    loop.fill_listeners.append(ledger.on_fill)
    loop.run(PARAMS)
    return loop, ledger


def _recon(loop: ExecutionLoop, ledger: FeeLedger):  # type: ignore[no-untyped-def]
    return reconcile(loop.order_store, loop.exchange, fee_ledger=ledger, fee_schedule=VIP2_PROFILE)


def test_healthy_run_reconciles_to_zero() -> None:
    loop, ledger = _run(FakeExchangeClient(partial_fill_rate=0.4, seed=3))
    report = _recon(loop, ledger)
    assert report.ok
    section = report.to_dict()
    assert all(section[kind] == 0 for kind in KINDS)
    assert section["orders_checked"] > 0 and section["fees_checked"] is True
    assert section["details"] == []


def test_dropped_fill_shows_position_and_fee_mismatch() -> None:
    loop, ledger = _run(DroppingExchange(drop=5, seed=3))
    report = _recon(loop, ledger)
    assert not report.ok
    assert report.count("position_mismatches") == 1
    assert report.count("fee_mismatches") == 1
    (pos,) = [d for d in report.discrepancies if d.kind == "position_mismatches"]
    venue = {p.symbol: p.qty for p in loop.exchange.get_positions()}
    assert pos.exchange == venue[pos.symbol]
    assert pos.local != pos.exchange


def test_dropped_partial_fill_shows_state_and_quantity_mismatch() -> None:
    exchange = DroppingExchange(drop=1, fill_rate=1.0, reject_rate=0.0, partial_fill_rate=1.0, latency_ms=100)
    store = InMemoryOrderStore()
    loop = ExecutionLoop(exchange, store, RuntimeRiskMonitor(1e9, 1e9, -1000))
    order = store.create("BTCUSDT", Side.BUY, D("1"), D("100"))
    store.mark_open(order.client_order_id, exchange.place_limit(
        PlaceOrderRequest(order.client_order_id, "BTCUSDT", Side.BUY, D("1"), D("100"))).order_id or "")
    loop.clock.advance(100)
    loop.on_fill()  # the first (partial) fill is lost in transit
    report = reconcile(store, exchange)
    kinds = sorted(d.kind for d in report.discrepancies)
    assert kinds == ["filled_qty_mismatches", "position_mismatches", "state_mismatches"]


def test_store_that_missed_a_cancel() -> None:
    loop, ledger = _run(FakeExchangeClient(fill_rate=0.0, seed=1))
    victim = loop.order_store.get_open_orders()[0]
    assert loop.exchange.cancel(victim.order_id or "")  # canceled on the venue, the store never heard
    report = _recon(loop, ledger)
    assert [d.kind for d in report.discrepancies] == ["missing_on_exchange"]
    assert report.discrepancies[0].client_order_id == victim.client_order_id
    assert report.to_dict()["missing_on_exchange"] == 1


def test_order_unknown_locally() -> None:
    loop, ledger = _run(FakeExchangeClient(fill_rate=0.0, seed=1))
    loop.exchange.place_limit(PlaceOrderRequest("MANUAL-1", "BTCUSDT", Side.SELL, D("0.01"), D("60000")))
    report = _recon(loop, ledger)
    assert [(d.kind, d.client_order_id) for d in report.discrepancies] == [("missing_locally", "MANUAL-1")]


def test_fee_check_uses_per_symbol_profiles() -> None:
    loop, _ = _run(FakeExchangeClient(seed=3))
    profiles = build_profile_map("VIP3")
    wrong = FeeLedger(VIP2_PROFILE)  # an empty ledger: nothing accounted locally
    report = reconcile(loop.order_store, loop.exchange, fee_ledger=wrong, fee_schedule=VIP2_PROFILE,
                       profile_map=profiles)
    assert report.count("fee_mismatches") == len(PARAMS.symbols)
    assert report.to_dict()["details"][0]["local"] == {"fees": D(0), "rebates": D(0)}
