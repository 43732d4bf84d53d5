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

import typer

from mmexec.canonical import dumps
from mmexec.cli.run_outputs import print_freeze_notice, run_outputs
from mmexec.cli.signals import exit_cleanly_on_termination
from mmexec.run.spec import RunSpec

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def execute_live(spec: RunSpec, origins: Mapping[str, str], *, utc: str, out: Path | None, fills_out: Path | None,
                 html: Path | None) -> None:
    from mmexec.cli.live_panel import status_display
    from mmexec.run.live import LiveSession, exit_code_of

    # SIGTERM / SIGHUP outside the session (while the report is written) end the run like any other
    with exit_cleanly_on_termination(), run_outputs(out, fills_out, html) as outputs:
        session = LiveSession(spec, utc=utc, config_sources=origins, fill_listeners=outputs.fill_listeners(),
                              risk_listeners=[print_freeze_notice])
        with status_display(session, terminal=sys.stderr.isatty()):
            asyncio.run(_main(session))
        if session.run is None:
            stats = session.feed.stats
            typer.echo(f"error: no market data received from {spec.live.ws_url} (connect failures: "
                       f"{stats.connect_failures}, stopped by {session.stopped_by})", err=True)
            raise typer.Exit(1)
        outputs.commit(dumps(session.run.result().to_report()))
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
