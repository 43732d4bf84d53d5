"""Settings of the run commands: ``[shadow]`` (``MMEXEC_SHADOW__*``), ``[bybit_dryrun]`` (``MMEXEC_BYBIT_DRYRUN__*``).

Keys are the long flag names with ``-`` -> ``_``. Money and bps are ``Decimal`` (exact from the text the
operator typed); probabilities are floats in [0, 1].

This class is the ONE place where a run key is declared: its type, default, bounds, help text, ``--help`` panel
and metavar. The command line (``mmexec.cli.run_command``), the TOML table, the environment variables,
``config show`` and ``--show-config`` are all derived from it. To add a run key (``market``, ``latency_ms``, ...):
add one field below with ``key(default, "help", PANEL, "METAVAR", ...constraints)``; nothing else changes.
Bounds are documented in docs/configuration.md ("Value bounds"): money fits comfortably, bps stay within ±10,000
and every integer fits in 64 bits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from mmexec.config.base import TableSettings
from mmexec.config.values import MAX_BPS, MAX_INT64, MAX_MS, MAX_USD, Bps, Money, Rate, RefPrice

_SYMBOL = re.compile(r"^[A-Z0-9]{2,30}$")
SYMBOL_RULE = "2-30 of A-Z, 0-9, like BTCUSDT"

# --help panels (topics), in the order they are listed.
RUN, RISK, EXCHANGE, FEES, REPLAY, LIVE, STATE, OUTPUT = (
    "Run", "Risk", "Exchange", "Fees", "Market data replay", "Live market data", "State journal", "Output",
)
PANELS = (RUN, RISK, EXCHANGE, FEES, REPLAY, LIVE, STATE, OUTPUT)

ApiEnv = Literal["dev", "shadow", "soak", "prod"]
ExchangeName = Literal["fake", "bybit"]
MarketKind = Literal["synthetic", "replay", "bybit-live"]
DataFormat = Literal["auto", "binance-usdm", "binance-spot", "bybit"]
FillModel = Literal["queue", "probabilistic"]
QueueModel = Literal["risk-averse", "proportional"]

# Keys that only one exchange reads; giving one to the other exchange is refused (see ``foreign_keys``).
FAKE_ONLY = frozenset({"reject_rate"})
BYBIT_ONLY = frozenset({"mode", "api_env", "rate_limit_capacity", "rate_limit_refill"})
# Keys that only a replay of recorded market data reads, and keys of the synthetic market a replay does not read.
REPLAY_ONLY = frozenset({"data", "data_format", "instrument", "instruments_file", "queue_model", "response_latency_ms",
                         "markout_ms", "edge_window", "order_qty"})
SYNTHETIC_ONLY = frozenset({"iterations", "seed", "ref_price", "fill_rate", "reject_rate", "partial_fill_rate"})
# Keys that only the live market (``--market bybit-live``) reads; of the replay keys it reads all but the files.
LIVE_ONLY = frozenset({"ws_url", "duration", "stale_after_ms", "queue_size", "record"})
FILES_ONLY = frozenset({"data", "data_format"})
MAINNET_LINEAR_URL = "wss://stream.bybit.com/v5/public/linear"  # = mmexec.marketdata.live.protocol's


def key(
    default: Any = None,
    help: str = "",
    panel: str = RUN,
    metavar: str = "TEXT",
    *,
    shown: str | None = None,
    flag: str | None = None,
    multiple: bool = False,
    **constraints: Any,
) -> Any:
    """A settings field with its command-line presentation.

    ``shown`` replaces the default in ``--help`` (e.g. "never"); ``flag`` overrides the option declaration (for
    booleans, e.g. ``--network/--no-network``); ``multiple`` makes the option repeatable.
    """
    extra: dict[str, Any] = {"panel": panel, "metavar": metavar, "multiple": multiple}
    if shown is not None:
        extra["shown"] = shown
    if flag is not None:
        extra["flag"] = flag
    if callable(default):
        return Field(default_factory=default, description=help, json_schema_extra=extra, **constraints)
    return Field(default, description=help, json_schema_extra=extra, **constraints)


def _split_csv(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [part.strip() for item in value for part in item.split(",") if part.strip()]
    return value


def check_symbol(raw: Any) -> str:
    """An exchange symbol: ASCII letters and digits only (no Unicode case folding into ASCII), upper-cased."""
    if not isinstance(raw, str):
        raise ValueError(f"bad symbol {raw!r} (expected text: {SYMBOL_RULE})")
    text = raw.strip()
    if not text.isascii() or not _SYMBOL.match(text.upper()):
        raise ValueError(f"bad symbol {text!r} (expected {SYMBOL_RULE})")
    return text.upper()


def _price(sym: str, raw: Any) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float, Decimal)):
        raise ValueError(f"reference price of {sym} must be a number, got {raw!r}")
    try:
        return Decimal(str(raw).strip())
    except InvalidOperation:
        raise ValueError(f"reference price of {sym} must be a number, got {raw!r}") from None


def _pairs(value: Any) -> Iterable[tuple[Any, Any]]:
    if isinstance(value, dict):
        return value.items()
    if isinstance(value, list):
        pairs = []
        for item in value:
            if not isinstance(item, str):
                raise ValueError(f"expected SYMBOL=PRICE, got {item!r}")
            sym, sep, price = item.partition("=")
            if not sep:
                raise ValueError(f"expected SYMBOL=PRICE, got {item!r}")
            pairs.append((sym, price))
        return pairs
    raise ValueError(f"expected SYMBOL=PRICE pairs or a table like {{ SOLUSDT = 140 }}, got {value!r}")


class RunSettings(TableSettings):
    """Everything a shadow / dry-run session needs. Shared by ``shadow`` and ``bybit-dryrun``."""

    # --- market & run shape -------------------------------------------------------------------
    symbols: Annotated[list[str], NoDecode] = key(
        lambda: ["BTCUSDT", "ETHUSDT"], "Comma-separated symbols", RUN, "LIST", shown="BTCUSDT,ETHUSDT"
    )
    iterations: int = key(50, "Market steps; each step quotes every symbol once", RUN, "INT", ge=0, le=1_000_000_000)
    seed: int = key(42, "Seed of the synthetic market and of the simulated exchange", RUN, "INT", ge=0, le=MAX_INT64)
    quote_interval_ms: int = key(100, "Virtual ms between market steps", RUN, "MS", ge=1, le=86_400_000)
    order_notional: Decimal = key(
        Decimal("1000"), "USD size of each quote", RUN, "USD",
        gt=0, le=MAX_USD, decimal_places=8, allow_inf_nan=False,
    )
    requote_bps: Decimal = key(
        Decimal("2"), "Replace a resting order when the touch moves further than this", RUN, "BPS",
        ge=0, le=MAX_BPS, decimal_places=6, allow_inf_nan=False,
    )
    ref_price: Annotated[dict[str, RefPrice], NoDecode] = key(
        dict, "Reference price of a symbol, SYMBOL=PRICE (repeatable, or comma-separated)", RUN, "SYM=PX",
        shown="built-in", multiple=True,
    )
    # --- risk -----------------------------------------------------------------------------------
    max_inv: Money = key(Decimal("10000"), "Max worst-case inventory per symbol, USD", RISK, "USD")
    max_total: Money = key(Decimal("50000"), "Max worst-case notional over all symbols, USD", RISK, "USD")
    edge_threshold: Bps = key(Decimal("1.5"), "Freeze when a symbol's edge falls below this many bps", RISK, "BPS")
    unfreeze_after_ms: int | None = key(
        None, "Resume this long after a freeze once every edge recovered", RISK, "MS", shown="never", ge=0, le=MAX_MS
    )
    # --- exchange (fake = simulated; bybit = the V5 dry-run client) --------------------------------
    exchange: ExchangeName = key("fake", "fake or bybit (dry-run)", EXCHANGE, "NAME")
    shadow: bool = key(True, "Shadow mode (the only mode; accepted for older command lines)", EXCHANGE,
                       flag="--shadow", shown="")
    fill_rate: Rate = key(0.7, "Probability an order fills, 0..1", EXCHANGE, "RATE")
    reject_rate: Rate = key(0.05, "Probability an order is rejected, 0..1 (fake exchange only)", EXCHANGE, "RATE")
    partial_fill_rate: Rate = key(0.0, "Probability a fill comes in two parts, 0..1", EXCHANGE, "RATE")
    latency_ms: int = key(100, "Virtual ms from placement to fill; replay: order entry latency", EXCHANGE, "MS",
                          ge=0, le=86_400_000)
    mode: Literal["shadow", "dryrun"] = key("shadow", "Bybit adapter mode: shadow or dryrun (bybit only)",
                                            EXCHANGE, "MODE")
    network: bool = key(False, "Network access (refused: dry-run only)", EXCHANGE,
                        flag="--network/--no-network", shown="--no-network")
    api_env: ApiEnv = key("dev", "Credentials environment: dev, shadow, soak, prod (bybit only)", EXCHANGE, "ENV")
    rate_limit_capacity: int = key(100, "Token-bucket capacity (bybit only)", EXCHANGE, "INT", ge=1, le=1_000_000)
    rate_limit_refill: Decimal = key(
        Decimal("10"), "Token-bucket refill, tokens/s (bybit only)", EXCHANGE, "RATE",
        ge=0, le=1_000_000, decimal_places=6, allow_inf_nan=False,
    )
    # --- fees (fallback schedule; a tier or profiles file takes precedence per symbol) -------------
    fee_tier: str | None = key(None, "VIP0, VIP1, VIP2, VIP3 or MM_Tier_A for every symbol", FEES, "TIER",
                               shown="VIP0")
    fee_profiles: Path | None = key(None, "Per-symbol fee profiles (.json or .toml)", FEES, "FILE", shown="none")
    fee_maker_bps: Bps | None = key(None, "Fallback maker fee, bps", FEES, "BPS", shown="VIP0")
    fee_taker_bps: Bps | None = key(None, "Fallback taker fee, bps", FEES, "BPS", shown="VIP0")
    rebate_maker_bps: Bps | None = key(None, "Fallback maker rebate, bps", FEES, "BPS", shown="VIP0")
    # --- the report's timeline (#13): virtual ms between samples (None: automatic) and the most samples kept --
    sample_ms: int | None = key(
        None, "Virtual ms between timeline samples", OUTPUT, "MS",
        shown="one per step, about 300 for long runs", ge=1, le=86_400_000,
    )
    max_samples: int = key(
        1000, "Most timeline samples kept; longer runs are thinned evenly", OUTPUT, "INT", ge=2, le=1_000_000
    )
    # --- state journal (the run's SQLite journal; resumed with the flag --resume) ----------------------
    state: Path | None = key(
        None, "Journal the run into this SQLite file (orders, fills, checkpoints) so it can be resumed", STATE,
        "FILE", shown="none",
    )

    # --- market data replay (issue #11) -----------------------------------------------------------
    market: MarketKind = key("synthetic", "synthetic (random walk), replay (recorded data, --data) or bybit-live "
                             "(Bybit's public WebSocket)", REPLAY, "KIND")
    data: Annotated[list[Path], NoDecode] = key(
        list, "Market capture to replay: Binance or Bybit, .gz/.zip/plain (repeatable)", REPLAY, "FILE",
        shown="none", multiple=True,
    )
    data_format: DataFormat = key("auto", "auto, binance-usdm, binance-spot or bybit", REPLAY, "FMT")
    instrument: Annotated[dict[str, str], NoDecode] = key(
        dict, "Tick and lot size of a symbol, SYMBOL=TICK/LOT (repeatable; TOML table [shadow.instruments])",
        REPLAY, "SYM=T/L", shown="built-in", multiple=True,
    )
    instruments_file: Path | None = key(None, "Bybit instruments-info response (JSON) with tick and lot sizes",
                                        REPLAY, "FILE", shown="none")
    fill_model: FillModel | None = key(None, "queue (replay) or probabilistic (synthetic)", REPLAY, "MODEL",
                                       shown="by --market")
    queue_model: QueueModel = key("risk-averse", "Depth decreases not explained by trades: risk-averse or "
                                  "proportional", REPLAY, "MODEL")
    response_latency_ms: int = key(100, "Venue -> strategy latency of fills and rejects (replay)", REPLAY, "MS",
                                   ge=0, le=86_400_000)
    markout_ms: int = key(1000, "Markout horizon of the measured edge (replay)", REPLAY, "MS", ge=1, le=3_600_000)
    edge_window: int = key(20, "Fills in the rolling measured edge (replay)", REPLAY, "INT", ge=1, le=100_000)
    quote_offset_ticks: int = key(0, "Quote this many ticks behind the touch (0 = join it)", RUN, "INT",
                                  ge=0, le=1_000_000)
    skew_bps: Decimal = key(
        Decimal(0), "Shift both quotes against the position, bps of the mid at full --max-inv", RUN, "BPS",
        ge=0, le=MAX_BPS, decimal_places=6, allow_inf_nan=False,
    )
    order_qty: Decimal | None = key(
        None, "Fixed base quantity per order instead of --order-notional (replay)", REPLAY, "QTY", shown="none",
        gt=0, le=MAX_USD, decimal_places=12, allow_inf_nan=False,
    )


    # --- live market data (issue #14) -------------------------------------------------------------
    ws_url: str = key(MAINNET_LINEAR_URL, "Bybit V5 public linear WebSocket (testnet: "
                      "wss://stream-testnet.bybit.com/v5/public/linear)", LIVE, "URL", shown="Bybit mainnet")
    duration: str | None = key(None, "How long a live session runs: 90s, 30m, 2h", LIVE, "TIME",
                               shown="until Ctrl-C")
    stale_after_ms: int = key(10_000, "Reconnect when nothing arrived for this long", LIVE, "MS",
                              ge=1, le=3_600_000)
    queue_size: int = key(10_000, "Messages buffered between the socket and the engine (overflow = a gap)", LIVE,
                          "INT", ge=1, le=10_000_000)
    record: Path | None = key(None, "Record the session's market data to this Bybit capture (.gz: compressed)",
                              LIVE, "FILE", shown="none")

    @field_validator("duration", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        if value is None:
            return None
        from mmexec.errors import ConfigError
        from mmexec.marketdata.live.duration import parse_duration_ms

        text = str(value)
        try:
            parse_duration_ms(text)
        except ConfigError:
            raise ValueError("expected a positive whole number with a unit, e.g. 90s, 30m or 2h") from None
        return text

    @field_validator("ws_url")
    @classmethod
    def _ws_url(cls, value: str) -> str:
        from mmexec.errors import ConfigError
        from mmexec.marketdata.live.protocol import validate_ws_url

        try:
            validate_ws_url(value)
        except ConfigError:
            raise ValueError("expected ws://HOST[:PORT]/PATH or wss://HOST[:PORT]/PATH") from None
        return value

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
                parsed[check_symbol(sym)] = grid.strip()
            return parsed
        if isinstance(value, dict):
            return {check_symbol(k): str(v) for k, v in value.items()}
        return value

    @field_validator("symbols", mode="before")
    @classmethod
    def _symbols(cls, value: Any) -> Any:
        value = _split_csv(value)
        if not isinstance(value, list):
            return value
        cleaned = [check_symbol(s) for s in value]
        if not cleaned:
            raise ValueError("symbol list is empty")
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("symbols repeat")
        return cleaned

    @field_validator("ref_price", mode="before")
    @classmethod
    def _ref_price(cls, value: Any) -> Any:
        out: dict[str, Decimal] = {}
        for raw_sym, raw_price in _pairs(_split_csv(value)):
            sym = check_symbol(raw_sym)
            if sym in out:
                raise ValueError(f"reference price of {sym} given twice")
            out[sym] = _price(sym, raw_price)
        return out

    def foreign_keys(self, given: Iterable[str]) -> list[str]:
        """Keys among ``given`` that the chosen exchange does not read."""
        foreign = BYBIT_ONLY if self.exchange == "fake" else FAKE_ONLY
        return sorted(k for k in given if k in foreign)

    def foreign_market_keys(self, given: Iterable[str]) -> list[str]:
        """Keys among ``given`` that the chosen market does not read (``fill_model`` and ``exchange`` by value)."""
        given = set(given)
        live = self.market == "bybit-live"
        replay = self.market == "replay" or live  # the live market trades like a replay of its recording
        foreign = {k for k in given if k in (SYNTHETIC_ONLY if replay else REPLAY_ONLY)}
        foreign |= {k for k in given if k in (FILES_ONLY if live else LIVE_ONLY)}
        if "fill_model" in given and self.fill_model != ("queue" if replay else "probabilistic"):
            foreign.add("fill_model")
        if replay and "exchange" in given and self.exchange != "fake":
            foreign.add("exchange")
        return sorted(foreign)


class ShadowSettings(RunSettings):
    table: ClassVar[str] = "shadow"
    model_config = SettingsConfigDict(env_prefix="MMEXEC_SHADOW__")


class BybitDryrunSettings(RunSettings):
    table: ClassVar[str] = "bybit_dryrun"
    model_config = SettingsConfigDict(env_prefix="MMEXEC_BYBIT_DRYRUN__")

    exchange: ExchangeName = key("bybit", "Must be bybit for this command", EXCHANGE, "NAME")

    @field_validator("exchange")
    @classmethod
    def _bybit_only(cls, value: Any) -> Any:
        if value != "bybit":
            raise ValueError("bybit-dryrun always runs the Bybit client; use `mmexec shadow` for the fake exchange")
        return value


# Settings table -> model of the run commands (`mmexec shadow` reads [shadow], `bybit-dryrun` [bybit_dryrun]).
RUN_TABLES: dict[str, type[RunSettings]] = {"shadow": ShadowSettings, "bybit_dryrun": BybitDryrunSettings}
