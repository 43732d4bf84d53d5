"""The fills file: exact round trip, line-numbered validation, atomic streaming writer."""

from __future__ import annotations

import io
import os
import tempfile
from decimal import Context, Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmexec.accounting.ledger import FeeLedger
from mmexec.canonical import loads
from mmexec.engine.models import FillEvent, Side
from mmexec.errors import InputError
from mmexec.fees.calc import calc_fees_and_rebates
from mmexec.fees.fills_io import FillsWriter, fill_to_json_line, iter_fills, read_fills
from mmexec.fees.profiles import VIP0_PROFILE, build_profile_map

FILL = FillEvent("CLI00000001", "ORD000001", "BTCUSDT", Side.BUY, Decimal("0.020"), Decimal("50000.5"),
                 1735689600000, True, "F1")


def test_line_format_is_canonical_json_with_decimal_strings() -> None:
    line = fill_to_json_line(FILL)
    assert line == (
        b'{"client_order_id":"CLI00000001","fill_id":"F1","liquidity":"maker","order_id":"ORD000001",'
        b'"price":"50000.5","qty":"0.020","side":"BUY","symbol":"BTCUSDT","timestamp_ms":1735689600000}\n'
    )
    taker = FillEvent("a", "b", "ETHUSDT", Side.SELL, Decimal("1E+2"), Decimal("1E-30"), 0, False)
    data = loads(fill_to_json_line(taker))
    assert data["liquidity"] == "taker" and data["side"] == "SELL"
    assert data["qty"] == "100" and data["price"] == "0.000000000000000000000000000001"  # plain notation


# Any positive decimal the file accepts: below 1e15, at most 40 decimal places.
_WIDE = Context(prec=100)
_places40 = st.decimals(min_value=Decimal("1E-40"), max_value=Decimal("999999999999999.9"), places=40)
decimals = st.one_of(_places40, _places40.map(_WIDE.normalize))  # trailing zeros kept, and 1E+2-style
fills_st = st.builds(
    FillEvent,
    client_order_id=st.text(max_size=12),
    order_id=st.text(max_size=12),
    symbol=st.sampled_from(["BTCUSDT", "ETHUSDT", "1000PEPEUSDT"]),
    side=st.sampled_from(list(Side)),
    qty=decimals,
    price=decimals,
    timestamp_ms=st.integers(min_value=0, max_value=2**53),
    is_maker=st.booleans(),
    fill_id=st.text(max_size=12),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(fills_st, max_size=20))
def test_write_then_read_round_trips_exactly(fills: list[FillEvent]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fills.jsonl"
        with FillsWriter(path) as writer:
            for f in fills:
                writer.write(f)
        assert writer.count == len(fills)
        assert list(read_fills(path)) == fills
        assert sorted(os.listdir(tmp)) == ["fills.jsonl"]


@settings(max_examples=60, deadline=None)
@given(st.lists(fills_st, max_size=20), st.sampled_from(["VIP0", "VIP1", "VIP2", "VIP3", "MM_Tier_A"]))
def test_repricing_exported_fills_under_the_run_tier_reproduces_the_fees_section(
    fills: list[FillEvent], tier: str
) -> None:
    profile_map = build_profile_map(tier)
    ledger = FeeLedger(VIP0_PROFILE, profile_map, tier=tier)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "run.fills.jsonl"
        with FillsWriter(path) as writer:
            for f in fills:
                ledger.on_fill(f)
                writer.write(f)
        repriced = calc_fees_and_rebates(read_fills(path), VIP0_PROFILE, profile_map, tier=tier)
    assert repriced.to_dict() == ledger.section()


def _read(text: str | bytes) -> list[FillEvent]:
    data = text.encode() if isinstance(text, str) else text
    return list(iter_fills(io.BytesIO(data), "fills file f.jsonl"))


GOOD = '{"symbol":"BTCUSDT","side":"BUY","qty":"1","price":"2","liquidity":"maker"}'


def test_reader_accepts_numbers_exactly_case_insensitive_words_and_blank_lines() -> None:
    fills = _read(
        '\n{"symbol":"ETHUSDT","side":"sell","qty":0.1,"price":3000.10,"liquidity":"Taker","timestamp_ms":5}\r\n\n'
        + GOOD
        + "\n"
    )
    assert len(fills) == 2
    eth = fills[0]
    assert eth.qty == Decimal("0.1") and str(eth.price) == "3000.10"  # exact, not via float
    assert eth.side is Side.SELL and eth.is_maker is False and eth.timestamp_ms == 5
    assert (fills[1].client_order_id, fills[1].order_id, fills[1].fill_id, fills[1].timestamp_ms) == ("", "", "", 0)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("{nope", "not valid JSON"),
        ("[1, 2]", "expected a JSON object, got list"),
        ('{"symbol":"BTCUSDT","side":"BUY","qty":"1","price":"2"}', "missing field 'liquidity'"),
        (GOOD[:-1] + ',"liqudity":"maker"}', "unknown field 'liqudity'"),
        (GOOD.replace('"BUY"', '"HOLD"'), "side must be BUY or SELL, got 'HOLD'"),
        (GOOD.replace('"maker"', '"both"'), "liquidity must be maker or taker, got 'both'"),
        (GOOD.replace('"maker"', "true"), "liquidity must be maker or taker, got True"),
        (GOOD.replace('"qty":"1"', '"qty":"0"'), "qty must be a positive number, got '0'"),
        (GOOD.replace('"qty":"1"', '"qty":-1'), "qty must be a positive number, got -1"),
        (GOOD.replace('"price":"2"', '"price":"abc"'), "price must be a decimal number, got 'abc'"),
        (GOOD.replace('"price":"2"', '"price":"NaN"'), "price must be a positive number, got 'NaN'"),
        (GOOD.replace('"price":"2"', '"price":NaN'), "NaN is not a JSON number"),
        (GOOD.replace('"price":"2"', '"price":true'), "price must be a decimal string or number, got True"),
        (GOOD.replace('"price":"2"', '"price":"1e15"'), "price is out of range"),
        (GOOD.replace('"price":"2"', '"price":"1e-41"'), "price is out of range"),
        (GOOD.replace('"BTCUSDT"', '"btc/usdt"'), "symbol must be 2-30 of A-Z, 0-9"),
        (GOOD[:-1] + ',"timestamp_ms":-5}', "timestamp_ms must be a non-negative integer, got -5"),
        (GOOD[:-1] + ',"timestamp_ms":1.5}', "timestamp_ms must be a non-negative integer"),
        (GOOD[:-1] + ',"order_id":7}', "order_id must be a string, got 7"),
    ],
)
def test_bad_line_names_its_number_and_the_file(line: str, expected: str) -> None:
    with pytest.raises(InputError) as info:
        _read(GOOD + "\n\n" + line + "\n" + GOOD + "\n")
    assert str(info.value).startswith("line 3: ")
    assert expected in str(info.value)
    assert info.value.source == "fills file f.jsonl"


