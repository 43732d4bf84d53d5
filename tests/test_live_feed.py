"""BybitPublicFeed against the loopback Bybit server: subscribe, deliver, and survive each fault (no internet).

Timers run on a ManualTimer (pings, stale watchdog, backoff move only when the test says so); every test is
bounded by ``asyncio.timeout``; the only waiting is for real loopback I/O.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable

import pytest
from bybit_ws_server import JUNK, BybitWsServer, make_feed, run, until

from mmexec.marketdata.live.backoff import Backoff
from mmexec.marketdata.live.feed import BybitPublicFeed, FeedConfig, FeedMessage
from mmexec.marketdata.live.timer import ManualTimer


async def with_feed(feed: BybitPublicFeed, body: Callable[[BybitPublicFeed], Awaitable[None]]) -> None:
    runner = asyncio.ensure_future(feed.run())
    try:
        await body(feed)
    finally:
        feed.stop()
        await runner


async def take(feed: BybitPublicFeed, count: int) -> list[FeedMessage]:
    out = []
    for _ in range(count):
        message = await feed.get()
        assert message is not None
        out.append(message)
    return out


def total_sent(server: BybitWsServer) -> int:
    return sum(len(sent) for sent in server.sent)


def test_subscribes_every_topic_and_delivers_every_data_message_in_order() -> None:
    async def main() -> None:
        async with BybitWsServer(deltas=20) as server:
            feed = make_feed(server, ("XRPUSDT", "BTCUSDT"))

            async def body(feed: BybitPublicFeed) -> None:
                await until(lambda: total_sent(server) == 2 * (1 + 20 + 4))
                got = await take(feed, total_sent(server))
                assert [m.text for m in got] == server.sent[0]
                assert {(m.gap_before, m.connection) for m in got} == {(0, 1)}
                assert [m.recv_ns for m in got] == sorted(m.recv_ns for m in got)

            await with_feed(feed, body)
        (request,) = server.requests_of("subscribe")
        assert request["args"] == ["orderbook.50.XRPUSDT", "publicTrade.XRPUSDT",
                                   "orderbook.50.BTCUSDT", "publicTrade.BTCUSDT"]
        assert request["req_id"]
        stats = feed.stats
        assert (stats.connects, stats.reconnects, stats.drops, stats.malformed, stats.subscribe_failures) == (
            1, 0, 0, 0, 0)
        assert stats.delivered == stats.received - 1 == 50  # one acknowledgement, not delivered
        assert await feed.get() is None  # stopped and drained

    run(main())


def test_at_most_ten_topics_per_subscribe_request() -> None:
    symbols = tuple(f"S{i}USDT" for i in range(6))

    async def main() -> None:
        async with BybitWsServer(deltas=1) as server:
            feed = make_feed(server, symbols)

            async def body(feed: BybitPublicFeed) -> None:
                await until(lambda: feed.stats.delivered == 6 * 2)

            await with_feed(feed, body)
        assert [len(r["args"]) for r in server.requests_of("subscribe")] == [10, 2]
        assert len({r["req_id"] for r in server.requests_of("subscribe")}) == 2

    run(main())


def test_application_ping_every_20_seconds_and_pong_counted() -> None:
    async def main() -> None:
        timer = ManualTimer()
        async with BybitWsServer(deltas=2) as server:
            feed = make_feed(server, timer=timer, stale_after_ms=60_000)

            async def body(feed: BybitPublicFeed) -> None:
                await until(lambda: feed.stats.delivered == 3)
                timer.advance(19_999)
                await asyncio.sleep(0)
                assert feed.stats.pings == 0
                for expected in (1, 2):
                    timer.advance(20_000)
                    await until(lambda expected=expected: feed.stats.pongs == expected)  # type: ignore[misc]
                assert server.requests_of("ping") == [{"op": "ping"}] * 2

            await with_feed(feed, body)
        assert (feed.stats.pings, feed.stats.pongs, feed.stats.stale, feed.stats.connects) == (2, 2, 0, 1)

    run(main())


def test_dropped_connection_reconnects_and_resubscribes() -> None:
    async def main() -> None:
        async with BybitWsServer(deltas=30) as server:
            server.drop_after_next = 10
            feed = make_feed(server, ("XRPUSDT", "ETHUSDT"))

            async def body(feed: BybitPublicFeed) -> None:
                await until(lambda: server.connections == 2 and len(server.sent[1]) == 2 + 30 + 6 + 30 + 6)
                got = await take(feed, total_sent(server))
                assert [m.text for m in got] == server.sent[0] + server.sent[1]
                second = [m for m in got if m.connection == 2]
                assert json.loads(second[0].text)["type"] == "snapshot"  # a fresh snapshot after reconnecting

            await with_feed(feed, body)
        assert len(server.requests_of("subscribe")) == 2
        stats = feed.stats
        assert (stats.connects, stats.reconnects, stats.disconnects, stats.stale) == (2, 1, 1, 0)

    run(main())


def test_stale_feed_reconnects_after_stale_after_ms() -> None:
    async def main() -> None:
        timer = ManualTimer()
        async with BybitWsServer(deltas=10) as server:
            server.stall_after_next = 5
            feed = make_feed(server, timer=timer, stale_after_ms=3_000)

            async def body(feed: BybitPublicFeed) -> None:
                await until(lambda: feed.stats.delivered == 5)
                timer.advance(2_999)
                await asyncio.sleep(0.01)
                assert server.connections == 1
                timer.advance(1)
                await until(lambda: server.connections == 2 and feed.stats.delivered == 5 + 1 + 10 + 2)
                got = await take(feed, feed.stats.delivered)
                assert json.loads(got[5].text)["type"] == "snapshot"
                assert got[5].connection == 2

            await with_feed(feed, body)
        assert (feed.stats.stale, feed.stats.reconnects, feed.stats.disconnects) == (1, 1, 1)

    run(main())


def test_failed_subscription_is_counted_and_the_other_topics_still_flow() -> None:
    symbols = tuple(f"S{i}USDT" for i in range(6))  # two requests: ten topics, then two

    async def main() -> None:
        async with BybitWsServer(deltas=4) as server:
            server.fail_topics = {"publicTrade.S5USDT"}
            feed = make_feed(server, symbols)

            async def body(feed: BybitPublicFeed) -> None:
                await until(lambda: feed.stats.subscribe_failures == 1 and feed.stats.delivered == 5 * 5)

            await with_feed(feed, body)
        assert feed.failed_topics == {"orderbook.50.S5USDT", "publicTrade.S5USDT"}
        assert (feed.stats.connects, feed.stats.disconnects) == (1, 0)

    run(main())


def test_malformed_and_unexpected_messages_are_counted_not_fatal_and_not_delivered() -> None:
    async def main() -> None:
        async with BybitWsServer(deltas=8) as server:
            server.junk_next = JUNK
            feed = make_feed(server)

            async def body(feed: BybitPublicFeed) -> None:
                await until(lambda: feed.stats.received == 1 + len(JUNK) + 1 + 8 + 1)
                got = await take(feed, feed.stats.delivered)
                assert [m.text for m in got] == server.sent[0]

            await with_feed(feed, body)
        assert (feed.stats.malformed, feed.stats.unexpected, feed.stats.connects) == (3, 2, 1)

    run(main())


def test_sequence_gap_resubscribe_gets_a_fresh_snapshot() -> None:
    async def main() -> None:
        async with BybitWsServer(deltas=10) as server:
            server.skip_delta_index = 4
            feed = make_feed(server)

            async def body(feed: BybitPublicFeed) -> None:
                last_u = None
                while True:  # what the book layer does: deltas continuous in u, else ask for a snapshot
                    message = await feed.get()
                    assert message is not None
                    obj = json.loads(message.text)
                    if not obj["topic"].startswith("orderbook"):
                        continue
                    u = obj["data"]["u"]
                    if obj["type"] == "snapshot" and last_u is not None:
                        assert u == server.scripts["XRPUSDT"].last_u
                        break
                    if last_u is not None and u != last_u + 1:
                        feed.request_resubscribe("XRPUSDT")
                        last_u = None
                        continue
                    last_u = u

            await with_feed(feed, body)
        unsubscribe, resubscribe = server.requests_of("unsubscribe"), server.requests_of("subscribe")[1:]
        assert [r["args"] for r in unsubscribe] == [["orderbook.50.XRPUSDT"]]
        assert [r["args"] for r in resubscribe] == [["orderbook.50.XRPUSDT"]]
        assert (feed.stats.resubscribes, feed.stats.connects, feed.stats.subscribe_failures) == (1, 1, 0)
        with pytest.raises(ValueError, match="not one of"):
            feed.request_resubscribe("BTCUSDT")

    run(main())


def test_burst_faster_than_the_consumer_drops_counts_and_flags_the_gap() -> None:
    async def main() -> None:
        async with BybitWsServer(deltas=40) as server:
            feed = make_feed(server, queue_size=5)

            async def body(feed: BybitPublicFeed) -> None:
                await until(lambda: feed.stats.received == 1 + 1 + 40 + 8)  # nobody consumes meanwhile
                assert (feed.queue_depth, feed.stats.drops) == (5, 49 - 5)
                first = await take(feed, 5)
                assert [m.text for m in first] == server.sent[0][:5]
                assert {m.gap_before for m in first} == {0}
                feed.request_resubscribe("XRPUSDT")  # more data arrives: it carries the gap
                (after,) = await take(feed, 1)
                assert after.gap_before == 44
                assert json.loads(after.text)["type"] == "snapshot"

            await with_feed(feed, body)
        assert (feed.stats.max_queue_depth, feed.stats.drops, feed.stats.connects) == (5, 44, 1)

    run(main())


def test_lag_is_measured_from_receive_to_consume() -> None:
    async def main() -> None:
        wall = [1_000]
        async with BybitWsServer(deltas=3) as server:
            feed = BybitPublicFeed(FeedConfig(symbols=("XRPUSDT",), ws_url=server.url), timer=ManualTimer(),
                                   wall_ns=lambda: wall[0], backoff=Backoff(initial_ms=0))

            async def body(feed: BybitPublicFeed) -> None:
                await until(lambda: feed.stats.delivered == 4)
                wall[0] = 251_000
                await take(feed, 4)

            await with_feed(feed, body)
        stats = feed.stats
        assert (stats.lag_count, stats.lag_min_ns, stats.lag_max_ns, stats.lag_sum_ns) == (4, 250_000, 250_000,
                                                                                            1_000_000)

    run(main())


def test_refused_connection_retries_after_backoff_delays_on_the_feed_timer() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed when the block ends: nothing listens there

    async def main() -> None:
        timer = ManualTimer()
        feed = BybitPublicFeed(FeedConfig(symbols=("XRPUSDT",), ws_url=f"ws://127.0.0.1:{port}"), timer=timer,
                               backoff=Backoff(initial_ms=1_000, jitter=0.0))

        async def body(feed: BybitPublicFeed) -> None:
            await until(lambda: feed.stats.connect_failures == 1)
            await asyncio.sleep(0.01)
            assert feed.stats.connect_failures == 1  # waiting for the 1 s backoff on the manual timer
            timer.advance(1_000)
            await until(lambda: feed.stats.connect_failures == 2)
            timer.advance(1_999)
            await asyncio.sleep(0.01)
            assert feed.stats.connect_failures == 2  # the next delay doubled to 2 s
            timer.advance(1)
            await until(lambda: feed.stats.connect_failures == 3)

        await with_feed(feed, body)
        assert feed.stats.connects == 0
        assert await feed.get() is None

    run(main())


def test_receive_stamps_never_go_backwards_when_the_wall_clock_steps_back() -> None:
    async def main() -> None:
        stamps = iter([5_000, 6_000, 4_000, 7_000])
        async with BybitWsServer(deltas=2) as server:
            feed = BybitPublicFeed(FeedConfig(symbols=("XRPUSDT",), ws_url=server.url), timer=ManualTimer(),
                                   wall_ns=lambda: next(stamps, 8_000), backoff=Backoff(initial_ms=0))

            async def body(feed: BybitPublicFeed) -> None:
                await until(lambda: feed.stats.delivered == 3)
                assert [m.recv_ns for m in await take(feed, 3)] == [6_000, 6_000, 7_000]  # 5_000 was the ack

            await with_feed(feed, body)
        assert feed.stats.clock_steps_back == 1

    run(main())


def test_stop_interrupts_a_handshake_that_never_completes() -> None:
    async def main() -> None:
        accepted = asyncio.Event()

        async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            accepted.set()
            await reader.read()  # never answers the WebSocket upgrade
            writer.close()

        tcp = await asyncio.start_server(mute, "127.0.0.1", 0)
        port = tcp.sockets[0].getsockname()[1]
        feed = BybitPublicFeed(FeedConfig(symbols=("XRPUSDT",), ws_url=f"ws://127.0.0.1:{port}",
                                          open_timeout_ms=60_000), timer=ManualTimer())
        runner = asyncio.ensure_future(feed.run())
        await accepted.wait()
        feed.stop()
        async with asyncio.timeout(2):  # well before the 60 s open timeout
            await runner
        assert (feed.stats.connects, feed.stats.connect_failures) == (0, 0)
        tcp.close()

    run(main())


def test_quiet_market_is_probed_with_a_ping_not_mistaken_for_a_stale_feed() -> None:
    async def main() -> None:
        timer = ManualTimer()
        async with BybitWsServer(deltas=2) as server:  # after its script the server is quiet but answers pings
            feed = make_feed(server, timer=timer, stale_after_ms=3_000)

            async def body(feed: BybitPublicFeed) -> None:
                await until(lambda: feed.stats.delivered == 3)
                for probes in (1, 2, 3):
                    timer.advance(1_500)  # half the stale window of silence: probe
                    await until(lambda probes=probes: feed.stats.pongs == probes)  # type: ignore[misc]

            await with_feed(feed, body)
        assert (feed.stats.pings, feed.stats.pongs, feed.stats.stale, feed.stats.connects) == (3, 3, 0, 1)

    run(main())


def test_server_can_stamp_messages_with_a_live_exchange_clock() -> None:
    async def main() -> None:
        clock = iter(range(1_800_000_000_000, 1_800_000_001_000))
        async with BybitWsServer(deltas=5, now_ms=lambda: next(clock)) as server:
            feed = make_feed(server)

            async def body(feed: BybitPublicFeed) -> None:
                await until(lambda: feed.stats.delivered == 1 + 5 + 1)
                stamps = [json.loads(m.text)["ts"] for m in await take(feed, 7)]
                assert stamps == sorted(stamps) and stamps[0] == 1_800_000_000_000

            await with_feed(feed, body)

    run(main())
