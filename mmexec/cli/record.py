"""``mmexec record``: capture Bybit's live public order books and trades to a file (no trading).

``mmexec record --symbols BTCUSDT,ETHUSDT --duration 30m --out capture.jsonl.gz [--ws-url URL]
[--stale-after-ms MS]`` writes every data message as ``<recv_ns> <raw json>``, the Bybit capture format
``mmexec shadow --market replay --data FILE`` reads. Stops after ``--duration`` (exit 0) or on SIGINT / SIGTERM
(exit 130 / 143), the recording flushed and moved into place either way; a summary of the feed's counters is
printed on stdout as canonical JSON. Public data: no credentials are read.

Imports only typer and the stdlib at module level; the feed (and ``websockets``) load inside the command.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mmexec.cli.common import emit, new_app

if TYPE_CHECKING:
    from mmexec.marketdata.live.feed import FeedConfig

MAINNET = "wss://stream.bybit.com/v5/public/linear"  # = mmexec.marketdata.live.protocol.MAINNET_LINEAR_URL
_SIGNALS = {signal.SIGINT: 130, signal.SIGTERM: 143}

app = new_app(name="record", help="Record Bybit's live public order books and trades to a capture file.")


@app.command(
    epilog="Testnet: --ws-url wss://stream-testnet.bybit.com/v5/public/linear. Exit 0 after --duration, "
    "130 / 143 after SIGINT / SIGTERM (the recording is complete either way), 1 when nothing was received, "
    "2 for bad input. Needs the live extra: pip install 'mmexec[live]'."
)
def record(
    *,
    symbols: Annotated[str, typer.Option("--symbols", help="Comma-separated linear symbols, e.g. BTCUSDT,ETHUSDT.",
                                         show_default=False)],
    duration: Annotated[str, typer.Option("--duration", help="How long to record: 90s, 30m, 2h.",
                                          show_default=False)],
    out: Annotated[Path, typer.Option("--out", help="Capture file; a name ending in .gz is gzip-compressed.",
                                      show_default=False)],
    ws_url: Annotated[str, typer.Option("--ws-url", help="Bybit V5 public linear WebSocket URL.")] = MAINNET,
    stale_after_ms: Annotated[int, typer.Option("--stale-after-ms",
                                                help="Reconnect when nothing arrived for this long.")] = 10_000,
    queue_size: Annotated[int, typer.Option("--queue-size",
                                            help="Messages buffered between the socket and the file.")] = 10_000,
    log_level: Annotated[str | None, typer.Option("--log-level", help="JSON log lines on stderr: debug, info, "
                                                  "warning, error.", show_default=False)] = None,
) -> None:
    """Record Bybit's live public order books and trades to a capture file."""
    import asyncio

    from mmexec.errors import ConfigError
    from mmexec.logs import configure_logging
    from mmexec.marketdata.live.duration import parse_duration_ms
    from mmexec.marketdata.live.protocol import validate_symbols, validate_ws_url
    from mmexec.marketdata.live.recorder import check_output_path

    configure_logging(log_level)
    symbol_list = validate_symbols(symbols.split(","))
    duration_ms = parse_duration_ms(duration)
    validate_ws_url(ws_url)
    for flag, value in (("--stale-after-ms", stale_after_ms), ("--queue-size", queue_size)):
        if value <= 0:
            raise ConfigError(f"must be positive, got {value}", source=flag)
    check_output_path(out)
    try:
        import websockets  # noqa: F401
    except ImportError:
        raise ConfigError("recording live data needs the 'live' extra: pip install 'mmexec[live]'",
                          source="mmexec record") from None
    from mmexec.marketdata.live.feed import FeedConfig

    config = FeedConfig(symbols=symbol_list, ws_url=ws_url, stale_after_ms=stale_after_ms, queue_size=queue_size)
    code, summary = asyncio.run(_record(config, duration_ms, out))
    from mmexec.canonical import dumps

    emit(dumps(summary))
    if summary["lines"] == 0 and code == 0:
        typer.echo(f"error: no market data received from {ws_url} in {duration} "
                   f"(connect failures: {summary['feed']['connect_failures']})", err=True)
        raise typer.Exit(1)
    raise typer.Exit(code)


async def _record(config: FeedConfig, duration_ms: int, out: Path) -> tuple[int, dict[str, Any]]:
    import asyncio

    from mmexec.marketdata.live.feed import BybitPublicFeed
    from mmexec.marketdata.live.recorder import CaptureRecorder

    loop = asyncio.get_running_loop()
    feed = BybitPublicFeed(config)
    stopped_by = ["duration"]

    def on_signal(sig: signal.Signals) -> None:
        if stopped_by[0] == "duration":
            stopped_by[0] = sig.name
        feed.stop()

    for sig in _SIGNALS:
        loop.add_signal_handler(sig, on_signal, sig)
    deadline = loop.call_later(duration_ms / 1000, feed.stop)
    runner = asyncio.ensure_future(feed.run())
    recorder = CaptureRecorder(out)
    try:
        while (message := await feed.get()) is not None:
            recorder.write(message.recv_ns, message.text)
        await runner
    finally:
        recorder.close()  # even after an unexpected error: what was captured is complete and kept
        deadline.cancel()
        for sig in _SIGNALS:
            loop.remove_signal_handler(sig)
        if not runner.done():
            feed.stop()
            await asyncio.gather(runner, return_exceptions=True)
    code = next((c for s, c in _SIGNALS.items() if s.name == stopped_by[0]), 0)
    summary = {"out": str(out), "lines": recorder.lines, "bytes": recorder.bytes, "stopped_by": stopped_by[0],
               "symbols": list(config.symbols), "ws_url": config.ws_url, "feed": feed.stats.as_dict(),
               "failed_topics": sorted(feed.failed_topics)}
    return code, summary
