"""The journal's integer rows (schema version 2): the loop's integer hook writes the rows the event hook would
have written, as lots and ticks; readers give the same orders and fills; a version-1 journal migrates."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from mmexec.engine.models import FillEvent
from mmexec.engine.ports import OrderEvent, TickJournalHook
from mmexec.journal.reader import JournalReader
from mmexec.journal.schema import MIGRATIONS, SCHEMA_VERSION, connect
from mmexec.journal.writer import JournalWriter
from mmexec.run import journaled
from mmexec.run.spec import RunSpec

UTC = "2025-01-01T00:00:00Z"
# busy, with partial fills (fills of a fraction of an order's lots) and rejects (orders that never open)
SPEC = RunSpec().replace(iterations=1500, edge_threshold=0, partial_fill_rate=0.4, reject_rate=0.05)


class EventsOnly:
    """A journal hook without the integer extension, writing through ``writer``'s event methods."""

    def __init__(self, writer: JournalWriter) -> None:
        self.writer = writer

    def on_order_event(self, event: OrderEvent) -> None:
        self.writer.on_order_event(event)

    def on_fill(self, fill: FillEvent) -> None:
        self.writer.on_fill(fill)

    def on_step(self, now_ms: int) -> None:
        self.writer.on_step(now_ms)


def _journal(path: Path, *, events_only: bool) -> bytes:
    run = journaled.start(SPEC, path, command="shadow", utc=UTC, checkpoint_every=500)
    try:
        hooks = run.run.loop.journal_hooks
        assert hooks == [run.writer]
        if events_only:
            hooks[0] = EventsOnly(run.writer)  # type: ignore[assignment]
        return run.execute()
    finally:
        run.close()


