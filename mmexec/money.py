"""The one decimal context for money (fees, PnL, reconciliation) and the fixed-point value types.

:data:`MONEY_CONTEXT` has 160 significant digits and traps ``Inexact``: every sum, difference and product of
money is exact or an error, never silently rounded.

Prices and quantities on an instrument's grid are integers -- ticks and lots -- the way nautilus_trader's
``Price`` / ``Quantity`` keep a raw integer with a precision. :class:`Price` and :class:`Quantity` carry such a raw
integer and its decimal precision (``Price(5000012, 1)`` is 500001.2); ``Decimal`` appears only where values enter
(:meth:`Price.parse`, :meth:`Price.of`) and leave (:meth:`Price.as_decimal`). :func:`to_ticks` /
:func:`from_ticks` convert a decimal to and from a count of any tick size.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal, DivisionByZero, Inexact, InvalidOperation, Overflow
from typing import Self

from mypy_extensions import mypyc_attr

MONEY_CONTEXT = Context(prec=160, traps=[InvalidOperation, DivisionByZero, Overflow, Inexact])
MAX_PRECISION = 18
_UNIT = Decimal(1)


def to_ticks(value: Decimal, tick: Decimal, *, passive_up: bool = False) -> int:
    """``value`` in whole ``tick`` units; off-grid values round down (``passive_up``: up)."""
    return int((value / tick).to_integral_value(rounding=ROUND_CEILING if passive_up else ROUND_FLOOR))


def from_ticks(ticks: int, tick: Decimal) -> Decimal:
    """The exact decimal of ``ticks`` units of ``tick``."""
    return ticks * tick


def precision_of(value: Decimal) -> int:
    """Decimal places ``value`` is written with (``0.010`` -> 3, ``5E+2`` -> 0)."""
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int):
        raise ValueError(f"not a finite number: {value}")
    return -exponent if exponent < 0 else 0


def raw_at(value: Decimal, precision: int) -> int:
    """``value`` as an integer count of ``10**-precision``; a value off that grid is a ``ValueError``."""
    scaled = MONEY_CONTEXT.scaleb(value, precision)
    integral = scaled.to_integral_value()
    if scaled != integral:
        raise ValueError(f"{value} has more than {precision} decimal places")
    return int(integral)


def decimal_at(raw: int, precision: int) -> Decimal:
    """The exact decimal of ``raw * 10**-precision`` (never rounded), without trailing zeros after the point
    (``decimal_at(1500, 4)`` is ``0.15``, ``decimal_at(40, 1)`` is ``4``)."""
    while precision > 0 and raw % 10 == 0:
        raw //= 10
        precision -= 1
    return MONEY_CONTEXT.scaleb(Decimal(raw), -precision)


def plain(value: Decimal) -> Decimal:
    """``value`` without trailing zeros after the point, never in exponent form (``1.50`` -> ``1.5``,
    ``2.00`` -> ``2``, ``100`` -> ``100``)."""
    if value == value.to_integral_value():
        return value.quantize(_UNIT, context=MONEY_CONTEXT)
    return value.normalize(MONEY_CONTEXT)


def div_half_even(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half-even to an integer (``denominator`` non-zero)."""
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    quotient, rest = divmod(numerator, denominator)
    twice = 2 * rest
    if twice > denominator or (twice == denominator and quotient & 1):
        quotient += 1
    return quotient


@mypyc_attr(native_class=False)  # compiled: stays a Python class (a frozen dataclass unpickles as one)
@dataclass(frozen=True, slots=True, order=True)
class _Fixed:
    """A decimal value as ``raw * 10**-precision`` (compare only values of the same precision)."""

    raw: int
    precision: int

    def __post_init__(self) -> None:
        if not 0 <= self.precision <= MAX_PRECISION:
            raise ValueError(f"precision must be within [0, {MAX_PRECISION}], got {self.precision}")

    @classmethod
    def of(cls, value: Decimal | int | str, precision: int) -> Self:
        """The exact value at ``precision`` decimal places; a value off that grid is a ``ValueError``."""
        dec = Decimal(value) if not isinstance(value, Decimal) else value
        if not dec.is_finite():
            raise ValueError(f"{cls.__name__} must be finite, got {value}")
        scaled = dec.scaleb(precision)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {precision} decimal places")
        return cls(int(scaled), precision)

    @classmethod
    def parse(cls, text: str) -> Self:
        """From decimal text, at the precision the text is written with (``"0.010"`` has precision 3)."""
        dec = Decimal(text)
        exponent = dec.as_tuple().exponent
        precision = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        return cls.of(dec, precision)

    def as_decimal(self) -> Decimal:
        return Decimal(self.raw).scaleb(-self.precision)

    def __str__(self) -> str:
        return str(self.as_decimal())


@mypyc_attr(native_class=False)  # compiled: stays a Python class (a frozen dataclass unpickles as one)
class Price(_Fixed):
    """A price as an integer count of ``10**-precision`` (may be negative, e.g. a spread)."""

    __slots__ = ()


@mypyc_attr(native_class=False)  # compiled: stays a Python class (a frozen dataclass unpickles as one)
class Quantity(_Fixed):
    """A non-negative quantity as an integer count of ``10**-precision``."""

    __slots__ = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.raw < 0:
            raise ValueError(f"a quantity cannot be negative, got {self}")


__all__ = ["MAX_PRECISION", "MONEY_CONTEXT", "Price", "Quantity", "decimal_at", "div_half_even", "from_ticks",
           "plain", "precision_of", "raw_at", "to_ticks"]
