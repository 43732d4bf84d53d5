"""The quoting policy: where the strategy rests its bid and ask, and when it replaces them.

One resting order per side and symbol, ``order_qty`` of the instrument each:

- ``quote_offset_ticks`` k: the bid rests k ticks below the best bid and the ask k ticks above the best ask
  (0 = join the touch);
- ``skew_bps`` s: with a position, both quotes shift against it by ``s * inventory / max_inventory`` bps of the
  mid (linearly; the full ``s`` at ``max_inventory_usd`` and beyond), a long lowering both quotes and a short
  raising them. Shifted prices round to the passive side (the bid down, the ask up);
- ``never_cross`` (venues that reject post-only orders that would take liquidity, e.g. the replay's queue
  venue): a skewed quote stops one tick short of the opposite touch (the bid at most ask - 1, the ask at least
  bid + 1), so the side that reduces the position still rests;
- a resting order stays while its price is within ``requote_bps`` of the new target, else it is replaced.

With the defaults (0 / 0) the targets are the touch itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING

from mypy_extensions import mypyc_attr

if TYPE_CHECKING:
    from mmexec.engine.market import Instrument

_ONE = Decimal(1)
_BPS = Decimal(10_000)


@mypyc_attr(native_class=False)  # compiled: stays a Python class (a frozen dataclass unpickles as one)
@dataclass(frozen=True, slots=True)
class QuotingPolicy:
    """Strategy knobs of the execution loop (see the module docstring)."""

    requote_bps: Decimal = Decimal(2)
    quote_offset_ticks: int = 0
    skew_bps: Decimal = Decimal(0)
    max_inventory_usd: Decimal = Decimal(10_000)
    never_cross: bool = False

    def __post_init__(self) -> None:
        if self.quote_offset_ticks < 0:
            raise ValueError(f"quote_offset_ticks must be >= 0, got {self.quote_offset_ticks}")
        if not self.requote_bps.is_finite() or self.requote_bps < 0:
            raise ValueError(f"requote_bps must be a finite number >= 0, got {self.requote_bps}")
        if not self.skew_bps.is_finite() or self.skew_bps < 0:
            raise ValueError(f"skew_bps must be a finite number >= 0, got {self.skew_bps}")

    @property
    def at_touch(self) -> bool:
        """True when the targets are the touch itself (no offset, no skew): the loop's fast path."""
        return not self.quote_offset_ticks and not self.skew_bps

    def requote_ticks(self, inst: Instrument) -> int:
        """``requote_bps`` of the instrument's reference price, in whole ticks."""
        return int(inst.ref_price * self.requote_bps / _BPS / inst.tick_size)

    def targets(self, inst: Instrument, bid_ticks: int, ask_ticks: int, position: Decimal) -> tuple[int, int]:
        """The (bid, ask) prices to rest at, in ticks, for a touch and a signed base position."""
        offset = self.quote_offset_ticks
        bid, ask = bid_ticks - offset, ask_ticks + offset
        if not self.skew_bps or not position or self.max_inventory_usd <= 0:
            return bid, ask
        mid = (bid_ticks + ask_ticks) * inst.tick_size / 2
        fraction = max(-_ONE, min(_ONE, position * mid / self.max_inventory_usd))
        shift = self.skew_bps * mid / _BPS * fraction / inst.tick_size  # ticks; positive (long) lowers both
        bid = int((bid - shift).to_integral_value(rounding=ROUND_FLOOR))
        ask = int((ask - shift).to_integral_value(rounding=ROUND_CEILING))
        if self.never_cross:
            return min(bid, ask_ticks - 1), max(ask, bid_ticks + 1)
        return bid, ask


__all__ = ["QuotingPolicy"]
