"""Settings of the run commands: ``[shadow]`` (``MMEXEC_SHADOW__*``), ``[bybit_dryrun]`` (``MMEXEC_BYBIT_DRYRUN__*``).

Keys are the long flag names with ``-`` -> ``_``. Money and bps are ``Decimal`` (exact from the text the
operator typed); probabilities are floats in [0, 1].
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from mmexec.config.base import TableSettings

_SYMBOL = re.compile(r"^[A-Z0-9]{2,30}$")

Rate = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
NonNegMoney = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
ApiEnv = Literal["dev", "shadow", "soak", "prod"]


def _split_csv(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class RunSettings(TableSettings):
    """Everything a shadow / dry-run session needs. Shared by ``shadow`` and ``bybit-dryrun``."""

    # --- market & run shape -------------------------------------------------------------------
    symbols: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["BTCUSDT", "ETHUSDT"])
    iterations: int = Field(default=50, ge=0, le=1_000_000_000)
    seed: int = Field(default=42, ge=0, le=2**63 - 1)
    quote_interval_ms: int = Field(default=100, ge=1, le=86_400_000)
    order_notional: Decimal = Field(default=Decimal("1000"), gt=0, allow_inf_nan=False)
    requote_bps: Decimal = Field(default=Decimal("2"), ge=0, allow_inf_nan=False)
    ref_price: Annotated[dict[str, Decimal], NoDecode] = Field(default_factory=dict)
    # --- risk -----------------------------------------------------------------------------------
    max_inv: NonNegMoney = Decimal("10000")
    max_total: NonNegMoney = Decimal("50000")
    edge_threshold: Decimal = Field(default=Decimal("1.5"), allow_inf_nan=False)
    unfreeze_after_ms: int | None = Field(default=None, ge=0)
    # --- simulated exchange ---------------------------------------------------------------------
    exchange: Literal["fake", "bybit"] = "fake"
    shadow: bool = True
    fill_rate: Rate = 0.7
    reject_rate: Rate = 0.05
    partial_fill_rate: Rate = 0.0
    latency_ms: int = Field(default=100, ge=0, le=86_400_000)
    # --- bybit dry-run (used when exchange = bybit) -----------------------------------------------
    mode: Literal["shadow", "dryrun"] = "shadow"
    network: bool = False
    api_env: ApiEnv = "dev"
    rate_limit_capacity: int = Field(default=100, ge=1)
    rate_limit_refill: Decimal = Field(default=Decimal("10"), ge=0, allow_inf_nan=False)
    # --- fees (fallback schedule; a tier or profiles file takes precedence per symbol) -------------
    fee_tier: str | None = None
    fee_profiles: Path | None = None
    fee_maker_bps: Decimal | None = Field(default=None, allow_inf_nan=False)
    fee_taker_bps: Decimal | None = Field(default=None, allow_inf_nan=False)
    rebate_maker_bps: Decimal | None = Field(default=None, allow_inf_nan=False)

    # --- market data replay ---------------------------------------------------------------------
    market: Literal["synthetic", "replay"] = "synthetic"
    data: Annotated[list[Path], NoDecode] = Field(default_factory=list)
    data_format: Literal["auto", "binance-usdm", "binance-spot", "bybit"] = "auto"
    instrument: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    instruments_file: Path | None = None
    fill_model: Literal["queue", "probabilistic"] | None = None
    queue_model: Literal["risk-averse", "proportional"] = "risk-averse"
    response_latency_ms: int = Field(default=100, ge=0, le=86_400_000)
    markout_ms: int = Field(default=1000, ge=1, le=3_600_000)
    edge_window: int = Field(default=20, ge=1, le=100_000)
    quote_offset_ticks: int = Field(default=0, ge=0, le=1_000_000)
    skew_bps: Decimal = Field(default=Decimal(0), ge=0, allow_inf_nan=False)
    order_qty: Decimal | None = Field(default=None, gt=0, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _instruments_table(cls, data: Any) -> Any:
        """A TOML table ``instruments = {SYMBOL = "TICK/LOT"}`` is the ``instrument`` key (flags and env win)."""
        if isinstance(data, dict) and "instruments" in data:
            data = dict(data)
            table = data.pop("instruments")
            data.setdefault("instrument", table)
        return data

    @field_validator("data", mode="before")
    @classmethod
    def _data(cls, value: Any) -> Any:
        return _split_csv(value)

    @field_validator("instrument", mode="before")
    @classmethod
    def _instrument(cls, value: Any) -> Any:
        value = _split_csv(value)
        if isinstance(value, list):
            parsed: dict[str, str] = {}
            for item in value:
                sym, sep, grid = str(item).partition("=")
                if not sep or "/" not in grid:
                    raise ValueError(f"expected SYMBOL=TICK/LOT, got {item!r}")
                parsed[sym.strip().upper()] = grid.strip()
            return parsed
        if isinstance(value, dict):
            return {str(k).upper(): str(v) for k, v in value.items()}
        return value

    @field_validator("symbols", mode="before")
    @classmethod
    def _symbols(cls, value: Any) -> Any:
        value = _split_csv(value)
        if isinstance(value, list):
            cleaned = [str(s).strip().upper() for s in value]
            if not cleaned:
                raise ValueError("symbol list is empty")
            for sym in cleaned:
                if not _SYMBOL.match(sym):
                    raise ValueError(f"bad symbol {sym!r} (expected 2-30 of A-Z, 0-9, like BTCUSDT)")
            if len(set(cleaned)) != len(cleaned):
                raise ValueError("symbols repeat")
            return cleaned
        return value

    @field_validator("ref_price", mode="before")
    @classmethod
    def _ref_price(cls, value: Any) -> Any:
        value = _split_csv(value)
        if isinstance(value, list):
            parsed: dict[str, str] = {}
            for item in value:
                sym, sep, price = str(item).partition("=")
                if not sep:
                    raise ValueError(f"expected SYMBOL=PRICE, got {item!r}")
                parsed[sym.strip().upper()] = price.strip()
            value = parsed
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for sym, price in value.items():
                dec = Decimal(str(price)) if not isinstance(price, Decimal) else price
                if not dec.is_finite() or dec <= 0:
                    raise ValueError(f"reference price of {sym} must be a positive number")
                out[str(sym).upper()] = dec
            return out
        return value


class ShadowSettings(RunSettings):
    table: ClassVar[str] = "shadow"
    model_config = SettingsConfigDict(env_prefix="MMEXEC_SHADOW__")


class BybitDryrunSettings(RunSettings):
    table: ClassVar[str] = "bybit_dryrun"
    model_config = SettingsConfigDict(env_prefix="MMEXEC_BYBIT_DRYRUN__")

    exchange: Literal["fake", "bybit"] = "bybit"
