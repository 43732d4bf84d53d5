"""The timeline of replay runs: the books' gaps, resyncs and crossed touches reach it as events, and the
default sampling of a real capture gives a few hundred points."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from mmexec.marketdata.book import OrderBook
from mmexec.marketdata.events import BookDelta, BookSnapshot
from mmexec.run.builder import build_run
from mmexec.run.spec import RunSpec
from tests.replay_support import BTC, lines, troubled_capture, write

UTC = "2025-01-01T00:00:00Z"


def run_report(*paths: Path, **options: Any) -> dict[str, Any]:
    spec = RunSpec.from_settings({"market": "replay", "data": paths, **options}, strict=True)
    run = build_run(spec, utc=UTC, config_sources={})
    run.drive()
    return dict(run.result().to_report())


def test_gaps_resyncs_and_crossed_books_are_timeline_events(tmp_path: Path) -> None:
    path = write(tmp_path / "c.txt", lines(troubled_capture()))
    report = run_report(path, edge_threshold=Decimal(-1000), sample_ms=100)
    market = [e for e in report["timeline"]["events"] if e["kind"] in {"gap", "resync", "crossed"}]
    assert market == [{"t_ms": 300, "kind": "gap", "symbol": "BTCUSDT"},
                      {"t_ms": 600, "kind": "resync", "symbol": "BTCUSDT"},
                      {"t_ms": 700, "kind": "crossed", "symbol": "BTCUSDT"}]
    counted = report["market"]
    assert (counted["gaps"], counted["resyncs"], counted["crossed_book_events"]) == (1, 1, 1)


def test_the_book_tells_its_listener_only_when_a_counter_moves() -> None:
    heard: list[tuple[str, str, int]] = []
    book = OrderBook("BTCUSDT")
    book.on_event = lambda kind, symbol, exch_ms: heard.append((kind, symbol, exch_ms))
    book.apply_snapshot(BookSnapshot("BTCUSDT", 0, 10, ((100, 1),), ((101, 1),), 5))
    book.apply_delta(BookDelta("BTCUSDT", 0, 11, ((100, 2),), (), 6, 6, 5))
    assert heard == []
    book.apply_delta(BookDelta("BTCUSDT", 0, 12, ((99, 2),), (), 9, 9, 8))
    book.apply_delta(BookDelta("BTCUSDT", 0, 13, ((99, 2),), (), 10, 10, 9))  # invalid: dropped, no event
    book.apply_snapshot(BookSnapshot("BTCUSDT", 0, 14, ((100, 1),), ((101, 1),), 20))
    assert heard == [("gap", "BTCUSDT", 12), ("resync", "BTCUSDT", 14)]
    assert (book.gaps, book.resyncs) == (1, 1)


def test_default_sampling_of_the_real_capture_gives_a_few_hundred_points() -> None:
    report = run_report(BTC)
    timeline = report["timeline"]
    span_ms = report["market"]["last_local_ms"] - report["market"]["first_local_ms"]
    assert 5 * 60_000 < span_ms < 6 * 60_000  # the 5.7-minute capture
    assert timeline["sample_ms"] == 1000
    assert 300 <= timeline["samples"] <= 400
    assert timeline["events_dropped"] == 0
    assert [e["kind"] for e in timeline["events"] if e["kind"] not in {"fill"}] == ["freeze"]
