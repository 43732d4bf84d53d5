"""A rich progress bar on stderr (only used when stderr is a terminal or --progress is given)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class StderrProgress:
    def __init__(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        self._progress = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task = self._progress.add_task("simulating", total=total)

    def __enter__(self) -> Callable[[int, int], None]:
        self._progress.__enter__()

        def update(done: int, total: int) -> None:
            self._progress.update(self._task, completed=done, total=total)

        return update

    def __exit__(self, *exc: Any) -> None:
        self._progress.__exit__(*exc)


class PlainProgress:
    """``--progress`` when stderr is not a terminal: one plain line per tenth of the run (no wall clock)."""

    STEPS = 10

    def __init__(self, total: int) -> None:
        self._total = total
        self._next = 1

    def __enter__(self) -> Callable[[int, int], None]:
        import sys

        def update(done: int, total: int) -> None:
            if done * self.STEPS < self._next * total and done < total:
                return
            self._next = done * self.STEPS // total + 1
            print(f"progress: {done}/{total} iterations ({100 * done // total}%)", file=sys.stderr, flush=True)

        return update

    def __exit__(self, *exc: Any) -> None:
        return None
