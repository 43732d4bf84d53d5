"""``mmexec shadow --market bybit-live``: the live session behind the run command (imported only for it).

Ctrl-C / SIGTERM stop the session like ``--duration`` does (the queued messages are consumed, the recording is
completed, the report written), then the process exits 130 / 143. While it runs, stderr shows a live panel on a
terminal (:mod:`mmexec.cli.live_panel`), or, with ``--log-level info``, a JSON ``live status`` line every few
seconds.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from mmexec.canonical import dumps
from mmexec.cli.run_outputs import RunOutputs, print_freeze_notice, run_outputs
from mmexec.cli.signals import exit_cleanly_on_termination
from mmexec.run.spec import RunSpec

if TYPE_CHECKING:
    from mmexec.run.live import LiveSession
    from mmexec.run.live_journal import LiveJournal

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def execute_live(spec: RunSpec, origins: Mapping[str, str], *, utc: str, out: Path | None, fills_out: Path | None,
                 html: Path | None, command: str = "shadow", checkpoint_every: int | None = None) -> None:
    """A live session; with ``--state`` journaled (the fills file is then written from the journal)."""
    from mmexec.run.live import LiveSession

    # SIGTERM / SIGHUP outside the session (while the report is written) end the run like any other
    with exit_cleanly_on_termination(), run_outputs(out, fills_out, html) as outputs:
        state = spec.output.state
        session = LiveSession(spec, utc=utc, config_sources=origins,
                              fill_listeners=outputs.fill_listeners() if state is None else (),
                              risk_listeners=[print_freeze_notice])
        journal = None
        if state is not None:  # created once every check passed, before connecting
            from mmexec.run.live_journal import LiveJournal

            journal = LiveJournal.create(spec, state, command=command, utc=utc, risk_listeners=[print_freeze_notice],
                                         checkpoint_every=checkpoint_every)
            journal.bind(session)
        _run_session(session, journal, outputs, spec.live.ws_url)


def execute_live_resume(path: Path, *, out: Path | None, fills_out: Path | None, html: Path | None,
                        checkpoint_every: int | None = None) -> None:
    """``--resume PATH`` of a live session's journal: reconnect and continue from its last checkpoint."""
    from mmexec.run.journaled import spec_from_record
    from mmexec.run.live import LiveSession
    from mmexec.run.live_journal import LiveJournal

    with exit_cleanly_on_termination(), run_outputs(out, fills_out, html) as outputs:
        journal, record = LiveJournal.reopen(path, risk_listeners=[print_freeze_notice],
                                             checkpoint_every=checkpoint_every)
        try:
            spec = spec_from_record(record)
            session = LiveSession(spec, utc=record.utc or "")
            run = journal.restore(session)
            if run is not None:
                session.adopt(run)
        except BaseException:
            journal.close()
            raise
        _run_session(session, journal, outputs, spec.live.ws_url)


def _run_session(session: LiveSession, journal: LiveJournal | None, outputs: RunOutputs, ws_url: str) -> None:
    """Run ``session`` to its stop; write the report (and complete the journal); exit 130 / 143 after a signal."""
    from mmexec.cli.live_panel import status_display
    from mmexec.run.live import exit_code_of

    try:
        with status_display(session, terminal=sys.stderr.isatty()):
            asyncio.run(_main(session))
        if session.run is None:
            stats = session.feed.stats
            typer.echo(f"error: no market data received from {ws_url} (connect failures: "
                       f"{stats.connect_failures}, stopped by {session.stopped_by})", err=True)
            raise typer.Exit(1)
        report = dumps(session.run.result().to_report())
        if journal is not None:
            journal.finish(report)
            outputs.write_fills(journal.fills())
        outputs.commit(report)
    finally:
        if journal is not None:
            journal.close()
    code = exit_code_of(session.stopped_by)
    if code:
        raise typer.Exit(code)


async def _main(session: object) -> None:
    from mmexec.run.live import LiveSession

    assert isinstance(session, LiveSession)
    loop = asyncio.get_running_loop()
    previous = {sig: signal.getsignal(sig) for sig in _SIGNALS}
    for sig in _SIGNALS:
        loop.add_signal_handler(sig, session.stop, sig.name)  # a signal stops the session: its report is written
    try:
        await session.run_async()
    finally:
        for sig, handler in previous.items():
            loop.remove_signal_handler(sig)
            signal.signal(sig, handler)
