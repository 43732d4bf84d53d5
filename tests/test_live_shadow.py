"""``--market bybit-live``: live sessions against the loopback Bybit server, and the replay of their recordings.

Each fault is injected by the server (tests/bybit_ws_server.py); the session must survive it, count it in the
report's ``market`` section, and its recording must replay to the same report outside the source fields
(``config.market``, ``market.kind``, ``market.live``). Sessions end when the server's script has been consumed
(a condition, not a timer); every test is bounded by ``LIMIT_S``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

import pytest
from bybit_ws_server import BybitWsServer, make_feed, run, until

from mmexec.canonical import dumps
from mmexec.marketdata.live.feed import BybitPublicFeed, FeedMessage
from mmexec.marketdata.live.timer import SystemTimer
from mmexec.run.builder import run_session
from mmexec.run.live import LiveSession
from mmexec.run.spec import RunSpec

SOURCE_FIELDS = ("config.market", "market.kind", "market.live")
UTC = "2026-01-01T00:00:00Z"
SYMBOLS = ("XRPUSDT", "ETHUSDT")
# the server re-labels the XRPUSDT order book to every symbol: its grid for ETHUSDT too
BASE = {"market": "bybit-live", "symbols": SYMBOLS, "quote_interval_ms": 1, "instrument": {"ETHUSDT": "0.0001/1"}}


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


def without_source(report: dict[str, Any]) -> bytes:
    report = dict(report)
    report["config"] = {k: v for k, v in report["config"].items() if k != "market"}
    report["market"] = {k: v for k, v in report["market"].items() if k not in ("kind", "live")}
    return dumps(report)


def replay_of(spec: RunSpec, recording: Path) -> dict[str, Any]:
    return run_session(spec.replace(market="replay", data=(recording,), record=None), utc=UTC)


def live_session(server: BybitWsServer, tmp_path: Path, feed: BybitPublicFeed | None = None,
                 **settings: Any) -> LiveSession:
    spec = RunSpec.from_settings({**BASE, "record": tmp_path / "live.jsonl.gz", **settings})
    feed = feed or make_feed(server, SYMBOLS)
    return LiveSession(spec, utc=UTC, feed=feed)


async def consume_all(session: LiveSession, server: BybitWsServer, sent: int) -> None:
    """Run ``session`` until the server sent ``sent`` data messages and the session consumed them all."""
    task = asyncio.ensure_future(session.run_async())
    feed = session.feed
    await until(lambda: sum(map(len, server.sent)) >= sent and feed.stats.received >= feed.stats.delivered
                and feed.queue_depth == 0 and feed.stats.delivered + feed.stats.drops >= sent)
    session.stop("duration")
    await task


def check_replays_to_the_same_report(session: LiveSession, tmp_path: Path) -> dict[str, Any]:
    assert session.run is not None
    live = session.run.result().to_report()
    replay = replay_of(session.spec, tmp_path / "live.jsonl.gz")
    assert without_source(live) == without_source(replay)
    assert live["market"]["kind"] == "bybit-live" and replay["market"]["kind"] == "replay"
    return live


def per_symbol(server: BybitWsServer, deltas: int) -> int:
    return 1 + deltas + deltas // 5  # snapshot, deltas, a trade every fifth delta


def test_a_clean_session_replays_to_the_same_report(tmp_path: Path) -> None:
    async def main() -> None:
        async with BybitWsServer(deltas=60, now_ms=wall_ms) as server:
            session = live_session(server, tmp_path)
            await consume_all(session, server, 2 * per_symbol(server, 60))
            live = check_replays_to_the_same_report(session, tmp_path)
            assert live["market"]["messages"] == {"depth_diff": 120, "snapshot": 2, "trade": 24}
            assert live["market"]["live"]["feed"]["reconnects"] == 0
            assert {book["state"] for book in live["market"]["books"].values()} == {"synced"}

    run(main())


def test_a_bad_recording_path_fails_before_connecting_and_writes_nothing(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("shadow", "--market", "bybit-live", "--symbols", "XRPUSDT", "--ws-url", "ws://127.0.0.1:9",
                 "--record", "/nonexistent-dir/x.gz", "--out", str(tmp_path / "r.json"))
    assert result.exit_code == 2
    assert result.stderr == "error: directory /nonexistent-dir does not exist (--record)\n"
    assert list(tmp_path.iterdir()) == []


def test_the_status_shows_each_symbol_and_logs_json_lines_without_a_terminal(tmp_path: Path,
                                                                             caplog: pytest.LogCaptureFixture) -> None:
    from mmexec.cli.live_panel import snapshot, status_display

    caplog.set_level(logging.INFO, logger="mmexec.live")

    async def main() -> None:
        async with BybitWsServer(deltas=20, now_ms=wall_ms) as server:
            session = live_session(server, tmp_path)
            with status_display(session, terminal=False):
                await consume_all(session, server, 2 * per_symbol(server, 20))
            state = snapshot(session)
            assert set(state["symbols"]) == set(SYMBOLS)
            row = state["symbols"]["XRPUSDT"]
            assert row["book"] == "synced" and row["mid"] is not None and row["spread"] is not None
            assert {"position", "open_orders", "fills", "net_pnl", "gaps"} <= set(row)
            assert state["reconnects"] == 0 and state["lag_ms"] is not None

    run(main())
    assert any(record.getMessage() == "live status" for record in caplog.records)


def test_a_u_gap_invalidates_the_book_and_resubscribes_for_a_fresh_snapshot(tmp_path: Path) -> None:
    async def main() -> None:
        async with BybitWsServer(deltas=40, now_ms=wall_ms) as server:
            server.skip_delta_index = 10  # the first symbol subscribed loses one delta
            session = live_session(server, tmp_path, symbols=("XRPUSDT",))
            session.feed = make_feed(server, ("XRPUSDT",))
            await consume_all(session, server, per_symbol(server, 40) - 1 + 1)  # minus the gap, plus a snapshot
            live = check_replays_to_the_same_report(session, tmp_path)
            market = live["market"]
            assert (market["gaps"], market["snapshots"], market["books"]["XRPUSDT"]["state"]) == (1, 2, "synced")
            assert market["live"]["resubscribes_after_gap"] == 1
            assert [r["args"] for r in server.requests_of("unsubscribe")] == [["orderbook.50.XRPUSDT"]]

    run(main())


def test_a_dropped_connection_reconnects_and_resubscribes(tmp_path: Path) -> None:
    async def main() -> None:
        async with BybitWsServer(deltas=30, now_ms=wall_ms) as server:
            server.drop_after_next = 20
            session = live_session(server, tmp_path)
            await consume_all(session, server, 20 + 2 * per_symbol(server, 30))
            live = check_replays_to_the_same_report(session, tmp_path)
            feed = live["market"]["live"]["feed"]
            assert (feed["connects"], feed["reconnects"], feed["disconnects"]) == (2, 1, 1)

    run(main())


def test_a_stale_feed_reconnects(tmp_path: Path) -> None:
    async def main() -> None:
        async with BybitWsServer(deltas=20, now_ms=wall_ms) as server:
            server.stall_after_next = 10  # then silence, not even a pong
            feed = BybitPublicFeed(make_feed(server, SYMBOLS).config.__class__(
                symbols=SYMBOLS, ws_url=server.url, stale_after_ms=200), timer=SystemTimer(),
                backoff=make_feed(server)._backoff)
            session = live_session(server, tmp_path, feed=feed)
            await consume_all(session, server, 10 + 2 * per_symbol(server, 20))
            live = check_replays_to_the_same_report(session, tmp_path)
            assert live["market"]["live"]["feed"]["stale"] == 1
            assert live["market"]["live"]["feed"]["reconnects"] == 1

    run(main())


def test_a_failed_subscription_is_counted_and_not_fatal(tmp_path: Path) -> None:
    symbols = tuple(f"S{i}USDT" for i in range(6))  # two subscribe requests: ten topics, then S5USDT's two
    grids = {s: "0.0001/1" for s in symbols}

    async def main() -> None:
        async with BybitWsServer(deltas=10, now_ms=wall_ms) as server:
            server.fail_topics = {"publicTrade.S5USDT"}
            session = live_session(server, tmp_path, feed=make_feed(server, symbols), symbols=symbols,
                                   instrument=grids)
            await consume_all(session, server, 5 * per_symbol(server, 10))
            assert session.run is not None
            live = session.run.result().to_report()
            assert live["market"]["live"]["feed"]["subscribe_failures"] == 1
            assert live["market"]["live"]["failed_topics"] == ["orderbook.50.S5USDT", "publicTrade.S5USDT"]
            assert live["market"]["books_without_snapshot"] == 1
            # S5USDT has no data: its recording replays for the other symbols, to the same trading
            replay = replay_of(session.spec.replace(symbols=symbols[:5]), tmp_path / "live.jsonl.gz")
            assert live["execution"].pop("symbols") == list(symbols)
            assert replay["execution"].pop("symbols") == list(symbols[:5])
            for section in ("execution", "orders", "pnl", "fees", "recon"):
                assert dumps(live[section]) == dumps(replay[section]), section

    run(main())


def test_malformed_and_unexpected_messages_are_counted_and_never_recorded(tmp_path: Path) -> None:
    async def main() -> None:
        async with BybitWsServer(deltas=20, now_ms=wall_ms) as server:
            server.junk_next = ('{"topic":"orderbook.50.XRPUSDT","type":"delta","data":', "not json", '{"a":1}')
            session = live_session(server, tmp_path)
            await consume_all(session, server, 2 * per_symbol(server, 20))
            live = check_replays_to_the_same_report(session, tmp_path)
            feed = live["market"]["live"]["feed"]
            assert (feed["malformed"], feed["unexpected"]) == (2, 1)
            assert live["market"]["files"][0]["lines"] == 2 * per_symbol(server, 20)

    run(main())


class BusyEngine(BybitPublicFeed):
    """A feed whose consumer is busy until ``busy_until`` messages arrived: a burst faster than the engine."""

    busy_until = 0

    async def get(self) -> FeedMessage | None:
        if self.busy_until:
            target, self.busy_until = self.busy_until, 0
            await until(lambda: self.stats.received >= target)
        return await super().get()


def test_a_burst_faster_than_the_engine_drops_resyncs_and_replays(tmp_path: Path) -> None:
    async def main() -> None:
        async with BybitWsServer(deltas=40, now_ms=wall_ms) as server:
            base = make_feed(server, ("XRPUSDT",), queue_size=5)
            feed = BusyEngine(base.config, timer=SystemTimer(), backoff=base._backoff)
            feed.busy_until = 1 + 1 + 40 + 8  # ack + snapshot + the script
            session = live_session(server, tmp_path, feed=feed, symbols=("XRPUSDT",))
            await consume_all(session, server, per_symbol(server, 40) + 1)  # + the resubscribed snapshot
            live = check_replays_to_the_same_report(session, tmp_path)
            market = live["market"]
            assert market["live"]["feed"]["drops"] == per_symbol(server, 40) - 5
            assert market["live"]["resubscribes_after_drops"] == 1
            assert market["snapshots"] == 2 and market["books"]["XRPUSDT"]["state"] == "synced"

    run(main())


def test_a_live_run_never_imports_websockets_before_it_is_chosen() -> None:
    import subprocess
    import sys

    code = ("import sys; import mmexec.cli\n"
            "from mmexec.run.builder import run_session; from mmexec.run.spec import RunSpec\n"
            "run_session(RunSpec().replace(iterations=3), utc='2026-01-01T00:00:00Z')\n"
            "assert 'websockets' not in sys.modules, 'websockets imported'\n"
            "assert 'mmexec.run.live' not in sys.modules")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--ws-url", "ws://x"], "error: ws_url applies to the live market only: add --market bybit-live"),
    (["--market", "bybit-live", "--data", "x.gz"], "error: data does not apply to the live market"),
    (["--market", "bybit-live", "--duration", "soon"], "error: "),
    (["--market", "bybit-live", "--seed", "3"], "error: seed does not apply to the live market"),
    (["--market", "bybit-live", "--ws-url", "http://x"], "error: invalid ws_url 'http://x': expected ws://"),
    (["--market", "bybit-live", "--exchange", "bybit"], "error: exchange does not apply to the live market"),
    (["--market", "bybit-live", "--symbols", "XRPUSDT", "--order-qty", "0.5", "--ws-url", "ws://127.0.0.1:9"],
     "error: order quantity 0.5 of XRPUSDT is not a multiple of its lot 1 (--order-qty)"),
    (["--market", "bybit-live", "--symbols", "DOGEUSDT", "--ws-url", "ws://127.0.0.1:9"],
     "error: no tick/lot size known for DOGEUSDT on bybit"),
])
def test_live_options_out_of_place_are_refused(cli, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    result = cli("shadow", *args)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith(message), result.stderr
    assert result.stderr.count("\n") == 1


def test_the_terminal_panel_renders_every_symbol(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mmexec.cli.live_panel import status_display

    async def main() -> None:
        async with BybitWsServer(deltas=10, now_ms=wall_ms) as server:
            session = live_session(server, tmp_path)
            with status_display(session, terminal=True):
                await consume_all(session, server, 2 * per_symbol(server, 10))

    run(main())
    err = capsys.readouterr().err
    assert "mmexec live shadow" in err and "XRPUSDT" in err and "ETHUSDT" in err


def test_fills_and_pnl_of_a_session_replay_to_the_same_bytes(tmp_path: Path) -> None:
    """Receive times from a scripted wall clock (5 ms per frame received) spread the script over seconds, so the
    quotes rest and the script's trades fill them: the replay of the recording reproduces every fill."""
    from mmexec.marketdata.live.backoff import Backoff
    from mmexec.marketdata.live.timer import ManualTimer

    async def main() -> None:
        async with BybitWsServer(deltas=1000) as server:  # the fixture's exchange times, 5 ms per delta
            config = make_feed(server, ("XRPUSDT",)).config
            start_ns = 1_733_011_200_000 * 1_000_000

            def wall_ns() -> int:
                return start_ns + feed.stats.received * 5_000_000

            feed = BybitPublicFeed(config, timer=ManualTimer(), wall_ns=wall_ns, backoff=Backoff(initial_ms=0))
            session = live_session(server, tmp_path, feed=feed, symbols=("XRPUSDT",), quote_interval_ms=100,
                                   order_qty="100")
            await consume_all(session, server, per_symbol(server, 1000))
            live = check_replays_to_the_same_report(session, tmp_path)
            assert live["orders"]["fills"] >= 1 and live["orders"]["placed"] >= 3
            assert live["markout"] == replay_of(session.spec, tmp_path / "live.jsonl.gz")["markout"]

    run(main())


