"""The run commands (`shadow`, `bybit-dryrun`): one option set, one implementation, two config tables.

Every option defaults to ``None`` ("not given") so that env vars and the TOML table can fill it; values are
passed to the settings model as text and validated there, so errors name the flag, variable or file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from mmexec.cli.common import new_app

_RUN = "Run"
_RISK = "Risk limits"
_SIM = "Simulated exchange"
_BYBIT = "Bybit dry-run"
_FEES = "Fees"
_OUT = "Output & config"
_REPLAY = "Market data replay"

Text = str | None
# Parameters of the run command that are not settings keys (and the closure's own variables).
_NOT_SETTINGS = frozenset({"fills_out", "out", "config", "progress", "log_level", "table", "command", "summary"})


def _opt(flag: str, help: str, panel: str, metavar: str = "TEXT") -> Any:
    return typer.Option(flag, help=help, rich_help_panel=panel, metavar=metavar, show_default=False)


def build_run_app(table: str, command: str, summary: str) -> typer.Typer:
    """A Typer app with the run command for settings table ``table`` (``shadow`` or ``bybit_dryrun``)."""
    app = new_app(help=summary)

    @app.command(name=command, help=summary)
    def run(
        symbols: Annotated[Text, _opt("--symbols", "Comma-separated symbols [default: BTCUSDT,ETHUSDT]", _RUN, "LIST")] = None,
        iterations: Annotated[Text, _opt("--iterations", "Market steps to simulate [default: 50]", _RUN, "INT")] = None,
        seed: Annotated[Text, _opt("--seed", "Seed of the market and the exchange [default: 42]", _RUN, "INT")] = None,
        quote_interval_ms: Annotated[Text, _opt("--quote-interval-ms", "Virtual ms between steps [default: 100]", _RUN, "INT")] = None,
        order_notional: Annotated[Text, _opt("--order-notional", "USD size of each quote [default: 1000]", _RUN, "USD")] = None,
        requote_bps: Annotated[Text, _opt("--requote-bps", "Replace a resting order when the touch moves further [default: 2]", _RUN, "BPS")] = None,
        ref_price: Annotated[list[str] | None, _opt("--ref-price", "Reference price of a symbol, SYMBOL=PRICE (repeatable)", _RUN, "SYM=PX")] = None,
        max_inv: Annotated[Text, _opt("--max-inv", "Max worst-case inventory per symbol, USD [default: 10000]", _RISK, "USD")] = None,
        max_total: Annotated[Text, _opt("--max-total", "Max worst-case notional over all symbols, USD [default: 50000]", _RISK, "USD")] = None,
        edge_threshold: Annotated[Text, _opt("--edge-threshold", "Freeze when the edge falls below this many bps [default: 1.5]", _RISK, "BPS")] = None,
        unfreeze_after_ms: Annotated[Text, _opt("--unfreeze-after-ms", "Resume this long after a freeze once every edge recovered [default: never]", _RISK, "MS")] = None,
        exchange: Annotated[Text, _opt("--exchange", "fake or bybit (dry-run)", _SIM, "NAME")] = None,
        shadow: Annotated[bool | None, typer.Option("--shadow", help="Shadow mode (the only mode; accepted for the seed's command line)", rich_help_panel=_SIM, show_default=False)] = None,
        fill_rate: Annotated[Text, _opt("--fill-rate", "Probability an order fills, 0..1 [default: 0.7]", _SIM, "RATE")] = None,
        reject_rate: Annotated[Text, _opt("--reject-rate", "Probability an order is rejected, 0..1 [default: 0.05]", _SIM, "RATE")] = None,
        partial_fill_rate: Annotated[Text, _opt("--partial-fill-rate", "Probability a fill comes in two parts, 0..1 [default: 0]", _SIM, "RATE")] = None,
        latency_ms: Annotated[Text, _opt("--latency-ms", "Virtual ms from placement to fill; replay: order entry latency, local -> venue [default: 100]", _SIM, "MS")] = None,
        market: Annotated[Text, _opt("--market", "synthetic (random walk) or replay (recorded data, --data) [default: synthetic]", _REPLAY, "KIND")] = None,
        data: Annotated[list[str] | None, _opt("--data", "Market capture to replay: Binance or Bybit, .gz/.zip/plain (repeatable)", _REPLAY, "FILE")] = None,
        data_format: Annotated[Text, _opt("--data-format", "auto, binance-usdm, binance-spot or bybit [default: auto]", _REPLAY, "FMT")] = None,
        instrument: Annotated[list[str] | None, _opt("--instrument", "Tick and lot size of a symbol, SYMBOL=TICK/LOT (repeatable)", _REPLAY, "SYM=T/L")] = None,
        instruments_file: Annotated[Text, _opt("--instruments-file", "Bybit instruments-info response (JSON) with tick and lot sizes", _REPLAY, "FILE")] = None,
        fill_model: Annotated[Text, _opt("--fill-model", "queue (replay) or probabilistic (synthetic) [default: by --market]", _REPLAY, "MODEL")] = None,
        queue_model: Annotated[Text, _opt("--queue-model", "Depth decreases not explained by trades: risk-averse or proportional [default: risk-averse]", _REPLAY, "MODEL")] = None,
        response_latency_ms: Annotated[Text, _opt("--response-latency-ms", "Venue -> strategy latency of fills and rejects [default: 100]", _REPLAY, "MS")] = None,
        markout_ms: Annotated[Text, _opt("--markout-ms", "Markout horizon of the measured edge [default: 1000]", _REPLAY, "MS")] = None,
        edge_window: Annotated[Text, _opt("--edge-window", "Fills in the rolling measured edge [default: 20]", _REPLAY, "INT")] = None,
        quote_offset_ticks: Annotated[Text, _opt("--quote-offset-ticks", "Quote this many ticks behind the touch [default: 0]", _REPLAY, "INT")] = None,
        skew_bps: Annotated[Text, _opt("--skew-bps", "Shift both quotes against the position, bps at full --max-inv [default: 0]", _REPLAY, "BPS")] = None,
        order_qty: Annotated[Text, _opt("--order-qty", "Fixed base quantity per order (instead of --order-notional)", _REPLAY, "QTY")] = None,
        mode: Annotated[Text, _opt("--mode", "Bybit adapter mode: shadow or dryrun [default: shadow]", _BYBIT, "MODE")] = None,
        network: Annotated[bool | None, typer.Option("--network/--no-network", help="Network access (refused: dry-run only) [default: --no-network]", rich_help_panel=_BYBIT, show_default=False)] = None,
        api_env: Annotated[Text, _opt("--api-env", "Credentials environment: dev, shadow, soak, prod [default: dev]", _BYBIT, "ENV")] = None,
        rate_limit_capacity: Annotated[Text, _opt("--rate-limit-capacity", "Token-bucket capacity [default: 100]", _BYBIT, "INT")] = None,
        rate_limit_refill: Annotated[Text, _opt("--rate-limit-refill", "Token-bucket refill, tokens/s [default: 10]", _BYBIT, "RATE")] = None,
        fee_tier: Annotated[Text, _opt("--fee-tier", "VIP0, VIP1, VIP2, VIP3 or MM_Tier_A for every symbol", _FEES, "TIER")] = None,
        fee_profiles: Annotated[Text, _opt("--fee-profiles", "Per-symbol fee profiles (.json or .toml)", _FEES, "FILE")] = None,
        fee_maker_bps: Annotated[Text, _opt("--fee-maker-bps", "Fallback maker fee, bps", _FEES, "BPS")] = None,
        fee_taker_bps: Annotated[Text, _opt("--fee-taker-bps", "Fallback taker fee, bps", _FEES, "BPS")] = None,
        rebate_maker_bps: Annotated[Text, _opt("--rebate-maker-bps", "Fallback maker rebate, bps", _FEES, "BPS")] = None,
        fills_out: Annotated[Path | None, typer.Option("--fills-out", help="Also write the run's fills (JSON Lines) for `mmexec fees --fills`", rich_help_panel=_OUT, show_default=False, dir_okay=False)] = None,
        out: Annotated[Path | None, typer.Option("--out", help="Write the report to this file (atomically) instead of stdout", rich_help_panel=_OUT, show_default=False, dir_okay=False)] = None,
        config: Annotated[Path | None, typer.Option("--config", help="TOML config file [default: $MMEXEC_CONFIG or ./mmexec.toml]", rich_help_panel=_OUT, show_default=False, dir_okay=False)] = None,
        progress: Annotated[bool | None, typer.Option("--progress/--no-progress", help="Progress bar on stderr [default: when stderr is a terminal and the run is long]", rich_help_panel=_OUT, show_default=False)] = None,
        log_level: Annotated[Text, _opt("--log-level", "JSON log lines on stderr from this level: debug, info, warning, error [default: warning]", _OUT, "LEVEL")] = None,
    ) -> None:
        flags = {k: v for k, v in locals().items() if k not in _NOT_SETTINGS}
        for key in ("ref_price", "data", "instrument"):
            if flags.get(key) == []:
                flags[key] = None
        from mmexec.cli.run_impl import execute_run
        from mmexec.logs import configure_logging

        configure_logging(log_level)
        execute_run(table, flags, config=config, out=out, fills_out=fills_out, progress=progress)

    return app
