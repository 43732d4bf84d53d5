"""FeeSchedule: exact Decimal fields, float-through-str, validation, overrides."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mmexec.fees.schedule import FeeSchedule, FeeScheduleError, decimal_places, parse_bps


def test_fields_are_exact_decimals_from_any_number_type() -> None:
    s = FeeSchedule(maker_bps=0.1, taker_bps="7.0", maker_rebate_bps=2)
    assert s.maker_bps == Decimal("0.1")  # through str, not the binary float 0.1000000000000000055...
    assert s.taker_bps == Decimal("7.0") and str(s.taker_bps) == "7.0"
    assert s.maker_rebate_bps == Decimal(2)
    assert all(isinstance(v, Decimal) for v in s.fields().values())


def test_seed_constructor_and_default_rebate() -> None:
    s = FeeSchedule(maker_bps=Decimal("1.0"), taker_bps=Decimal("7.0"), maker_rebate_bps=Decimal("2.0"))
    assert s.fields() == {"maker_bps": Decimal(1), "taker_bps": Decimal(7), "maker_rebate_bps": Decimal(2)}
    assert FeeSchedule(1, 7).maker_rebate_bps == 0


def test_schedule_is_frozen_and_name_does_not_take_part_in_equality() -> None:
    a = FeeSchedule("0.5", "5", "2.5", name="VIP2")
    b = FeeSchedule("0.50", "5.0", "2.5")
    assert a == b and hash(a) == hash(b)
    with pytest.raises(AttributeError):
        a.maker_bps = Decimal(1)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (-1, "must not be negative"),
        ("-0.01", "must not be negative"),
        ("nan", "must be a finite number"),
        (float("inf"), "must be a finite number"),
        ("abc", "must be a number"),
        (True, "must be a number"),
        (None, "must be a number"),
        ("10000.01", "at most 10000 bps"),
        ("0.00000000001", "more than 10 decimal places"),
    ],
)
def test_bad_values_name_the_field_and_the_value(value: object, reason: str) -> None:
    with pytest.raises(FeeScheduleError) as info:
        FeeSchedule(maker_bps=1, taker_bps=value, maker_rebate_bps=0)  # type: ignore[arg-type]
    assert info.value.field == "taker_bps"
    assert reason in str(info.value)
    assert isinstance(info.value, ValueError)


def test_limits_are_inclusive_and_negative_zero_is_zero() -> None:
    assert parse_bps("10000") == 10_000
    assert parse_bps("0.0000000001") == Decimal("1E-10")
    assert parse_bps("1.50000000000000000000") == Decimal("1.5")  # trailing zeros are not places
    zero = parse_bps("-0.0")
    assert zero == 0 and not zero.is_signed() and str(zero) == "0.0"


def test_decimal_places() -> None:
    assert decimal_places(Decimal("1.50")) == 1
    assert decimal_places(Decimal("1E+2")) == 0
    assert decimal_places(Decimal("0.000")) == 0
    assert decimal_places(Decimal("0.0001")) == 4


def test_with_fields_replaces_fields_individually_and_drops_the_name() -> None:
    base = FeeSchedule("1.0", "7.0", "0.0", name="VIP0")
    assert base.with_fields() is base
    changed = base.with_fields(taker_bps="6")
    assert changed.fields() == {"maker_bps": Decimal(1), "taker_bps": Decimal(6), "maker_rebate_bps": Decimal(0)}
    assert changed.name is None
    with pytest.raises(FeeScheduleError):
        base.with_fields(maker_bps=-1)
    with pytest.raises(TypeError, match="unknown"):
        base.with_fields(rebate_bps=1)


def test_to_dict() -> None:
    assert FeeSchedule("0.5", "5.0", "2.5", name="VIP2").to_dict() == {
        "name": "VIP2",
        "maker_bps": Decimal("0.5"),
        "taker_bps": Decimal("5.0"),
        "maker_rebate_bps": Decimal("2.5"),
    }
