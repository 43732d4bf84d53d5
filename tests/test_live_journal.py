"""A live session journaled (``--market bybit-live --state``), killed, and resumed (``--resume``) against the
loopback Bybit server: nothing journaled is lost or counted twice, and no book is traded before its fresh
snapshot (README "Resuming a live session"). Every wait is a condition on the journal or the server, bounded
by ``LIMIT_S``."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from bybit_ws_server import BybitWsServer, ServerThread, make_feed, run, until
from test_live_shadow_cli import LIMIT_S, done, mmexec

from mmexec.marketdata.live.recorder import resume_part
from mmexec.run.live import LiveSession
from mmexec.run.live_journal import LiveJournal
from mmexec.run.spec import RunSpec

SYMBOLS = ("XRPUSDT", "ETHUSDT")
# quotes rest at once (no latency) and the script's trades and touch moves fill them
COMMON = ["--symbols", ",".join(SYMBOLS), "--instrument", "ETHUSDT=0.0001/1", "--quote-interval-ms", "1",
          "--edge-threshold", "-10000", "--latency-ms", "0", "--response-latency-ms", "0",
          "--queue-model", "proportional"]
UTC = "2026-01-01T00:00:00Z"


def query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` on the journal, read-only (the writer's lock is not needed); [] while it has no tables."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return []
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.Error:
        return []
    finally:
        conn.close()


def wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + LIMIT_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)  # polling a child process's journal: real I/O, not the engine's time


FILLS = "SELECT seq, client_order_id, fill_id, symbol, side, qty FROM fills ORDER BY seq"


def test_a_live_session_killed_mid_run_resumes_without_losing_or_doubling_anything(tmp_path: Path) -> None:
    journal, report, fills_out = tmp_path / "live.db", tmp_path / "live.json", tmp_path / "fills.jsonl"
    recording = tmp_path / "live.jsonl.gz"
    with ServerThread(BybitWsServer(deltas=1000, now_ms=lambda: time.time_ns() // 1_000_000)) as server:
        proc = mmexec("shadow", "--market", "bybit-live", "--ws-url", server.url, "--duration", "4s",
                      "--state", str(journal), "--record", str(recording), "--out", str(report), *COMMON)
        try:
            wait_for(lambda: query(journal, "SELECT count(*) FROM fills") not in ([], [(0,)]), "a journaled fill")
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=LIMIT_S)
        assert proc.returncode == -signal.SIGKILL
        assert not report.exists()
        assert query(journal, "SELECT status FROM run") == [("running",)]
        before = query(journal, FILLS)
        connections = server.connections
        resumed = done("shadow", "--resume", str(journal), "--out", str(report), "--fills-out", str(fills_out))
        assert resumed.returncode == 0, resumed.stderr
        assert server.connections == connections + 1  # the resume reconnected
    assert query(journal, "SELECT status FROM run") == [("complete",)]
    fills = query(journal, FILLS)
    assert fills[:len(before)] == before  # nothing committed before the crash was lost or rewritten
    assert len({row[2] for row in fills}) == len(fills)  # every fill in the journal exactly once
    placed = [coid for (coid,) in query(journal, "SELECT client_order_id FROM order_events WHERE kind = 'open'")]
    assert len(set(placed)) == len(placed)  # no client order id reused across the resume
    assert {row[1] for row in fills} <= set(placed)
    data = json.loads(report.read_text())
    positions: dict[str, Decimal] = dict.fromkeys(SYMBOLS, Decimal(0))
    for _, _, _, symbol, side, qty in fills:
        positions[symbol] += Decimal(qty) * (1 if side == "BUY" else -1)
    assert {s: Decimal(str(q)) for s, q in data["positions"]["by_symbol"].items()} == \
        positions
    orders = data["orders"]
    assert orders["fills"] == len(fills) and orders["placed"] == len(placed) and orders["open"] == 0
    assert orders["canceled"] == len(query(journal, "SELECT 1 FROM order_events WHERE kind = 'canceled'"))
    assert len(fills_out.read_text().splitlines()) == len(fills)
    market = data["market"]
    assert market["live"]["resumed"] is True
    assert market["resyncs"] >= len(SYMBOLS)  # every book invalid at the resume, resynced by its snapshot
    assert {book["state"] for book in market["books"].values()} == {"synced"}
    # the killed process's recording was moved into place; the resumed one is a part of its own
    assert recording.exists() and (tmp_path / "live.resumed-1.jsonl.gz").exists()
    assert market["files"][0]["name"] == "live.resumed-1.jsonl.gz"
    again = done("shadow", "--resume", str(journal))
    assert again.returncode == 2 and "already complete" in again.stderr


class QuoteSpy:
    """Wraps the loop's ``quote``: records each quoted book's state and its snapshots since the resume."""

    def __init__(self, quote: Any, books: dict[str, Any], seen: list[tuple[str, str, int]]) -> None:
        self.quote, self.books, self.seen = quote, books, seen
        self.snapshots = {symbol: book.snapshots for symbol, book in books.items()}

    def __call__(self, symbol: str, bid: int, ask: int) -> None:
        book = self.books[symbol]
        self.seen.append((symbol, book.state, book.snapshots - self.snapshots[symbol]))
        self.quote(symbol, bid, ask)


def test_a_resumed_session_quotes_no_book_before_its_fresh_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "live.db"
    spec = RunSpec.from_settings({"market": "bybit-live", "symbols": SYMBOLS, "quote_interval_ms": 1,
                                  "instrument": {"ETHUSDT": "0.0001/1"}, "edge_threshold": -10000,
                                  "latency_ms": 0, "response_latency_ms": 0, "state": path})
    quoted: list[tuple[str, str, int]] = []

    async def main() -> None:
        async with BybitWsServer(deltas=100) as server:
            first = LiveSession(spec, utc=UTC, feed=make_feed(server, SYMBOLS))
            journal = LiveJournal.create(spec, path, command="shadow", utc=UTC, risk_listeners=[])
            journal.bind(first)
            task = asyncio.ensure_future(first.run_async())
            await until(lambda: first.feed.stats.delivered >= 2 * 121 and first.feed.queue_depth == 0)
            first.stop("duration")
            await task
            journal.close()  # a crash after the last batch: its final rows and checkpoint never committed
            assert query(path, "SELECT count(*) FROM checkpoints") != [(0,)]

            second = LiveSession(spec, utc=UTC, feed=make_feed(server, SYMBOLS))
            journal, _ = LiveJournal.reopen(path, risk_listeners=[])
            restored = journal.restore(second)
            assert restored is not None and restored.replay is not None
            second.adopt(restored)
            books = restored.replay.market.books
            assert all(book.state == "invalid" and not book.tradable for book in books.values())
            loop = restored.loop
            spy = QuoteSpy(loop.quote, books, quoted)
            loop.quote = spy  # type: ignore[method-assign, assignment]
            journal.externals["test:quote"] = spy  # a checkpoint stores it by name
            task = asyncio.ensure_future(second.run_async())
            await until(lambda: second.feed.stats.delivered >= 2 * 121 and second.feed.queue_depth == 0)
            second.stop("duration")
            await task
            journal.finish(b"{}")
            journal.close()

    run(main())
    assert quoted, "the resumed session never quoted"
    assert all(state == "synced" and fresh >= 1 for _, state, fresh in quoted)


def test_a_resumed_recording_is_a_new_part_and_a_killed_part_is_moved_into_place(tmp_path: Path) -> None:
    target = tmp_path / "cap.jsonl.gz"
    (tmp_path / "cap.jsonl.gz.part").write_bytes(b"killed")
    assert resume_part(target) == tmp_path / "cap.resumed-1.jsonl.gz"
    assert target.read_bytes() == b"killed" and not (tmp_path / "cap.jsonl.gz.part").exists()
    (tmp_path / "cap.resumed-1.jsonl.gz.part").write_bytes(b"again")
    assert resume_part(target) == tmp_path / "cap.resumed-2.jsonl.gz"
    assert (tmp_path / "cap.resumed-1.jsonl.gz").read_bytes() == b"again"
    assert resume_part(tmp_path / "plain") == tmp_path / "plain.resumed-1"


def test_a_state_path_that_is_not_a_journal_is_refused_before_connecting(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    state = tmp_path / "s.db"
    state.write_bytes(b"not a journal")
    result = cli("shadow", "--market", "bybit-live", "--symbols", "XRPUSDT", "--ws-url", "ws://127.0.0.1:9",
                 "--state", str(state), "--out", str(tmp_path / "r.json"))
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("error: ") and str(state) in result.stderr
    assert state.read_bytes() == b"not a journal"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.db"]
