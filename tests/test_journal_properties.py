"""Properties of a run crashed and resumed in-process (a fault raised inside the writer stands in for kill -9:
the open transaction is never committed), over seeds, crash points and checkpoint intervals."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from mmexec.canonical import dumps
from mmexec.journal.reader import iter_fills
from mmexec.run.builder import run_session
from mmexec.run.journaled import resume, start
from mmexec.run.spec import RunSpec

UTC = "2025-01-01T00:00:00Z"


class Crash(BaseException):
    pass


def _crash_at(kind: str, n: int):  # type: ignore[no-untyped-def]
    def fault(point: str, count: int) -> None:
        if (point, count) == (kind, n):
            raise Crash

    return fault


def _journaled(spec: RunSpec, path: Path, kind: str, n: int, every: int) -> bytes:
    journaled = start(spec, path, command="shadow", utc=UTC, fault=_crash_at(kind, n), checkpoint_every=every)
    try:
        journaled.execute()
    except Crash:
        journaled.close()
    else:  # the crash point was not reached: the run completed in one go
        journaled.close()
        return _stored_report(path)
    resumed = resume(path, checkpoint_every=every)
    try:
        return resumed.execute()
    finally:
        resumed.close()


def _stored_report(path: Path) -> bytes:
    conn = sqlite3.connect(path)
    try:
        return bytes(conn.execute("SELECT report FROM run").fetchone()[0])
    finally:
        conn.close()


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), kind=st.sampled_from(["step", "commit", "checkpoint"]),
       n=st.integers(1, 300), every=st.integers(7, 120), partial=st.sampled_from([0.0, 0.5]))
def test_resumed_run_equals_the_uninterrupted_one(tmp_path_factory, seed, kind, n, every, partial) -> None:  # type: ignore[no-untyped-def]
    spec = RunSpec().replace(iterations=300, seed=seed, edge_threshold=0, partial_fill_rate=partial)
    path = tmp_path_factory.mktemp("j") / "j.db"
    data = _journaled(spec, path, kind, n if kind == "step" else 1 + n % 5, every)
    assert data == dumps(run_session(spec, utc=UTC))
    report = _stored_report(path)
    assert report == data

    conn = sqlite3.connect(path)
    try:
        # positions equal the sum of the journaled fills
        positions: dict[str, Decimal] = defaultdict(Decimal)
        for journaled in iter_fills(conn):
            fill = journaled.fill
            positions[fill.symbol] += fill.qty if fill.side.value == "BUY" else -fill.qty
        by_symbol = json.loads(report, parse_float=Decimal)["positions"]["by_symbol"]
        assert {s: Decimal(str(q)) for s, q in by_symbol.items() if q} == {s: q for s, q in positions.items() if q}
        # no client order id is used twice, no event or fill row is duplicated
        created = [row[0] for row in conn.execute(
            "SELECT client_order_id FROM order_events WHERE kind IN ('open', 'rejected') ORDER BY seq")]
        assert len(created) == len(set(created))
        seqs = [row[0] for row in conn.execute("SELECT seq FROM fills ORDER BY seq")]
        assert seqs == list(range(1, len(seqs) + 1))
        fill_ids = [row[0] for row in conn.execute("SELECT fill_id FROM fills")]
        assert len(fill_ids) == len(set(fill_ids))
    finally:
        conn.close()
