"""Assembly of the run report's core sections (execution, orders, positions, risk, runtime).

Values stay exact (``Decimal``) here; :mod:`mmexec.canonical` turns them into JSON numbers at the edge.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mmexec._version import __version__

if TYPE_CHECKING:
    from mmexec.engine.loop import ExecutionLoop, ExecutionParams


@dataclass(slots=True)
class LoopStats:
    """Counters of one execution loop. ``placed`` counts every order sent (accepted or rejected)."""

    iterations: int = 0
    quotes: int = 0
    placed: int = 0
    filled: int = 0
    rejected: int = 0
    canceled: int = 0
    risk_blocks: int = 0
    fills: int = 0
    partial_fills: int = 0
    cancel_failures: int = 0
    unknown_fills: int = 0

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def utc_now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _freeze_entry(event: dict[str, Any], started_ms: int) -> dict[str, Any]:
    """Freeze events carry run-relative virtual time, so reports don't depend on the wall clock."""
    stamp = event.pop("timestamp_ms")
    event["at_ms"] = None if stamp is None else stamp - started_ms
    return event


def build_core_report(loop: ExecutionLoop, params: ExecutionParams) -> dict[str, Any]:
    stats = loop.stats
    risk = loop.risk_monitor
    positions = risk.get_positions()
    by_symbol: dict[str, Decimal] = {}
    net_usd: dict[str, Decimal] = {}
    last_mid: dict[str, Decimal] = {}
    for symbol in params.symbols:
        qty = positions.get(symbol, Decimal(0))
        book = loop._books.get(symbol)
        mid = book.last_mid if book is not None else None
        by_symbol[symbol] = qty
        if mid is not None:
            last_mid[symbol] = mid
        net_usd[symbol] = qty * mid if mid is not None else Decimal(0)
    open_orders = loop.order_store.get_open_orders()
    return {
        "execution": {
            "iterations": params.iterations,
            "symbols": list(params.symbols),
            "quotes": stats.quotes,
            "virtual_ms": loop.clock.now_ms() - loop.run_started_ms,
        },
        "orders": {
            "placed": stats.placed,
            "filled": stats.filled,
            "rejected": stats.rejected,
            "canceled": stats.canceled,
            "risk_blocks": stats.risk_blocks,
            "open": len(open_orders),
            "fills": stats.fills,
            "partial_fills": stats.partial_fills,
        },
        "positions": {
            "by_symbol": by_symbol,
            "net_pos_usd": net_usd,
            "total_notional_usd": sum((abs(v) for v in net_usd.values()), Decimal(0)),
            "last_mid": last_mid,
        },
        "risk": {
            "frozen": risk.is_frozen(),
            "freeze_events": risk.freezes_total - loop.freezes_at_start,  # in this run; the log keeps 100
            "last_freeze_reason": risk.last_freeze_reason,
            "last_freeze_symbol": risk.last_freeze_symbol,
            "blocks_total": risk.blocks_total,
            "freezes_total": risk.freezes_total,
            "unfreezes_total": risk.unfreezes_total,
            "freeze_log": [_freeze_entry(event.to_dict(), loop.run_started_ms) for event in risk.freeze_log],
        },
        "runtime": {
            "utc": params.utc or utc_now_iso(),
            "mmexec_version": __version__,
        },
    }
