"""The VIP fee tiers and per-symbol profile maps.

A *profile map* assigns a :class:`FeeSchedule` to symbols: an exact symbol key wins, then ``"*"`` (every other
symbol); a symbol matched by neither uses the caller's fallback ``fee_schedule`` (see
:func:`mmexec.fees.calc.schedule_for`). :func:`load_profiles` reads one from a ``.json`` or ``.toml`` file::

    {"BTCUSDT": "VIP2",
     "ETHUSDT": {"maker_bps": "1", "taker_bps": "6", "maker_rebate_bps": "0.5"},
     "SOLUSDT": {"tier": "VIP1", "taker_bps": "6"},
     "*": "VIP0"}

Each value is a tier name (case-insensitive) or a table of ``maker_bps`` / ``taker_bps`` /
``maker_rebate_bps``; with ``tier`` the table starts from that tier and changes the fields it lists;
without it all three are required. Numbers may be JSON/TOML numbers (read exactly, never through
float) or strings.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from mmexec.errors import ConfigError, InputError
from mmexec.fees.schedule import FIELDS, FeeSchedule, FeeScheduleError
from mmexec.json_input import JsonInputError, loads_strict

# The VIP table of docs/fees.md ("Fees, VIP tiers and PnL"), exactly.
VIP0_PROFILE = FeeSchedule(maker_bps="1.0", taker_bps="7.0", maker_rebate_bps="0.0", name="VIP0")
VIP1_PROFILE = FeeSchedule(maker_bps="0.8", taker_bps="6.5", maker_rebate_bps="1.0", name="VIP1")
VIP2_PROFILE = FeeSchedule(maker_bps="0.5", taker_bps="5.0", maker_rebate_bps="2.5", name="VIP2")
VIP3_PROFILE = FeeSchedule(maker_bps="0.2", taker_bps="4.0", maker_rebate_bps="3.0", name="VIP3")
MM_TIER_A_PROFILE = FeeSchedule(maker_bps="0.0", taker_bps="3.0", maker_rebate_bps="5.0", name="MM_Tier_A")

TIERS: Mapping[str, FeeSchedule] = {
    "VIP0": VIP0_PROFILE,
    "VIP1": VIP1_PROFILE,
    "VIP2": VIP2_PROFILE,
    "VIP3": VIP3_PROFILE,
    "MM_Tier_A": MM_TIER_A_PROFILE,
}
TIER_USE_CASES: Mapping[str, str] = {
    "VIP0": "Standard retail",
    "VIP1": "Active trader",
    "VIP2": "High-volume trader",
    "VIP3": "Institutional",
    "MM_Tier_A": "Market maker (strong rebate)",
}
WILDCARD = "*"
_SYMBOL = re.compile(r"^[A-Z0-9]{2,30}$")
_BY_FOLDED_NAME = {name.casefold(): name for name in TIERS}


def tier_names() -> str:
    return ", ".join(TIERS)


def get_tier(name: str, source: str | None = None) -> FeeSchedule:
    """The schedule of tier ``name`` (case-insensitive); an unknown name is a ConfigError listing them."""
    canonical = _BY_FOLDED_NAME.get(str(name).strip().casefold())
    if canonical is None:
        raise ConfigError(f"unknown fee tier {name!r} (valid tiers: {tier_names()})", source=source)
    return TIERS[canonical]


def build_profile_map(tier: str, source: str | None = None) -> dict[str, FeeSchedule]:
    """``{"*": <schedule of tier>}``: the tier applies to every symbol. ``source`` is for error messages."""
    return {WILDCARD: get_tier(tier, source)}


def load_profiles(path: str | Path) -> dict[str, FeeSchedule]:
    """Read a per-symbol profile map from a ``.json`` or ``.toml`` file (format in the module docstring).

    Errors are :class:`InputError` naming the file and the key.
    """
    file = Path(path)
    source = f"fee profiles {file}"
    suffix = file.suffix.lower()
    if suffix not in (".json", ".toml"):
        raise InputError(f"fee profiles file must end in .json or .toml, got {file.name!r}", source=source)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise InputError(f"fee profiles file {str(file)!r} does not exist", source=source) from None
    except OSError as exc:
        raise InputError(f"cannot read fee profiles file: {exc.strerror}", source=source) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("fee profiles file is not valid UTF-8", source=source) from None
    data: Any
    try:
        if suffix == ".json":
            data = loads_strict(text, object_pairs_hook=_unique_keys)
        else:
            data = tomllib.loads(text, parse_float=Decimal)
    except JsonInputError as exc:
        raise InputError(f"malformed JSON: {str(exc).removeprefix('not valid JSON: ')}", source=source) from None
    except RecursionError:
        raise InputError("fee profiles file is nested too deeply", source=source) from None
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        kind = "JSON" if suffix == ".json" else "TOML"
        raise InputError(f"malformed {kind}: {exc}", source=source) from None
    return parse_profile_map(data, source)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"key {key!r} is listed twice")
        out[key] = value
    return out


def parse_profile_map(data: Any, source: str) -> dict[str, FeeSchedule]:
    """Validate an already-parsed profile map (``{symbol or "*": tier name | table}``)."""
    if not isinstance(data, dict):
        raise InputError("fee profiles must be an object/table of SYMBOL -> tier or schedule", source=source)
    if not data:
        raise InputError("fee profiles file has no entries", source=source)
    profiles: dict[str, FeeSchedule] = {}
    for raw_key, value in data.items():
        key = str(raw_key).strip().upper()
        if key != WILDCARD and not _SYMBOL.match(key):
            raise InputError(
                f"key {raw_key!r}: expected a symbol like BTCUSDT (2-30 of A-Z, 0-9) or \"*\"", source=source
            )
        if key in profiles:
            raise InputError(f"key {raw_key!r}: symbol {key} is listed twice", source=source)
        profiles[key] = _entry(key, value, source)
    return profiles


def _entry(key: str, value: Any, source: str) -> FeeSchedule:
    if isinstance(value, str):
        try:
            return get_tier(value)
        except ConfigError as exc:
            raise InputError(f"key {key!r}: {exc.message}", source=source) from None
    if not isinstance(value, dict):
        raise InputError(
            f"key {key!r}: expected a tier name or a table of {', '.join(FIELDS)}, got {value!r}",
            source=source,
        )
    unknown = sorted(set(value) - {*FIELDS, "tier"})
    if unknown:
        expected = ", ".join(("tier", *FIELDS))
        raise InputError(f"key {key!r}: unknown field {unknown[0]!r} (expected {expected})", source=source)
    fields = {name: value[name] for name in FIELDS if name in value}
    try:
        if "tier" in value:
            base = get_tier(value["tier"]) if isinstance(value["tier"], str) else None
            if base is None:
                message = f"key {key!r}: tier must be a tier name, got {value['tier']!r}"
                raise InputError(message, source=source)
            return base.with_fields(**fields)
        missing = [name for name in FIELDS if name not in fields]
        if missing:
            raise InputError(
                f"key {key!r}: missing {', '.join(missing)} (give all three, or a base \"tier\")",
                source=source,
            )
        return FeeSchedule(**fields)
    except ConfigError as exc:
        raise InputError(f"key {key!r}: {exc.message}", source=source) from None
    except FeeScheduleError as exc:
        raise InputError(f"key {key}.{exc.field}: {exc.reason}, got {exc.shown}", source=source) from None
