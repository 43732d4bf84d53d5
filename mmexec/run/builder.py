"""Wiring one run from a :class:`RunSpec`: clock, venue, order store, risk, loop, accounting; and running it.

This is the library behind ``mmexec shadow`` and ``mmexec bybit-dryrun``. It reads no environment and prints
nothing: the caller passes the time to stamp (``utc``), the secret provider for Bybit, and any listeners.
The virtual timeline starts at :data:`VIRTUAL_EPOCH_MS` (2025-01-01T00:00:00Z) whatever ``utc`` says, so every
virtual timestamp (fills files, Bybit request times) is a function of the spec alone.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mmexec.accounting.ledger import FeeLedger
from mmexec.accounting.pnl import PnlTracker
from mmexec.accounting.recon import reconcile
from mmexec.accounting.timeline_feed import LoopTimeline
from mmexec.engine.clock import VirtualClock
from mmexec.engine.loop import ExecutionLoop
from mmexec.engine.order_store import InMemoryOrderStore
from mmexec.engine.params import ExecutionParams
from mmexec.engine.ports import FillListener, ProgressCallback, RiskListener, Venue
from mmexec.engine.risk import RuntimeRiskMonitor
from mmexec.engine.strategy import QuotingPolicy
from mmexec.errors import ConfigError, RefusedError
from mmexec.fees.resolve import FeeConfig, resolve_fee_config
from mmexec.run.result import RunResult, Section, Sections
from mmexec.run.spec import RunSpec

if TYPE_CHECKING:
    from mmexec.run.replay import ReplayDriver, ReplayMarket

VIRTUAL_EPOCH_MS = 1_735_689_600_000  # 2025-01-01T00:00:00Z: where every run's virtual clock starts
NETWORK_REFUSED = (
    "network mode is not available: mmexec only simulates (shadow / dry-run); no request ever leaves this "
    "machine. Use --no-network (the default)"
)
log = logging.getLogger("mmexec.bybit")


def utc_now_iso() -> str:
    """The wall clock as ``YYYY-MM-DDTHH:MM:SSZ``: only ever used for ``runtime.utc``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_venue(spec: RunSpec, clock: VirtualClock, secret_provider: Any = None,
                market: ReplayMarket | None = None) -> Venue:
    """The simulated venue of ``spec`` on the run's ``clock`` (``--network`` is refused); a replay's is the
    queue venue over the books of its ``market``."""
    venue = spec.venue
    if venue.network:
        raise RefusedError(NETWORK_REFUSED, source="--network")
    if market is not None:
        from mmexec.exchanges.queue import QueueVenue

        return QueueVenue(market.books, market.grids(), clock=clock, latency_ms=venue.latency_ms,
                          response_latency_ms=venue.response_latency_ms, queue_model=venue.queue_model)
    if venue.exchange == "fake":
        from mmexec.exchanges.fake import FakeExchangeClient

        return FakeExchangeClient(fill_rate=venue.fill_rate, reject_rate=venue.reject_rate,
                                  latency_ms=venue.latency_ms, partial_fill_rate=venue.partial_fill_rate,
                                  seed=spec.market.seed, clock=clock)
    if venue.exchange == "bybit":
        return _bybit_client(spec, clock, secret_provider)
    raise ConfigError(f"unknown exchange {venue.exchange!r} (expected fake or bybit)", source="--exchange")


def _bybit_client(spec: RunSpec, clock: VirtualClock, secret_provider: Any) -> Venue:
    """The dry-run client. Credentials: ``secret_provider``, else ``BYBIT_API_KEY`` / ``BYBIT_API_SECRET``.

    ``reject_rate`` is not simulated: a Bybit dry-run order is refused only for what the real API would
    refuse (its parameters, the rate limit).
    """
    from mmexec.exchanges.bybit.client import BybitRestClient
    from mmexec.logs import log_event

    if secret_provider is None:
        from mmexec.secrets.provider import SecretProvider

        secret_provider = SecretProvider(backend="env")
    venue = spec.venue
    client = BybitRestClient(secret_provider, api_env=venue.api_env, network_enabled=venue.network,
                             fill_rate=venue.fill_rate, fill_latency_ms=venue.latency_ms, seed=spec.market.seed,
                             mode=venue.mode, partial_fill_rate=venue.partial_fill_rate,
                             rate_limit_capacity=venue.rate_limit_capacity,
                             rate_limit_refill=venue.rate_limit_refill, clock=clock)
    if venue.reject_rate:
        log_event(log, logging.INFO, "bybit_option_not_simulated", option="reject_rate", value=venue.reject_rate,
                  reason="Bybit dry-run refuses orders only for their parameters and the rate limit")
    return client


