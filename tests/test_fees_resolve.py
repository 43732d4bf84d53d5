"""resolve_fee_config: the one path from operator settings to (fee_schedule, profile_map, description)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from mmexec.accounting.ledger import FeeLedger
from mmexec.canonical import dumps, loads
from mmexec.engine.models import FillEvent, Side
from mmexec.errors import ConfigError, InputError
from mmexec.fees.profiles import VIP0_PROFILE, VIP1_PROFILE, VIP2_PROFILE
from mmexec.fees.resolve import DEFAULT_FEE_SCHEDULE, FeeConfig, resolve_fee_config
from mmexec.fees.schedule import FeeSchedule


def test_default_is_vip0_fallback_for_every_symbol() -> None:
    fee_schedule, profile_map, description = resolve_fee_config()
    assert fee_schedule is DEFAULT_FEE_SCHEDULE is VIP0_PROFILE
    assert profile_map == {}
    assert loads(dumps(description)) == {
        "tier": None,
        "profiles": None,
        "profile_map": {},
        "fallback": {"name": "VIP0", "maker_bps": 1.0, "taker_bps": 7.0, "maker_rebate_bps": 0.0},
        "overrides": {},
    }


def test_tier() -> None:
    config = resolve_fee_config(fee_tier="vip2")
    assert isinstance(config, FeeConfig)
    assert config.profile_map == {"*": VIP2_PROFILE}
    assert config.tier == "VIP2" and config.description["tier"] == "VIP2"
    assert config.description["profile_map"]["*"]["name"] == "VIP2"


def test_overrides_replace_fallback_fields_individually() -> None:
    config = resolve_fee_config(fee_taker_bps="6", rebate_maker_bps=Decimal("0.5"))
    assert config.fee_schedule == FeeSchedule("1.0", "6", "0.5")
    assert config.fee_schedule.name is None
    assert config.description["overrides"] == {"taker_bps": Decimal(6), "maker_rebate_bps": Decimal("0.5")}
    all_three = resolve_fee_config(fee_maker_bps=0.1, fee_taker_bps=3, rebate_maker_bps="2")
    assert all_three.fee_schedule.fields() == {
        "maker_bps": Decimal("0.1"),
        "taker_bps": Decimal(3),
        "maker_rebate_bps": Decimal(2),
    }


def test_profiles_file_and_overrides_for_the_unmatched_symbols(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text('{"BTCUSDT": "VIP2"}')
    config = resolve_fee_config(fee_profiles=path, fee_maker_bps="0.7")
    assert config.profile_map == {"BTCUSDT": VIP2_PROFILE}
    assert config.fee_schedule.maker_bps == Decimal("0.7")
    assert config.description["profiles"] == str(path)
    assert config.tier is None


def test_tier_and_profiles_exclude_each_other() -> None:
    with pytest.raises(ConfigError) as info:
        resolve_fee_config(
            fee_tier="VIP1",
            fee_profiles="p.json",
            sources={"fee_tier": "env MMEXEC_SHADOW__FEE_TIER", "fee_profiles": "flag --fee-profiles"},
        )
    assert "exclude each other" in str(info.value)
    assert info.value.source == "env MMEXEC_SHADOW__FEE_TIER; flag --fee-profiles"


def test_override_that_could_never_apply_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_fee_config(fee_tier="VIP1", fee_taker_bps="4", sources={"fee_taker_bps": "file m.toml [shadow]"})
    assert "fee_taker_bps 4 would never apply" in info.value.message
    assert "VIP1" in info.value.message and info.value.source == "file m.toml [shadow]"
    path = tmp_path / "p.toml"
    path.write_text('"*" = "VIP1"\n')
    with pytest.raises(ConfigError, match="\"\\*\" entry"):
        resolve_fee_config(fee_profiles=path, rebate_maker_bps=1)


@pytest.mark.parametrize(
    ("kwargs", "expected", "source"),
    [
        ({"fee_tier": "GOLD"}, "unknown fee tier 'GOLD' (valid tiers: VIP0, VIP1, VIP2, VIP3, MM_Tier_A)",
         "--fee-tier"),
        ({"fee_maker_bps": "-1"}, "invalid fee_maker_bps '-1': must not be negative", "--fee-maker-bps"),
        ({"fee_taker_bps": Decimal("NaN")}, "invalid fee_taker_bps 'NaN': must be a finite number",
         "--fee-taker-bps"),
        ({"rebate_maker_bps": "x"}, "invalid rebate_maker_bps 'x': must be a number", "--rebate-maker-bps"),
    ],
)
def test_bad_values_name_value_and_source(kwargs: dict[str, object], expected: str, source: str) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_fee_config(**kwargs)  # type: ignore[arg-type]
    assert info.value.message == expected
    assert info.value.source == source


def test_bad_profiles_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        resolve_fee_config(fee_profiles=tmp_path / "nope.toml")


def test_config_ledger_records_the_setup() -> None:
    config = resolve_fee_config(fee_tier="VIP3")
    ledger = FeeLedger.for_config(config)
    ledger.on_fill(FillEvent("c", "o", "BTCUSDT", Side.BUY, Decimal(1), Decimal(10000), 0, True))
    section = ledger.section()
    assert section["tier"] == "VIP3" and section["schedule"] == config.description
    assert section["total"]["maker_rebates"] == 3
    assert FeeLedger.for_config(config) is not ledger


def test_profile_map_is_a_copy_per_call() -> None:
    a = resolve_fee_config(fee_tier="VIP1").profile_map
    a["*"] = VIP2_PROFILE
    assert resolve_fee_config(fee_tier="VIP1").profile_map == {"*": VIP1_PROFILE}
