"""A loopback WebSocket server that speaks Bybit's V5 public protocol, with faults injected on demand.

Messages are derived from the repository's fixtures: the order book of the real ``orderbook.500.XRPUSDT``
capture (``tests/fixtures/bybit/replay/xrpusdt-ob500.data.zip``: its snapshot cut to 50 levels, its 49 deltas
cycled with ``u`` renumbered continuously) re-labelled to each requested symbol, and ``publicTrade`` pushes in the
shape of ``tests/fixtures/bybit/v5/ws_public_trade.json`` (one after every fifth delta, at the delta's first
price). Each ``orderbook.50.<SYM>`` subscription gets an acknowledgement, the snapshot, then the script of
deltas and trades; ``{"op": "ping"}`` gets the linear endpoint's pong. Everything runs on 127.0.0.1, port 0.

Faults (attributes; the ``*_next`` ones apply to the next connection only):
``fail_topics`` (subscription acknowledged with ``success: false``), ``drop_after_next`` (abort the TCP
connection after N data messages), ``stall_after_next`` (send nothing more after N data messages, pongs
included: a stale feed), ``skip_delta_index`` (leave out one delta: a ``u`` gap), ``junk_next`` (malformed and
unexpected frames sent right after the first snapshot). A burst faster than the consumer is the script itself:
it is written as fast as the socket takes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import threading
import time
import zipfile
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve

from mmexec.marketdata.live.backoff import Backoff
from mmexec.marketdata.live.feed import BybitPublicFeed, FeedConfig
from mmexec.marketdata.live.timer import ManualTimer

FIXTURES = Path(__file__).parent / "fixtures" / "bybit"
XRP_ZIP = FIXTURES / "replay" / "xrpusdt-ob500.data.zip"
TRADE_SHAPE = FIXTURES / "v5" / "ws_public_trade.json"
DEPTH = 50

JUNK = (
    '{"topic":"orderbook.50.XRPUSDT","type":"delta","data":',  # torn JSON
    "not json at all",
    "[1, 2, 3]",
    '{"hello":"world"}',  # neither data nor an acknowledgement
    '{"topic":"orderbook.50.DOGEUSDT","type":"delta","ts":1,"data":{}}',  # a topic nobody subscribed
)


def _compact(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _xrp_messages() -> list[dict[str, Any]]:
    with zipfile.ZipFile(XRP_ZIP) as archive:
        text = archive.read(archive.namelist()[0]).decode()
    return [json.loads(line) for line in text.splitlines() if line.strip()]


class SymbolScript:
    """Bybit-format pushes for one symbol: ``snapshot()``, then ``messages(n)`` (deltas and trades)."""

    def __init__(self, symbol: str, base: list[dict[str, Any]], trade_shape: dict[str, Any],
                 now_ms: Callable[[], int] | None = None) -> None:
        self.symbol = symbol
        self._now_ms = now_ms
        self.topic = f"orderbook.{DEPTH}.{symbol}"
        self._snapshot = copy.deepcopy(base[0])
        self._deltas = [copy.deepcopy(m) for m in base[1:]]
        self._trade_shape = trade_shape
        self.first_u = int(self._snapshot["data"]["u"])
        self.last_u = self.first_u
        self.ts = int(self._snapshot["ts"])

    def snapshot(self) -> str:
        snap = copy.deepcopy(self._snapshot)
        snap["topic"] = self.topic
        snap["ts"] = self.ts = self._now_ms() if self._now_ms else self.ts
        data = snap["data"]
        data.update(s=self.symbol, u=self.last_u, b=data["b"][:DEPTH], a=data["a"][:DEPTH])
        return _compact(snap)

    def messages(self, count: int, skip_delta_index: int | None = None) -> Iterator[str]:
        for index in range(count):
            delta = copy.deepcopy(self._deltas[index % len(self._deltas)])
            self.last_u += 1
            self.ts = self._now_ms() if self._now_ms else self.ts + 5
            delta["topic"] = self.topic
            delta["ts"] = self.ts
            delta["cts"] = self.ts - 1
            delta["data"].update(s=self.symbol, u=self.last_u, seq=delta["data"]["seq"] + index)
            if index != skip_delta_index:
                yield _compact(delta)
            if index % 5 == 4:
                level = (delta["data"]["b"] or delta["data"]["a"])[0]
                trade = copy.deepcopy(self._trade_shape)
                trade["topic"] = f"publicTrade.{self.symbol}"
                trade["ts"] = self.ts
                trade["data"][0].update(T=self.ts - 1, s=self.symbol, p=level[0], v="10",
                                        i=f"{self.symbol}-{self.last_u}")
                yield _compact(trade)


class BybitWsServer:
    """``async with BybitWsServer(deltas=...) as server: server.url`` -- or :class:`ServerThread` for subprocesses."""

    def __init__(self, *, deltas: int = 49, now_ms: Callable[[], int] | None = None) -> None:
        """``now_ms``: the exchange clock stamped into ``ts`` / ``T`` as messages are sent (default: the
        fixture's own times, 2024-12-01, advancing 5 ms per delta)."""
        self.deltas = deltas
        self.now_ms = now_ms
        self._base = _xrp_messages()
        self._trade_shape = json.loads(TRADE_SHAPE.read_text())
        self.scripts: dict[str, SymbolScript] = {}
        # faults
        self.fail_topics: set[str] = set()
        self.drop_after_next: int | None = None
        self.stall_after_next: int | None = None
        self.skip_delta_index: int | None = None
        self.junk_next: tuple[str, ...] = ()
        # what happened
        self.connections = 0
        self.requests: list[dict[str, Any]] = []
        self.sent: list[list[str]] = []  # data messages sent, per connection (junk excluded)
        self.pongs = 0
        self._server: Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def __aenter__(self) -> BybitWsServer:
        self._server = await serve(self._handle, "127.0.0.1", 0, ping_interval=None, compression=None)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    def script(self, symbol: str) -> SymbolScript:
        if symbol not in self.scripts:
            self.scripts[symbol] = SymbolScript(symbol, self._base, self._trade_shape, self.now_ms)
        return self.scripts[symbol]

    def requests_of(self, op: str) -> list[dict[str, Any]]:
        return [request for request in self.requests if request.get("op") == op]

    async def _handle(self, ws: ServerConnection) -> None:
        self.connections += 1
        sent: list[str] = []
        self.sent.append(sent)
        drop_after, self.drop_after_next = self.drop_after_next, None
        stall_after, self.stall_after_next = self.stall_after_next, None
        junk, self.junk_next = self.junk_next, ()
        limit = min(x for x in (drop_after, stall_after, 1 << 62) if x is not None)
        conn_id = f"test-{self.connections}"
        subscribed: set[str] = set()
        streamed: set[str] = set()

        async def push(text: str) -> bool:
            """Send one data message; False once the connection's fault limit is reached."""
            if len(sent) >= limit:
                if drop_after is not None:
                    ws.transport.abort()
                return False
            await ws.send(text)
            sent.append(text)
            return True

        with contextlib.suppress(Exception):
            async for frame in ws:
                request = json.loads(frame)
                self.requests.append(request)
                op, req_id = request.get("op"), request.get("req_id", "")
                if len(sent) >= limit and stall_after is not None:
                    continue  # stalled: not even a pong
                if op == "ping":
                    self.pongs += 1
                    await ws.send(_compact({"success": True, "ret_msg": "pong", "conn_id": conn_id,
                                            "req_id": req_id, "op": "ping"}))
                    continue
                args = list(request.get("args", []))
                failed = [topic for topic in args if topic in self.fail_topics]
                ack = {"success": not failed, "ret_msg": f"error:handler not found,topic:{failed[0]}" if failed
                       else "", "conn_id": conn_id, "req_id": req_id, "op": op}
                await ws.send(_compact(ack))
                if op == "unsubscribe":
                    subscribed.difference_update(args)
                    continue
                if op != "subscribe" or failed:
                    continue
                subscribed.update(args)
                for topic in args:
                    if not topic.startswith(f"orderbook.{DEPTH}."):
                        continue
                    script = self.script(topic.rsplit(".", 1)[1])
                    if not await push(script.snapshot()):
                        break
                    for text in junk:
                        await ws.send(text)
                    junk = ()
                    if script.symbol in streamed:
                        continue  # a resubscribe on this connection: a fresh snapshot is all it needs
                    streamed.add(script.symbol)
                    for text in script.messages(self.deltas, self.skip_delta_index):
                        if json.loads(text)["topic"] in subscribed and not await push(text):
                            break
                    self.skip_delta_index = None


class ServerThread:
    """The server on its own event loop in a daemon thread (for subprocess tests)."""

    def __init__(self, server: BybitWsServer) -> None:
        self.server = server
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._main())

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        async with self.server:
            self._started.set()
            await self._stop.wait()

    def __enter__(self) -> BybitWsServer:
        self._thread.start()
        assert self._started.wait(10), "test server did not start"
        return self.server

    def __exit__(self, *exc: object) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


