"""Bybit's live public market data: the WebSocket feed, its recorder, and the ``--duration`` syntax.

Nothing here is imported by ``mmexec --help`` or the synthetic and replay paths; the WebSocket client
(:mod:`mmexec.marketdata.live.feed`) needs the ``live`` extra (``pip install 'mmexec[live]'``).

- :mod:`~mmexec.marketdata.live.protocol`: Bybit V5 public messages (subscribe, ping, acks) -- pure functions.
- :mod:`~mmexec.marketdata.live.backoff`: reconnect delays, exponential with seeded jitter.
- :mod:`~mmexec.marketdata.live.timer`: the monotonic clock the feed's timers run on (injectable).
- :mod:`~mmexec.marketdata.live.feed`: :class:`BybitPublicFeed`, the asyncio client and its bounded queue.
- :mod:`~mmexec.marketdata.live.recorder`: :class:`CaptureRecorder`, ``<recv_ns> <raw json>`` lines.
- :mod:`~mmexec.marketdata.live.duration`: ``90s`` / ``30m`` / ``2h``.
"""
