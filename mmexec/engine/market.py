"""A deterministic synthetic market: one seeded random walk per symbol, on a tick grid.

Model (per symbol, per step):
- the mid price moves by -1, 0 or +1 "steps" with equal probability; a step is ``volatility_bps`` of the
  reference price rounded to whole ticks (at least one tick). The mid is reflected to stay within
  [ref/4, ref*4] so very long runs stay sane;
- bid/ask sit ``spread_bps / 2`` either side of the mid (at least one tick each side);
- an edge signal in bps (the quoting edge the strategy expects) follows a mean-reverting process around
  ``edge_mean_bps`` with uniform noise; it occasionally dips below a freeze threshold such as 1.5 bps.
Each symbol owns its own ``random.Random`` seeded from sha256(seed, symbol), so adding a symbol never changes
another symbol's path, and nothing depends on ``PYTHONHASHSEED``.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from mypy_extensions import mypyc_attr

# Sane reference prices (USD) for common symbols; anything else defaults to 100 unless configured.
REFERENCE_PRICES: dict[str, Decimal] = {
    "BTCUSDT": Decimal("50000"),
    "ETHUSDT": Decimal("3000"),
    "SOLUSDT": Decimal("150"),
    "BNBUSDT": Decimal("600"),
    "XRPUSDT": Decimal("0.6"),
    "ADAUSDT": Decimal("0.5"),
    "DOGEUSDT": Decimal("0.15"),
}
DEFAULT_REFERENCE_PRICE = Decimal("100")


def derive_seed(seed: int, *labels: str) -> int:
    """A 64-bit seed derived from ``seed`` and labels, stable across processes and machines."""
    material = ":".join([str(seed), *labels]).encode("utf-8")
    return int.from_bytes(hashlib.sha256(material).digest()[:8], "big")


def _power_of_ten(exponent: int) -> Decimal:
    return Decimal(1).scaleb(exponent)


@mypyc_attr(native_class=False)  # compiled: stays a Python class (a frozen dataclass unpickles as one)
@dataclass(frozen=True, slots=True)
class Instrument:
    """Price and size grid of a symbol, and the order size the strategy quotes."""

    symbol: str
    ref_price: Decimal
    tick_size: Decimal
    lot_size: Decimal
    order_qty: Decimal

    @classmethod
    def for_symbol(cls, symbol: str, ref_price: Decimal | None, order_notional: Decimal) -> Instrument:
        """Tick = about six significant digits of price; quote size = ``order_notional`` worth, in whole lots."""
        ref = ref_price if ref_price is not None else REFERENCE_PRICES.get(symbol, DEFAULT_REFERENCE_PRICE)
        if not ref.is_finite() or ref <= 0:
            raise ValueError(f"reference price of {symbol} must be positive, got {ref}")
        tick = _power_of_ten(ref.adjusted() - 5)
        raw_qty = order_notional / ref
        lot = _power_of_ten(min(raw_qty.adjusted() - 1, 0))
        qty = max((raw_qty / lot).to_integral_value(rounding=ROUND_FLOOR), Decimal(1)) * lot
        return cls(symbol=symbol, ref_price=ref.quantize(tick), tick_size=tick, lot_size=lot, order_qty=qty)


@mypyc_attr(allow_interpreted_subclasses=True)  # compiled: picklable (see docs/performance.md)
class _Walk:
    __slots__ = ("edge", "half_spread", "hi", "lo", "mid", "rng", "step")

    def __init__(self, inst: Instrument, seed: int, spread_bps: Decimal, volatility_bps: Decimal,
                 edge_mean: float) -> None:
        ticks_per_unit = 1 / inst.tick_size
        ref_ticks = int(inst.ref_price * ticks_per_unit)
        self.mid = ref_ticks
        self.step = max(1, int(inst.ref_price * volatility_bps / 10_000 * ticks_per_unit))
        self.half_spread = max(1, int(inst.ref_price * spread_bps / 20_000 * ticks_per_unit))
        self.lo = max(self.half_spread + 1, ref_ticks // 4)
        self.hi = ref_ticks * 4
        self.rng = random.Random(derive_seed(seed, inst.symbol, "market"))
        self.edge = edge_mean


@mypyc_attr(allow_interpreted_subclasses=True)  # compiled: picklable (see docs/performance.md)
class SyntheticMarket:
    """Generates top-of-book quotes and an edge signal for a fixed set of symbols."""

    def __init__(
        self,
        symbols: list[str],
        seed: int = 42,
        *,
        ref_prices: Mapping[str, Decimal] | None = None,
        order_notional: Decimal = Decimal("1000"),
        spread_bps: Decimal = Decimal("4"),
        volatility_bps: Decimal = Decimal("1"),
        edge_mean_bps: float = 3.0,
        edge_reversion: float = 0.1,
        edge_noise_bps: float = 0.9,
    ) -> None:
        refs = dict(ref_prices or {})
        self.instruments = {s: Instrument.for_symbol(s, refs.get(s), order_notional) for s in symbols}
        self._walks = {
            s: _Walk(inst, seed, spread_bps, volatility_bps, edge_mean_bps) for s, inst in self.instruments.items()
        }
        self._edge_mean = edge_mean_bps
        self._reversion = edge_reversion
        self._noise = edge_noise_bps

    def walk(self, symbol: str) -> Callable[[], tuple[int, int, float]]:
        """A step function for ``symbol``: each call advances it and returns (bid_ticks, ask_ticks, edge_bps)."""
        w = self._walks[symbol]
        rnd = w.rng.random
        mean, reversion, noise = self._edge_mean, self._reversion, self._noise
        third, two_thirds = 1 / 3, 2 / 3
        size, lo, hi, half = w.step, w.lo, w.hi, w.half_spread  # fixed for the walk's life

        def step() -> tuple[int, int, float]:
            u = rnd()
            mid = w.mid
            if u < third:
                mid = mid - size if mid - size >= lo else mid + size
                w.mid = mid
            elif u >= two_thirds:
                mid = mid + size if mid + size <= hi else mid - size
                w.mid = mid
            edge = w.edge
            edge += reversion * (mean - edge) + noise * (rnd() - 0.5)
            w.edge = edge
            return mid - half, mid + half, edge

        return step

    def step(self, symbol: str) -> tuple[int, int, float]:
        """Advance ``symbol`` one step; returns (bid_ticks, ask_ticks, edge_bps)."""
        return self.walk(symbol)()

    def to_price(self, symbol: str, ticks: int) -> Decimal:
        return ticks * self.instruments[symbol].tick_size
