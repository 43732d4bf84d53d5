"""Settings of ``mmexec fees``: ``[fees]`` / ``MMEXEC_FEES__*`` / ``--tier`` ``--profiles``
``--fee-maker-bps`` ``--fee-taker-bps`` ``--rebate-maker-bps``.

``tier`` (a VIP tier name) and ``profiles`` (a per-symbol ``.json``/``.toml`` map) choose the schedules; the
three bps keys change fields of the fallback schedule (VIP0) used by symbols no profile matches. Values are
checked by :func:`mmexec.fees.resolve.resolve_fee_config`, the same function the run commands use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import field_validator
from pydantic_settings import SettingsConfigDict

from mmexec.config.base import TableSettings
from mmexec.config.values import Bps


class FeesSettings(TableSettings):
    table: ClassVar[str] = "fees"
    model_config = SettingsConfigDict(env_prefix="MMEXEC_FEES__")

    tier: str | None = None
    profiles: Path | None = None
    fee_maker_bps: Bps | None = None
    fee_taker_bps: Bps | None = None
    rebate_maker_bps: Bps | None = None

    @field_validator("tier", mode="before")
    @classmethod
    def _tier(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("profiles", mode="before")
    @classmethod
    def _profiles(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                raise ValueError("expected a path to a .json or .toml file")
            return Path(value).expanduser()
        return value
