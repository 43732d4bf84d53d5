"""From the operator's fee settings to ``(fee_schedule, profile_map, description)``.

Used by the run commands (``--fee-tier``, ``--fee-profiles``, ``--fee-maker-bps``, ``--fee-taker-bps``,
``--rebate-maker-bps`` and their config keys) and by ``mmexec fees``, so both price fills the same way:

- ``fee_tier`` T: every symbol uses tier T (profile map ``{"*": T}``).
- ``fee_profiles`` FILE: the per-symbol map of that file (:func:`mmexec.fees.profiles.load_profiles`).
  ``fee_tier`` and ``fee_profiles`` exclude each other.
- Symbols matched by no profile entry use the *fallback* schedule: :data:`DEFAULT_FEE_SCHEDULE` (VIP0), with
  each of ``fee_maker_bps`` / ``fee_taker_bps`` / ``rebate_maker_bps`` that is given replacing that one field.
  Giving one of them when no symbol can reach the fallback (a tier, or a profiles file with ``"*"``) is an
  error rather than a silently ignored setting.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from mmexec.engine.models import Number
from mmexec.errors import ConfigError
from mmexec.fees.profiles import VIP0_PROFILE, WILDCARD, build_profile_map, load_profiles
from mmexec.fees.schedule import FeeSchedule, FeeScheduleError, parse_bps

DEFAULT_FEE_SCHEDULE = VIP0_PROFILE
# setting name -> FeeSchedule field it overrides
OVERRIDES = {
    "fee_maker_bps": "maker_bps",
    "fee_taker_bps": "taker_bps",
    "rebate_maker_bps": "maker_rebate_bps",
}
_DEFAULT_SOURCES = {
    "fee_tier": "--fee-tier",
    "fee_profiles": "--fee-profiles",
    "fee_maker_bps": "--fee-maker-bps",
    "fee_taker_bps": "--fee-taker-bps",
    "rebate_maker_bps": "--rebate-maker-bps",
}


class FeeConfig(NamedTuple):
    """The resolved fee configuration; unpacks as ``fee_schedule, profile_map, description``."""

    fee_schedule: FeeSchedule
    profile_map: dict[str, FeeSchedule]
    description: dict[str, Any]

    @property
    def tier(self) -> str | None:
        tier = self.description.get("tier")
        return tier if isinstance(tier, str) else None


def resolve_fee_config(
    fee_tier: str | None = None,
    fee_profiles: str | Path | None = None,
    fee_maker_bps: Number | None = None,
    fee_taker_bps: Number | None = None,
    rebate_maker_bps: Number | None = None,
    *,
    sources: Mapping[str, str] | None = None,
) -> FeeConfig:
    """Resolve the fee settings (``None`` = not given).

    ``sources`` maps each setting name (``fee_tier``, ``fee_profiles``, ``fee_maker_bps``, ``fee_taker_bps``,
    ``rebate_maker_bps``) to where its value came from (e.g. ``"flag --fee-tier"``; the ``origins`` of
    :func:`mmexec.config.base.load_settings` fit as they are), for error messages.

    Raises :class:`ConfigError` for a bad or conflicting value, :class:`InputError` for a bad profiles file.
    """
    where = {**_DEFAULT_SOURCES, **(sources or {})}
    if fee_tier is not None and fee_profiles is not None:
        raise ConfigError(
            f"fee tier {fee_tier!r} and fee profiles {str(fee_profiles)!r} exclude each other: give one",
            source=f"{where['fee_tier']}; {where['fee_profiles']}",
        )
    overrides: dict[str, Decimal] = {}
    for setting, value in (
        ("fee_maker_bps", fee_maker_bps),
        ("fee_taker_bps", fee_taker_bps),
        ("rebate_maker_bps", rebate_maker_bps),
    ):
        if value is None:
            continue
        try:
            overrides[OVERRIDES[setting]] = parse_bps(value, setting)
        except FeeScheduleError as exc:
            raise ConfigError(f"invalid {setting} {exc.shown}: {exc.reason}", source=where[setting]) from None

    tier_name: str | None = None
    profile_map: dict[str, FeeSchedule] = {}
    if fee_tier is not None:
        profile_map = build_profile_map(fee_tier, where["fee_tier"])
        tier_name = profile_map[WILDCARD].name
    elif fee_profiles is not None:
        profile_map = load_profiles(fee_profiles)

    if overrides and WILDCARD in profile_map:
        setting = next(s for s, f in OVERRIDES.items() if f in overrides)
        because = (
            f"fee tier {tier_name} ({where['fee_tier']}) sets every symbol's schedule"
            if tier_name is not None
            else f"the \"*\" entry of {str(fee_profiles)!r} ({where['fee_profiles']}) matches every symbol"
        )
        raise ConfigError(
            f"{setting} {overrides[OVERRIDES[setting]]} would never apply: {because}; "
            "adjust a tier with a profiles file entry like {\"*\": {\"tier\": \"VIP2\", \"taker_bps\": 4}}",
            source=where[setting],
        )
    fallback = DEFAULT_FEE_SCHEDULE.with_fields(**overrides)
    description: dict[str, Any] = {
        "tier": tier_name,
        "profiles": None if fee_profiles is None else str(fee_profiles),
        "profile_map": {key: profile_map[key].to_dict() for key in sorted(profile_map)},
        "fallback": fallback.to_dict(),
        "overrides": dict(sorted(overrides.items())),
    }
    return FeeConfig(fallback, profile_map, description)