@pytest.mark.parametrize("args", [["--market", "bybit-live"], ["--grid", "market=replay,bybit-live"]])
def test_a_sweep_refuses_the_live_market(cli, tmp_path: Path, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    result = cli("sweep", *args, "--grid", "requote_bps=1,2", "--out", str(tmp_path / "sweep.jsonl"))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: a sweep runs synthetic or recorded markets"), result.stderr
    assert list(tmp_path.iterdir()) == []


def test_live_keys_come_from_flags_env_and_toml(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    toml = tmp_path / "mmexec.toml"
    toml.write_text('[shadow]\nmarket = "bybit-live"\nstale_after_ms = 2500\nrecord = "cap.jsonl.gz"\n')
    result = cli("shadow", "--config", str(toml), "--queue-size", "64", "--show-config",
                 env={"MMEXEC_SHADOW__DURATION": "90s"})
    assert result.exit_code == 0, result.stderr
    lines = {line.split(" = ")[0]: line for line in result.stdout.splitlines() if " = " in line}
    assert lines["duration"].startswith('duration = "90s"  # env MMEXEC_SHADOW__DURATION')
    assert lines["stale_after_ms"].startswith("stale_after_ms = 2500  #")
    assert lines["queue_size"].startswith("queue_size = 64  # flag --queue-size")
    assert lines["record"].startswith('record = "cap.jsonl.gz"  #')


def test_a_session_without_a_recording_reports_its_messages(tmp_path: Path) -> None:
    async def main() -> None:
        async with BybitWsServer(deltas=10, now_ms=wall_ms) as server:
            spec = RunSpec.from_settings({**BASE, "symbols": ("XRPUSDT",)})
            session = LiveSession(spec, utc=UTC, feed=make_feed(server, ("XRPUSDT",)))
            await consume_all(session, server, per_symbol(server, 10))
            assert session.run is not None
            report = session.run.result().to_report()
            assert report["config"]["data"] == [] and report["market"]["files"] == []
            assert report["market"]["messages"] == {"depth_diff": 10, "snapshot": 1, "trade": 2}
            assert report["market"]["live"]["record"] is None
        assert list(tmp_path.iterdir()) == []

    run(main())


def test_without_the_live_extra_the_live_market_is_refused_before_anything() -> None:
    import subprocess
    import sys

    code = ("import sys; sys.modules['websockets'] = None  # as if the live extra were not installed\n"
            "from mmexec.cli import main\n"
            "sys.argv = ['mmexec', 'shadow', '--market', 'bybit-live', '--symbols', 'XRPUSDT']\n"
            "main()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 2
    assert done.stderr == ("error: the live market needs the 'live' extra: pip install 'mmexec[live]' "
                           "(--market bybit-live)\n")
