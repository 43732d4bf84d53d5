"""A run journaled into SQLite (``--state``), and the resume of an interrupted one (``--resume``).

Starting: the journal must be new; its ``run`` row stores the spec (JSON) and the runtime stamp, then the run
proceeds with a :class:`~mmexec.journal.writer.JournalWriter` among the loop's journal hooks.

Resuming: the last checkpoint is loaded (restricted unpickler), the event and fill rows written after it are
deleted (the resumed run writes them again, identically) and the loop continues from the checkpoint's step.
Without a checkpoint the run starts over from the stored spec. The report of a resumed synthetic or replay run
is byte-identical to the uninterrupted run's (``runtime.utc`` is the stamp of the first start). A replay's
capture files are not in the checkpoint: their identities (absolute path, size, sha256) and the number of events
replayed are, and the resume reopens the files there (see :meth:`mmexec.run.replay.ReplayMarket.reopen`).

Live objects the snapshot must not contain (the writer itself, the caller's risk listeners) are passed as
externals and re-attached on restore. A fills file: a run that goes from its start to its end in one process
streams it from a fill listener (as a run without a journal does: the same ``FillEvent`` s); a resumed run
writes it from the journal's fills table at the end (the fills of every process).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from mmexec._version import __version__
from mmexec.engine.models import FillEvent
from mmexec.engine.order_store import StoredOrder
from mmexec.engine.ports import FillListener, ProgressCallback, RiskListener, RiskNotice, SteppedMarket
from mmexec.fees.calc import fill_fees, match_schedule
from mmexec.fees.resolve import FeeConfig
from mmexec.fees.schedule import FeeSchedule
from mmexec.journal.lock import JournalLock
from mmexec.journal.order_store import journaled_order_store
from mmexec.journal.reader import Checkpoint, RunRecord, iter_fill_events, last_checkpoint, read_run
from mmexec.journal.schema import JournalError, check_existing, connect
from mmexec.journal.snapshot import SnapshotProcess, dump_snapshot, load_snapshot
from mmexec.journal.writer import Fault, FeeOf, JournalWriter
from mmexec.run.builder import Run, build_run, utc_now_iso
from mmexec.run.spec import RunSpec

CHECKPOINT_EVERY = 25_000  # steps; a crash recomputes at most this many (a pickle of the run, ~10 ms busy)
FEE_CACHE_SIZE = 65_536
OUTPUT_KEYS = frozenset({"out", "fills_out", "state"})  # where results go: free to change on resume


def spec_to_json(spec: RunSpec) -> str:
    """The spec as JSON, exact: decimals and paths as strings (``RunSpec.from_settings`` reads them back)."""
    return json.dumps(spec.flat(), default=str, sort_keys=True, separators=(",", ":"))


def spec_from_record(record: RunRecord) -> RunSpec:
    return RunSpec.from_settings(record.spec)


def fee_function(config: FeeConfig) -> FeeOf:
    """(fee, rebate) of one fill under the run's fee setup (the same arithmetic as the fee ledger).

    Quotes repeat the same few sizes and prices, so results are memoised per (symbol, side of the book, qty,
    price) in a bounded cache (cleared when full: the values are exact either way).
    """
    schedules: dict[str, FeeSchedule] = {}
    cache: dict[tuple[str, bool, Decimal, Decimal], tuple[Decimal, Decimal]] = {}

    def fee_of(fill: FillEvent) -> tuple[Decimal, Decimal]:
        key = (fill.symbol, fill.is_maker, fill.qty, fill.price)
        found = cache.get(key)
        if found is not None:
            return found
        schedule = schedules.get(fill.symbol)
        if schedule is None:
            schedule = schedules[fill.symbol] = match_schedule(fill.symbol, config.fee_schedule,
                                                               config.profile_map)[0]
        fees = fill_fees(fill, schedule)
        if len(cache) >= FEE_CACHE_SIZE:
            cache.clear()
        found = cache[key] = (fees.fee, fees.rebate)
        return found

    return fee_of


@dataclass
class JournaledRun:
    """One run with its journal, ready to :meth:`execute` (from step ``start_step``)."""

    path: Path
    run: Run
    writer: JournalWriter
    conn: sqlite3.Connection
    lock: JournalLock
    start_step: int
    streams_fills: bool = False  # the caller's fill listeners saw every fill (else: read them back, fills())

    def execute(self, progress: ProgressCallback | None = None) -> bytes:
        """Run to the end; store the report and mark the journal complete; return the report bytes."""
        from mmexec.canonical import dumps

        loop = self.run.loop
        if self.run.replay is not None:  # a restored driver continues where its checkpoint was taken
            self.run.replay.run()
        else:
            source = cast(SteppedMarket, loop.market) if self.start_step else None
            loop.run(self.run.params(), progress=progress, source=source, start_step=self.start_step)
        data = dumps(self.run.result().to_report())
        self.writer.finish(data)
        return data

    def fills(self) -> Iterator[FillEvent]:
        return iter_fill_events(self.conn)

    def close(self) -> None:
        self.writer.abandon()
        self.conn.close()
        self.lock.release()


def _writer(conn: sqlite3.Connection, run_ref: list[Run], externals: dict[str, object], fault: Fault | None,
            checkpoint_every: int, at: Checkpoint | None = None, *, apart: bool = False) -> JournalWriter:
    """The journal's writer; ``apart``: periodic checkpoints pickled in a forked child while the run goes on
    (:class:`SnapshotProcess`: the run's objects stay as fast as they were; for runs in one thread, the
    synthetic and replay ones). The last checkpoint, after the run, is pickled in process."""
    writer = JournalWriter(conn, snapshot=lambda: dump_snapshot(run_ref[0], externals),
                           begin_snapshot=(lambda: SnapshotProcess(run_ref[0], externals)) if apart else None,
                           checkpoint_every=checkpoint_every, fault=fault, step=at.step if at else 0,
                           events_seq=at.events_seq if at else 0, fills_seq=at.fills_seq if at else 0)
    externals["journal"] = writer
    return writer


def _not_journaled_yet(client_order_id: str) -> StoredOrder | None:
    return None  # no order exists before the run is attached to its journal


def _fresh_run(spec: RunSpec, utc: str, risk_listeners: Sequence[RiskListener],
               config_sources: Mapping[str, str] | None) -> Run:
    """A run from step 0 with the journal's order store, not attached to a journal yet (:func:`_attach`)."""
    return build_run(spec, utc=utc, risk_listeners=risk_listeners, config_sources=config_sources,
                     order_store=journaled_order_store(_not_journaled_yet))


