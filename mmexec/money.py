"""The one decimal context for money (fees, PnL, reconciliation) and fixed-point grid helpers.

:data:`MONEY_CONTEXT` has 160 significant digits and traps ``Inexact``: every sum, difference and product of
money is exact or an error, never silently rounded. Prices and quantities live on an instrument's grid as
integer ticks and lots; :func:`to_ticks` / :func:`from_ticks` convert at the edges.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal, DivisionByZero, Inexact, InvalidOperation, Overflow

MONEY_CONTEXT = Context(prec=160, traps=[InvalidOperation, DivisionByZero, Overflow, Inexact])


def to_ticks(value: Decimal, tick: Decimal, *, passive_up: bool = False) -> int:
    """``value`` in whole ``tick`` units; off-grid values round down (``passive_up``: up)."""
    return int((value / tick).to_integral_value(rounding=ROUND_CEILING if passive_up else ROUND_FLOOR))


def from_ticks(ticks: int, tick: Decimal) -> Decimal:
    """The exact decimal of ``ticks`` units of ``tick``."""
    return ticks * tick


__all__ = ["MONEY_CONTEXT", "from_ticks", "to_ticks"]
