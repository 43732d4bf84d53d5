"""The sweep's progress bar on stderr: runs done of the total, runs failed, elapsed time and ETA."""

from __future__ import annotations

from typing import Any


class SweepProgress:
    """A rich progress bar (``enabled=False``: a no-op with the same interface)."""

    def __init__(self, total: int, *, enabled: bool) -> None:
        self._progress: Any = None
        self.failed = 0
        if not enabled or total <= 0:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), TextColumn("failed {task.fields[failed]}"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=Console(stderr=True), transient=False,
        )
        self._task = self._progress.add_task("sweep", total=total, failed=0)

    def __enter__(self) -> SweepProgress:
        if self._progress is not None:
            self._progress.__enter__()
        return self

    def advance(self, ok: bool) -> None:
        if not ok:
            self.failed += 1
        if self._progress is not None:
            self._progress.update(self._task, advance=1, failed=self.failed)

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)
