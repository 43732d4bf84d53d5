"""The run commands with a state journal: ``--state PATH`` (journal a new run) and ``--resume PATH``.

Test-only seam: ``MMEXEC_TEST_KILL_AT=KIND:N`` (KIND ``step``, ``commit`` or ``checkpoint``) makes the process
``SIGKILL`` itself at that point of the journal writer -- the Nth step (absolute), or inside the Nth batch or
checkpoint transaction of this process, after its rows are written and before ``COMMIT``. It exists so the
crash tests can kill at exact, reproducible instants; it is read here only and nothing else uses it.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmexec.cli.common import emit
from mmexec.errors import ConfigError
from mmexec.fsio import write_atomic

if TYPE_CHECKING:
    from collections.abc import Iterable

    from mmexec.engine.models import FillEvent
    from mmexec.engine.ports import RiskNotice
    from mmexec.journal.writer import Fault
    from mmexec.run.journaled import JournaledRun
    from mmexec.run.spec import RunSpec

KILL_AT_ENV = "MMEXEC_TEST_KILL_AT"


def _test_fault() -> Fault | None:
    value = os.environ.get(KILL_AT_ENV)
    if not value:
        return None
    kind, _, count = value.partition(":")
    target = (kind, int(count))

    def fault(point: str, n: int) -> None:
        if (point, n) == target:
            os.kill(os.getpid(), signal.SIGKILL)

    return fault


def print_freeze_notice(notice: RiskNotice) -> None:
    """The kill switch's one line on stderr (the same wording as a run without a journal)."""
    if notice.frozen:
        from mmexec.run.notices import freeze_notice_line

        sys.stderr.write(freeze_notice_line(notice) + "\n")


def _write_outputs(report: bytes, fills: Iterable[FillEvent], out: Path | None, fills_out: Path | None) -> None:
    if fills_out is not None:
        from mmexec.fees.fills_io import FillsWriter

        writer = FillsWriter(fills_out)
        try:
            for fill in fills:
                writer.write(fill)
        except BaseException:
            writer.abort()
            raise
        writer.close()
    if out is not None:
        write_atomic(out, report)
    else:
        emit(report)


def _finish(journaled: JournaledRun, total: int, progress: bool | None, out: Path | None,
            fills_out: Path | None) -> None:
    try:
        if progress and total > 0:
            from mmexec.cli.progress import StderrProgress

            with StderrProgress(total) as on_progress:
                report = journaled.execute(on_progress)
        else:
            report = journaled.execute()
        _write_outputs(report, journaled.fills(), out, fills_out)
    finally:
        journaled.close()


def execute_journaled(table: str, spec: RunSpec, origins: dict[str, str], *, utc: str, out: Path | None,
                      fills_out: Path | None, progress: bool | None, checkpoint_every: int | None = None) -> None:
    """``--state PATH``: a new run, journaled (the fills file is written from the journal at the end)."""
    from mmexec.run.journaled import CHECKPOINT_EVERY, start

    assert spec.output.state is not None
    journaled = start(spec, spec.output.state, command=table, utc=utc, risk_listeners=[print_freeze_notice],
                      config_sources=origins, fault=_test_fault(),
                      checkpoint_every=checkpoint_every or CHECKPOINT_EVERY)
    _finish(journaled, spec.market.iterations, progress, out, fills_out)


def execute_resume(table: str, flags: dict[str, Any], path: Path, *, force: bool, config: Path | None,
                   out: Path | None, fills_out: Path | None, progress: bool | None,
                   checkpoint_every: int | None = None) -> None:
    """``--resume PATH``: continue the journaled run (configuration from the journal only)."""
    from mmexec.journal.reader import JournalReader
    from mmexec.run.journaled import CHECKPOINT_EVERY, changed_keys, open_record, resume

    if config is not None:
        raise ConfigError("--config cannot be used with --resume: the configuration comes from the journal",
                          source="--config")
    record = open_record(path)
    if record.command != table:
        command = record.command.replace("_", "-")
        raise ConfigError(f"the journal is of a `mmexec {command}` run: resume it with that command", source=str(path))
    given = {k: v for k, v in flags.items() if v is not None and not (k == "state" and Path(v) == path)}
    if given:
        changed = changed_keys(record, _validated(table, given))
        if changed:
            names = ", ".join("--" + k.replace("_", "-") for k in changed)
            raise ConfigError(f"differs from the journaled run: {names} (a resumed run keeps its configuration)",
                              source=str(path))
    if record.complete:
        if not force:
            raise ConfigError("the journaled run is already complete (--force re-emits its report)",
                              source=str(path))
        with JournalReader(path) as reader:
            _write_outputs(reader.report(), (f.fill for f in reader.fills()), out, fills_out)
        return
    journaled = resume(path, risk_listeners=[print_freeze_notice], fault=_test_fault(),
                       checkpoint_every=checkpoint_every or CHECKPOINT_EVERY)
    total = int(record.spec.get("iterations", 0))
    _finish(journaled, total, progress, out, fills_out)


def _validated(table: str, given: dict[str, Any]) -> dict[str, Any]:
    """The given flags validated like a run's (environment variables and TOML files are not consulted)."""
    from mmexec.config.run import BybitDryrunSettings, ShadowSettings

    model = {"shadow": ShadowSettings, "bybit_dryrun": BybitDryrunSettings}[table]
    try:
        values = model.model_validate(given).model_dump()
    except Exception as exc:  # pydantic ValidationError: name the first bad flag
        errors = getattr(exc, "errors", None)
        first = errors()[0] if callable(errors) else {"loc": ("?",), "msg": str(exc)}
        key = str(first["loc"][0]) if first.get("loc") else "?"
        raise ConfigError(f"invalid value: {first['msg']}", source="--" + key.replace("_", "-")) from None
    return {k: values[k] for k in given if k in values}