def execution_params(spec: RunSpec, utc: str | None) -> ExecutionParams:
    market, risk = spec.market, spec.risk
    return ExecutionParams(
        symbols=list(market.symbols),
        iterations=market.iterations,
        seed=market.seed,
        quote_interval_ms=market.quote_interval_ms,
        order_notional_usd=market.order_notional,
        requote_bps=spec.strategy.requote_bps,
        unfreeze_after_ms=risk.unfreeze_after_ms,
        ref_prices=dict(market.ref_price),
        utc=utc,
    )


@dataclass
class Run:
    """The assembled components of one run (exposed for tests and custom drivers)."""

    spec: RunSpec
    utc: str
    clock: VirtualClock
    exchange: Venue
    order_store: InMemoryOrderStore
    risk_monitor: RuntimeRiskMonitor
    loop: ExecutionLoop
    fee_config: FeeConfig
    ledger: FeeLedger
    pnl: PnlTracker
    timeline: LoopTimeline
    replay: ReplayDriver | None = None  # the driver of a replay of recorded market data

    def params(self) -> ExecutionParams:
        return execution_params(self.spec, self.utc)

    def drive(self, *, progress: ProgressCallback | None = None) -> None:
        """Run it: the loop steps the synthetic market, or the replay driver feeds the recorded events."""
        if self.replay is not None:
            self.replay.run()
        else:
            self.loop.run(self.params(), progress=progress)

    def result(self) -> RunResult:
        """The run's report parts, each computed from the component that owns it."""
        spec, loop, ledger, pnl, replay = self.spec, self.loop, self.ledger, self.pnl, self.replay
        symbols = list(spec.market.symbols)
        if replay is None:
            config = Section("config", spec.config_section)
            core = Sections(lambda: _core_sections(loop, self.params()))
            marks: Any = lambda: {s: m for s, m in loop.last_mids(symbols).items() if m is not None}  # noqa: E731
        else:
            config = Section("config", lambda: {**spec.config_section(), "symbols": list(replay.market.symbols)})
            core = Sections(lambda: replay.core_sections(self.utc))
            marks = replay.marks
        parts: list[Any] = [
            config,
            core,
            Section("fees", ledger.section),
            Section("pnl", lambda: pnl.section(marks(), ledger.fees_by_symbol(), ledger.rebates_by_symbol())),
            Section("recon", lambda: reconcile(
                self.order_store, self.exchange, fee_ledger=ledger, fee_schedule=self.fee_config.fee_schedule,
                profile_map=self.fee_config.profile_map).to_dict()),
        ]
        if replay is not None:
            parts += [Section("market", replay.market_section), Section("markout", replay.markout.section)]
        extension = getattr(self.exchange, "report_section", None)
        if callable(extension):
            parts.append(Sections(extension))
        parts.append(Section("timeline", self.timeline.section))
        return RunResult(parts)


def _core_sections(loop: ExecutionLoop, params: ExecutionParams) -> dict[str, Any]:
    from mmexec.engine.report import build_core_report

    return build_core_report(loop, params)


