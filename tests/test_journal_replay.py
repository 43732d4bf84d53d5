"""A replay's market source in a journal checkpoint: stored as a position and file identities (no stream, no
buffer), reopened and skipped on restore to exactly the uninterrupted stream; a changed capture is refused."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from mmexec.errors import InputError
from mmexec.journal.snapshot import dump_snapshot, load_snapshot
from mmexec.marketdata.events import MarketEvent
from mmexec.marketdata.merge import open_captures
from mmexec.run.replay import ReplayMarket
from tests.replay_support import BTC, XRP, lines, simple_capture, write


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
