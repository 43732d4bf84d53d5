"""Exact fee and rebate arithmetic: which schedule a symbol uses, the fees of one fill, and their sums.

For a fill of notional ``qty * price``: a maker fill pays ``notional * maker_bps / 10000`` and earns
``notional * maker_rebate_bps / 10000``; a taker fill pays ``notional * taker_bps / 10000`` and earns nothing.
``net_cost = maker_fees + taker_fees - maker_rebates`` (negative when rebates exceed fees).

Every operation runs in :data:`mmexec.money.MONEY_CONTEXT`: 160 significant digits with ``Inexact`` trapped, so a result
is either exact or an error -- never silently rounded. The bounds on fills (:mod:`mmexec.fees.fills_io`) and
on schedules (:mod:`mmexec.fees.schedule`) keep every realistic run far inside that precision.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from decimal import Decimal
from enum import StrEnum
from functools import reduce
from typing import Any

from mypy_extensions import mypyc_attr

from mmexec.engine.models import FillEvent
from mmexec.fees.schedule import FeeSchedule
from mmexec.money import MONEY_CONTEXT

FEE_CONTEXT = MONEY_CONTEXT  # the one money context, under the name fee code reads best with
_BPS_PER_UNIT = Decimal(10_000)
_ZERO = Decimal(0)


class ScheduleSource(StrEnum):
    """Why a symbol got its schedule: its own profile entry, the ``"*"`` entry, or the fallback schedule."""

    SYMBOL = "symbol"
    WILDCARD = "wildcard"
    FALLBACK = "fallback"


def match_schedule(
    symbol: str, fee_schedule: FeeSchedule, profile_map: Mapping[str, FeeSchedule] | None
) -> tuple[FeeSchedule, ScheduleSource]:
    """The schedule for ``symbol``: exact profile entry > ``"*"`` > ``fee_schedule``, and which one it was."""
    if profile_map:
        exact = profile_map.get(symbol)
        if exact is not None:
            return exact, ScheduleSource.SYMBOL
        wildcard = profile_map.get("*")
        if wildcard is not None:
            return wildcard, ScheduleSource.WILDCARD
    return fee_schedule, ScheduleSource.FALLBACK


def schedule_for(
    symbol: str, fee_schedule: FeeSchedule, profile_map: Mapping[str, FeeSchedule] | None = None
) -> FeeSchedule:
    """The schedule for ``symbol``: exact profile entry > ``"*"`` > ``fee_schedule``."""
    return match_schedule(symbol, fee_schedule, profile_map)[0]


@mypyc_attr(native_class=False)  # compiled: stays a Python class (a frozen dataclass unpickles as one)
@dataclass(frozen=True, slots=True)
class FillFees:
    """The money of one fill: its notional, the fee it pays and the rebate it earns."""

    is_maker: bool
    notional: Decimal
    fee: Decimal
    rebate: Decimal

    @property
    def net_cost(self) -> Decimal:
        return FEE_CONTEXT.subtract(self.fee, self.rebate)


def bps_of(notional: Decimal, bps: Decimal) -> Decimal:
    """``notional * bps / 10000``, exactly (the one fee formula; reconciliation uses it too)."""
    return FEE_CONTEXT.divide(FEE_CONTEXT.multiply(notional, bps), _BPS_PER_UNIT)


def fill_fees(fill: FillEvent, schedule: FeeSchedule) -> FillFees:
    """Fee and rebate of one fill under ``schedule`` (exact; raises ``decimal.Inexact`` rather than round)."""
    notional = FEE_CONTEXT.multiply(fill.qty, fill.price)
    if fill.is_maker:
        return FillFees(True, notional, bps_of(notional, schedule.maker_bps),
                        bps_of(notional, schedule.maker_rebate_bps))
    return FillFees(False, notional, bps_of(notional, schedule.taker_bps), _ZERO)


@mypyc_attr(native_class=False)  # compiled: stays a Python class (a frozen dataclass unpickles as one)
@dataclass(frozen=True, slots=True)
class FeeTotals:
    """Counts and sums over a set of fills (one symbol, or all of them)."""

    fills: int = 0
    maker_fills: int = 0
    taker_fills: int = 0
    maker_notional: Decimal = _ZERO
    taker_notional: Decimal = _ZERO
    maker_fees: Decimal = _ZERO
    taker_fees: Decimal = _ZERO
    maker_rebates: Decimal = _ZERO

    @property
    def fees(self) -> Decimal:
        """Maker plus taker fees."""
        return FEE_CONTEXT.add(self.maker_fees, self.taker_fees)

    @property
    def net_cost(self) -> Decimal:
        """``maker_fees + taker_fees - maker_rebates``."""
        return FEE_CONTEXT.subtract(self.fees, self.maker_rebates)

    def __add__(self, other: FeeTotals) -> FeeTotals:
        add = FEE_CONTEXT.add
        return FeeTotals(
            fills=self.fills + other.fills,
            maker_fills=self.maker_fills + other.maker_fills,
            taker_fills=self.taker_fills + other.taker_fills,
            maker_notional=add(self.maker_notional, other.maker_notional),
            taker_notional=add(self.taker_notional, other.taker_notional),
            maker_fees=add(self.maker_fees, other.maker_fees),
            taker_fees=add(self.taker_fees, other.taker_fees),
            maker_rebates=add(self.maker_rebates, other.maker_rebates),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        out["net_cost"] = self.net_cost
        return out


@mypyc_attr(allow_interpreted_subclasses=True)  # compiled: picklable (see docs/performance.md)
class RunningTotals:
    """The mutable accumulator behind :class:`FeeTotals` (one per symbol); it keeps sums, never fills.

    Per fill it only adds the notional (one exact product, one exact sum); fees and rebates are the schedule's
    bps of those sums. Fees are linear and every operation is exact (``Inexact`` trapped), so this equals the
    sum of the per-fill fees of :func:`fill_fees` to the last digit, at a fraction of the cost per fill.
    Fills given in ticks and lots (``FeeLedger.on_ticks``) add integers to ``maker_ticklots`` /
    ``taker_ticklots``: ``lots * ticks`` in units of ``tick_size * lot_size`` (``unit``, set by the ledger from the
    symbol's grid), converted at the edge.
    """

    __slots__ = ("_maker_decimal", "_taker_decimal", "maker_fills", "maker_ticklots", "schedule", "source",
                 "taker_fills", "taker_ticklots", "unit")

    def __init__(self, schedule: FeeSchedule, source: ScheduleSource) -> None:
        self.schedule = schedule
        self.source = source
        self.maker_fills = 0
        self.taker_fills = 0
        self._maker_decimal = self._taker_decimal = _ZERO
        self.maker_ticklots = self.taker_ticklots = 0  # sums of lots * ticks (integer fills)
        self.unit = _ZERO  # notional of one lot at one tick

    def record(self, fill: FillEvent) -> None:
        """Account for one fill (the hot path: no per-fill result is built)."""
        notional = FEE_CONTEXT.multiply(fill.qty, fill.price)
        if fill.is_maker:
            self.maker_fills += 1
            self._maker_decimal = FEE_CONTEXT.add(self._maker_decimal, notional)
        else:
            self.taker_fills += 1
            self._taker_decimal = FEE_CONTEXT.add(self._taker_decimal, notional)

    @property
    def maker_notional(self) -> Decimal:
        return FEE_CONTEXT.add(self._maker_decimal, FEE_CONTEXT.multiply(self.unit, self.maker_ticklots))

    @property
    def taker_notional(self) -> Decimal:
        return FEE_CONTEXT.add(self._taker_decimal, FEE_CONTEXT.multiply(self.unit, self.taker_ticklots))

    def add(self, fill: FillEvent) -> FillFees:
        """Account for one fill and return its own fee and rebate."""
        self.record(fill)
        return fill_fees(fill, self.schedule)

    @property
    def maker_fees(self) -> Decimal:
        return bps_of(self.maker_notional, self.schedule.maker_bps)

    @property
    def taker_fees(self) -> Decimal:
        return bps_of(self.taker_notional, self.schedule.taker_bps)

    @property
    def maker_rebates(self) -> Decimal:
        return bps_of(self.maker_notional, self.schedule.maker_rebate_bps)

    def freeze(self) -> FeeTotals:
        return FeeTotals(
            fills=self.maker_fills + self.taker_fills,
            maker_fills=self.maker_fills,
            taker_fills=self.taker_fills,
            maker_notional=self.maker_notional,
            taker_notional=self.taker_notional,
            maker_fees=self.maker_fees,
            taker_fees=self.taker_fees,
            maker_rebates=self.maker_rebates,
        )


@mypyc_attr(native_class=False)  # compiled: stays a Python class (a frozen dataclass unpickles as one)
@dataclass(frozen=True, slots=True)
class SymbolFees:
    """One symbol's totals and the schedule that priced them."""

    symbol: str
    schedule: FeeSchedule
    source: ScheduleSource
    totals: FeeTotals

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.totals.to_dict(),
            "schedule": self.schedule.to_dict(),
            "schedule_source": self.source.value,
        }


