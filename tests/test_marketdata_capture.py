"""Capture reading: formats, grids, streaming, and every kind of bad input (exit 2, one line, file + line)."""

from __future__ import annotations

import gzip
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mmexec.errors import ConfigError, InputError
from mmexec.marketdata.events import BestBidAsk, BookDelta, BookSnapshot, TradePrint
from mmexec.marketdata.instruments import Grid, OffGridError, parse_override
from mmexec.marketdata.merge import open_captures
from tests.replay_support import BTC, ETH, XRP, bbo, depth, lines, simple_capture, trade, write


def events(*paths: Path, **kwargs):  # type: ignore[no-untyped-def]
    return list(open_captures(list(paths), **kwargs).events())


def test_grid_converts_exactly_and_refuses_off_grid_values() -> None:
    tick = Grid(Decimal("0.1"))
    assert tick.steps("61800.20") == 618002
    assert tick.steps("61800") == 618000
    assert Grid(Decimal("0.5")).steps("3.5") == 7
    assert Grid(Decimal("1")).steps("6203") == 6203
    for bad in ("61800.25", "-1", "1e5", "abc", ""):
        with pytest.raises(OffGridError):
            tick.steps(bad)


@given(st.integers(0, 10**12), st.sampled_from(["0.1", "0.01", "0.001", "0.5", "1", "0.0001", "25"]))
def test_grid_round_trips(steps: int, step: str) -> None:
    grid = Grid(Decimal(step))
    assert grid.steps(str(steps * Decimal(step))) == steps


def test_instrument_override_syntax() -> None:
    spec = parse_override("solusdt=0.01/0.1")
    assert (spec.symbol, spec.tick_size, spec.lot_size) == ("SOLUSDT", Decimal("0.01"), Decimal("0.1"))
    with pytest.raises(ConfigError, match="SYMBOL=TICK/LOT"):
        parse_override("SOLUSDT=0.01")


def test_binance_capture_parses_to_integer_events(tmp_path: Path) -> None:
    evs = events(write(tmp_path / "c.txt", lines(simple_capture())))
    snap, top, delta, t1 = evs[:4]
    assert isinstance(snap, BookSnapshot) and snap.bids[0] == (618000, 5) and snap.update_id == 100
    assert isinstance(top, BestBidAsk) and (top.bid, top.ask_qty) == (618000, 4)
    assert isinstance(delta, BookDelta) and (delta.first_id, delta.last_id, delta.prev_id) == (101, 101, 100)
    assert isinstance(t1, TradePrint) and (t1.price, t1.qty, t1.aggressor_side) == (618000, 8, "SELL")


def test_gzip_and_zip_read_the_same(tmp_path: Path) -> None:
    text = lines(simple_capture())
    plain = events(write(tmp_path / "c.txt", text))
    gz = events(write(tmp_path / "c.gz", text, compress=True))
    with zipfile.ZipFile(tmp_path / "c.zip", "w") as archive:
        archive.writestr("c.data", "\n".join(text) + "\n")
    assert plain == gz == events(tmp_path / "c.zip")


def test_detects_formats_and_symbols() -> None:
    assert open_captures([BTC]).symbols == ["BTCUSDT"]
    assert open_captures([BTC, ETH]).symbols == ["BTCUSDT", "ETHUSDT"]
    source = open_captures([XRP])
    assert (source.venue, source.symbols) == ("bybit", ["XRPUSDT"])
    assert source.instruments["XRPUSDT"].tick_size == Decimal("0.0001")


def test_bybit_capture_events() -> None:
    evs = events(XRP)
    assert isinstance(evs[0], BookSnapshot) and evs[0].symbol == "XRPUSDT"
    assert all(isinstance(ev, BookDelta) for ev in evs[1:])
    assert len(evs) == 50


def test_merge_orders_by_receive_time(tmp_path: Path) -> None:
    a = write(tmp_path / "a.txt", lines([(0, bbo(0, "1.0", "1", "1.1", "1")), (20, bbo(20, "1.0", "2", "1.1", "1"))]))
    b = write(tmp_path / "b.txt", lines([(10, bbo(10, "2.0", "1", "2.1", "1", symbol="ETHUSDT"))]))
    evs = events(a, b)
    assert [ev.exch_ms % 1000 for ev in evs] == [0, 10, 20]


