"""The replay on the run spine: spec, builder, result parts, refused keys, rejects after acknowledgement."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from mmexec.engine.clock import VirtualClock
from mmexec.engine.loop import ExecutionLoop
from mmexec.engine.market import Instrument
from mmexec.engine.models import FillEvent, OrderState
from mmexec.engine.order_store import InMemoryOrderStore
from mmexec.engine.ports import OrderEvent
from mmexec.engine.risk import RuntimeRiskMonitor
from mmexec.exchanges.queue import POST_ONLY_REJECT, QueueVenue
from mmexec.marketdata.merge import open_captures
from mmexec.run.builder import build_run
from mmexec.run.replay import ReplayMarket
from mmexec.run.spec import RunSpec
from tests.replay_support import BTC, XRP, bbo, lines, simple_capture, write

UTC = "2025-01-01T00:00:00Z"


def test_spec_carries_the_replay_keys_in_its_sub_specs() -> None:
    spec = RunSpec.from_settings({"market": "replay", "data": ["a.gz"], "queue_model": "proportional",
                                  "response_latency_ms": 7, "markout_ms": 500, "edge_window": 5,
                                  "order_qty": "0.016", "instrument": {"XRPUSDT": "0.0001/1"}}, strict=True)
    assert spec.market.replay and spec.market.data == (Path("a.gz"),)
    assert (spec.venue.queue_model, spec.venue.response_latency_ms) == ("proportional", 7)
    assert (spec.risk.markout_ms, spec.risk.edge_window) == (500, 5)
    assert spec.strategy.order_qty == Decimal("0.016")
    section = spec.config_section()
    assert section["data"] == ["a.gz"] and section["fill_model"] == "queue"
    assert not {"seed", "iterations", "fill_rate", "exchange", "ref_price"} & set(section)


def test_synthetic_config_section_has_no_replay_keys() -> None:
    section = RunSpec().config_section()
    assert not {"market", "data", "queue_model", "markout_ms", "order_qty", "fill_model"} & set(section)


def test_builder_wires_a_replay_with_the_spine_parts() -> None:
    spec = RunSpec.from_settings({"market": "replay", "data": [XRP], "edge_threshold": -1000})
    run = build_run(spec, utc=UTC, config_sources={})
    assert run.replay is not None and isinstance(run.exchange, QueueVenue)
    assert isinstance(run.replay.market, ReplayMarket)
    assert run.loop.policy is not None and run.loop.policy.never_cross
    run.drive()
    report = run.result().to_report()
    assert {"market", "markout", "queue", "config", "pnl", "recon"} <= set(report)
    assert report["config"]["symbols"] == ["XRPUSDT"]


def test_a_synthetic_run_does_not_cross_guard_its_quotes() -> None:
    run = build_run(RunSpec(), utc=UTC)
    assert run.replay is None and run.loop.policy is not None and not run.loop.policy.never_cross


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("--data", str(XRP)), "data needs recorded market data"),
        (("--queue-model", "proportional"), "queue_model needs recorded market data"),
        (("--market", "replay", "--data", str(XRP), "--seed", "7"), "seed does not apply to a replay"),
        (("--market", "replay", "--data", str(XRP), "--fill-rate", "0.5"), "fill_rate does not apply"),
    ],
)
def test_keys_of_the_other_market_are_refused(cli, args: tuple[str, ...], match: str) -> None:
    result = cli("shadow", *args)
    assert result.exit_code == 2
    assert match in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_help_lists_the_replay_panel(cli) -> None:
    result = cli("shadow", "--help")
    assert result.exit_code == 0
    assert "Market data replay" in result.stdout and "--queue-model" in result.stdout


def test_a_reject_after_acknowledgement_is_recorded_as_rejected() -> None:
    inst = Instrument("BTCUSDT", Decimal("61800.0"), Decimal("0.1"), Decimal("0.001"), Decimal("0.005"))
    source = open_captures([XRP])  # any source: the venue only needs books and grids
    market = ReplayMarket(source, None, Decimal(1000))
    clock = VirtualClock(0)
    venue = QueueVenue({"BTCUSDT": market.books["XRPUSDT"]}, {"BTCUSDT": (inst.tick_size, inst.lot_size)},
                       clock=clock)
    store = InMemoryOrderStore()
    risk = RuntimeRiskMonitor(Decimal(10_000), Decimal(50_000), Decimal(-1000))
    loop = ExecutionLoop(venue, store, risk, clock=clock)
    loop.add_instruments({"BTCUSDT": inst})
    loop.quote("BTCUSDT", 618_000, 618_001)
    bid = loop.books["BTCUSDT"].bid
    assert bid is not None and bid.state is OrderState.OPEN
    assert risk.open_exposure("BTCUSDT") != (Decimal(0), Decimal(0))
    assert loop.on_order_rejected(bid.client_order_id, POST_ONLY_REJECT)
    assert bid.state is OrderState.REJECTED and bid.message == POST_ONLY_REJECT
    assert loop.books["BTCUSDT"].bid is None
    assert loop.stats.rejected == 1
    assert not loop.on_order_rejected(bid.client_order_id)  # no longer active: nothing happens
    assert risk.open_exposure("BTCUSDT")[0] == 0  # the bid's reservation is released (the ask's stays)


def test_symbols_are_found_beyond_the_first_lines(tmp_path: Path) -> None:
    msgs = simple_capture() + [(1_000 + i, bbo(1_000 + i, "61799.9", "0.010", "61800.0", "0.050"))
                               for i in range(1, 300)]
    msgs.append((1_400, bbo(1_400, "2600.00", "1.0", "2600.01", "1.0", symbol="ETHUSDT")))
    source = open_captures([write(tmp_path / "c.txt", lines(msgs))])
    assert source.symbols == ["BTCUSDT", "ETHUSDT"]


class _OneOrderPerSide:
    """Journal hook: tracks the resting orders per (symbol, side) and the steps it is told about."""

    def __init__(self) -> None:
        self.resting: dict[tuple[str, str], set[str]] = {}
        self.left: dict[str, Decimal] = {}
        self.most = 0
        self.steps: list[int] = []

    def on_order_event(self, event: OrderEvent) -> None:
        side = self.resting.setdefault((event.symbol, event.side.value), set())
        if event.kind == "open":
            side.add(event.client_order_id)
            self.left[event.client_order_id] = event.qty
            self.most = max(self.most, len(side))
        else:
            side.discard(event.client_order_id)

    def on_fill(self, fill: FillEvent) -> None:
        left = self.left.get(fill.client_order_id)
        if left is not None:
            self.left[fill.client_order_id] = left - fill.qty
            if left - fill.qty == 0:
                self.resting[fill.symbol, fill.side.value].discard(fill.client_order_id)

    def on_step(self, now_ms: int) -> None:
        self.steps.append(now_ms)


def test_a_failed_cancel_sends_no_replacement_and_steps_reach_the_hooks() -> None:
    """The reference run has cancels that race fills in flight: the side keeps its order, never two at once."""
    spec = RunSpec.from_settings({"market": "replay", "data": [BTC], "order_qty": "0.016",
                                  "edge_threshold": -10000, "fee_maker_bps": 0})
    run = build_run(spec, utc=UTC, config_sources={})
    journal = _OneOrderPerSide()
    run.loop.journal_hooks.append(journal)
    run.drive()
    report = run.result().to_report()
    assert report["queue"]["cancel_races"] > 0 and run.loop.stats.cancel_failures > 0
    assert journal.most == 1
    assert len(journal.steps) > 3000 and journal.steps == sorted(journal.steps)
