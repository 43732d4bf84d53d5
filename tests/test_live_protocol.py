"""Pure parts of the live feed: Bybit public protocol messages, reconnect backoff, the --duration syntax."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mmexec.errors import ConfigError
from mmexec.marketdata.live import protocol
from mmexec.marketdata.live.backoff import Backoff
from mmexec.marketdata.live.duration import parse_duration_ms
from mmexec.marketdata.live.protocol import Kind, classify

TOPICS = frozenset(protocol.topics_for(["BTCUSDT"]))


def test_topics_and_requests_follow_bybit_v5() -> None:
    assert protocol.topics_for(["BTCUSDT", "ETHUSDT"]) == [
        "orderbook.50.BTCUSDT", "publicTrade.BTCUSDT", "orderbook.50.ETHUSDT", "publicTrade.ETHUSDT"]
    assert json.loads(protocol.request_text("subscribe", ["publicTrade.BTCUSDT"], "r1")) == {
        "op": "subscribe", "args": ["publicTrade.BTCUSDT"], "req_id": "r1"}
    assert json.loads(protocol.PING_TEXT) == {"op": "ping"}
    assert [len(c) for c in protocol.chunks([str(i) for i in range(23)])] == [10, 10, 3]


@pytest.mark.parametrize(("text", "kind"), [
    ('{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1,"data":{"s":"BTCUSDT","b":[],"a":[],"u":1}}',
     Kind.DATA),
    ('{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1,"data":[]}', Kind.DATA),
    ('{"success":true,"ret_msg":"","conn_id":"c","req_id":"r1","op":"subscribe"}', Kind.ACK),
    ('{"success":false,"ret_msg":"error:handler not found","conn_id":"c","req_id":"r1","op":"subscribe"}',
     Kind.ACK_FAILED),
    ('{"success":true,"ret_msg":"pong","conn_id":"c","req_id":"","op":"ping"}', Kind.PONG),
    ('{"op":"pong","args":["1"],"conn_id":"c"}', Kind.PONG),
    ('{"topic":"orderbook.50.ETHUSDT","type":"delta","ts":1,"data":{}}', Kind.UNEXPECTED),
    ('{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1}', Kind.MALFORMED),
    ('{"something":"else"}', Kind.UNEXPECTED),
    ('{"topic":"orderbook.50.BTCUSDT",', Kind.MALFORMED),
    ("[]", Kind.MALFORMED),
    ("", Kind.MALFORMED),
])
def test_classify(text: str, kind: Kind) -> None:
    assert classify(text, TOPICS).kind is kind


def test_failed_ack_keeps_request_id_and_reason() -> None:
    got = classify('{"success":false,"ret_msg":"bad topic","req_id":"mmexec-2","op":"subscribe"}', TOPICS)
    assert (got.req_id, got.op, got.detail) == ("mmexec-2", "subscribe", "bad topic")


@pytest.mark.parametrize("url", ["http://stream.bybit.com", "stream.bybit.com", "ws://", "ws://h:99999/x"])
def test_bad_ws_url(url: str) -> None:
    with pytest.raises(ConfigError, match="--ws-url"):
        protocol.validate_ws_url(url)


def test_symbols_normalised_and_checked() -> None:
    assert protocol.validate_symbols(["btcusdt", " ETHUSDT", "BTCUSDT"]) == ("BTCUSDT", "ETHUSDT")
    for bad in (["BTC/USDT"], [""], []):
        with pytest.raises(ConfigError, match="--symbols"):
            protocol.validate_symbols(bad)


@pytest.mark.parametrize(("text", "ms"), [("90s", 90_000), ("30m", 1_800_000), ("2h", 7_200_000),
                                          ("250ms", 250), (" 2H ", 7_200_000)])
def test_duration(text: str, ms: int) -> None:
    assert parse_duration_ms(text) == ms


@pytest.mark.parametrize("text", ["", "90", "0s", "-5s", "1.5h", "5x", "s", "1d"])
def test_bad_duration_names_the_flag(text: str) -> None:
    with pytest.raises(ConfigError, match=r"\(--duration\)$"):
        parse_duration_ms(text)


def test_backoff_doubles_to_the_cap_and_resets() -> None:
    backoff = Backoff(initial_ms=500, max_ms=4_000, jitter=0.0)
    assert [backoff.next_delay_ms() for _ in range(6)] == [500, 1_000, 2_000, 4_000, 4_000, 4_000]
    backoff.reset()
    assert backoff.next_delay_ms() == 500


@given(seed=st.integers(0, 2**32), attempts=st.integers(1, 60), jitter=st.floats(0.0, 1.0))
def test_backoff_jitter_is_bounded_and_seeded(seed: int, attempts: int, jitter: float) -> None:
    a, b = Backoff(seed=seed, jitter=jitter), Backoff(seed=seed, jitter=jitter)
    delays = [a.next_delay_ms() for _ in range(attempts)]
    assert delays == [b.next_delay_ms() for _ in range(attempts)]
    for attempt, delay in enumerate(delays):
        base = min(a.max_ms, a.initial_ms * 2**attempt)
        assert base * (1 - jitter) - 1 <= delay <= base
