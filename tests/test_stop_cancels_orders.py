"""A run on recorded or live market data stops cleanly: every simulated order still resting at the end is
canceled (at the run's last virtual instant, after everything in flight reached the strategy), in a replay and
in a live session alike, so a live report and the replay of its recording stay byte-identical."""

from __future__ import annotations

from pathlib import Path

from bybit_ws_server import BybitWsServer, run
from test_live_shadow import check_replays_to_the_same_report, consume_all, live_session, per_symbol, wall_ms

from mmexec.run.builder import build_run, run_spec
from mmexec.run.spec import RunSpec
from tests.replay_support import BTC, XRP

UTC = "2026-01-01T00:00:00Z"


def test_a_replay_ends_with_no_resting_order_and_the_cancels_are_counted() -> None:
    spec = RunSpec.from_settings({"market": "replay", "data": (BTC,), "edge_threshold": -10000,
                                  "order_qty": "0.016", "max_inv": 10000})
    run = build_run(spec, utc=UTC)
    assert run.replay is not None
    run.replay.run()
    assert list(run.loop.order_store.get_open_orders()) == []
    assert run.replay.venue.get_open_orders() == []
    orders = run.result().to_report()["orders"]
    assert orders["open"] == 0 and orders["canceled"] > 0


def test_the_xrp_replay_cancels_its_last_quote() -> None:
    spec = RunSpec.from_settings({"market": "replay", "data": (XRP,), "edge_threshold": -10000})
    report = run_spec(spec, utc=UTC).to_report()
    assert report["orders"]["open"] == 0
    assert report["timeline"]["symbols"]["XRPUSDT"]["open_orders"][-1] == 0


def test_a_live_session_stops_with_no_resting_order_and_replays_to_the_same_report(tmp_path: Path) -> None:
    async def main() -> None:
        async with BybitWsServer(deltas=60, now_ms=wall_ms) as server:
            session = live_session(server, tmp_path)
            await consume_all(session, server, 2 * per_symbol(server, 60))
            live = check_replays_to_the_same_report(session, tmp_path)
            assert live["orders"]["open"] == 0
            assert live["orders"]["placed"] > 0 and live["orders"]["canceled"] > 0

    run(main())
