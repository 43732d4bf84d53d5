"""SIGTERM and SIGHUP end a run the way Ctrl-C does: cleanup runs, then a clean exit ``128 + signal``.

Python's default for these signals kills the process on the spot, so ``finally`` blocks never run and a run
writing ``--out`` / ``--fills-out`` would leave its ``.tmp`` files behind. Inside
:func:`exit_cleanly_on_termination` the signal raises :class:`Terminated` (a ``BaseException``, like
``KeyboardInterrupt``) at the point the run is at; every writer's ``except BaseException`` path deletes its
temp file, and the block turns it into ``error: terminated by SIGTERM`` and exit 143 (129 for SIGHUP).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import typer

HANDLED = (signal.SIGTERM, signal.SIGHUP)


class Terminated(BaseException):
    """The process received SIGTERM or SIGHUP."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated(signum)


@contextmanager
def exit_cleanly_on_termination() -> Iterator[None]:
    """Within the block, SIGTERM / SIGHUP raise :class:`Terminated`; leaving by it exits ``128 + signum``."""
    previous: dict[signal.Signals, Any] = {}
    try:
        for sig in HANDLED:
            previous[sig] = signal.signal(sig, _raise_terminated)
    except ValueError:  # not the main thread (an embedding application): leave its handlers alone
        pass
    try:
        yield
    except Terminated as exc:
        typer.echo(f"error: terminated by {signal.Signals(exc.signum).name}", err=True)
        raise typer.Exit(128 + exc.signum) from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
