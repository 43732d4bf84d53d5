"""The run commands with a state journal: ``--state PATH`` (journal a new run) and ``--resume PATH``.

Test-only seam: ``MMEXEC_TEST_KILL_AT=KIND:N`` (KIND ``step``, ``commit`` or ``checkpoint``) makes the process
``SIGKILL`` itself at that point of the journal writer -- the Nth step (absolute), or inside the Nth batch or
checkpoint transaction of this process, after its rows are written and before ``COMMIT``. ``KIND:N:TERM``
(or ``:HUP``, ``:INT``) sends that signal instead, for the clean-exit tests. It exists so the
crash tests can kill at exact, reproducible instants; it is read here only and nothing else uses it.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmexec.cli.run_checks import check_outputs
from mmexec.cli.run_outputs import (
    JournalOptions,
    print_freeze_notice,
    progress_bar,
    run_outputs,
    show_progress,
    show_run_config,
)
from mmexec.cli.signals import exit_cleanly_on_termination
from mmexec.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable

    from mmexec.config.base import Loaded
    from mmexec.config.run import RunSettings
    from mmexec.engine.ports import FillListener
    from mmexec.journal.reader import RunRecord
    from mmexec.journal.writer import Fault
    from mmexec.run.journaled import JournaledRun
    from mmexec.run.spec import RunSpec

KILL_AT_ENV = "MMEXEC_TEST_KILL_AT"


def _test_fault() -> Fault | None:
    value = os.environ.get(KILL_AT_ENV)
    if not value:
        return None
    kind, count, *name = value.split(":")
    target = (kind, int(count))
    signum = signal.Signals["SIG" + name[0]] if name else signal.SIGKILL

    def fault(point: str, n: int) -> None:
        if (point, n) == target:
            os.kill(os.getpid(), signum)

    return fault


def _finish(open_run: Callable[[list[FillListener]], JournaledRun], total: int, progress: bool, out: Path | None,
            fills_out: Path | None, html: Path | None = None) -> None:
    """Open the outputs (a bad target fails before the journal is touched), open the journaled run (given the
    fills file's listener), run it to the end, write the fills (from the journal, unless the listener saw them
    all) and the report.

    SIGTERM / SIGHUP / Ctrl-C end it like a run without a journal (temp files deleted, exit 143 / 129 / 130):
    the open batch is rolled back, the journal keeps its last commit and checkpoint and stays resumable.
    """
    with exit_cleanly_on_termination(), run_outputs(out, fills_out, html) as outputs:
        journaled = open_run(outputs.fill_listeners())
        try:
            with progress_bar(progress, total) as on_progress:
                report = journaled.execute(on_progress)
            if not journaled.streams_fills:
                outputs.write_fills(journaled.fills())
            outputs.commit(report)
        finally:
            journaled.close()


def execute_journaled(table: str, spec: RunSpec, origins: dict[str, str], *, utc: str, out: Path | None,
                      fills_out: Path | None, progress: bool, checkpoint_every: int | None = None,
                      html: Path | None = None) -> None:
    """``--state PATH``: a new run, journaled (its fills file streamed as the run goes, as without a journal)."""
    from mmexec.run.journaled import CHECKPOINT_EVERY, start

    path = spec.output.state
    assert path is not None

    def open_run(fill_listeners: list[FillListener]) -> JournaledRun:
        return start(spec, path, command=table, utc=utc, risk_listeners=[print_freeze_notice],
                     config_sources=origins, fault=_test_fault(), checkpoint_every=checkpoint_every or CHECKPOINT_EVERY,
                     fill_listeners=fill_listeners)

    _finish(open_run, spec.market.iterations, progress, out, fills_out, html)


def execute_resume(table: str, flags: dict[str, Any], journal: JournalOptions, *, config: Path | None,
                   out: Path | None, fills_out: Path | None, progress: bool | None, show_config: bool = False,
                   html: Path | None = None) -> None:
    """``--resume PATH``: continue the journaled run (configuration from the journal only)."""
    from mmexec.journal.reader import JournalReader
    from mmexec.run.journaled import CHECKPOINT_EVERY, changed_keys, open_record, resume

    path = journal.resume
    assert path is not None
    if config is not None:
        raise ConfigError("--config cannot be used with --resume: the configuration comes from the journal",
                          source="--config")
    record = open_record(path)
    if record.command != table:
        command = record.command.replace("_", "-")
        raise ConfigError(f"the journal is of a `mmexec {command}` run: resume it with that command", source=str(path))
    state = flags.get("state")
    if state is not None and not _same_path(Path(state), path):
        raise ConfigError("--state names another journal than --resume (give --resume alone)", source="--state")
    given = {k: v for k, v in flags.items() if v is not None and k != "state"}
    if given:
        changed = changed_keys(record, _validated(table, given))
        if changed:
            names = ", ".join("--" + k.replace("_", "-") for k in changed)
            raise ConfigError(f"differs from the journaled run: {names} (a resumed run keeps its configuration)",
                              source=str(path))
    if show_config:
        show_run_config(table, _journal_settings(table, record, path))
        return
    check_outputs(out, fills_out, path, html)
    if record.complete:
        if not journal.force:
            raise ConfigError("the journaled run is already complete (--force re-emits its report)",
                              source=str(path))
        with (exit_cleanly_on_termination(), run_outputs(out, fills_out, html) as outputs,
              JournalReader(path) as reader):
            outputs.write_fills(reader.fill_events())
            outputs.commit(reader.report())
        return
    if record.spec.get("market") == "bybit-live":  # reconnect and continue (mmexec.run.live_journal)
        from mmexec.cli.live_run import execute_live_resume

        execute_live_resume(path, out=out, fills_out=fills_out, html=html, checkpoint_every=journal.checkpoint_every)
        return
    every = journal.checkpoint_every or CHECKPOINT_EVERY
    total = int(record.spec.get("iterations", 0))

    def open_run(fill_listeners: list[FillListener]) -> JournaledRun:  # a resumed run's fills: from the journal
        return resume(path, risk_listeners=[print_freeze_notice], fault=_test_fault(), checkpoint_every=every)

    _finish(open_run, total, show_progress(progress, total), out, fills_out, html)


def _same_path(a: Path, b: Path) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def _journal_settings(table: str, record: RunRecord, path: Path) -> Loaded[RunSettings]:
    """The journaled run's settings, each with the origin ``journal PATH`` (for ``--resume … --show-config``)."""
    from mmexec.config.base import Loaded
    from mmexec.config.run import RUN_TABLES

    model = RUN_TABLES[table]
    values = {k: v for k, v in record.spec.items() if k in model.model_fields}
    settings = model.model_validate(values)  # the journal's values and the defaults, never env or files
    return Loaded(settings=settings, origins={k: f"journal {path}" for k in values}, config_file=None)


def _validated(table: str, given: dict[str, Any]) -> dict[str, Any]:
    """The given flags validated like a run's (environment variables and TOML files are not consulted)."""
    from mmexec.config.run import RUN_TABLES

    model = RUN_TABLES[table]
    try:
        values = model.model_validate(given).model_dump()
    except Exception as exc:  # pydantic ValidationError: name the first bad flag
        errors = getattr(exc, "errors", None)
        first = errors()[0] if callable(errors) else {"loc": ("?",), "msg": str(exc)}
        key = str(first["loc"][0]) if first.get("loc") else "?"
        raise ConfigError(f"invalid value: {first['msg']}", source="--" + key.replace("_", "-")) from None
    return {k: values[k] for k in given if k in values}
