"""Bybit V5 public WebSocket protocol (linear contracts): topics, requests and the kinds of incoming message.

Pure functions, no I/O. Requests: ``{"op": "subscribe", "args": [...], "req_id": "..."}`` with at most
:data:`MAX_ARGS_PER_REQUEST` topics each, the application ping ``{"op": "ping"}``. Incoming: data pushes carry
``topic``; acknowledgements carry ``op`` and ``success`` (``{"success": false, "ret_msg": ...}`` is a failed
request); the pong of the linear endpoint is ``{"success": true, "ret_msg": "pong", "op": "ping", ...}`` (other
Bybit endpoints answer ``{"op": "pong", ...}``: both are accepted).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlsplit

from mmexec.errors import ConfigError

MAINNET_LINEAR_URL = "wss://stream.bybit.com/v5/public/linear"
TESTNET_LINEAR_URL = "wss://stream-testnet.bybit.com/v5/public/linear"
BOOK_DEPTH = 50
MAX_ARGS_PER_REQUEST = 10
PING_TEXT = '{"op":"ping"}'

_SYMBOL = re.compile(r"[A-Z0-9]{2,30}")


def validate_symbols(symbols: Iterable[str], *, source: str = "--symbols") -> tuple[str, ...]:
    """Upper-case, de-duplicated (first occurrence kept), each ``[A-Z0-9]{2,30}``; ConfigError otherwise."""
    out: list[str] = []
    for raw in symbols:
        symbol = raw.strip().upper()
        if not _SYMBOL.fullmatch(symbol):
            raise ConfigError(f"invalid symbol {raw!r}: expected letters and digits such as BTCUSDT", source=source)
        if symbol not in out:
            out.append(symbol)
    if not out:
        raise ConfigError("no symbols given", source=source)
    return tuple(out)


def validate_ws_url(url: str, *, source: str = "--ws-url") -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ConfigError(f"invalid WebSocket URL {url!r}: expected ws://HOST[:PORT]/PATH or wss://...",
                          source=source)
    try:
        _ = parts.port
    except ValueError:
        raise ConfigError(f"invalid port in WebSocket URL {url!r}", source=source) from None
    return url


def book_topic(symbol: str, depth: int = BOOK_DEPTH) -> str:
    return f"orderbook.{depth}.{symbol}"


def trade_topic(symbol: str) -> str:
    return f"publicTrade.{symbol}"


def topics_for(symbols: Iterable[str], depth: int = BOOK_DEPTH) -> list[str]:
    """Per symbol: its order book, then its trades."""
    return [topic for symbol in symbols for topic in (book_topic(symbol, depth), trade_topic(symbol))]


def request_text(op: str, args: list[str], req_id: str) -> str:
    return json.dumps({"op": op, "args": args, "req_id": req_id}, separators=(",", ":"))


def chunks(topics: list[str], size: int = MAX_ARGS_PER_REQUEST) -> list[list[str]]:
    return [topics[i:i + size] for i in range(0, len(topics), size)]


class Kind(Enum):
    DATA = "data"
    ACK = "ack"
    ACK_FAILED = "ack_failed"
    PONG = "pong"
    UNEXPECTED = "unexpected"
    MALFORMED = "malformed"


@dataclass(frozen=True, slots=True)
class Incoming:
    kind: Kind
    topic: str = ""
    op: str = ""
    req_id: str = ""
    detail: str = ""


def classify(text: str, topics: frozenset[str]) -> Incoming:
    """What an incoming text frame is. Data for a topic not in ``topics`` is UNEXPECTED."""
    import orjson

    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError:
        return Incoming(Kind.MALFORMED, detail="not JSON")
    if not isinstance(obj, dict):
        return Incoming(Kind.MALFORMED, detail="not a JSON object")
    topic = obj.get("topic")
    if isinstance(topic, str):
        if topic not in topics:
            return Incoming(Kind.UNEXPECTED, topic=topic, detail="data for a topic not subscribed")
        if "data" not in obj:
            return Incoming(Kind.MALFORMED, topic=topic, detail="data message without data")
        return Incoming(Kind.DATA, topic=topic)
    op = obj.get("op")
    req_id = str(obj.get("req_id") or "")
    if op == "pong" or (op == "ping" and obj.get("ret_msg") == "pong"):
        return Incoming(Kind.PONG, op="ping")
    if isinstance(op, str) and isinstance(obj.get("success"), bool):
        if obj["success"]:
            return Incoming(Kind.ACK, op=op, req_id=req_id)
        return Incoming(Kind.ACK_FAILED, op=op, req_id=req_id, detail=str(obj.get("ret_msg", ""))[:200])
    return Incoming(Kind.UNEXPECTED, detail="neither data nor an acknowledgement")
