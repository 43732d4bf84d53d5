"""What every run command does around the run itself, with or without a journal: the output files (opened
before the run, committed after it, dropped on any failure), the progress display, the freeze notice and
``--show-config``. Shared by :mod:`mmexec.cli.run_impl` and :mod:`mmexec.cli.journal_run`."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmexec.artifacts import ArtifactWriter
from mmexec.cli.common import emit
from mmexec.fees.fills_io import FillsWriter

if TYPE_CHECKING:
    from mmexec.config.base import Loaded
    from mmexec.config.run import RunSettings
    from mmexec.engine.models import FillEvent
    from mmexec.engine.ports import RiskNotice

PROGRESS_MIN_ITERATIONS = 20_000


@dataclass(frozen=True, slots=True)
class JournalOptions:
    """The run journal's command-line-only flags: ``--resume PATH``, ``--force``, ``--checkpoint-every N``."""

    resume: Path | None = None
    force: bool = False
    checkpoint_every: int | None = None


class RunOutputs:
    """``--out`` (stdout when not given), ``--fills-out`` and ``--html``: temp files created up front (a bad
    target fails before the run), renamed into place by :meth:`commit`; leaving :func:`run_outputs` by an
    exception (Ctrl-C, SIGTERM, an error) deletes them."""

    def __init__(self) -> None:
        self.report: ArtifactWriter | None = None
        self.fills: FillsWriter | None = None
        self.page: ArtifactWriter | None = None
        self.report_name = "stdout"

    def open(self, out: Path | None, fills_out: Path | None, html: Path | None = None) -> None:
        self.report = ArtifactWriter(out, what="report file") if out is not None else None
        self.page = ArtifactWriter(html, what="HTML page") if html is not None else None
        self.fills = FillsWriter(fills_out) if fills_out is not None else None
        self.report_name = str(out) if out is not None else "stdout"

    def fill_listeners(self) -> list[Any]:
        return [self.fills.write] if self.fills is not None else []

    def write_fills(self, fills: Iterable[FillEvent]) -> None:
        if self.fills is not None:
            for fill in fills:
                self.fills.write(fill)

    def commit(self, report: bytes) -> None:
        """Finish the fills file, the HTML page (built from the report's bytes, like ``mmexec report html``),
        then the report (stdout when there is no ``--out``)."""
        if self.fills is not None:
            self.fills.close()
        if self.page is not None:
            from mmexec.canonical import loads
            from mmexec.reporting.html import build_html

            self.page.write(build_html([(self.report_name, loads(report))]).encode("utf-8"))
        if self.report is not None:
            self.report.write(report)
            self.report.commit()
        if self.page is not None:
            self.page.commit()
        if self.report is None:
            emit(report)

    def abort(self) -> None:
        if self.fills is not None:
            self.fills.abort()
        for target in (self.report, self.page):
            if target is not None:
                target.abort()


@contextmanager
def run_outputs(out: Path | None, fills_out: Path | None, html: Path | None = None) -> Iterator[RunOutputs]:
    """The run's outputs, opened now; on any exception inside the block their temp files are removed."""
    outputs = RunOutputs()
    try:
        outputs.open(out, fills_out, html)
        yield outputs
    except BaseException:
        outputs.abort()
        raise


def show_run_config(table: str, loaded: Loaded[RunSettings]) -> None:
    """``--show-config``: the effective configuration with each value's origin, as TOML on stdout."""
    from mmexec.cli.config_view import file_view, render_toml, table_view

    emit(render_toml({"config_file": file_view(loaded.config_file), "tables": {table: table_view(loaded)}})
         .encode("utf-8"))


def show_progress(progress: bool | None, iterations: int) -> bool:
    """``--progress`` / ``--no-progress``, or by default: on a terminal for long runs."""
    if progress is not None:
        return progress
    return sys.stderr.isatty() and iterations >= PROGRESS_MIN_ITERATIONS


def print_freeze_notice(notice: RiskNotice) -> None:
    """One line on stderr when the kill switch trips (the engine only notifies; the CLI speaks)."""
    if notice.frozen:
        from mmexec.run.notices import freeze_notice_line

        sys.stderr.write(freeze_notice_line(notice) + "\n")


class _NoProgress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def progress_bar(enabled: bool, total: int) -> Any:
    """A context manager giving the progress callback (``None`` when there is no progress display)."""
    if not enabled or total <= 0:
        return _NoProgress()
    from mmexec.cli.progress import PlainProgress, StderrProgress

    return StderrProgress(total) if sys.stderr.isatty() else PlainProgress(total)
