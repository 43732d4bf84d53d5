"""The journal of a live session (``--market bybit-live --state PATH``) and its resume (``--resume PATH``).

A live feed cannot be replayed from a checkpoint the way a file can, so the rule is different from a replay's
(:mod:`mmexec.run.journaled`): **the journal only ever holds what its last checkpoint holds.**

- Order events and fills are buffered as they happen and committed *together with* a checkpoint of the whole
  run, in one transaction, after each batch of messages (everything the feed had queued at once) that produced
  at least one of them; after every ``checkpoint_every`` batches otherwise (the market's position: books,
  markouts, clock), and at the stop. A fill is in the journal exactly when the checkpoint's positions include
  it. (An order looked up in the journal mid-batch flushes the pending rows early; a resume deletes rows
  written after its checkpoint, as for any journal.)
- A crash (``kill -9``) therefore loses the simulated trading of the batch being processed, if it had not
  been committed (a few milliseconds of market, typically), and the market between the crash and the
  reconnect, which was never seen. It never loses a committed order or fill, and never doubles one: the
  resumed run continues from the checkpoint's order store (client order ids keep counting from there), risk,
  fee ledger, PnL and venue.
- The resume reconnects to the journal's ``ws_url`` with the journal's symbols and configuration, marks every
  book invalid until its fresh snapshot (no quote, no fill on the checkpoint's book), and runs for what is left
  of ``--duration`` (measured in market time: receive time of the last message minus the first). The
  recording, if any, continues in a new file (:func:`mmexec.marketdata.live.recorder.resume_part`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mmexec.engine.models import FillEvent
from mmexec.engine.order_store import InMemoryOrderStore
from mmexec.engine.ports import RiskListener
from mmexec.journal.lock import JournalLock
from mmexec.journal.order_store import journaled_order_store
from mmexec.journal.reader import RunRecord, iter_fill_events, last_checkpoint, read_run
from mmexec.journal.schema import JournalError
from mmexec.journal.snapshot import load_snapshot
from mmexec.journal.writer import Fault, JournalWriter
from mmexec.run.builder import Run
from mmexec.run.journaled import (
    attach_writer,
    bind_writer,
    check_new_journal,
    create_journal,
    journal_externals,
    locked_journal,
    new_writer,
    open_resumable_record,
    relay_listeners,
)
from mmexec.run.spec import RunSpec

if TYPE_CHECKING:
    from mmexec.run.live import LiveSession

LIVE_CHECKPOINT_EVERY = 100  # batches without a journal row between two checkpoints
_NEVER = 1 << 62  # the writer's own step-count triggers: off (the session decides, per batch)
SESSION = "live_session"  # the session, an external of every checkpoint (its methods are the run's listeners)


@dataclass
class LiveJournal:
    """An open journal of a live session (locked), attached to the session's run once it is built."""

    path: Path
    lock: JournalLock
    conn: sqlite3.Connection
    writer: JournalWriter
    externals: dict[str, object]
    run_ref: list[Run]
    relays: list[RiskListener]
    checkpoint_every: int = LIVE_CHECKPOINT_EVERY
    checkpoint_data: bytes | None = None
    _idle_batches: int = field(default=0)

    # ---------------------------------------------------------------- opening
    @classmethod
    def create(cls, spec: RunSpec, path: Path, *, command: str, utc: str, risk_listeners: Sequence[RiskListener],
               fault: Fault | None = None, checkpoint_every: int | None = None) -> LiveJournal:
        """A new journal at ``path`` (refused when one exists there)."""
        check_new_journal(spec, path)
        lock, conn = create_journal(spec, path, command=command, utc=utc)
        return cls._open(path, lock, conn, risk_listeners, fault, checkpoint_every, None)

    @classmethod
    def reopen(cls, path: Path, *, risk_listeners: Sequence[RiskListener], fault: Fault | None = None,
               checkpoint_every: int | None = None) -> tuple[LiveJournal, RunRecord]:
        """The journal of an interrupted live session, locked, its rows after the last checkpoint deleted."""
        open_resumable_record(path)
        lock, conn = locked_journal(path)
        try:
            record = read_run(conn, str(path))  # under the lock: no other writer changed it since
            checkpoint = last_checkpoint(conn)
            journal = cls._open(path, lock, conn, risk_listeners, fault, checkpoint_every, checkpoint)
            journal.writer.drop_uncovered_rows()
        except BaseException:
            conn.close()
            lock.release()
            raise
        return journal, record

    @classmethod
    def _open(cls, path: Path, lock: JournalLock, conn: sqlite3.Connection, risk_listeners: Sequence[RiskListener],
              fault: Fault | None, checkpoint_every: int | None, checkpoint: object) -> LiveJournal:
        from mmexec.journal.reader import Checkpoint

        at = checkpoint if isinstance(checkpoint, Checkpoint) else None
        relays = relay_listeners(risk_listeners)
        externals = journal_externals(relays)
        run_ref: list[Run] = []
        writer = new_writer(conn, run_ref, externals, fault, _NEVER, at)
        writer.batch_events = _NEVER
        return cls(path, lock, conn, writer, externals, run_ref, list(relays),
                   checkpoint_every or LIVE_CHECKPOINT_EVERY, at.data if at is not None else None)

    # ---------------------------------------------------------------- the session's run
    def order_store(self) -> InMemoryOrderStore:
        return journaled_order_store(self.writer.lookup_order)

    def attach(self, run: Run) -> None:
        """``run`` (built at the session's first event) journals into this journal."""
        self.run_ref.append(attach_writer(run, self.writer))

    def bind(self, session: LiveSession) -> None:
        """``session`` journals here: a checkpoint stores it by name (its methods are listeners of the run)."""
        self.externals[SESSION] = session
        session.journal = self
        session.risk_listeners = self.relays

    def restore(self, session: LiveSession) -> Run | None:
        """The run of the last checkpoint, its listeners re-attached to ``session``; None without one (the
        session then starts over, as a new one)."""
        self.bind(session)
        if self.checkpoint_data is None:
            return None
        run = load_snapshot(self.checkpoint_data, self.externals)
        if not isinstance(run, Run) or run.replay is None:
            raise JournalError("checkpoint does not hold a live run", source=str(self.path))
        bind_writer(self.writer, run)
        self.run_ref.append(run)
        return run

    def after_batch(self) -> None:
        """A checkpoint (with the batch's rows) after a batch that produced journal rows, or every
        ``checkpoint_every`` batches."""
        if not self.run_ref:
            return
        self._idle_batches += 1
        if self.writer.pending or self._idle_batches >= self.checkpoint_every:
            self.writer.checkpoint()
            self._idle_batches = 0

    def fills(self) -> Iterator[FillEvent]:
        """Every journaled fill, in order (what ``--fills-out`` writes for a journaled session)."""
        return iter_fill_events(self.conn)

    def finish(self, report: bytes) -> None:
        """The session stopped cleanly: last rows, a final checkpoint, the report, status ``complete``."""
        self.writer.finish(report)

    def close(self) -> None:
        self.conn.close()
        self.lock.release()


__all__ = ["LIVE_CHECKPOINT_EVERY", "SESSION", "LiveJournal"]
