"""Checkpoints: a run graph round-trips through the restricted unpickler; code smuggled into a journal does not."""

from __future__ import annotations

import os
import pickle
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from mmexec.canonical import dumps
from mmexec.engine.models import Side
from mmexec.journal.order_store import journaled_order_store
from mmexec.journal.schema import JournalError, connect
from mmexec.journal.snapshot import dump_snapshot, load_snapshot
from mmexec.journal.writer import JournalWriter
from mmexec.run.builder import Run, build_run
from mmexec.run.spec import RunSpec
from tests.journal_support import continued_from_snapshot

UTC = "2025-01-01T00:00:00Z"


class _Evil:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, ("echo pwned",))


def test_a_run_continues_identically_from_its_snapshot() -> None:
    spec = RunSpec().replace(iterations=500, edge_threshold=0, partial_fill_rate=0.5)
    whole, restored, hook = continued_from_snapshot(spec, at=200, utc=UTC)
    assert isinstance(restored, Run)
    assert restored.loop.journal_hooks == [hook]
    assert dumps(restored.result().to_report()) == dumps(whole.result().to_report())


@pytest.mark.parametrize("payload", [
    _Evil(),
    {"x": os.path.join},  # a function, even a harmless one
    [pickle.loads],
])
def test_anything_but_state_classes_is_refused(payload: object) -> None:
    data = pickle.dumps(payload, protocol=5)
    with pytest.raises(JournalError, match=r"may not load|not a class"):
        load_snapshot(data)


def test_classes_from_io_modules_are_refused() -> None:
    from mmexec.fees.fills_io import FillsWriter

    data = pickle.dumps(FillsWriter, protocol=5)
    with pytest.raises(JournalError, match="may not load"):
        load_snapshot(data)


def test_private_methods_are_not_rebuilt() -> None:
    from mmexec.journal import snapshot

    data = pickle.dumps(snapshot.bound_method, protocol=5)  # resolvable helper ...
    assert load_snapshot(data) is snapshot.bound_method
    with pytest.raises(JournalError, match="method"):
        snapshot.bound_method(build_run(RunSpec(), utc=UTC).ledger, "_running")


def test_a_damaged_blob_is_a_journal_error() -> None:
    blob = dump_snapshot(build_run(RunSpec(), utc=UTC))
    with pytest.raises(JournalError, match="checkpoint"):
        load_snapshot(blob[: len(blob) // 2])


class _StandIn:
    """Stands in for the run's journal writer: an external object, restored by name, never pickled."""


def test_missing_external_is_refused() -> None:
    run = build_run(RunSpec(), utc=UTC)
    marker = _StandIn()  # the journal's writer, by name
    run.loop.journal_hooks.append(marker)  # type: ignore[arg-type]
    blob = dump_snapshot(run, {"journal": marker})
    with pytest.raises(JournalError, match="external object 'journal'"):
        load_snapshot(blob, {})


def test_journaled_order_store_answers_evicted_orders_from_the_journal(tmp_path: Path) -> None:
    conn = connect(tmp_path / "j.db")
    writer = JournalWriter(conn, snapshot=lambda: b"")
    store = journaled_order_store(writer.lookup_order, retain_terminal=1)
    from mmexec.engine.ports import OrderEvent

    def journal(kind: str, order) -> None:  # type: ignore[no-untyped-def]
        writer.on_order_event(OrderEvent(kind, order.client_order_id, order.order_id, order.symbol, order.side,
                                         order.qty, order.price, order.state, 0, order.message))

    first = store.create("BTCUSDT", Side.BUY, Decimal("0.02"), Decimal("50000"))
    store.open_order(first, "ORD1", 1)
    journal("open", first)
    store.cancel_order(first, 2)
    journal("canceled", first)
    for _ in range(3):  # evict the first order from memory
        order = store.create("BTCUSDT", Side.SELL, Decimal("0.02"), Decimal("50001"))
        store.reject_order(order, "no", 3)
        journal("rejected", order)
    assert store.get("CLI00000001") is not None
    found = store.require("CLI00000001")
    assert (found.state.value, found.order_id, found.qty, found.price) == ("CANCELED", "ORD1", Decimal("0.02"),
                                                                            Decimal("50000"))
    assert store.get("CLI99999999") is None
    assert sqlite3.connect(tmp_path / "j.db").execute("SELECT count(*) FROM order_events").fetchone()[0] == 5


def test_a_checkpoint_resumes_only_with_the_engine_build_that_wrote_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from mmexec.journal import snapshot

    data = snapshot.dump_snapshot({"x": 1})
    assert snapshot.load_snapshot(data) == {"x": 1}
    other = "pure Python" if snapshot.engine_build() != "pure Python" else "compiled (mypyc)"
    monkeypatch.setattr(snapshot, "engine_build", lambda: other)
    with pytest.raises(JournalError, match=r"written by the .* engine, this one is .*: resume with the build"):
        snapshot.load_snapshot(data)


def test_a_checkpoint_without_the_build_mark_still_loads() -> None:
    assert load_snapshot(pickle.dumps({"x": [1, 2]}, protocol=5)) == {"x": [1, 2]}


def test_a_snapshot_pickled_apart_is_the_same_bytes() -> None:
    import threading

    from mmexec.journal.snapshot import dump_snapshot_apart

    run = build_run(RunSpec().replace(iterations=300, edge_threshold=0), utc=UTC)
    run.loop.run(run.params())
    marker = _StandIn()  # the journal's writer, by name
    run.loop.journal_hooks.append(marker)  # type: ignore[arg-type]
    apart = dump_snapshot_apart(run, {"journal": marker})  # first: the in-process pickle changes no bytes either
    assert apart == dump_snapshot(run, {"journal": marker})
    restored = load_snapshot(apart, {"journal": marker})
    assert dumps(restored.result().to_report()) == dumps(run.result().to_report())
    with pytest.raises(RuntimeError, match="snapshot failed: TypeError"):
        dump_snapshot_apart({"lock": threading.Lock()})