def _rows(path: Path, table: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(f"SELECT * FROM {table} ORDER BY seq").fetchall()


def _read(path: Path) -> tuple[list[dict[str, Any]], list[tuple[Any, ...]]]:
    with JournalReader(path) as reader:
        orders = [order.to_dict() for order in reader.orders()]
        fills = [(f.seq, f.fill, str(f.fill.qty), str(f.fill.price), str(f.fee), str(f.rebate))
                 for f in reader.fills()]
    return orders, fills


@pytest.fixture(scope="module")
def journals(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, bytes, bytes]:
    tmp = tmp_path_factory.mktemp("ticks")
    ticks, events = tmp / "ticks.db", tmp / "events.db"
    return ticks, events, _journal(ticks, events_only=False), _journal(events, events_only=True)


def test_the_writer_is_an_integer_journal_hook() -> None:
    assert issubclass(JournalWriter, TickJournalHook)
    assert not isinstance(EventsOnly(None), TickJournalHook)  # type: ignore[arg-type]


def test_integer_rows_are_the_event_rows_in_lots_and_ticks(journals: tuple[Path, Path, bytes, bytes]) -> None:
    ticks, events, report_ticks, report_events = journals
    assert report_ticks == report_events
    with sqlite3.connect(ticks) as conn:
        grids = {s: (Decimal(t), Decimal(lot)) for s, t, lot in conn.execute("SELECT * FROM instruments")}
    assert set(grids) == set(SPEC.market.symbols)
    assert _rows(events, "order_events") and _rows(events, "fills")
    kinds = set()
    for table, qty_at, amount in (("order_events", 7, _order_text), ("fills", 6, _fill_text)):
        int_rows, text_rows = _rows(ticks, table), _rows(events, table)
        assert len(int_rows) == len(text_rows)
        for int_row, text_row in zip(int_rows, text_rows, strict=True):
            assert type(int_row[qty_at]) is int and type(int_row[qty_at + 1]) is int
            tick, lot = grids[int_row[5 if table == "order_events" else 4]]
            assert amount(int_row[qty_at], lot) == text_row[qty_at]
            assert amount(int_row[qty_at + 1], tick) == text_row[qty_at + 1]
            assert int_row[:qty_at] + int_row[qty_at + 2:] == text_row[:qty_at] + text_row[qty_at + 2:]
            kinds.add(int_row[2])
    assert {"open", "rejected", "canceled"} <= kinds


def _order_text(value: int, unit: Decimal) -> str:
    from mmexec.money import MONEY_CONTEXT, plain

    return str(plain(MONEY_CONTEXT.multiply(unit, value)))  # StoredOrder.qty / .price


def _fill_text(value: int, unit: Decimal) -> str:
    return str(value * unit)  # the loop's FillEvent


def test_readers_give_the_same_orders_and_fills(journals: tuple[Path, Path, bytes, bytes]) -> None:
    ticks, events, _, _ = journals
    orders, fills = _read(ticks)
    assert (orders, fills) == _read(events)
    assert len(fills) > sum(order["state"] == "FILLED" for order in orders)  # partial fills among them


def _v1_copy(source: Path, target: Path) -> None:
    """A version-1 journal holding ``source``'s rows, as version 1 wrote them (decimals as text)."""
    conn = sqlite3.connect(target, isolation_level=None)
    for statement in MIGRATIONS[0].split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute(f"ATTACH DATABASE '{source}' AS source")
    for table in ("run", "order_events", "fills", "checkpoints"):
        conn.execute(f"INSERT INTO {table} SELECT * FROM source.{table}")
    conn.execute("DETACH DATABASE source")
    conn.close()


def test_a_version_1_journal_is_read_as_is_and_migrates_when_opened_for_writing(
        journals: tuple[Path, Path, bytes, bytes], tmp_path: Path) -> None:
    ticks, events, _, _ = journals
    old = tmp_path / "v1.db"
    _v1_copy(events, old)
    expected = _read(ticks)
    assert _read(old) == expected  # readers never migrate (they open read-only)
    with sqlite3.connect(old) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    conn = connect(old)  # what --resume does
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
        assert conn.execute("SELECT count(*) FROM instruments").fetchone()[0] == 0
        assert {row[0] for row in conn.execute("SELECT DISTINCT typeof(qty) FROM fills")} == {"text"}
    finally:
        conn.close()
    assert _read(old) == expected
    assert _rows(old, "order_events") == _rows(events, "order_events")
    assert _rows(old, "fills") == _rows(events, "fills")


def test_a_new_journal_keeps_integers_as_integers(tmp_path: Path) -> None:
    conn = connect(tmp_path / "j.db")
    try:
        conn.execute("INSERT INTO fills VALUES (1, 0, 'C', 'O', 'BTCUSDT', 'BUY', 12, 641235, 0, 1, 'F', '0', '0')")
        conn.execute("INSERT INTO fills VALUES (2, 0, 'C', 'O', 'BTCUSDT', 'BUY', '0.012', '64123.5', 0, 1, 'F', "
                     "'0', '0')")
        assert conn.execute("SELECT typeof(qty), typeof(price) FROM fills ORDER BY seq").fetchall() == [
            ("integer", "integer"), ("text", "text")]
    finally:
        conn.close()


class _Crash(Exception):
    pass


def _crash_at(step: int):  # type: ignore[no-untyped-def]
    def fault(point: str, n: int) -> None:
        if (point, n) == ("step", step):
            raise _Crash
    return fault


def test_an_uninterrupted_run_streams_its_fills_and_a_resumed_one_reads_them_back(tmp_path: Path) -> None:
    streamed: list[FillEvent] = []
    whole = journaled.start(SPEC, tmp_path / "whole.db", command="shadow", utc=UTC, checkpoint_every=500,
                            fill_listeners=[streamed.append])
    try:
        assert whole.streams_fills
        report = whole.execute()
        assert streamed and list(whole.fills()) == streamed
        assert [str(f.qty) for f in whole.fills()] == [str(f.qty) for f in streamed]
    finally:
        whole.close()

    first: list[FillEvent] = []
    killed = journaled.start(SPEC, tmp_path / "killed.db", command="shadow", utc=UTC, checkpoint_every=500,
                             fill_listeners=[first.append], fault=_crash_at(1200))
    try:
        with pytest.raises(_Crash):
            killed.execute()
    finally:
        killed.close()
    seen = len(first)
    resumed = journaled.resume(tmp_path / "killed.db", checkpoint_every=500)
    try:
        # the checkpoint of step 1000 commits once its snapshot, taken apart, is complete: maybe after step 1200
        assert resumed.start_step in (500, 1000) and not resumed.streams_fills
        assert resumed.run.loop.fill_listeners == []  # the first process's listener is not carried over
        assert resumed.execute() == report
        assert len(first) == seen
        assert list(resumed.fills()) == streamed
    finally:
        resumed.close()