def _bind(writer: JournalWriter, run: Run) -> None:
    """``writer`` computes fees under ``run``'s fee setup and takes its grids from ``run``'s loop (a new run, or
    one restored from a checkpoint: the writer is never part of a snapshot)."""
    writer.fee_of = fee_function(run.fee_config)
    writer.grids = run.loop.books


def _attach(run: Run, writer: JournalWriter) -> Run:
    """The run's order store looks orders up in ``writer``'s journal, and its loop feeds ``writer``."""
    run.order_store.lookup = writer.lookup_order
    _bind(writer, run)
    run.loop.journal_hooks.append(writer)
    return run


class _Relay:
    """A caller's listener as an object of its own type, so the snapshot stores it by name, not by value."""

    __slots__ = ("target",)

    def __init__(self, target: RiskListener) -> None:
        self.target = target

    def __call__(self, notice: RiskNotice) -> object:
        return self.target(notice)


class _FillRelay:
    """The caller's fill listeners (the fills file of an uninterrupted run) as one external object: a checkpoint
    stores it by name; a resumed run gets an empty one (it reads its fills back from the journal)."""

    __slots__ = ("targets",)

    def __init__(self, targets: Sequence[FillListener] = ()) -> None:
        self.targets = list(targets)

    def __call__(self, fill: FillEvent) -> None:
        for target in self.targets:
            target(fill)


FILL_RELAY = "fill_listeners"  # the name of the caller's fill listeners in a snapshot


def _relays(risk_listeners: Sequence[RiskListener]) -> list[_Relay]:
    return [_Relay(listener) for listener in risk_listeners]


def _externals(relays: Sequence[_Relay], fills: _FillRelay | None = None) -> dict[str, object]:
    return {**{f"risk_listener:{i}": relay for i, relay in enumerate(relays)}, FILL_RELAY: fills or _FillRelay()}


def _locked(path: Path) -> tuple[JournalLock, sqlite3.Connection]:
    lock = JournalLock(path).acquire()
    try:
        return lock, connect(path)
    except BaseException:
        lock.release()
        raise


def _identify_captures(run: Run) -> None:
    """A replay's capture files hashed here, once (a checkpoint stores their identities): periodic snapshots are
    pickled in a child process, which would hash them again each time and keep the result to itself."""
    if run.replay is not None:
        identities = getattr(run.replay.market.source, "identities", None)
        if callable(identities):
            identities()


def check_new_journal(spec: RunSpec, path: Path) -> None:
    """``--state PATH`` of a new run: the simulated exchange, and no journal at ``path`` yet."""
    if spec.venue.exchange != "fake":
        raise JournalError("--state journals runs on the simulated exchange (fake) only, for now",
                           source="--exchange")
    if path.exists() and path.stat().st_size:
        check_existing(path)
        raise JournalError("a journal already exists here: continue it with --resume, or choose a new path",
                           source=str(path))


def create_journal(spec: RunSpec, path: Path, *, command: str, utc: str) -> tuple[JournalLock, sqlite3.Connection]:
    """The journal file, locked, with its ``run`` row (status ``running``)."""
    lock, conn = _locked(path)
    try:
        created = utc_now_iso()
        conn.execute("INSERT INTO run (id, command, spec, utc, status, created, mmexec_version) "
                     "VALUES (1, ?, ?, ?, 'running', ?, ?)", (command, spec_to_json(spec), utc, created, __version__))
    except BaseException:
        conn.close()
        lock.release()
        raise
    return lock, conn


