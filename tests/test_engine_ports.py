"""The engine's ports and observers: quoting from any market source, strategy knobs, journal and step hooks."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mmexec.compat import (
    ExecutionLoop,
    ExecutionParams,  # the original API: it carries the test's risk limits too
    FakeExchangeClient,
    InMemoryOrderStore,
    RuntimeRiskMonitor,
)
from mmexec.engine.clock import VirtualClock
from mmexec.engine.market import Instrument, SyntheticMarket
from mmexec.engine.models import FillEvent, Side
from mmexec.engine.ports import IExchangeClient, OrderEvent, Venue
from mmexec.engine.strategy import QuotingPolicy

D = Decimal
BTC = Instrument("BTCUSDT", D("50000.0"), D("0.1"), D("0.001"), D("0.02"))


def _loop(policy: QuotingPolicy | None = None, **venue: Any) -> ExecutionLoop:
    exchange = FakeExchangeClient(**{"fill_rate": 0.0, "reject_rate": 0.0, "seed": 1, **venue})
    return ExecutionLoop(exchange, InMemoryOrderStore(), RuntimeRiskMonitor(10000, 50000, 1.5), policy=policy)


def _resting(loop: ExecutionLoop) -> dict[Side, Decimal]:
    return {o.side: o.price for o in loop.order_store.get_open_orders()}


def test_venue_port_keeps_its_readme_name() -> None:
    import mmexec
    from mmexec.exchanges.base import IExchangeClient as from_adapters

    assert IExchangeClient is Venue is from_adapters is mmexec.IExchangeClient
    assert isinstance(FakeExchangeClient(), Venue)


def test_quote_applies_the_policy_to_a_touch_of_a_source_instrument() -> None:
    class Recorded:
        instruments: Mapping[str, Instrument] = {"BTCUSDT": BTC}

    loop = _loop()
    loop.use_source(Recorded())
    loop.quote("BTCUSDT", 499_990, 500_010)
    assert _resting(loop) == {Side.BUY: D("49999.0"), Side.SELL: D("50001.0")}
    assert {o.qty for o in loop.order_store.get_open_orders()} == {D("0.02")}
    with pytest.raises(KeyError, match="ETHUSDT"):
        loop.quote("ETHUSDT", 1, 2)


def test_offset_rests_k_ticks_behind_the_touch() -> None:
    loop = _loop(QuotingPolicy(quote_offset_ticks=3))
    loop.add_instruments({"BTCUSDT": BTC})
    loop.quote("BTCUSDT", 499_990, 500_010)
    assert _resting(loop) == {Side.BUY: D("49998.7"), Side.SELL: D("50001.3")}


@given(position_lots=st.integers(-40, 40), skew=st.integers(0, 50))
def test_skew_shifts_both_quotes_against_the_position(position_lots: int, skew: int) -> None:
    policy = QuotingPolicy(skew_bps=D(skew), max_inventory_usd=D(10000))
    position = D(position_lots) / 100
    bid, ask = policy.targets(BTC, 499_990, 500_010, position)
    fraction = max(D(-1), min(D(1), position * 50000 / 10000))
    shift = D(skew) * 50000 / 10000 * fraction / D("0.1")  # ticks
    assert bid <= 499_990 - shift < bid + 1  # rounded down: the passive side of a bid
    assert ask - 1 < 500_010 - shift <= ask  # rounded up: the passive side of an ask
    if position > 0:
        assert bid <= 499_990 and ask <= 500_010
    if position < 0:
        assert bid >= 499_990 and ask >= 500_010


def test_full_skew_at_max_inventory_and_beyond() -> None:
    policy = QuotingPolicy(skew_bps=D(2), max_inventory_usd=D(10000))
    # 2 bps of 50,000 = 10 USD = 100 ticks, reached at 0.2 BTC and capped beyond
    assert policy.targets(BTC, 499_990, 500_010, D("0.2")) == (499_890, 499_910)
    assert policy.targets(BTC, 499_990, 500_010, D("5")) == (499_890, 499_910)
    assert policy.targets(BTC, 499_990, 500_010, D("-0.1")) == (500_040, 500_060)
    assert QuotingPolicy().targets(BTC, 499_990, 500_010, D("3")) == (499_990, 500_010)


def test_policy_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="quote_offset_ticks"):
        QuotingPolicy(quote_offset_ticks=-1)
    with pytest.raises(ValueError, match="skew_bps"):
        QuotingPolicy(skew_bps=D(-1))


class Journal:
    def __init__(self) -> None:
        self.events: list[OrderEvent] = []
        self.fills: list[FillEvent] = []
        self.steps: list[int] = []

    def on_order_event(self, event: OrderEvent) -> None:
        self.events.append(event)

    def on_fill(self, fill: FillEvent) -> None:
        self.fills.append(fill)

    def on_step(self, now_ms: int) -> None:
        self.steps.append(now_ms)


def test_journal_and_step_hooks_see_every_event_fill_and_step() -> None:
    loop = _loop(fill_rate=0.7, reject_rate=0.1)
    journal = Journal()
    steps: list[int] = []
    loop.journal_hooks.append(journal)
    loop.step_hooks.append(steps.append)
    report = loop.run(ExecutionParams(symbols=["BTCUSDT", "ETHUSDT"], iterations=200, edge_freeze_threshold_bps=-99))
    orders = report["orders"]
    kinds = [e.kind for e in journal.events]
    assert kinds.count("open") + kinds.count("rejected") == orders["placed"]
    assert kinds.count("rejected") == orders["rejected"] and kinds.count("canceled") == orders["canceled"]
    assert len(journal.fills) == orders["fills"]
    assert steps == journal.steps == [loop.run_started_ms + 100 * (i + 1) for i in range(200)]


def test_stepped_source_replaces_the_synthetic_market() -> None:
    params = ExecutionParams(symbols=["BTCUSDT"], iterations=30, seed=5)
    a, b = _loop(fill_rate=0.5), _loop(fill_rate=0.5)
    report_a = a.run(params)
    report_b = b.run(params, source=SyntheticMarket(["BTCUSDT"], 5))
    assert report_a["orders"] == report_b["orders"] and report_a["positions"] == report_b["positions"]


def test_engine_reads_no_wall_clock_without_an_injected_stamp() -> None:
    from mmexec.engine.loop import ExecutionLoop as CoreLoop

    loop = CoreLoop(FakeExchangeClient(), InMemoryOrderStore(), RuntimeRiskMonitor(1, 1, 1), clock=VirtualClock(0))
    assert loop.run(ExecutionParams(symbols=["BTCUSDT"], iterations=1))["runtime"]["utc"] is None
    stamp: Callable[[], str] = lambda: "2025-01-01T00:00:00Z"  # noqa: E731
    loop.utc = stamp
    assert loop.run(ExecutionParams(symbols=["BTCUSDT"], iterations=1))["runtime"]["utc"] == "2025-01-01T00:00:00Z"


def test_a_step_hook_that_returns_its_due_time_is_skipped_until_then() -> None:
    loop = _loop(fill_rate=0.7)
    every: list[int] = []
    sparse: list[int] = []

    def every_500ms(now_ms: int) -> int:
        sparse.append(now_ms)
        return now_ms + 500

    loop.step_hooks.append(every_500ms)
    loop.run(ExecutionParams(symbols=["BTCUSDT"], iterations=20, edge_freeze_threshold_bps=-99))
    start = loop.run_started_ms
    assert sparse == [start + 100 * i for i in (1, 6, 11, 16)]
    loop.step_hooks.append(every.append)  # a hook that returns nothing: every step again, for both
    loop.run(ExecutionParams(symbols=["BTCUSDT"], iterations=5, edge_freeze_threshold_bps=-99))
    assert len(every) == 5 and len(sparse) == 4 + 5


def test_journal_hooks_see_every_step_whatever_the_step_hooks_ask() -> None:
    loop = _loop()
    journal = Journal()
    loop.journal_hooks.append(journal)
    loop.step_hooks.append(lambda now_ms: now_ms + 10_000)
    loop.run(ExecutionParams(symbols=["BTCUSDT"], iterations=7, edge_freeze_threshold_bps=-99))
    assert len(journal.steps) == 7
