"""``FeeSchedule``: maker fee, taker fee and maker rebate of one tier or symbol, in basis points.

Values are exact ``Decimal``s. The constructor accepts ``Decimal``, ``int``, ``str`` and ``float`` (a float is
read through ``repr``, so ``0.1`` means exactly 0.1); it refuses booleans, NaN, infinities, negative values,
values above 10,000 bps (100 %) and more than :data:`MAX_BPS_PLACES` decimal places. Those bounds keep every
fee computation exact (see :mod:`mmexec.fees.calc`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from mmexec.engine.models import Number, to_decimal

MAX_BPS = Decimal(10_000)
MAX_BPS_PLACES = 10
FIELDS = ("maker_bps", "taker_bps", "maker_rebate_bps")


class FeeScheduleError(ValueError):
    """A schedule value that is not a finite number in [0, 10000] bps.

    ``field`` names the offending field, ``reason`` says what is wrong, ``shown`` is the value as typed.
    """

    def __init__(self, field_name: str, reason: str, value: object) -> None:
        self.field = field_name
        self.reason = reason
        self.shown = repr(str(value)) if isinstance(value, Decimal) else repr(value)
        super().__init__(f"{field_name} {reason}, got {self.shown}")


def decimal_places(value: Decimal) -> int:
    """Decimal places of a finite ``value`` ignoring trailing zeros (``1.50`` -> 1, ``1E+2`` -> 0)."""
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite
    if exponent >= 0:
        return 0
    trailing = 0
    for digit in reversed(digits):
        if digit:
            break
        trailing += 1
    return max(0, -(exponent + trailing)) if trailing < len(digits) else 0


def parse_bps(value: object, field_name: str = "bps") -> Decimal:
    """One validated basis-point value (see the module docstring for the rules)."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, float, str)):
        raise FeeScheduleError(field_name, "must be a number", value)
    try:
        dec = to_decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, ValueError):
        raise FeeScheduleError(field_name, "must be a number", value) from None
    if not dec.is_finite():
        raise FeeScheduleError(field_name, "must be a finite number", value)
    if dec < 0:
        raise FeeScheduleError(field_name, "must not be negative", value)
    if dec > MAX_BPS:
        raise FeeScheduleError(field_name, "must be at most 10000 bps (100%)", value)
    if decimal_places(dec) > MAX_BPS_PLACES:
        raise FeeScheduleError(field_name, f"has more than {MAX_BPS_PLACES} decimal places", value)
    return dec.copy_abs() if dec.is_zero() else dec  # -0.0 -> 0.0


@dataclass(frozen=True, slots=True, init=False)
class FeeSchedule:
    """Maker fee, taker fee and maker rebate in bps. A maker fill pays ``maker_bps`` and earns
    ``maker_rebate_bps`` of its notional; a taker fill pays ``taker_bps``. ``name`` (a tier name such as
    ``"VIP2"``, or ``None`` for a custom schedule) is for display only and does not take part in equality."""

    maker_bps: Decimal
    taker_bps: Decimal
    maker_rebate_bps: Decimal
    name: str | None = field(default=None, compare=False)

    def __init__(
        self, maker_bps: Number, taker_bps: Number, maker_rebate_bps: Number = 0, name: str | None = None
    ) -> None:
        object.__setattr__(self, "maker_bps", parse_bps(maker_bps, "maker_bps"))
        object.__setattr__(self, "taker_bps", parse_bps(taker_bps, "taker_bps"))
        object.__setattr__(self, "maker_rebate_bps", parse_bps(maker_rebate_bps, "maker_rebate_bps"))
        object.__setattr__(self, "name", name)

    def with_fields(self, **values: Any) -> FeeSchedule:
        """A copy with some of ``maker_bps`` / ``taker_bps`` / ``maker_rebate_bps`` replaced (validated);
        the copy is unnamed (custom) when anything changed."""
        unknown = set(values) - set(FIELDS)
        if unknown:
            raise TypeError(f"unknown fee schedule field(s): {', '.join(sorted(unknown))}")
        if not values:
            return self
        parsed = {key: parse_bps(value, key) for key, value in values.items()}
        merged = {**self.fields(), **parsed}
        return FeeSchedule(merged["maker_bps"], merged["taker_bps"], merged["maker_rebate_bps"])

    def fields(self) -> dict[str, Decimal]:
        return {
            "maker_bps": self.maker_bps,
            "taker_bps": self.taker_bps,
            "maker_rebate_bps": self.maker_rebate_bps,
        }

    def to_dict(self) -> dict[str, Any]:
        """``{"name", "maker_bps", "taker_bps", "maker_rebate_bps"}`` (Decimals; JSON numbers at the edge)."""
        return {"name": self.name, **self.fields()}
