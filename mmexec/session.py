"""One shadow / dry-run session: wire market, exchange, order store, risk and loop; return the report.

This is the library behind ``mmexec shadow`` and ``mmexec bybit-dryrun`` (and the seed's
:func:`run_shadow_demo`). It reads no environment and prints nothing: the caller passes the time to
stamp (``utc``) and, for Bybit, a :class:`~mmexec.secrets.provider.SecretProvider`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from mmexec.engine.clock import VirtualClock
from mmexec.engine.loop import ExecutionLoop, ExecutionParams, FillListener, ProgressCallback
from mmexec.engine.models import Number, to_decimal
from mmexec.engine.order_store import InMemoryOrderStore
from mmexec.engine.report import utc_now_iso
from mmexec.engine.risk import RuntimeRiskMonitor
from mmexec.errors import ConfigError, RefusedError
from mmexec.exchanges.base import IExchangeClient
from mmexec.exchanges.fake import FakeExchangeClient
from mmexec.fees.ledger import FeeLedger
from mmexec.fees.resolve import resolve_fee_config
from mmexec.pnl import PnlTracker
from mmexec.recon import reconcile

NETWORK_REFUSED = (
    "network mode is not available: mmexec only simulates (shadow / dry-run); no request ever leaves this "
    "machine. Use --no-network (the default)"
)
_BYBIT_ONLY = ("mode", "api_env", "rate_limit_capacity", "rate_limit_refill")
_REPLAY_ONLY = ("market", "data", "data_format", "instrument", "instruments_file", "fill_model", "queue_model",
                "response_latency_ms", "markout_ms", "edge_window", "quote_offset_ticks", "skew_bps", "order_qty")


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines a run's report. Keys are the CLI's long flag names (``--max-inv`` -> max_inv)."""

    symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT")
    iterations: int = 50
    seed: int = 42
    quote_interval_ms: int = 100
    order_notional: Decimal = Decimal("1000")
    requote_bps: Decimal = Decimal("2")
    ref_price: Mapping[str, Decimal] = field(default_factory=dict)
    max_inv: Decimal = Decimal("10000")
    max_total: Decimal = Decimal("50000")
    edge_threshold: Decimal = Decimal("1.5")
    unfreeze_after_ms: int | None = None
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
    fee_tier: str | None = None
    fee_profiles: Path | None = None
    fee_maker_bps: Decimal | None = None
    fee_taker_bps: Decimal | None = None
    rebate_maker_bps: Decimal | None = None
    # market data replay (issue #11); echoed in the report only when market = replay
    market: str = "synthetic"
    data: tuple[Path, ...] = ()
    data_format: str = "auto"
    instrument: Mapping[str, str] = field(default_factory=dict)
    instruments_file: Path | None = None
    fill_model: str | None = None
    queue_model: str = "risk-averse"
    response_latency_ms: int = 100
    markout_ms: int = 1000
    edge_window: int = 20
    quote_offset_ticks: int = 0
    skew_bps: Decimal = Decimal(0)
    order_qty: Decimal | None = None

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> RunConfig:
        """Build from settings (e.g. ``RunSettings.model_dump()``); unknown keys are ignored."""
        names = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in values.items() if k in names}
        if "symbols" in kwargs:
            kwargs["symbols"] = tuple(kwargs["symbols"])
        if "data" in kwargs:
            kwargs["data"] = tuple(Path(p) for p in kwargs["data"] or ())
        return cls(**kwargs)

    def execution_params(self, utc: str | None) -> ExecutionParams:
        return ExecutionParams(
            symbols=list(self.symbols),
            iterations=self.iterations,
            max_inventory_usd_per_symbol=self.max_inv,
            max_total_notional_usd=self.max_total,
            edge_freeze_threshold_bps=self.edge_threshold,
            seed=self.seed,
            quote_interval_ms=self.quote_interval_ms,
            order_notional_usd=self.order_notional,
            requote_bps=self.requote_bps,
            unfreeze_after_ms=self.unfreeze_after_ms,
            ref_prices=dict(self.ref_price),
            utc=utc,
        )

    def report_section(self) -> dict[str, Any]:
        """The effective configuration, as flag-named keys: enough to reproduce the run."""
        out = asdict(self)
        out["symbols"] = list(self.symbols)
        out["ref_price"] = dict(self.ref_price)
        out["fee_profiles"] = str(self.fee_profiles) if self.fee_profiles is not None else None
        if self.exchange != "bybit":
            for key in _BYBIT_ONLY:
                out.pop(key)
        else:
            out.pop("reject_rate")  # the Bybit dry-run refuses orders only for their parameters or the rate limit
        if self.market == "replay":
            from mmexec.run.replay import replay_config_section

            return replay_config_section(self, out)
        for key in _REPLAY_ONLY:
            out.pop(key)
        return out


def utc_to_epoch_ms(utc: str) -> int:
    return int(datetime.fromisoformat(utc.replace("Z", "+00:00")).astimezone(UTC).timestamp() * 1000)


def build_exchange(config: RunConfig, clock: VirtualClock, secret_provider: Any = None) -> IExchangeClient:
    if config.network:
        raise RefusedError(NETWORK_REFUSED, source="--network")
    if config.exchange == "fake":
        return FakeExchangeClient(
            fill_rate=config.fill_rate,
            reject_rate=config.reject_rate,
            latency_ms=config.latency_ms,
            partial_fill_rate=config.partial_fill_rate,
            seed=config.seed,
            clock=clock,
        )
    if config.exchange == "bybit":
        from mmexec.exchanges.bybit.session import build_bybit_client

        return build_bybit_client(config, clock, secret_provider)
    raise ConfigError(f"unknown exchange {config.exchange!r} (expected fake or bybit)", source="--exchange")


