"""VIP tiers exactly as the README's table, build_profile_map, and per-symbol profile files."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

import mmexec
from mmexec.errors import ConfigError, InputError
from mmexec.fees.profiles import (
    MM_TIER_A_PROFILE,
    TIERS,
    VIP0_PROFILE,
    VIP1_PROFILE,
    VIP2_PROFILE,
    VIP3_PROFILE,
    build_profile_map,
    load_profiles,
)
from mmexec.fees.schedule import FeeSchedule

SEED_TABLE = {  # docs/fees.md, "Fees, VIP tiers and PnL"
    "VIP0": ("1.0", "7.0", "0.0"),
    "VIP1": ("0.8", "6.5", "1.0"),
    "VIP2": ("0.5", "5.0", "2.5"),
    "VIP3": ("0.2", "4.0", "3.0"),
    "MM_Tier_A": ("0.0", "3.0", "5.0"),
}


def test_tiers_are_the_seed_table_exactly() -> None:
    assert list(TIERS) == list(SEED_TABLE)
    for name, (maker, taker, rebate) in SEED_TABLE.items():
        schedule = TIERS[name]
        assert (schedule.maker_bps, schedule.taker_bps, schedule.maker_rebate_bps) == (
            Decimal(maker),
            Decimal(taker),
            Decimal(rebate),
        )
        assert (str(schedule.maker_bps), str(schedule.taker_bps), str(schedule.maker_rebate_bps)) == (
            maker,
            taker,
            rebate,
        )
        assert schedule.name == name
    assert tuple(TIERS.values()) == (VIP0_PROFILE, VIP1_PROFILE, VIP2_PROFILE, VIP3_PROFILE, MM_TIER_A_PROFILE)


def test_public_api_exports_the_fee_names() -> None:
    assert mmexec.VIP2_PROFILE is VIP2_PROFILE
    assert mmexec.build_profile_map("VIP2") == {"*": VIP2_PROFILE}
    assert mmexec.FeeSchedule is FeeSchedule


def test_build_profile_map_is_a_fresh_wildcard_map_and_case_insensitive() -> None:
    a = build_profile_map("VIP2")
    assert a == {"*": VIP2_PROFILE}
    a["BTCUSDT"] = VIP0_PROFILE
    assert build_profile_map("vip2") == {"*": VIP2_PROFILE}
    assert build_profile_map("mm_tier_a")["*"].name == "MM_Tier_A"


def test_unknown_tier_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as info:
        build_profile_map("VIP9", source="flag --fee-tier")
    message = str(info.value)
    assert "'VIP9'" in message and "VIP0, VIP1, VIP2, VIP3, MM_Tier_A" in message
    assert message.endswith("(flag --fee-tier)")


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_profiles_json(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "fees.json",
        '{"BTCUSDT": "VIP2", "ethusdt": {"maker_bps": 0.1, "taker_bps": "6", "maker_rebate_bps": 0},'
        ' "SOLUSDT": {"tier": "VIP1", "taker_bps": 6.25}, "*": "vip0"}',
    )
    profiles = load_profiles(path)
    assert profiles["BTCUSDT"] == VIP2_PROFILE and profiles["BTCUSDT"].name == "VIP2"
    assert profiles["ETHUSDT"].maker_bps == Decimal("0.1")  # JSON number read exactly, not via float
    assert profiles["ETHUSDT"].name is None
    assert profiles["SOLUSDT"].fields() == {
        "maker_bps": Decimal("0.8"),
        "taker_bps": Decimal("6.25"),
        "maker_rebate_bps": Decimal("1.0"),
    }
    assert profiles["*"] is VIP0_PROFILE


def test_load_profiles_toml(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "fees.toml",
        'BTCUSDT = "VIP3"\n"*" = "VIP1"\n[ETHUSDT]\nmaker_bps = 0.3\ntaker_bps = 5\nmaker_rebate_bps = "1.5"\n',
    )
    profiles = load_profiles(path)
    assert profiles == {
        "BTCUSDT": VIP3_PROFILE,
        "*": VIP1_PROFILE,
        "ETHUSDT": FeeSchedule("0.3", "5", "1.5"),
    }


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("p.json", '{"BTCUSDT": "VIP7"}', "key 'BTCUSDT': unknown fee tier 'VIP7'"),
        ("p.json", '{"BTC-USDT": "VIP1"}', "key 'BTC-USDT': expected a symbol"),
        ("p.json", '{"BTCUSDT": {"maker_bps": 1, "taker_bps": 2}}', "key 'BTCUSDT': missing maker_rebate_bps"),
        ("p.json", '{"BTCUSDT": {"tier": "VIP1", "fee": 2}}', "key 'BTCUSDT': unknown field 'fee'"),
        ("p.json", '{"BTCUSDT": {"tier": "VIP1", "taker_bps": -2}}', "key BTCUSDT.taker_bps: must not be negative"),
        ("p.json", '{"BTCUSDT": {"tier": 2}}', "tier must be a tier name"),
        ("p.json", '{"BTCUSDT": 3}', "expected a tier name or a table"),
        ("p.json", '{"BTCUSDT": "VIP1", "BTCUSDT": "VIP2"}', "listed twice"),
        ("p.json", '{"BTCUSDT": "VIP1", "btcusdt": "VIP2"}', "listed twice"),
        ("p.json", '{"BTCUSDT": {"maker_bps": NaN, "taker_bps": 1, "maker_rebate_bps": 0}}', "malformed JSON"),
        ("p.json", "{}", "has no entries"),
        ("p.json", '["VIP1"]', "must be an object"),
        ("p.json", "{not json", "malformed JSON"),
        ("p.toml", "BTCUSDT = ", "malformed TOML"),
        ("p.toml", "[BTCUSDT]\nmaker_bps = true\ntaker_bps = 1\nmaker_rebate_bps = 0\n", "must be a number"),
        ("p.yaml", "BTCUSDT: VIP1", "must end in .json or .toml"),
    ],
)
def test_bad_profiles_name_file_and_key(tmp_path: Path, name: str, text: str, expected: str) -> None:
    path = _write(tmp_path, name, text)
    with pytest.raises(InputError) as info:
        load_profiles(path)
    assert expected in str(info.value)
    assert info.value.source == f"fee profiles {path}"


def test_missing_and_non_utf8_profiles(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_profiles(tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{"BTCUSDT": "\xff"}')
    with pytest.raises(InputError, match="not valid UTF-8"):
        load_profiles(bad)
