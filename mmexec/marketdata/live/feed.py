"""``BybitPublicFeed``: Bybit V5 public order books and trades over a WebSocket, into a bounded queue.

The socket reader never waits for the consumer: every data message is stamped with its receive time
(``wall_ns``, the clock a recording keeps) and appended to a bounded queue; when the queue is full the message is
dropped and counted, and the next delivered message says how many were lost (``gap_before``) -- a gap the book
layer must treat like a sequence gap. Around the reader, per connection: subscribe (at most 10 topics per
request), the application ping every ``ping_interval_ms``, a watchdog that reconnects when nothing arrived for
``stale_after_ms``, and resubscribe requests for one symbol (a fresh snapshot after a gap). Connections that fail
or drop are retried after :class:`~mmexec.marketdata.live.backoff.Backoff` delays, and every topic is subscribed
again. Failed subscriptions, malformed and unexpected messages are counted and logged, never fatal.

Acknowledgements, pongs and malformed or unexpected messages are handled here and not queued: the queue (and so a
recording) holds only data pushes for the subscribed topics, which is what ``--market replay`` reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from mmexec.logs import log_event
from mmexec.marketdata.live import protocol
from mmexec.marketdata.live.backoff import Backoff
from mmexec.marketdata.live.timer import FeedTimer, SystemTimer

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

LOGGER = logging.getLogger("mmexec.marketdata.live")
_MS = 1_000_000


@dataclass(frozen=True, slots=True)
class FeedConfig:
    symbols: tuple[str, ...]
    ws_url: str = protocol.MAINNET_LINEAR_URL
    depth: int = protocol.BOOK_DEPTH
    ping_interval_ms: int = 20_000
    stale_after_ms: int = 10_000
    queue_size: int = 10_000
    open_timeout_ms: int = 10_000

    def __post_init__(self) -> None:
        protocol.validate_symbols(self.symbols)
        protocol.validate_ws_url(self.ws_url)
        if min(self.ping_interval_ms, self.stale_after_ms, self.queue_size, self.open_timeout_ms) <= 0:
            raise ValueError("feed intervals and the queue size must be positive")


@dataclass(frozen=True, slots=True)
class FeedMessage:
    """One data push: receive time (ns), the raw text, messages dropped just before it, connection number."""

    recv_ns: int
    text: str
    gap_before: int
    connection: int


@dataclass(slots=True)
class FeedStats:
    """Counters only (memory stays flat over hours). ``lag_*`` is receive -> consume, in ns."""

    connects: int = 0
    connect_failures: int = 0
    reconnects: int = 0
    disconnects: int = 0
    subscribe_requests: int = 0
    subscribe_failures: int = 0
    resubscribes: int = 0
    malformed: int = 0
    unexpected: int = 0
    stale: int = 0
    received: int = 0
    delivered: int = 0
    drops: int = 0
    max_queue_depth: int = 0
    pings: int = 0
    pongs: int = 0
    clock_steps_back: int = 0  # receive stamps held at the previous one because the wall clock stepped back
    lag_count: int = 0
    lag_sum_ns: int = 0
    lag_min_ns: int = 0
    lag_max_ns: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def record_lag(self, lag_ns: int) -> None:
        if self.lag_count == 0 or lag_ns < self.lag_min_ns:
            self.lag_min_ns = lag_ns
        self.lag_max_ns = max(self.lag_max_ns, lag_ns)
        self.lag_count += 1
        self.lag_sum_ns += lag_ns


class _StaleFeed(Exception):
    pass


@dataclass(slots=True)
class _Session:
    ws: ClientConnection
    last_rx_ns: int
    next_ping_ns: int
    got_data: bool = False
    probed_rx_ns: int = -1  # last_rx_ns when the last ping went out
    pending: dict[str, list[str]] = field(default_factory=dict)  # req_id -> topics of a subscribe in flight


class BybitPublicFeed:
    """Connects, subscribes, keeps the connection alive and queues data pushes until :meth:`stop`."""

    def __init__(self, config: FeedConfig, *, timer: FeedTimer | None = None,
                 wall_ns: Callable[[], int] = time.time_ns, backoff: Backoff | None = None) -> None:
        self.config = config
        self.stats = FeedStats()
        self.failed_topics: set[str] = set()
        self._timer: FeedTimer = timer or SystemTimer()
        self._wall_ns = wall_ns
        self._backoff = backoff or Backoff()
        self._topics = protocol.topics_for(config.symbols, config.depth)
        self._topic_set = frozenset(self._topics)
        self._queue: deque[FeedMessage] = deque()
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._resubscribe: list[str] = []
        self._resubscribe_wanted = asyncio.Event()
        self._gap = 0
        self._last_recv_ns = 0
        self._connection = 0
        self._req_ids = itertools.count(1)
        self._finished = False

    # -- the consumer's side ---------------------------------------------------------------------------------

    async def get(self) -> FeedMessage | None:
        """The next data message (oldest first), or None once :meth:`run` has ended and the queue is empty."""
        while not self._queue:
            if self._finished:
                return None
            self._ready.clear()
            await self._ready.wait()
        return self._take()

    def get_nowait(self) -> FeedMessage | None:
        return self._take() if self._queue else None

    def _take(self) -> FeedMessage:
        message = self._queue.popleft()
        self.stats.record_lag(self._wall_ns() - message.recv_ns)
        return message

    @property
    def queue_depth(self) -> int:
        return len(self._queue)

    def request_resubscribe(self, symbol: str) -> None:
        """Ask for a fresh order-book snapshot of ``symbol`` (unsubscribe + subscribe its book topic)."""
        if symbol not in self.config.symbols:
            raise ValueError(f"{symbol} is not one of the feed's symbols")
        if symbol not in self._resubscribe:
            self._resubscribe.append(symbol)
        self._resubscribe_wanted.set()

    def stop(self) -> None:
        """End :meth:`run` soon (closes the connection); queued messages stay readable."""
        self._stop.set()
        self._ready.set()

    # -- the connection loop -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect and reconnect until :meth:`stop`; never raises for network trouble."""
        from websockets.asyncio.client import connect
        from websockets.exceptions import WebSocketException

        try:
            while not self._stop.is_set():
                if self.stats.connects + self.stats.connect_failures > 0:
                    await self._pause(self._backoff.next_delay_ms())
                    if self._stop.is_set():
                        break
                opening = asyncio.ensure_future(connect(self.config.ws_url, ping_interval=None,
                                                        open_timeout=self.config.open_timeout_ms / 1000))
                stopper = asyncio.ensure_future(self._stop.wait())
                await asyncio.wait((opening, stopper), return_when=asyncio.FIRST_COMPLETED)
                stopper.cancel()
                if not opening.done():  # stopped while the handshake was under way
                    opening.cancel()
                    await asyncio.gather(opening, return_exceptions=True)
                    break
                try:
                    ws = opening.result()
                except (OSError, TimeoutError, WebSocketException) as exc:
                    self.stats.connect_failures += 1
                    log_event(LOGGER, logging.WARNING, "connect failed", url=self.config.ws_url,
                              error=type(exc).__name__, detail=str(exc)[:200])
                    continue
                if self.stats.connects:
                    self.stats.reconnects += 1
                self.stats.connects += 1
                self._connection += 1
                log_event(LOGGER, logging.INFO, "connected", url=self.config.ws_url, connection=self._connection)
                try:
                    await self._session(ws)
                finally:
                    with contextlib.suppress(Exception):
                        await ws.close()
        finally:
            self._finished = True
            self._ready.set()

    async def _pause(self, delay_ms: int) -> None:
        sleeper = asyncio.ensure_future(self._timer.sleep_until(self._timer.monotonic_ns() + delay_ms * _MS))
        stopper = asyncio.ensure_future(self._stop.wait())
        await asyncio.wait((sleeper, stopper), return_when=asyncio.FIRST_COMPLETED)
        for task in (sleeper, stopper):
            task.cancel()

    async def _session(self, ws: ClientConnection) -> None:
        from websockets.exceptions import ConnectionClosed

        now = self._timer.monotonic_ns()
        session = _Session(ws, now, now + self.config.ping_interval_ms * _MS)
        self._resubscribe.clear()  # a new connection subscribes everything afresh: fresh snapshots follow
        self._resubscribe_wanted.clear()
        tasks = [asyncio.ensure_future(self._read(session)), asyncio.ensure_future(self._watchdog(session)),
                 asyncio.ensure_future(self._resubscriber(session)), asyncio.ensure_future(self._stop.wait())]
        try:
            await self._subscribe(session, "subscribe", self._topics)
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        except ConnectionClosed as closed:  # the socket went away while we were subscribing
            done, reason = set(), str(closed)
        else:
            reason = "stop requested"
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            error = task.exception()
            if isinstance(error, _StaleFeed):
                self.stats.stale += 1
                reason = str(error)
            elif isinstance(error, ConnectionClosed):
                reason = str(error) or "connection closed"
            elif error is not None:
                raise error
            elif task is tasks[0]:
                reason = "connection closed"
        if session.got_data:
            self._backoff.reset()
        if not self._stop.is_set():
            self.stats.disconnects += 1
            log_event(LOGGER, logging.WARNING, "disconnected", connection=self._connection, reason=reason[:200])

    async def _subscribe(self, session: _Session, op: str, topics: list[str]) -> None:
        for args in protocol.chunks(topics):
            req_id = f"mmexec-{next(self._req_ids)}"
            if op == "subscribe":
                session.pending[req_id] = args
                self.stats.subscribe_requests += 1
            await session.ws.send(protocol.request_text(op, args, req_id))

    async def _resubscriber(self, session: _Session) -> None:
        while True:
            await self._resubscribe_wanted.wait()
            self._resubscribe_wanted.clear()
            symbols, self._resubscribe[:] = list(self._resubscribe), []
            topics = [protocol.book_topic(symbol, self.config.depth) for symbol in symbols]
            if not topics:
                continue
            self.stats.resubscribes += len(topics)
            log_event(LOGGER, logging.INFO, "resubscribe", topics=topics)
            await self._subscribe(session, "unsubscribe", topics)
            await self._subscribe(session, "subscribe", topics)

    async def _watchdog(self, session: _Session) -> None:
        """The 20 s ping; a probe ping after half the stale window of silence (a quiet market is not a dead
        connection: its pong counts as traffic); reconnect after the whole window."""
        stale_ns = self.config.stale_after_ms * _MS
        while True:
            probe_ns = session.last_rx_ns + stale_ns // 2 if session.probed_rx_ns != session.last_rx_ns else None
            deadlines = [session.next_ping_ns, session.last_rx_ns + stale_ns]
            await self._timer.sleep_until(min(deadlines if probe_ns is None else [*deadlines, probe_ns]))
            now = self._timer.monotonic_ns()
            if now - session.last_rx_ns >= stale_ns:
                raise _StaleFeed(f"nothing received for {self.config.stale_after_ms} ms")
            if now >= session.next_ping_ns or (probe_ns is not None and now >= probe_ns):
                await session.ws.send(protocol.PING_TEXT)
                self.stats.pings += 1
                session.next_ping_ns = now + self.config.ping_interval_ms * _MS
                session.probed_rx_ns = session.last_rx_ns

    async def _read(self, session: _Session) -> None:
        async for frame in session.ws:
            recv_ns = self._stamp()
            session.last_rx_ns = self._timer.monotonic_ns()
            self.stats.received += 1
            try:
                text = frame.decode("utf-8") if isinstance(frame, bytes) else frame
            except UnicodeDecodeError:
                self._odd("malformed", "binary frame that is not UTF-8", "")
                continue
            incoming = protocol.classify(text, self._topic_set)
            kind = incoming.kind
            if kind is protocol.Kind.DATA:
                session.got_data = True
                self._offer(recv_ns, text)
            elif kind is protocol.Kind.PONG:
                self.stats.pongs += 1
            elif kind is protocol.Kind.ACK:
                session.pending.pop(incoming.req_id, None)
            elif kind is protocol.Kind.ACK_FAILED:
                self._failed(session, incoming)
            else:
                self._odd(kind.value, incoming.detail, text)

    def _stamp(self) -> int:
        """The wall clock, never going backwards (replay refuses a capture whose receive time does)."""
        now = self._wall_ns()
        if now < self._last_recv_ns:
            self.stats.clock_steps_back += 1
            return self._last_recv_ns
        self._last_recv_ns = now
        return now

    def _offer(self, recv_ns: int, text: str) -> None:
        if len(self._queue) >= self.config.queue_size:
            self.stats.drops += 1
            self._gap += 1
            return
        self._queue.append(FeedMessage(recv_ns, text, self._gap, self._connection))
        if self._gap:
            log_event(LOGGER, logging.WARNING, "queue overflow: messages dropped", dropped=self._gap)
        self._gap = 0
        self.stats.delivered += 1
        self.stats.max_queue_depth = max(self.stats.max_queue_depth, len(self._queue))
        self._ready.set()

    def _failed(self, session: _Session, incoming: protocol.Incoming) -> None:
        if incoming.op != "subscribe":
            log_event(LOGGER, logging.WARNING, "request refused", op=incoming.op, reason=incoming.detail)
            return
        topics = session.pending.pop(incoming.req_id, [])
        self.stats.subscribe_failures += 1
        self.failed_topics.update(topics)
        log_event(LOGGER, logging.WARNING, "subscription failed", topics=topics, reason=incoming.detail)

    def _odd(self, kind: str, detail: str, text: str) -> None:
        if kind == "malformed":
            self.stats.malformed += 1
            count = self.stats.malformed
        else:
            self.stats.unexpected += 1
            count = self.stats.unexpected
        if count <= 10 or count % 1000 == 0:  # a flood of junk must not flood the log
            log_event(LOGGER, logging.WARNING, f"{kind} message ignored", detail=detail, count=count,
                      sample=text[:120])