@dataclass
class Session:
    """The assembled components of one run (exposed for tests and custom drivers)."""

    config: RunConfig
    clock: VirtualClock
    exchange: IExchangeClient
    order_store: InMemoryOrderStore
    risk_monitor: RuntimeRiskMonitor
    loop: ExecutionLoop
    sections: list[Callable[[dict[str, Any]], None]] = field(default_factory=list)


def build_session(config: RunConfig, *, utc: str, secret_provider: Any = None,
                  fill_listeners: Sequence[FillListener] = (),
                  config_sources: Mapping[str, str] | None = None) -> Session:
    """Assemble one run. ``config_sources`` (setting -> origin) only improves error messages."""
    fee_config = resolve_fee_config(
        config.fee_tier, config.fee_profiles, config.fee_maker_bps, config.fee_taker_bps, config.rebate_maker_bps,
        sources=config_sources,
    )
    clock = VirtualClock(utc_to_epoch_ms(utc))
    exchange = build_exchange(config, clock, secret_provider)
    store = InMemoryOrderStore()
    risk = RuntimeRiskMonitor(config.max_inv, config.max_total, config.edge_threshold)
    loop = ExecutionLoop(exchange, store, risk, clock=clock)
    ledger = fee_config.ledger()  # its section carries the fee setup under "schedule"
    pnl = PnlTracker()
    loop.fill_listeners.extend([ledger.record, pnl.on_fill, *fill_listeners])
    session = Session(config, clock, exchange, store, risk, loop)
    session.sections.append(lambda report: _money_sections(report, ledger, pnl))
    session.sections.append(lambda report: report.update(recon=reconcile(
        store, exchange, fee_ledger=ledger, fee_schedule=fee_config.fee_schedule,
        profile_map=fee_config.profile_map).to_dict()))
    extension = getattr(exchange, "report_section", None)
    if callable(extension):
        session.sections.append(lambda report: report.update(extension()))
    return session


def _money_sections(report: dict[str, Any], ledger: FeeLedger, pnl: PnlTracker) -> None:
    """Add ``fees`` (with the fee setup that priced them) and ``pnl`` (marked at each symbol's last mid)."""
    report["fees"] = ledger.section()
    last_mids = report["positions"]["last_mid"]
    report["pnl"] = pnl.section(last_mids, ledger.fees_by_symbol(), ledger.rebates_by_symbol())


def run_session(
    config: RunConfig,
    *,
    utc: str | None = None,
    secret_provider: Any = None,
    fill_listeners: Sequence[FillListener] = (),
    progress: ProgressCallback | None = None,
    config_sources: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Run one session and return its report with exact ``Decimal`` values (see :mod:`mmexec.canonical`)."""
    stamp = utc or utc_now_iso()
    if config.market == "replay":
        from mmexec.run.replay import run_replay

        return run_replay(config, utc=stamp, fill_listeners=fill_listeners, config_sources=config_sources)
    if config.fill_model == "queue":
        raise ConfigError("the queue fill model needs recorded market data: add --market replay --data FILE",
                          source="--fill-model")
    session = build_session(config, utc=stamp, secret_provider=secret_provider, fill_listeners=fill_listeners,
                            config_sources=config_sources)
    report = session.loop.run(config.execution_params(stamp), progress=progress)
    report["config"] = config.report_section()
    for add_section in session.sections:
        add_section(report)
    return report


def run_shadow_demo(
    symbols: Sequence[str] = ("BTCUSDT", "ETHUSDT"),
    iterations: int = 50,
    max_inventory_usd_per_symbol: Number = 10000.0,
    max_total_notional_usd: Number = 50000.0,
    edge_freeze_threshold_bps: Number = 1.5,
    fill_rate: float = 0.7,
    reject_rate: float = 0.05,
    latency_ms: int = 100,
    partial_fill_rate: float = 0.0,
    seed: int = 42,
    *,
    utc: str | None = None,
    **options: Any,
) -> str:
    """The seed's entry point: run a shadow session and return the canonical JSON report (text).

    ``utc`` stamps ``runtime.utc``; without it, ``MM_FREEZE_UTC_ISO`` does (as the seed documents; malformed ->
    :class:`~mmexec.errors.ConfigError`), else the current time. Further keyword options are
    :class:`RunConfig` fields (``exchange``, ``quote_interval_ms``, ``fee_tier`` ...).
    """
    from mmexec.canonical import dumps_str
    from mmexec.config.runtime import frozen_utc

    utc = utc or frozen_utc()

    config = replace(
        RunConfig.from_mapping(options),
        symbols=tuple(symbols),
        iterations=iterations,
        max_inv=to_decimal(max_inventory_usd_per_symbol),
        max_total=to_decimal(max_total_notional_usd),
        edge_threshold=to_decimal(edge_freeze_threshold_bps),
        fill_rate=fill_rate,
        reject_rate=reject_rate,
        latency_ms=latency_ms,
        partial_fill_rate=partial_fill_rate,
        seed=seed,
    )
    return dumps_str(run_session(config, utc=utc, secret_provider=options.get("secret_provider")))