def test_bad_utf8_line() -> None:
    with pytest.raises(InputError, match=r"^line 2: not valid UTF-8"):
        _read(GOOD.encode() + b"\n\xff\xfe\n")


def test_read_fills_missing_file_fails_eagerly(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist") as info:
        read_fills(tmp_path / "nope.jsonl")
    assert info.value.source == f"fills file {tmp_path / 'nope.jsonl'}"


def test_read_fills_streams_and_reports_the_path(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_text(GOOD + "\n" + "oops\n")
    fills = read_fills(path)
    assert next(fills).symbol == "BTCUSDT"
    with pytest.raises(InputError, match=r"^line 2: not valid JSON") as info:
        next(fills)
    assert str(path) in str(info.value)


def test_writer_is_atomic_on_failure_and_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "fills.jsonl"
    path.write_bytes(b"old\n")
    with pytest.raises(RuntimeError), FillsWriter(path) as writer:
        writer.write(FILL)
        raise RuntimeError("run failed")
    assert path.read_bytes() == b"old\n"
    assert os.listdir(tmp_path) == ["fills.jsonl"]
    with pytest.raises(ValueError, match="closed"):
        writer.write(FILL)


def test_writer_abort_and_close(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    writer = FillsWriter(path)
    writer.write(FILL)
    assert not path.exists()  # nothing visible before close
    writer.abort()
    writer.abort()  # idempotent
    assert os.listdir(tmp_path) == []
    writer = FillsWriter(path)
    assert writer.close() == path
    assert path.read_bytes() == b""  # an empty run gives an empty, valid fills file
    assert list(read_fills(path)) == []
    with pytest.raises(ValueError, match="closed"):
        writer.close()


def test_writer_into_missing_directory_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot write fills file"):
        FillsWriter(tmp_path / "missing" / "fills.jsonl")


@pytest.mark.parametrize(
    "bad",
    [
        FillEvent("c", "o", "BTCUSDT", Side.BUY, Decimal("1E-41"), Decimal(1), 0, True, "F9"),
        FillEvent("c", "o", "BTCUSDT", Side.BUY, Decimal(1), Decimal("1E15"), 0, True, "F9"),
        FillEvent("c", "o", "BTCUSDT", Side.BUY, Decimal(0), Decimal(1), 0, True, "F9"),
        FillEvent("c", "o", "btc", Side.BUY, Decimal(1), Decimal(1), 0, True, "F9"),
    ],
)
def test_writer_refuses_a_fill_the_reader_would_refuse(tmp_path: Path, bad: FillEvent) -> None:
    with pytest.raises(ValueError, match="cannot write fill 'F9'"):
        fill_to_json_line(bad)
    with pytest.raises(ValueError), FillsWriter(tmp_path / "f.jsonl") as writer:
        writer.write(bad)
    assert os.listdir(tmp_path) == []
