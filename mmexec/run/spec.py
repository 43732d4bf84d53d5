"""One run, one spec: :class:`RunSpec`, a frozen tree of typed sub-specs with one set of names.

The names are the CLI's long flag names (``--max-inv`` -> ``risk.max_inv``); the config layer validates
flags, environment and TOML into ``RunSettings`` and hands its values to :meth:`RunSpec.from_settings`. Later
work adds a field to the sub-spec it belongs to, not a new shape. :meth:`RunSpec.config_section` is the
report's ``config`` section: every flag-named key (flat), enough to reproduce the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from pathlib import Path
from typing import Any

from mmexec.engine.models import to_decimal


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """What is traded and for how long: the synthetic market, or a replay of recorded ``data`` (``market``).

    A replay's symbols default to the symbols in the data (``symbols`` then names the ones to trade), its
    instruments come from the built-in table, ``instrument`` overrides (``SYMBOL -> "TICK/LOT"``) and the
    ``instruments_file``.
    """

    symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT")
    iterations: int = 50
    seed: int = 42
    quote_interval_ms: int = 100
    order_notional: Decimal = Decimal("1000")
    ref_price: Mapping[str, Decimal] = field(default_factory=dict)
    market: str = "synthetic"
    data: tuple[Path, ...] = ()
    data_format: str = "auto"
    instrument: Mapping[str, str] = field(default_factory=dict)
    instruments_file: Path | None = None

    @property
    def kind(self) -> str:
        """``synthetic`` or ``replay`` (the ``--market`` flag)."""
        return self.market

    @property
    def replay(self) -> bool:
        return self.market == "replay"


@dataclass(frozen=True, slots=True)
class VenueSpec:
    """The simulated venue: ``fake`` or the ``bybit`` dry-run client (whose fields follow ``mode``)."""

    exchange: str = "fake"
    fill_rate: float = 0.7
    reject_rate: float = 0.05
    partial_fill_rate: float = 0.0
    latency_ms: int = 100
    mode: str = "shadow"
    network: bool = False
    api_env: str = "dev"
    rate_limit_capacity: int = 100
    rate_limit_refill: Decimal = Decimal("10")
    fill_model: str | None = None  # None: by the market (queue for a replay, probabilistic otherwise)
    queue_model: str = "risk-averse"
    response_latency_ms: int = 100


@dataclass(frozen=True, slots=True)
class FeeSpec:
    fee_tier: str | None = None
    fee_profiles: Path | None = None
    fee_maker_bps: Decimal | None = None
    fee_taker_bps: Decimal | None = None
    rebate_maker_bps: Decimal | None = None


@dataclass(frozen=True, slots=True)
class RiskSpec:
    max_inv: Decimal = Decimal("10000")
    max_total: Decimal = Decimal("50000")
    edge_threshold: Decimal = Decimal("1.5")
    unfreeze_after_ms: int | None = None
    markout_ms: int = 1000  # replay: the measured edge is the markout of own fills at this horizon
    edge_window: int = 20  # ... over this many recent fills


@dataclass(frozen=True, slots=True)
class StrategySpec:
    """Quoting knobs (:class:`mmexec.engine.strategy.QuotingPolicy`); the defaults join the touch.

    ``order_qty`` (replay): a fixed base quantity per order instead of ``order_notional``.
    """

    requote_bps: Decimal = Decimal("2")
    quote_offset_ticks: int = 0
    skew_bps: Decimal = Decimal("0")
    order_qty: Decimal | None = None


@dataclass(frozen=True, slots=True)
class TimelineSpec:
    """The report's ``timeline`` section (:mod:`mmexec.accounting.timeline`): virtual ms between samples
    (``None``: automatic, about 300 samples for a long run) and the most samples kept."""

    sample_ms: int | None = None
    max_samples: int = 1000


@dataclass(frozen=True, slots=True)
class OutputSpec:
    """Where results go (not part of the report: the same run writes the same bytes anywhere)."""

    out: Path | None = None
    fills_out: Path | None = None
    state: Path | None = None  # the SQLite journal of the run (--state)


_PARTS: dict[str, type[Any]] = {
    "market": MarketSpec,
    "venue": VenueSpec,
    "fees": FeeSpec,
    "risk": RiskSpec,
    "strategy": StrategySpec,
    "timeline": TimelineSpec,
    "output": OutputSpec,
}
_BYBIT_ONLY = ("mode", "api_env", "rate_limit_capacity", "rate_limit_refill")
_NOT_IN_REPORT = ("out", "fills_out", "state")
_REPLAY_ONLY = ("market", "data", "data_format", "instrument", "instruments_file", "fill_model", "queue_model",
                "response_latency_ms", "markout_ms", "edge_window", "order_qty")
_SYNTHETIC_ONLY = ("fill_rate", "reject_rate", "partial_fill_rate", "iterations", "seed", "ref_price", "exchange")
# strategy knobs join the report's config only when set, so reports of runs without them keep their bytes
_SHOWN_WHEN_SET = {"quote_offset_ticks": 0, "skew_bps": Decimal(0)}


def _field_owner() -> dict[str, str]:
    return {f.name: part for part, cls in _PARTS.items() for f in fields(cls)}


FIELD_OWNER = _field_owner()  # flag-named key -> sub-spec


@dataclass(frozen=True, slots=True)
class RunSpec:
    """Everything that determines a run (see the module docstring)."""

    market: MarketSpec = field(default_factory=MarketSpec)
    venue: VenueSpec = field(default_factory=VenueSpec)
    fees: FeeSpec = field(default_factory=FeeSpec)
    risk: RiskSpec = field(default_factory=RiskSpec)
    strategy: StrategySpec = field(default_factory=StrategySpec)
    timeline: TimelineSpec = field(default_factory=TimelineSpec)
    output: OutputSpec = field(default_factory=OutputSpec)

    @classmethod
    def from_settings(cls, values: Mapping[str, Any], *, strict: bool = False) -> RunSpec:
        """Build from flat, flag-named values (e.g. ``RunSettings.model_dump()``).

        Keys that name no field are ignored, or with ``strict`` refused with :class:`TypeError`.
        """
        groups: dict[str, dict[str, Any]] = {part: {} for part in _PARTS}
        unknown = []
        for key, value in values.items():
            part = FIELD_OWNER.get(key)
            if part is None:
                unknown.append(key)
                continue
            groups[part][key] = _coerce(key, value)
        if strict and unknown:
            raise TypeError(f"unknown run option(s): {', '.join(sorted(unknown))}")
        return cls(**{part: _PARTS[part](**kwargs) for part, kwargs in groups.items()})

    def flat(self) -> dict[str, Any]:
        """Every field, flag-named, in one mapping."""
        return {f.name: getattr(getattr(self, part), f.name) for part, cls in _PARTS.items() for f in fields(cls)}

    def replace(self, **changes: Any) -> RunSpec:
        """A copy with flag-named fields changed (``spec.replace(iterations=10, max_inv=5000)``)."""
        return RunSpec.from_settings({**self.flat(), **changes}, strict=True)

    def config_section(self) -> dict[str, Any]:
        """The report's ``config`` section: the effective configuration as flag-named keys.

        A replay's section has the replay keys instead of the synthetic market's and venue's (file names, not
        paths: the same files give the same bytes anywhere); the caller sets the ``symbols`` replayed.
        """
        out = self.flat()
        for key in _NOT_IN_REPORT:
            out.pop(key)
        if self.market.replay:
            return self._replay_section(out)
        for key in _REPLAY_ONLY:
            out.pop(key)
        for key, default in _SHOWN_WHEN_SET.items():
            if out[key] == default:
                out.pop(key)
        out["symbols"] = list(self.market.symbols)
        out["ref_price"] = dict(self.market.ref_price)
        out["fee_profiles"] = str(self.fees.fee_profiles) if self.fees.fee_profiles is not None else None
        if self.venue.exchange != "bybit":
            for key in _BYBIT_ONLY:
                out.pop(key)
        else:
            out.pop("reject_rate")  # the Bybit dry-run refuses orders only for their parameters or the rate limit
        return out

    def _replay_section(self, out: dict[str, Any]) -> dict[str, Any]:
        market = self.market
        for key in (*_SYNTHETIC_ONLY, *_BYBIT_ONLY):
            out.pop(key)
        out["symbols"] = list(market.symbols)
        out["fee_profiles"] = str(self.fees.fee_profiles) if self.fees.fee_profiles is not None else None
        out["data"] = [p.name for p in market.data]
        out["instruments_file"] = market.instruments_file.name if market.instruments_file else None
        out["instrument"] = dict(sorted(market.instrument.items()))
        out["fill_model"] = "queue"
        return out


def _coerce(key: str, value: Any) -> Any:
    if key == "symbols":
        return tuple(value)
    if key == "ref_price":
        return {str(s): to_decimal(p) for s, p in dict(value).items()}
    if key in {"order_notional", "max_inv", "max_total", "edge_threshold", "requote_bps", "skew_bps",
               "rate_limit_refill"} and value is not None:
        return to_decimal(value)
    if key in {"fee_maker_bps", "fee_taker_bps", "rebate_maker_bps"} and value is not None:
        return to_decimal(value)
    if key in {"fee_profiles", "out", "fills_out", "state", "instruments_file"} and value is not None:
        return Path(value)
    if key == "data":
        return tuple(Path(p) for p in value or ())
    if key == "instrument":
        return {str(s): str(g) for s, g in dict(value or {}).items()}
    if key == "order_qty" and value is not None:
        return to_decimal(value)
    return value


__all__ = ["FeeSpec", "MarketSpec", "OutputSpec", "RiskSpec", "RunSpec", "StrategySpec", "TimelineSpec", "VenueSpec"]
