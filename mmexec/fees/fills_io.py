"""The fills file: JSON Lines, one fill per line; ``--fills-out`` writes it, ``mmexec fees --fills`` reads it.

Each line is one canonical JSON object (sorted keys, compact, ``\\n``-terminated)::

    {"client_order_id":"CLI00000001","fill_id":"F1","liquidity":"maker","order_id":"ORD000001",
     "price":"50000.5","qty":"0.02","side":"BUY","symbol":"BTCUSDT","timestamp_ms":1735689600000}

- ``symbol`` (required): 2-30 of A-Z, 0-9.
- ``side`` (required): ``"BUY"`` or ``"SELL"`` (case-insensitive when read).
- ``qty``, ``price`` (required): positive decimals. Written as JSON *strings* in plain notation so the file
  round-trips exactly; JSON numbers are accepted on input and read exactly (never through float). At most
  :data:`MAX_PLACES` decimal places and below :data:`MAX_MAGNITUDE`.
- ``liquidity`` (required): ``"maker"`` or ``"taker"`` (case-insensitive when read).
- ``timestamp_ms`` (optional, default 0): integer milliseconds since the epoch (virtual time in a run).
- ``client_order_id``, ``order_id``, ``fill_id`` (optional, default ``""``): strings.

Unknown fields are refused (a misspelt ``liquidity`` must not silently become a default). Blank lines are
skipped. Any bad line is an :class:`InputError` naming ``line N`` and the file; a line may be at most
:data:`MAX_LINE_BYTES` long.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from mmexec.artifacts import ArtifactWriter
from mmexec.canonical import dumps
from mmexec.engine.models import FillEvent, Side
from mmexec.errors import InputError
from mmexec.fees.schedule import decimal_places
from mmexec.json_input import STDIN, JsonInputError, loads_strict

MAX_PLACES = 40
MAX_MAGNITUDE = Decimal("1e15")
MAX_LINE_BYTES = 64 * 1024  # a fill is about 200 bytes; anything this long is not a fill
REQUIRED = ("symbol", "side", "qty", "price", "liquidity")
OPTIONAL = ("timestamp_ms", "client_order_id", "order_id", "fill_id")
_SYMBOL = re.compile(r"^[A-Z0-9]{2,30}$")
_LIQUIDITY = {"maker": True, "taker": False}


def _plain(value: Decimal) -> str:
    """Plain notation (no exponent) of an exact decimal: ``Decimal('1E+2')`` -> ``'100'``."""
    return format(value, "f")


def fill_to_dict(fill: FillEvent) -> dict[str, Any]:
    """The line's fields. Raises ``ValueError`` for a fill the reader would refuse (a file written here is
    always readable)."""
    if not _SYMBOL.match(fill.symbol):
        raise ValueError(f"cannot write fill {fill.fill_id!r}: symbol {fill.symbol!r} is not like BTCUSDT")
    try:
        qty, price = _check_amount(fill.qty, "qty", fill.qty), _check_amount(fill.price, "price", fill.price)
    except _BadLine as exc:
        raise ValueError(f"cannot write fill {fill.fill_id!r}: {exc}") from None
    return {
        "symbol": fill.symbol,
        "side": fill.side.value,
        "qty": _plain(qty),
        "price": _plain(price),
        "liquidity": "maker" if fill.is_maker else "taker",
        "timestamp_ms": fill.timestamp_ms,
        "client_order_id": fill.client_order_id,
        "order_id": fill.order_id,
        "fill_id": fill.fill_id,
    }


def fill_to_json_line(fill: FillEvent) -> bytes:
    """One canonical JSON line (with its ``\\n``) for ``fill``."""
    return dumps(fill_to_dict(fill))


class _BadLine(ValueError):
    pass


def _decimal(obj: dict[str, Any], key: str) -> Decimal:
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise _BadLine(f"{key} must be a decimal string or number, got {value!r}")
    try:
        dec = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except ArithmeticError:
        raise _BadLine(f"{key} must be a decimal number, got {value!r}") from None
    return _check_amount(dec, key, value)


def _check_amount(dec: Decimal, key: str, shown: object) -> Decimal:
    if not dec.is_finite() or dec <= 0:
        raise _BadLine(f"{key} must be a positive number, got {shown!r}")
    if dec >= MAX_MAGNITUDE or decimal_places(dec) > MAX_PLACES:
        raise _BadLine(f"{key} is out of range (below 1e15, at most {MAX_PLACES} decimal places): {shown!r}")
    return dec


def _text(obj: dict[str, Any], key: str, default: str = "") -> str:
    value = obj.get(key, default)
    if not isinstance(value, str):
        raise _BadLine(f"{key} must be a string, got {value!r}")
    return value


def fill_from_dict(obj: Any) -> FillEvent:
    """Validate one decoded line; raises ``ValueError`` with a message naming the field."""
    if not isinstance(obj, dict):
        raise _BadLine(f"expected a JSON object, got {type(obj).__name__}")
    missing = [key for key in REQUIRED if key not in obj]
    if missing:
        raise _BadLine(f"missing field {missing[0]!r}")
    unknown = sorted(set(obj) - {*REQUIRED, *OPTIONAL})
    if unknown:
        raise _BadLine(f"unknown field {unknown[0]!r}")
    symbol = _text(obj, "symbol")
    if not _SYMBOL.match(symbol):
        raise _BadLine(f"symbol must be 2-30 of A-Z, 0-9 (like BTCUSDT), got {symbol!r}")
    side = obj["side"]
    if not isinstance(side, str) or side.upper() not in ("BUY", "SELL"):
        raise _BadLine(f"side must be BUY or SELL, got {side!r}")
    liquidity = obj["liquidity"]
    if not isinstance(liquidity, str) or liquidity.lower() not in _LIQUIDITY:
        raise _BadLine(f"liquidity must be maker or taker, got {liquidity!r}")
    timestamp = obj.get("timestamp_ms", 0)
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise _BadLine(f"timestamp_ms must be a non-negative integer, got {timestamp!r}")
    return FillEvent(
        client_order_id=_text(obj, "client_order_id"),
        order_id=_text(obj, "order_id"),
        symbol=symbol,
        side=Side(side.upper()),
        qty=_decimal(obj, "qty"),
        price=_decimal(obj, "price"),
        timestamp_ms=timestamp,
        is_maker=_LIQUIDITY[liquidity.lower()],
        fill_id=_text(obj, "fill_id"),
    )


def iter_fills(stream: IO[bytes], source: str, *, max_line: int = MAX_LINE_BYTES) -> Iterator[FillEvent]:
    """Fills from a binary stream of JSON Lines; ``source`` names it in errors (``fills file x.jsonl``).

    Lines are read with a bound (``max_line`` bytes): an endless line (``/dev/zero``) fails at once. Each
    line goes through the strict loader of :mod:`mmexec.json_input` (bounded depth and numbers, no NaN)."""
    number = 0
    while True:
        try:
            raw = stream.readline(max_line + 1)
        except OSError as exc:
            raise InputError(f"cannot read fills: {exc.strerror or exc}", source=source) from None
        if not raw:
            return
        number += 1
        if len(raw) > max_line and not raw.endswith(b"\n"):
            raise InputError(f"line {number}: longer than {max_line} bytes", source=source)
        if not raw.strip():
            continue
        try:
            obj = loads_strict(raw, one_line=True)
        except JsonInputError as exc:
            raise InputError(f"line {number}: {exc}", source=source) from None
        try:
            yield fill_from_dict(obj)
        except _BadLine as exc:
            raise InputError(f"line {number}: {exc}", source=source) from None


def read_fills(path: str | os.PathLike[str]) -> Iterator[FillEvent]:
    """Stream the fills of a fills file (``-``: stdin), each line validated. A missing file fails here, not
    on iteration."""
    name = os.fspath(path)
    if name == STDIN:
        return iter_fills(sys.stdin.buffer, "fills file <stdin>")
    source = f"fills file {name}"
    try:
        handle = open(name, "rb")  # noqa: SIM115 - closed by _closing
    except FileNotFoundError:
        raise InputError(f"fills file {name!r} does not exist", source=source) from None
    except OSError as exc:
        raise InputError(f"cannot read fills file: {exc.strerror}", source=source) from None
    return _closing(handle, source)


def _closing(handle: IO[bytes], source: str) -> Iterator[FillEvent]:
    with handle:
        yield from iter_fills(handle, source)


class FillsWriter:
    """Streams fills to ``path`` through an :class:`mmexec.artifacts.ArtifactWriter`: atomically for a
    regular file, in place for a device or FIFO. :meth:`close` finishes the file; :meth:`abort` (or leaving
    the ``with`` block by an exception) deletes the temp file -- even when closing it fails (a full disk) --
    so a failed run leaves neither a partial file nor a stray temp file. A bad target fails here, up front."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._out = ArtifactWriter(path, what="fills file")
        self._closed = False
        self.count = 0

    def write(self, fill: FillEvent) -> None:
        if self._closed:
            raise ValueError("FillsWriter is closed")
        self._out.write(fill_to_json_line(fill))
        self.count += 1

    def close(self) -> Path:
        """Finish the file: flush, fsync, rename over ``path``."""
        if self._closed:
            raise ValueError("FillsWriter is closed")
        self._closed = True
        self._out.commit()
        return self.path

    def abort(self) -> None:
        """Drop everything written so far; ``path`` is left untouched."""
        self._closed = True
        self._out.abort()

    def __enter__(self) -> FillsWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