def start(spec: RunSpec, path: Path, *, command: str, utc: str, risk_listeners: Sequence[RiskListener] = (),
          config_sources: Mapping[str, str] | None = None, fault: Fault | None = None,
          checkpoint_every: int = CHECKPOINT_EVERY, fill_listeners: Sequence[FillListener] = ()) -> JournaledRun:
    """A new journaled run at ``path`` (which must not hold a journal yet); ``fill_listeners`` see every fill
    of the run if it ends in this process (``JournaledRun.streams_fills``)."""
    check_new_journal(spec, path)
    relays = _relays(risk_listeners)
    # built before the file: every configuration error first, and a replay's captures are read once
    run = _fresh_run(spec, utc, relays, config_sources)
    fills = _FillRelay(fill_listeners)
    if fill_listeners:
        run.loop.fill_listeners.append(fills)
    _identify_captures(run)
    lock, conn = create_journal(spec, path, command=command, utc=utc)
    try:
        writer = _writer(conn, [run], _externals(relays, fills), fault, checkpoint_every, apart=True)
        _attach(run, writer)
    except BaseException:
        conn.close()
        lock.release()
        raise
    return JournaledRun(path, run, writer, conn, lock, 0, streams_fills=bool(fill_listeners))


def open_record(path: Path) -> RunRecord:
    """Validate ``path`` and read its run record (read-only; nothing is changed)."""
    if not path.exists():
        raise JournalError("journal does not exist", source=str(path))
    check_existing(path)
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return read_run(conn, str(path))
    finally:
        conn.close()


def open_resumable_record(path: Path) -> RunRecord:
    """The run record of a journal that can be resumed: not complete, written by this mmexec (its checkpoints
    hold this version's objects); else :class:`JournalError`."""
    record = open_record(path)
    if record.complete:
        raise JournalError("the journaled run is already complete (--force re-emits its report)", source=str(path))
    if record.mmexec_version != __version__:
        raise JournalError(f"the journal was written by mmexec {record.mmexec_version}; resume it with that "
                           f"version (this is {__version__})", source=str(path))
    return record


def resume(path: Path, *, risk_listeners: Sequence[RiskListener] = (), fault: Fault | None = None,
           checkpoint_every: int = CHECKPOINT_EVERY) -> JournaledRun:
    """Continue the interrupted run of the journal at ``path`` from its last checkpoint."""
    open_resumable_record(path)
    lock, conn = _locked(path)
    try:
        record = read_run(conn, str(path))  # under the lock: no other writer changed it since
        checkpoint = last_checkpoint(conn)
        relays = _relays(risk_listeners)
        externals = _externals(relays)
        run_ref: list[Run] = []
        writer = _writer(conn, run_ref, externals, fault, checkpoint_every, checkpoint, apart=True)
        if checkpoint is None:
            run = _attach(_fresh_run(spec_from_record(record), record.utc or "", relays, None), writer)
        else:
            run = cast(Run, load_snapshot(checkpoint.data, externals))
            if not isinstance(run, Run):
                raise JournalError("checkpoint does not hold a run", source=str(path))
            _bind(writer, run)
            listeners = run.loop.fill_listeners  # the first process's fills file: not this one's
            listeners[:] = [listener for listener in listeners if listener is not externals[FILL_RELAY]]
            if run.replay is not None:  # the capture files: checked unchanged, reopened at the checkpoint
                run.replay.market.reopen()
        _identify_captures(run)
        run_ref.append(run)
        writer.drop_uncovered_rows()
    except BaseException:
        conn.close()
        lock.release()
        raise
    return JournaledRun(path, run, writer, conn, lock, checkpoint.step if checkpoint is not None else 0)


def changed_keys(record: RunRecord, given: Mapping[str, Any]) -> list[str]:
    """Run keys whose value in ``given`` (validated flags) differs from the journal's spec."""
    journaled = spec_from_record(record).flat()
    requested = RunSpec.from_settings({**journaled, **given}).flat()
    return sorted(k for k in given if k not in OUTPUT_KEYS and k in journaled and requested[k] != journaled[k])


__all__ = ["CHECKPOINT_EVERY", "JournaledRun", "attach_writer", "bind_writer", "changed_keys", "check_new_journal",
           "create_journal", "fee_function", "journal_externals", "locked_journal", "new_writer", "open_record",
           "relay_listeners", "resume", "spec_from_record", "spec_to_json", "start"]


# the pieces a live session's journal (mmexec.run.live_journal) is built from
attach_writer = _attach
bind_writer = _bind
journal_externals = _externals
locked_journal = _locked
new_writer = _writer
relay_listeners = _relays