def build_run(spec: RunSpec, *, utc: str, secret_provider: Any = None,
              fill_listeners: Sequence[FillListener] = (), risk_listeners: Sequence[RiskListener] = (),
              config_sources: Mapping[str, str] | None = None, order_store: InMemoryOrderStore | None = None,
              live_source: Any = None) -> Run:
    """Assemble one run. ``config_sources`` (setting -> origin) only improves error messages; ``order_store``
    replaces the default in-memory store (e.g. the journal's). A live market (``--market bybit-live``) is built
    by :class:`mmexec.run.live.LiveSession` around its ``live_source`` once the first event arrived; it is
    then driven exactly like a replay of its recording.

    A replay (``spec.market.market == "replay"``) has its inputs checked here, before any work: files, formats,
    symbols, instruments. Its clock starts at the first event's receive time; its venue is the
    queue venue, its quotes never cross the touch (post-only), and the measured markout of its own fills is the
    edge the kill switch watches.
    """
    fees = spec.fees
    fee_config = resolve_fee_config(fees.fee_tier, fees.fee_profiles, fees.fee_maker_bps, fees.fee_taker_bps,
                                    fees.rebate_maker_bps, sources=config_sources)
    market = _replay_market(spec, config_sources, live_source)
    clock = VirtualClock(VIRTUAL_EPOCH_MS if market is None else market.start_ms)
    exchange = build_venue(spec, clock, secret_provider, market)
    store = order_store if order_store is not None else InMemoryOrderStore()
    risk = RuntimeRiskMonitor(spec.risk.max_inv, spec.risk.max_total, spec.risk.edge_threshold)
    strategy = spec.strategy
    policy = QuotingPolicy(requote_bps=strategy.requote_bps, quote_offset_ticks=strategy.quote_offset_ticks,
                           skew_bps=strategy.skew_bps, max_inventory_usd=spec.risk.max_inv,
                           never_cross=market is not None)
    loop = ExecutionLoop(exchange, store, risk, clock=clock, policy=policy)
    ledger = FeeLedger.for_config(fee_config)  # its section carries the fee setup under "schedule"
    pnl = PnlTracker()
    loop.add_tick_listener(ledger)
    loop.add_tick_listener(pnl)
    loop.fill_listeners.extend(fill_listeners)
    loop.risk_listeners.extend(risk_listeners)
    replay = None if market is None else _replay_driver(spec, market, exchange, loop, fee_config)
    m = spec.market
    timeline = LoopTimeline.attach(loop, ledger, pnl, m.symbols if market is None else market.symbols,
                                   step_ms=m.quote_interval_ms,
                                   run_ms=m.iterations * m.quote_interval_ms if market is None else None,
                                   sample_ms=spec.timeline.sample_ms, max_samples=spec.timeline.max_samples)
    if replay is not None:
        replay.market_listeners.append(timeline.on_market_event)  # gaps, resyncs, crossed books
    return Run(spec, utc, clock, exchange, store, risk, loop, fee_config, ledger, pnl, timeline, replay)


def _replay_market(spec: RunSpec, config_sources: Mapping[str, str] | None,
                   live_source: Any = None) -> ReplayMarket | None:
    from mmexec.run.replay import ReplayMarket, open_source, refuse_queue_model_without_data

    if spec.market.live:
        if live_source is None:
            raise ConfigError("a live market is run by mmexec.run.live.LiveSession", source="--market")
        return ReplayMarket(live_source, spec.strategy.order_qty, spec.market.order_notional)
    if not spec.market.replay:
        refuse_queue_model_without_data(spec)
        return None
    return ReplayMarket(open_source(spec, config_sources), spec.strategy.order_qty, spec.market.order_notional)


def _replay_driver(spec: RunSpec, market: ReplayMarket, venue: Venue, loop: ExecutionLoop,
                   fee_config: FeeConfig) -> ReplayDriver:
    from mmexec.accounting.markout import MarkoutTracker
    from mmexec.exchanges.queue import QueueVenue
    from mmexec.run.replay import ReplayDriver, maker_fee_bps

    driver = getattr(market.source, "driver_class", ReplayDriver)  # the live source brings its own subclass
    assert isinstance(venue, QueueVenue)
    markout = MarkoutTracker(market.symbols, market.tick_sizes(), maker_fee_bps(fee_config, market.symbols),
                             markout_ms=spec.risk.markout_ms, edge_window=spec.risk.edge_window,
                             on_edge=loop.on_edge_update)
    venue.execution_listeners.append(markout.on_execution)
    return driver(spec, market, venue, loop, markout)


def run_spec(spec: RunSpec, *, utc: str | None = None, secret_provider: Any = None,
             fill_listeners: Sequence[FillListener] = (), risk_listeners: Sequence[RiskListener] = (),
             progress: ProgressCallback | None = None, config_sources: Mapping[str, str] | None = None) -> RunResult:
    """Run one session; ``utc`` stamps ``runtime.utc`` (default: the wall clock, the only value that sees it)."""
    run = build_run(spec, utc=utc or utc_now_iso(), secret_provider=secret_provider, fill_listeners=fill_listeners,
                    risk_listeners=risk_listeners, config_sources=config_sources)
    run.drive(progress=progress)
    return run.result()


def run_session(spec: RunSpec, **options: Any) -> dict[str, Any]:
    """:func:`run_spec`, returning the report with exact ``Decimal`` values (see :mod:`mmexec.canonical`)."""
    return run_spec(spec, **options).to_report()


__all__ = ["VIRTUAL_EPOCH_MS", "Run", "build_run", "build_venue", "run_session", "run_spec", "utc_now_iso"]