# -- helpers for tests that drive a feed against the server ------------------------------------------------------

LIMIT_S = 10


def run(coro: Coroutine[Any, Any, None]) -> None:
    async def bounded() -> None:
        async with asyncio.timeout(LIMIT_S):
            await coro

    asyncio.run(bounded())


async def until(condition: Callable[[], bool]) -> None:
    """Wait for loopback I/O to make ``condition`` true (the test's timeout bounds it)."""
    while not condition():
        await asyncio.sleep(0.002)


_WALL_LAST_NS = 0


def stepping_wall_ns(step_ns: int = 1_000_000) -> Callable[[], int]:
    """The wall clock, but at least ``step_ns`` later at each call: a burst the server sends within one millisecond
    is still received over several quoting steps (``quote_interval_ms`` 1), so no test depends on how fast the
    machine delivers it (with the real clock a whole burst could fall within one step, and nothing was quoted).
    One clock for the whole test process: a session resumed after another one continues after its stamps."""

    def now_ns() -> int:
        global _WALL_LAST_NS
        _WALL_LAST_NS = max(time.time_ns(), _WALL_LAST_NS + step_ns)
        return _WALL_LAST_NS

    return now_ns


def make_feed(server: BybitWsServer, symbols: tuple[str, ...] = ("XRPUSDT",), timer: ManualTimer | None = None,
              **config: Any) -> BybitPublicFeed:
    return BybitPublicFeed(FeedConfig(symbols=symbols, ws_url=server.url, **config), timer=timer or ManualTimer(),
                           wall_ns=stepping_wall_ns(), backoff=Backoff(initial_ms=0))
