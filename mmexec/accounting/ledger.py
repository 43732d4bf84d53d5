"""``FeeLedger``: fees and rebates accumulated fill by fill during a run, without keeping the fills.

``FeeLedger(...).section()`` after ``on_fill`` for each fill equals
``calc_fees_and_rebates(fills, ...).to_dict()`` for the same fills: both use the same per-fill arithmetic
(:func:`mmexec.fees.calc.fill_fees`) and the same accumulator.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from mypy_extensions import mypyc_attr

from mmexec.engine.models import FillEvent
from mmexec.fees.calc import FeeReport, FillFees, RunningTotals, match_schedule, report_of
from mmexec.fees.resolve import FeeConfig
from mmexec.fees.schedule import FeeSchedule
from mmexec.money import MONEY_CONTEXT


@mypyc_attr(allow_interpreted_subclasses=True)  # compiled: picklable (see docs/performance.md)
class FeeLedger:
    """Per-symbol running sums of notional, fees and rebates. Memory grows with symbols, not fills."""

    __slots__ = ("_by_symbol", "_fee_schedule", "_profile_map", "_units", "setup", "tier")

    def __init__(
        self,
        fee_schedule: FeeSchedule,
        profile_map: Mapping[str, FeeSchedule] | None = None,
        *,
        tier: str | None = None,
        setup: Mapping[str, Any] | None = None,
    ) -> None:
        self._fee_schedule = fee_schedule
        self._profile_map = dict(profile_map or {})
        self._by_symbol: dict[str, RunningTotals] = {}
        self._units: dict[str, Decimal] = {}  # notional of one lot at one tick, per registered symbol
        self.tier = tier
        self.setup = setup

    def _running(self, symbol: str) -> RunningTotals:
        running = self._by_symbol.get(symbol)
        if running is None:
            schedule, source = match_schedule(symbol, self._fee_schedule, self._profile_map)
            running = self._by_symbol[symbol] = RunningTotals(schedule, source)
        return running

    def on_fill(self, fill: FillEvent) -> FillFees:
        """Account for one fill; returns its fee and rebate."""
        return self._running(fill.symbol).add(fill)

    def record(self, fill: FillEvent) -> None:
        """Account for one fill without building its result (the run's fill listener)."""
        running = self._by_symbol.get(fill.symbol) or self._running(fill.symbol)
        running.record(fill)

    def set_grid(self, symbol: str, tick_size: Decimal, lot_size: Decimal) -> None:
        """Register a symbol's tick and lot sizes, for :meth:`on_ticks` (a symbol appears once it trades)."""
        unit = MONEY_CONTEXT.multiply(tick_size, lot_size)
        running = self._by_symbol.get(symbol)
        if running is not None:
            if (running.maker_ticklots or running.taker_ticklots) and running.unit != unit:
                raise ValueError(f"{symbol}: the grid changed after fills were recorded on it")
            running.unit = unit
        self._units[symbol] = unit

    def on_ticks(self, symbol: str, is_buy: bool, lots: int, ticks: int, is_maker: bool = True,
                 timestamp_ms: int = 0) -> None:
        """Account for one fill given in lots and ticks of the symbol's grid (see :meth:`set_grid`)."""
        running = self._by_symbol.get(symbol)
        if running is None:
            running = self._running(symbol)
            running.unit = self._units[symbol]
        if is_maker:
            running.maker_fills += 1
            running.maker_ticklots += lots * ticks
        else:
            running.taker_fills += 1
            running.taker_ticklots += lots * ticks

    def totals(self) -> Mapping[str, RunningTotals]:
        """The running sums per symbol (read-only view; e.g. for the timeline)."""
        return MappingProxyType(self._by_symbol)

    def report(self) -> FeeReport:
        return report_of(self._by_symbol, tier=self.tier, setup=self.setup)

    def section(self) -> dict[str, Any]:
        """The run report's ``fees`` section (Decimals; canonical JSON turns them into numbers)."""
        return self.report().to_dict()

    @classmethod
    def for_config(cls, config: FeeConfig) -> FeeLedger:
        """A ledger pricing fills by a resolved fee configuration; its section carries the setup."""
        return cls(config.fee_schedule, config.profile_map, tier=config.tier, setup=config.description)

    def fees_by_symbol(self) -> dict[str, Decimal]:
        """Maker plus taker fees per symbol (for :meth:`mmexec.accounting.pnl.PnlTracker.section`)."""
        return {sym: running.freeze().fees for sym, running in self._by_symbol.items()}

    def rebates_by_symbol(self) -> dict[str, Decimal]:
        """Maker rebates per symbol (for :meth:`mmexec.accounting.pnl.PnlTracker.section`)."""
        return {sym: running.maker_rebates for sym, running in self._by_symbol.items()}
