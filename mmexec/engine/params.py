"""What a synthetic shadow run does: :class:`ExecutionParams` (symbols, steps, market shape, pacing).

Risk limits are not part of it: the risk monitor the loop is given holds them (a run spec's risk sub-spec builds
it). The original API's ``ExecutionParams(max_inventory_usd_per_symbol=..., ...)`` is
:class:`mmexec.compat.ExecutionParams`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from mmexec.engine.market import Instrument, SyntheticMarket
from mmexec.engine.models import Number, to_decimal


@dataclass(frozen=True)
class ExecutionParams:
    """What a shadow run does; the limits it trades within are the risk monitor's (see the module docstring)."""

    symbols: list[str]
    iterations: int
    seed: int = 42
    quote_interval_ms: int = 100
    order_notional_usd: Number = Decimal("1000")
    requote_bps: Number = Decimal("2")
    unfreeze_after_ms: int | None = None
    ref_prices: Mapping[str, Number] = field(default_factory=dict)
    spread_bps: Number = Decimal("4")
    volatility_bps: Number = Decimal("1")
    edge_mean_bps: float = 3.0
    utc: str | None = None

    def __post_init__(self) -> None:
        if not self.symbols:
            raise ValueError("symbols must not be empty")
        if self.iterations < 0:
            raise ValueError(f"iterations must be >= 0, got {self.iterations}")
        if self.quote_interval_ms < 1:
            raise ValueError(f"quote_interval_ms must be >= 1, got {self.quote_interval_ms}")
        if self.unfreeze_after_ms is not None and self.unfreeze_after_ms < 0:
            raise ValueError("unfreeze_after_ms must be >= 0")
        if len(set(self.symbols)) != len(self.symbols):
            raise ValueError(f"symbols repeat: {list(self.symbols)}")

    def make_market(self) -> SyntheticMarket:
        return SyntheticMarket(
            list(self.symbols),
            self.seed,
            ref_prices={s: to_decimal(p) for s, p in self.ref_prices.items()},
            order_notional=to_decimal(self.order_notional_usd),
            spread_bps=to_decimal(self.spread_bps),
            volatility_bps=to_decimal(self.volatility_bps),
            edge_mean_bps=self.edge_mean_bps,
        )

    def instrument(self, symbol: str) -> Instrument:
        refs = self.ref_prices
        ref = to_decimal(refs[symbol]) if symbol in refs else None
        return Instrument.for_symbol(symbol, ref, to_decimal(self.order_notional_usd))
