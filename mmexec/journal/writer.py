""":class:`JournalWriter`: the engine's ``JournalHook`` writing order events, fills and checkpoints.

Events are buffered in memory and written in batches: a transaction ends at the end of a step once
``batch_events`` events are pending (looked at every :data:`BATCH_CHECK_STEPS` steps), and at every checkpoint
(every ``checkpoint_every`` steps, and at the end). A checkpoint row records how many event and fill rows it
covers; on resume, rows after it are deleted (the resumed run produces them again, identically). One
``BEGIN IMMEDIATE`` ... ``COMMIT`` per batch keeps durability cheap (WAL, ``synchronous=NORMAL``); rows go in
64 to a multi-row ``INSERT``.

Rows come two ways: as events (:meth:`JournalWriter.on_order_event`, :meth:`JournalWriter.on_fill`), whose
decimals are written as exact text, and as plain values from the loop's integer path (the
:class:`~mmexec.engine.ports.TickJournalHook` extension: :meth:`JournalWriter.on_order_ticks`,
:meth:`JournalWriter.on_fill_ticks`), written as integer lots and ticks of the symbol's grid, which goes into
the ``instruments`` table (once per symbol, in the transaction of its first row). A fill's fee and rebate are
exact text either way, memoised per (symbol, maker, lots, ticks) on the integer path.

``fault`` is a test seam: called with (``"step"`` | ``"commit"`` | ``"checkpoint"``, count) at the points a
crash is most harmful (mid-transaction); the CLI wires it only from ``MMEXEC_TEST_KILL_AT`` (see
:mod:`mmexec.cli.journal_run`).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any, Protocol

from mmexec.engine.models import FillEvent, OrderState, Side
from mmexec.engine.order_store import StoredOrder
from mmexec.engine.ports import OrderEvent
from mmexec.journal.reader import load_order

FeeOf = Callable[[FillEvent], tuple[Decimal, Decimal]]  # (fee, rebate) of one fill
Fault = Callable[[str, int], None]
KEEP_CHECKPOINTS = 2
FEE_TEXTS_KEPT = 65_536  # memoised (fee, rebate) texts of the integer path, then cleared
BATCH_CHECK_STEPS = 64  # steps between two looks at the pending batch's size
POLL_STEPS = 8  # steps between two looks at a checkpoint's snapshot being taken
ROWS_PER_INSERT = 64  # rows per multi-row INSERT (64 x 13 parameters: under SQLite's oldest limit of 999)
_INSERT_INSTRUMENT = "INSERT OR IGNORE INTO instruments VALUES (?, ?, ?)"
_ZERO = (Decimal(0), Decimal(0))
_NAMES: dict[Side | OrderState, str] = {**{s: s.value for s in Side}, **{s: s.value for s in OrderState}}
_SIDE_OF = (Side.SELL.value, Side.BUY.value)  # indexed by is_buy


class _Insert:
    """Inserts rows of ``columns`` values, given as one flat list, into ``table``: :data:`ROWS_PER_INSERT` rows
    per multi-row ``INSERT`` (one statement step per chunk, where ``executemany`` steps and resets per row), the
    last rows of a batch one by one (two statements per table: SQLite's statement cache stays small)."""

    __slots__ = ("chunk", "columns", "one")

    def __init__(self, table: str, columns: int) -> None:
        row = "(" + ", ".join("?" * columns) + ")"
        self.columns = columns
        self.one = f"INSERT INTO {table} VALUES {row}"  # noqa: S608 (table: this module's constants)
        self.chunk = f"INSERT INTO {table} VALUES " + ", ".join([row] * ROWS_PER_INSERT)  # noqa: S608

    def __call__(self, conn: sqlite3.Connection, values: list[Any]) -> None:
        size = ROWS_PER_INSERT * self.columns
        whole = len(values) - len(values) % size
        chunk = self.chunk
        for start in range(0, whole, size):
            conn.execute(chunk, values[start:start + size])
        if whole < len(values):
            rest = iter(values[whole:])
            conn.executemany(self.one, zip(*[rest] * self.columns, strict=True))


_INSERT_EVENTS = _Insert("order_events", 12)
_INSERT_FILLS = _Insert("fills", 13)


class SnapshotJob(Protocol):
    """A snapshot being taken apart from the run (:class:`mmexec.journal.snapshot.SnapshotProcess`)."""

    def poll(self) -> bool: ...

    def result(self) -> bytes: ...

    def abandon(self) -> None: ...


class _Pending:
    """A periodic checkpoint whose snapshot is still being taken: what its row will say it covers."""

    __slots__ = ("events_seq", "fills_seq", "job", "step")

    def __init__(self, job: SnapshotJob, step: int, events_seq: int, fills_seq: int) -> None:
        self.job, self.step, self.events_seq, self.fills_seq = job, step, events_seq, fills_seq


class Grid(Protocol):
    """A symbol's grid (the loop's ``QuoteBook``): ``tick`` and ``lot`` size."""

    @property
    def tick(self) -> Decimal: ...

    @property
    def lot(self) -> Decimal: ...


class JournalWriter:
    """Implements :class:`mmexec.engine.ports.JournalHook` over an open journal connection."""

    def __init__(self, conn: sqlite3.Connection, *, snapshot: Callable[[], bytes],
                 checkpoint_every: int = 5000, batch_events: int = 2048, fee_of: FeeOf | None = None,
                 step: int = 0, events_seq: int = 0, fills_seq: int = 0, fault: Fault | None = None,
                 begin_snapshot: Callable[[], SnapshotJob] | None = None) -> None:
        """``snapshot`` pickles the run now; ``begin_snapshot`` (optional) starts a snapshot of the run as it is
        now, taken while the run goes on: the periodic checkpoints then commit once it is complete (their row
        says which step and rows they cover, so the rows written meanwhile are simply rows after them)."""
        if checkpoint_every < 1 or batch_events < 1:
            raise ValueError("checkpoint_every and batch_events must be >= 1")
        self._conn = conn
        self._snapshot = snapshot
        self._begin_snapshot = begin_snapshot
        self._pending_checkpoint: _Pending | None = None
        self.checkpoint_every = checkpoint_every
        self.batch_events = batch_events
        self.fee_of = fee_of
        self.step = step
        self.events_seq = events_seq
        self.fills_seq = fills_seq
        self._events: list[Any] = []  # pending rows' values, one flat list per table
        self._fills: list[Any] = []
        self._next_stop = 0  # the next step at which on_step does more than count
        self._fault = fault
        self.grids: Mapping[str, Grid] = {}  # the run's grids per symbol (the loop's books), for integer rows
        self._journaled_grids: dict[str, Grid] = {}  # symbols whose grid is in the journal (or pending)
        self._instruments: list[tuple[str, str, str]] = []
        self._fee_texts: dict[tuple[str, bool, int, int], tuple[str, str]] = {}
        self.commits = 0
        self.batches = 0  # batch transactions (not checkpoints) of this process
        self.checkpoints = 0

    # ---------------------------------------------------------------- JournalHook
    def on_order_event(self, event: OrderEvent) -> None:
        self.events_seq += 1
        self._events += (self.events_seq, self.step, event.kind, event.client_order_id, event.order_id,
                         event.symbol, _NAMES[event.side], str(event.qty), str(event.price), _NAMES[event.state],
                         event.timestamp_ms, event.message)

    def on_fill(self, fill: FillEvent) -> None:
        self.fills_seq += 1
        fee, rebate = self.fee_of(fill) if self.fee_of is not None else _ZERO
        self._fills += (self.fills_seq, self.step, fill.client_order_id, fill.order_id, fill.symbol,
                        _NAMES[fill.side], str(fill.qty), str(fill.price), fill.timestamp_ms, int(fill.is_maker),
                        fill.fill_id, str(fee), str(rebate))

    # ---------------------------------------------------------------- TickJournalHook (the integer path)
    def on_order_ticks(self, kind: str, client_order_id: str, order_id: str | None, symbol: str, is_buy: bool,
                       lots: int, ticks: int, state: OrderState, timestamp_ms: int, message: str) -> None:
        if symbol not in self._journaled_grids:
            self._journal_grid(symbol)
        self.events_seq += 1
        self._events += (self.events_seq, self.step, kind, client_order_id, order_id, symbol, _SIDE_OF[is_buy], lots,
                         ticks, _NAMES[state], timestamp_ms, message)

    def on_fill_ticks(self, client_order_id: str, order_id: str, symbol: str, is_buy: bool, lots: int, ticks: int,
                      timestamp_ms: int, is_maker: bool, fill_id: str) -> None:
        fees = self._fee_texts.get((symbol, is_maker, lots, ticks))
        if fees is None:
            fees = self._fees_of(client_order_id, order_id, symbol, is_buy, lots, ticks, is_maker)
        self.fills_seq += 1
        self._fills += (self.fills_seq, self.step, client_order_id, order_id, symbol, _SIDE_OF[is_buy], lots, ticks,
                        timestamp_ms, is_maker, fill_id, fees[0], fees[1])

    def _journal_grid(self, symbol: str) -> Grid:
        grid = self._journaled_grids[symbol] = self.grids[symbol]
        self._instruments.append((symbol, str(grid.tick), str(grid.lot)))
        return grid

    def _fees_of(self, client_order_id: str, order_id: str, symbol: str, is_buy: bool, lots: int, ticks: int,
                 is_maker: bool) -> tuple[str, str]:
        """(fee, rebate) texts of a fill on the integer path: the fill's decimals as the loop's ``FillEvent``
        would carry them (``lots * lot``, ``ticks * tick``), so the same exact values as the event path."""
        grid = self._journaled_grids.get(symbol) or self._journal_grid(symbol)
        fill = FillEvent(client_order_id, order_id, symbol, Side.BUY if is_buy else Side.SELL, lots * grid.lot,
                         ticks * grid.tick, 0, is_maker, "")
        fee, rebate = self.fee_of(fill) if self.fee_of is not None else _ZERO
        texts = self._fee_texts
        if len(texts) >= FEE_TEXTS_KEPT:
            texts.clear()
        found = texts[(symbol, is_maker, lots, ticks)] = (str(fee), str(rebate))
        return found

    def on_step(self, now_ms: int) -> None:
        step = self.step = self.step + 1
        if step >= self._next_stop:
            self._stop(step)

    def _stop(self, step: int) -> None:
        """The end of a step that may commit: every step with the test seam, else each checkpoint's step, every
        :data:`BATCH_CHECK_STEPS` steps (a batch is committed at the first of those once it is full) and, while
        a checkpoint's snapshot is being taken, every :data:`POLL_STEPS` steps (it commits once complete)."""
        if self._fault is not None:
            self._fault("step", step)
        pending = self._pending_checkpoint
        if pending is not None and pending.job.poll():
            self._settle()
        every = self.checkpoint_every
        if not step % every:
            if self._begin_snapshot is None:
                self.checkpoint()
            else:
                self._settle()
                self._pending_checkpoint = _Pending(self._begin_snapshot(), step, self.events_seq, self.fills_seq)
        elif self.pending >= self.batch_events:
            self.flush()
        later = min(step + every - step % every, step + BATCH_CHECK_STEPS)
        if self._pending_checkpoint is not None:
            later = min(later, step + POLL_STEPS)
        self._next_stop = step + 1 if self._fault is not None else later

    @property
    def pending(self) -> int:
        """Order events and fills not written yet (what the next flush or checkpoint commits)."""
        return len(self._events) // _INSERT_EVENTS.columns + len(self._fills) // _INSERT_FILLS.columns

    def lookup_order(self, client_order_id: str) -> StoredOrder | None:
        """An order rebuilt from its journaled events and fills (pending ones first written), or ``None``."""
        self.flush()
        return load_order(self._conn, client_order_id)

    # ---------------------------------------------------------------- transactions
    def _write_pending(self) -> None:
        conn = self._conn
        if self._instruments:
            conn.executemany(_INSERT_INSTRUMENT, self._instruments)
            self._instruments.clear()
        if self._events:
            _INSERT_EVENTS(conn, self._events)
            self._events.clear()
        if self._fills:
            _INSERT_FILLS(conn, self._fills)
            self._fills.clear()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` around the block; rolled back if it raises."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
            self.commits += 1
        except BaseException:
            self._rollback()
            raise

    def flush(self) -> None:
        """Write the pending events in one transaction."""
        if not self._events and not self._fills:
            return
        with self._transaction():
            self._write_pending()
            self.batches += 1
            if self._fault is not None:
                self._fault("commit", self.batches)

    def drop_uncovered_rows(self) -> None:
        """Delete the rows after the sequence numbers this writer continues from (its checkpoint's): a resumed
        run writes them again, identically."""
        with self._transaction() as conn:
            conn.execute("DELETE FROM order_events WHERE seq > ?", (self.events_seq,))
            conn.execute("DELETE FROM fills WHERE seq > ?", (self.fills_seq,))

    def checkpoint(self, *, report: bytes | None = None) -> None:
        """Pending events, a snapshot of the run and (with ``report``) the run's completion, atomically (after
        the checkpoint whose snapshot is still being taken, if any)."""
        self._settle()
        self._write_checkpoint(self._snapshot(), self.step, self.events_seq, self.fills_seq, report)

    def _settle(self) -> None:
        """Commit the checkpoint whose snapshot is being taken (waiting for it if need be)."""
        pending = self._pending_checkpoint
        if pending is not None:
            self._pending_checkpoint = None
            self._write_checkpoint(pending.job.result(), pending.step, pending.events_seq, pending.fills_seq)

    def abandon(self) -> None:
        """The run ends without finishing (an error, a signal): stop a snapshot still being taken."""
        pending, self._pending_checkpoint = self._pending_checkpoint, None
        if pending is not None:
            pending.job.abandon()

    def _write_checkpoint(self, data: bytes, step: int, events_seq: int, fills_seq: int,
                          report: bytes | None = None) -> None:
        with self._transaction() as conn:
            self._write_pending()
            conn.execute("INSERT INTO checkpoints (step, events_seq, fills_seq, data) VALUES (?, ?, ?, ?)",
                         (step, events_seq, fills_seq, data))
            conn.execute("DELETE FROM checkpoints WHERE id NOT IN "
                         "(SELECT id FROM checkpoints ORDER BY id DESC LIMIT ?)", (KEEP_CHECKPOINTS,))
            if report is not None:
                conn.execute("UPDATE run SET status = 'complete', report = ?", (report,))
            self.checkpoints += 1
            if self._fault is not None:
                self._fault("checkpoint", self.checkpoints)

    def finish(self, report: bytes) -> None:
        """The end of the run: last events, a final checkpoint, the report, status ``complete``."""
        self.checkpoint(report=report)

    def _rollback(self) -> None:
        with contextlib.suppress(sqlite3.Error):  # nothing to roll back
            self._conn.execute("ROLLBACK")
        # the rolled-back batch may have held a symbol's first grid row: journal each grid again when next used
        self._journaled_grids.clear()
        self._fee_texts.clear()


__all__ = ["BATCH_CHECK_STEPS", "FEE_TEXTS_KEPT", "KEEP_CHECKPOINTS", "POLL_STEPS", "ROWS_PER_INSERT", "Fault",
           "FeeOf", "Grid", "JournalWriter", "SnapshotJob"]