@mypyc_attr(native_class=False)  # compiled: stays a Python class (a frozen dataclass unpickles as one)
@dataclass(frozen=True, slots=True)
class FeeReport:
    """Per-symbol and total fees; :meth:`to_dict` is the run report's ``fees`` section.

    ``setup`` (optional) describes the configuration that priced the fills -- the ``description`` of
    :func:`mmexec.fees.resolve.resolve_fee_config` -- and appears as the section's ``schedule`` key.
    """

    by_symbol: Mapping[str, SymbolFees]
    total: FeeTotals
    tier: str | None = None
    setup: Mapping[str, Any] | None = None

    @property
    def maker_fees(self) -> Decimal:
        return self.total.maker_fees

    @property
    def taker_fees(self) -> Decimal:
        return self.total.taker_fees

    @property
    def maker_rebates(self) -> Decimal:
        return self.total.maker_rebates

    @property
    def net_cost(self) -> Decimal:
        return self.total.net_cost

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "by_symbol": {sym: self.by_symbol[sym].to_dict() for sym in sorted(self.by_symbol)},
            "total": self.total.to_dict(),
            "tier": self.tier,
        }
        if self.setup is not None:
            out["schedule"] = dict(self.setup)
        return out


def calc_fees_and_rebates(
    fills: Iterable[FillEvent],
    fee_schedule: FeeSchedule,
    profile_map: Mapping[str, FeeSchedule] | None = None,
    *,
    tier: str | None = None,
    setup: Mapping[str, Any] | None = None,
) -> FeeReport:
    """Fees and rebates of ``fills``, per symbol and in total, each symbol priced by :func:`schedule_for`.

    ``fills`` may be any iterable (a generator over a file streams); ``tier`` and ``setup`` are only
    recorded in the report (see :class:`FeeReport`).
    """
    running: dict[str, RunningTotals] = {}
    for fill in fills:
        totals = running.get(fill.symbol)
        if totals is None:
            schedule, source = match_schedule(fill.symbol, fee_schedule, profile_map)
            totals = running[fill.symbol] = RunningTotals(schedule, source)
        totals.record(fill)
    return report_of(running, tier=tier, setup=setup)


def report_of(running: Mapping[str, RunningTotals], *, tier: str | None = None,
              setup: Mapping[str, Any] | None = None) -> FeeReport:
    """The :class:`FeeReport` of per-symbol running totals (symbols in sorted order)."""
    by_symbol = {sym: SymbolFees(sym, totals.schedule, totals.source, totals.freeze())
                 for sym, totals in sorted(running.items())}
    total = reduce(lambda acc, item: acc + item.totals, by_symbol.values(), FeeTotals())
    return FeeReport(by_symbol=by_symbol, total=total, tier=tier, setup=setup)
