"""Instrument grids (tick and lot size) per venue and symbol, and exact decimal-string -> integer conversion.

Built-in table (public exchange metadata as of 2024; override with ``--instrument SYMBOL=TICK/LOT``):

- Binance USD-M futures (``GET /fapi/v1/exchangeInfo``, PRICE_FILTER.tickSize / LOT_SIZE.stepSize):
  BTCUSDT 0.1 / 0.001, ETHUSDT 0.01 / 0.001;
- Binance spot (``GET /api/v3/exchangeInfo``): BTCUSDT 0.01 / 0.00001, ETHUSDT 0.01 / 0.0001;
- Bybit linear (``GET /v5/market/instruments-info?category=linear``, priceFilter.tickSize / lotSizeFilter.qtyStep):
  BTCUSDT 0.1 / 0.001, ETHUSDT 0.01 / 0.01, XRPUSDT 0.0001 / 1.

A Bybit ``instruments-info`` response file (``--instruments-file``) adds or replaces entries for every venue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from mmexec.errors import ConfigError

_CACHE_LIMIT = 65_536  # distinct strings remembered per grid; cleared when full so memory stays flat


_POW10: list[int] = [10**k for k in range(40)]


class OffGridError(ValueError):
    """A decimal string that is not a whole number of grid steps (or not a plain decimal at all)."""


class Grid:
    """Converts plain decimal strings (``"61800.20"``) to whole steps of ``step`` without ``Decimal``.

    ``step = mult * 10**-places``; a string is scaled to units of ``10**-places`` by digit manipulation and
    divided by ``mult``; anything left over is off the grid. Conversions are cached per string.
    """

    __slots__ = ("cache", "mult", "places", "step")

    def __init__(self, step: Decimal) -> None:
        if not step.is_finite() or step <= 0:
            raise ValueError(f"grid step must be positive, got {step}")
        step = step.normalize()
        exponent = step.as_tuple().exponent
        assert isinstance(exponent, int)
        self.step = step
        self.places = max(0, -exponent)
        self.mult = int(step.scaleb(self.places))
        self.cache: dict[str | bytes, int] = {}  # string -> steps (hot loops look it up directly)

    def steps(self, text: str) -> int:
        """Whole steps in ``text``; :class:`OffGridError` when it is off the grid or not a plain decimal."""
        cache = self.cache
        value = cache.get(text)
        if value is None:
            value = self._convert(text)
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
            cache[text] = value
        return value

    def _convert(self, text: str) -> int:
        if not isinstance(text, str):
            raise OffGridError(f"expected a decimal string, got {text!r}")
        whole, _, frac = text.partition(".")
        places = self.places
        if len(frac) > places:
            frac = frac.rstrip("0")
            if len(frac) > places:
                raise OffGridError(f"{text!r} is not a multiple of {self.step}")
        digits = whole + frac
        if not digits.isdigit():  # signs, exponents, spaces, empty
            raise OffGridError(f"{text!r} is not a plain decimal")
        units = int(digits) * _POW10[places - len(frac)]
        steps, rest = divmod(units, self.mult)
        if rest:
            raise OffGridError(f"{text!r} is not a multiple of {self.step}")
        return steps

    def to_decimal(self, steps: int) -> Decimal:
        return steps * self.step


def levels_of(raw: list[list[str]], price: Grid, qty: Grid) -> list[tuple[int, int]]:
    """``[[price, qty], ...]`` decimal strings -> ``[(ticks, lots), ...]``. The per-level hot path: when every
    string is already cached this is one comprehension; otherwise the new strings are converted first."""
    pc, qc = price.cache, qty.cache
    try:
        return [(pc[p], qc[q]) for p, q in raw]
    except KeyError:
        to_ticks, to_lots = price.steps, qty.steps
        return [(pc[p] if p in pc else to_ticks(p), qc[q] if q in qc else to_lots(q)) for p, q in raw]


@dataclass(frozen=True, slots=True)
class InstrumentSpec:
    """Tick and lot size of one symbol, with where they came from (for errors and the report)."""

    symbol: str
    tick_size: Decimal
    lot_size: Decimal
    source: str


def _spec(symbol: str, tick: str, lot: str, source: str) -> InstrumentSpec:
    return InstrumentSpec(symbol, Decimal(tick), Decimal(lot), source)


BUILTIN: dict[str, dict[str, InstrumentSpec]] = {
    "binance-usdm": {
        "BTCUSDT": _spec("BTCUSDT", "0.1", "0.001", "built-in (Binance USD-M exchangeInfo)"),
        "ETHUSDT": _spec("ETHUSDT", "0.01", "0.001", "built-in (Binance USD-M exchangeInfo)"),
    },
    "binance-spot": {
        "BTCUSDT": _spec("BTCUSDT", "0.01", "0.00001", "built-in (Binance spot exchangeInfo)"),
        "ETHUSDT": _spec("ETHUSDT", "0.01", "0.0001", "built-in (Binance spot exchangeInfo)"),
    },
    "bybit": {
        "BTCUSDT": _spec("BTCUSDT", "0.1", "0.001", "built-in (Bybit linear instruments-info)"),
        "ETHUSDT": _spec("ETHUSDT", "0.01", "0.01", "built-in (Bybit linear instruments-info)"),
        "XRPUSDT": _spec("XRPUSDT", "0.0001", "1", "built-in (Bybit linear instruments-info)"),
    },
}


def parse_override(text: str, source: str = "--instrument") -> InstrumentSpec:
    """``SYMBOL=TICK/LOT`` -> spec; :class:`ConfigError` naming ``source`` when malformed."""
    symbol, sep, grid = text.partition("=")
    tick, sep2, lot = grid.partition("/")
    try:
        if not (sep and sep2 and symbol.strip()):
            raise InvalidOperation
        spec = InstrumentSpec(symbol.strip().upper(), Decimal(tick.strip()), Decimal(lot.strip()), source)
    except InvalidOperation:
        raise ConfigError(f"expected SYMBOL=TICK/LOT, got {text!r}", source=source) from None
    for name, value in (("tick", spec.tick_size), ("lot", spec.lot_size)):
        if not value.is_finite() or value <= 0:
            raise ConfigError(f"{name} size of {spec.symbol} must be positive, got {value}", source=source)
    return spec


def load_bybit_instruments(path: Path) -> dict[str, InstrumentSpec]:
    """Specs from a Bybit V5 ``instruments-info`` response (``result.list[].priceFilter/lotSizeFilter``)."""
    import orjson

    source = str(path)
    try:
        doc = orjson.loads(path.read_bytes())
        items = doc["result"]["list"]
        out: dict[str, InstrumentSpec] = {}
        for item in items:
            symbol = str(item["symbol"]).upper()
            out[symbol] = _spec(symbol, item["priceFilter"]["tickSize"], item["lotSizeFilter"]["qtyStep"],
                                f"{path.name}")
            if out[symbol].tick_size <= 0 or out[symbol].lot_size <= 0:
                raise ValueError(f"non-positive grid for {symbol}")
    except OSError as exc:
        raise ConfigError(f"cannot read instruments file: {exc.strerror}", source=source) from None
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise ConfigError(f"not a Bybit instruments-info response ({exc})", source=source) from None
    return out


def resolve_instruments(venue: str, symbols: list[str], overrides: Mapping[str, InstrumentSpec],
                        from_file: Mapping[str, InstrumentSpec]) -> dict[str, InstrumentSpec]:
    """Per symbol: ``--instrument`` override, else the instruments file, else the built-in table."""
    table = BUILTIN.get(venue, {})
    out: dict[str, InstrumentSpec] = {}
    for symbol in symbols:
        spec = overrides.get(symbol) or from_file.get(symbol) or table.get(symbol)
        if spec is None:
            raise ConfigError(f"no tick/lot size known for {symbol} on {venue}: give --instrument "
                              f"{symbol}=TICK/LOT or --instruments-file", source="--instrument")
        out[symbol] = spec
    return out
