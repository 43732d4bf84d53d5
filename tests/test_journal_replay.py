"""A replay's market source in a journal checkpoint: stored as a position and file identities (no stream, no
buffer), reopened and skipped on restore to exactly the uninterrupted stream; a changed capture is refused."""

from __future__ import annotations

import json
import random
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmexec.canonical import dumps
from mmexec.errors import InputError
from mmexec.journal.snapshot import dump_snapshot, load_snapshot
from mmexec.marketdata.events import MarketEvent
from mmexec.marketdata.merge import open_captures
from mmexec.run.builder import run_session
from mmexec.run.journaled import resume, start
from mmexec.run.replay import ReplayMarket
from mmexec.run.spec import RunSpec
from tests.replay_support import BTC, XRP, bbo, depth, lines, simple_capture, snapshot, trade, write

UTC = "2025-01-01T00:00:00Z"


def _market(*paths: Path) -> ReplayMarket:
    return ReplayMarket(open_captures(list(paths)), None, Decimal(1000))


def _take(market: ReplayMarket, n: int) -> list[MarketEvent]:
    events = market.events()
    return [next(events) for _ in range(n)]


def _finished(market: ReplayMarket) -> tuple[list[MarketEvent], list[object]]:
    """The rest of the stream, and every per-file statistic and receive clock once it is read to the end."""
    rest = list(market.events())
    source = market.source
    stats = [(s.path.name, s.lines, s.torn_lines, dict(s.messages)) for s in source.files]
    clocks = [(c.clamped, c.without_receive_time, dict(c.latency_ms)) for c in source.clocks]
    return rest, [stats, clocks, source.latency()]


def _restored_at(paths: tuple[Path, ...], position: int) -> None:
    left_alone = _market(*paths)
    _take(left_alone, position)
    expected = _finished(left_alone)

    interrupted = _market(*paths)
    _take(interrupted, position)
    restored = load_snapshot(dump_snapshot(interrupted))
    assert restored._events is None  # the open stream (files, decompressors, parsers) is not stored
    restored.reopen()
    assert restored.consumed == position
    assert _finished(restored) == expected
    assert restored.consumed == position + len(expected[0])


def _two_captures(tmp_path: Path) -> tuple[Path, Path]:
    """A gzip BTCUSDT capture and a plain ETHUSDT one whose last line is torn (cut off mid-write)."""
    messages = simple_capture()
    messages[0][1]["symbol"] = "BTCUSDT"  # the depth snapshot: its symbol is not implied with two symbols
    btc = lines(messages)
    eth = [line.replace("btcusdt", "ethusdt").replace("BTCUSDT", "ETHUSDT") for line in btc]
    return (write(tmp_path / "btc.gz", btc, compress=True),
            write(tmp_path / "eth.jsonl", [*eth, eth[-1][:40]], newline_at_end=False))


def test_a_restored_merged_market_continues_exactly_from_every_position(tmp_path: Path) -> None:
    paths = _two_captures(tmp_path)
    total = sum(1 for _ in _market(*paths).events())
    assert total == 2 * len(simple_capture())
    for position in range(total + 1):
        _restored_at(paths, position)


@pytest.mark.parametrize(("path", "position"), [(BTC, 61_234), (XRP, 37)], ids=["gzip", "zip"])
def test_a_restored_recorded_market_continues_exactly(path: Path, position: int) -> None:
    _restored_at((path,), position)


def test_a_checkpoint_holds_no_file_content() -> None:
    market = _market(BTC)
    _take(market, 50_000)
    data = dump_snapshot(market)
    assert len(data) < 200_000  # the books (a few hundred levels) and the statistics; the capture is 3.6 MB
    assert b"depthUpdate" not in data and b"bookTicker" not in data  # no line of the capture


def test_the_stream_cannot_be_replayed_before_reopen() -> None:
    restored = load_snapshot(dump_snapshot(_market(XRP)))
    with pytest.raises(RuntimeError):
        restored.events()




@pytest.mark.parametrize("change", ["same size", "appended", "deleted"])
def test_a_changed_capture_is_refused_on_restore(tmp_path: Path, change: str) -> None:
    path = write(tmp_path / "capture.jsonl", lines(simple_capture()))
    market = _market(path)
    _take(market, 3)
    data = dump_snapshot(market)
    content = path.read_bytes()
    if change == "same size":
        path.write_bytes(content.replace(b"61800.0", b"61800.5", 1))
    elif change == "appended":
        path.write_bytes(content + lines(simple_capture())[-1].encode() + b"\n")
    else:
        path.unlink()
    restored = load_snapshot(data)
    with pytest.raises(InputError) as raised:
        restored.reopen()
    message = "changed since the journal was written" if change != "deleted" else "cannot read the capture"
    assert message in str(raised.value)
    assert raised.value.source == str(path.resolve())