def test_receive_time_before_exchange_time_is_clamped(tmp_path: Path) -> None:
    text = lines([(0, bbo(0, "1.0", "1", "1.1", "1")), (1, bbo(900, "1.0", "1", "1.1", "1"))])
    source = open_captures([write(tmp_path / "c.txt", text)])
    evs = list(source.events())
    assert evs[1].local_ns == evs[1].exch_ms * 1_000_000  # clamped to the exchange time
    assert source.latency()["negative_clamped"] == 1


def test_torn_last_line_is_skipped_and_counted(tmp_path: Path) -> None:
    text = lines(simple_capture())
    text.append(text[-1][:40])
    source = open_captures([write(tmp_path / "c.txt", text, newline_at_end=False)])
    assert len(list(source.events())) == len(simple_capture())
    assert source.files[0].torn_lines == 1


@pytest.mark.parametrize(
    ("case", "match"),
    [
        ("corrupt", r"corrupt market data line .*\(c.txt line 3\)"),
        ("backwards", r"receive time goes backwards .*\(c.txt line 3\)"),
        ("off_grid", r"off the instrument grid.*61800.05.*\(c.txt line 2\)"),
        ("other_symbol", r"ETHUSDT, which is not among --symbols BTCUSDT \(c.txt line 3\)"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path: Path, case: str, match: str) -> None:
    text = lines(simple_capture())
    if case == "corrupt":
        text[2] = text[2][:60] + "}}}"
    elif case == "backwards":
        ns, _, body = text[2].partition(" ")
        text[2] = f"{int(ns) - 10**9} {body}"
    elif case == "off_grid":
        text[1] = text[1].replace('"61800.0"', '"61800.05"')
    else:
        text[2] = lines([(150, trade(150, "2000.00", "1.000", True, symbol="ETHUSDT"))])[0]
    with pytest.raises(InputError, match=match):
        events(write(tmp_path / "c.txt", text), symbols=["BTCUSDT"])


def test_truncated_gzip_is_an_error(tmp_path: Path) -> None:
    data = gzip.compress(("\n".join(lines(simple_capture())) + "\n").encode())
    path = tmp_path / "c.gz"
    path.write_bytes(data[: len(data) - 30])
    with pytest.raises(InputError, match="truncated compressed data"):
        events(path)


def test_unknown_format_and_inverse_contracts(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown market data format"):
        events(write(tmp_path / "u.txt", ['{"hello": "world"}']))
    inverse = lines([(0, {"stream": "btcusd_perp@bookTicker", "data": {"e": "bookTicker", "s": "BTCUSD_PERP"}})])
    with pytest.raises(InputError, match="out of scope"):
        events(write(tmp_path / "i.txt", inverse))


def test_symbols_requested_must_be_in_the_data_and_known() -> None:
    with pytest.raises(ConfigError, match="SOLUSDT not in the market data"):
        open_captures([BTC], symbols=["BTCUSDT", "SOLUSDT"])
    expected = r"ETHUSDT, which is not among --symbols BTCUSDT \(ethusdt_20240808.gz line 1\)"
    with pytest.raises(InputError, match=expected):
        open_captures([BTC, ETH], symbols=["BTCUSDT"])


def test_unknown_symbol_needs_an_instrument(tmp_path: Path) -> None:
    path = write(tmp_path / "s.txt", lines([(0, bbo(0, "150.10", "1.0", "150.20", "1.0", symbol="SOLUSDT"))]))
    with pytest.raises(ConfigError, match="--instrument SOLUSDT=TICK/LOT"):
        open_captures([path])
    spec = parse_override("SOLUSDT=0.01/0.1")
    assert len(list(open_captures([path], overrides={"SOLUSDT": spec}).events())) == 1


def test_depth_diff_levels_keep_absolute_quantities(tmp_path: Path) -> None:
    path = write(tmp_path / "d.txt", lines([(0, depth(0, 1, 2, 0, [["100.0", "0"]], [["100.1", "1.5"]]))]))
    (delta,) = events(path)
    assert delta.bids == [(1000, 0)] and delta.asks == [(1001, 1500)]