def test_a_restored_market_reopens_its_files_by_absolute_path(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(XRP, tmp_path / "x.zip")
    monkeypatch.chdir(tmp_path)
    market = _market(Path("x.zip"))  # relative, as given on the command line
    _take(market, 20)
    data = dump_snapshot(market)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    restored = load_snapshot(data)
    restored.reopen()
    assert restored.source.files[0].path == tmp_path / "x.zip"
    assert next(restored.events()) is not None


# ---------------------------------------------------------------- a journaled replay crashed in-process
def _busy_capture(path: Path, seed: int) -> Path:
    """A BTCUSDT capture of ~6 s: snapshots, diffs with a sequence gap then a resync, a crossed touch, quotes
    and trades on both sides (so orders fill, books tell the timeline of gaps, resyncs and crossed books)."""
    rng = random.Random(seed)
    messages: list[tuple[int, dict[str, Any]]] = [
        (0, snapshot(0, 100, [["61800.0", "0.5"], ["61799.9", "1.0"]], [["61800.1", "0.4"], ["61800.2", "2"]]))]
    last_id, mid = 100, 618_000
    for ms in range(40, 6_000, 40):
        mid += rng.choice((-1, 0, 0, 1))
        bid, ask = f"{mid / 10:.1f}", f"{(mid + 1) / 10:.1f}"
        kind = rng.random()
        if ms == 2_000:  # a sequence gap: the book is invalid until the next snapshot
            messages.append((ms, depth(ms, last_id + 5, last_id + 5, last_id + 4, [[bid, "0.3"]], [])))
        elif ms == 2_400:
            last_id += 10
            messages.append((ms, snapshot(ms, last_id, [[bid, "0.5"]], [[ask, "0.5"]])))
        elif ms == 4_000:  # a crossed touch
            messages.append((ms, bbo(ms, ask, "0.1", bid, "0.1")))
        elif kind < 0.4:
            messages.append((ms, depth(ms, last_id + 1, last_id + 1, last_id, [[bid, "0.6"]], [[ask, "0.6"]])))
            last_id += 1
        elif kind < 0.7:
            messages.append((ms, bbo(ms, bid, "0.5", ask, "0.5")))
        else:
            buyer_maker = rng.random() < 0.5
            messages.append((ms, trade(ms, bid if buyer_maker else ask, "0.9", buyer_maker, ms)))
    return write(path, lines(messages), compress=True)


class Crash(BaseException):
    pass


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 1_000), step=st.integers(1, 55), every=st.integers(3, 25), inside=st.booleans())
def test_a_crashed_and_resumed_replay_equals_the_uninterrupted_one(tmp_path_factory: pytest.TempPathFactory,
                                                                   seed: int, step: int, every: int,
                                                                   inside: bool) -> None:
    """A crash (a fault raised in the journal writer: its open transaction is never committed) at a quoting
    step or inside a checkpoint transaction, then a resume: the report is the uninterrupted run's bytes."""
    tmp = tmp_path_factory.mktemp("replay")
    capture = _busy_capture(tmp / "btc.gz", seed)
    spec = RunSpec.from_settings({"market": "replay", "data": [capture], "edge_threshold": "-1000",
                                  "order_qty": "0.001", "latency_ms": 20, "response_latency_ms": 20})
    expected = dumps(run_session(spec, utc=UTC))
    report = json.loads(expected)
    market = report["market"]
    assert market["gaps"] == market["resyncs"] == 1 and market["crossed_book_events"] >= 1
    assert report["timeline"]["events"] and report["orders"]["fills"] > 0

    target = ("checkpoint", 1 + step % 3) if inside else ("step", step)

    def fault(point: str, count: int) -> None:
        if (point, count) == target:
            raise Crash

    path = tmp / "j.db"
    journaled = start(spec, path, command="shadow", utc=UTC, fault=fault, checkpoint_every=every)
    try:
        data = journaled.execute()
    except Crash:
        journaled.close()
        resumed = resume(path, checkpoint_every=every)
        try:
            data = resumed.execute()
        finally:
            resumed.close()
    else:
        journaled.close()
    assert data == expected
