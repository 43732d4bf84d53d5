"""BybitV5Client: builds and signs every V5 request and returns the V5 response envelopes.

This layer speaks Bybit: camelCase parameters (as pybit's ``HTTP`` methods take them), string numbers, and
``{"retCode", "retMsg", "result", "retExtInfo", "time"}`` answers. Requests go through a
:class:`~mmexec.exchanges.bybit.transport.Transport`; in dry-run that is the local
:class:`~mmexec.exchanges.bybit.transport.DryRunTransport` and nothing ever leaves the process.
:class:`~mmexec.exchanges.bybit.client.BybitRestClient` adapts these answers to the engine's models.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mmexec.engine.clock import VirtualClock
from mmexec.engine.models import Number, to_decimal
from mmexec.exchanges.base import ExecutionTotals
from mmexec.exchanges.bybit import envelopes as v5
from mmexec.exchanges.bybit.ratelimit import DEFAULT_CAPACITY, DEFAULT_REFILL_PER_S, TokenBucket
from mmexec.exchanges.bybit.signing import DEFAULT_RECV_WINDOW, RequestSigner
from mmexec.exchanges.bybit.transport import DryRunTransport, Transport
from mmexec.exchanges.bybit.venue import DryRunVenue
from mmexec.logs import log_event

if TYPE_CHECKING:
    from mmexec.secrets.provider import SecretProvider

EXCHANGE = "bybit"
MODES = ("shadow", "dryrun")
NETWORK_NOT_IMPLEMENTED = (
    "network_enabled=True is not implemented: the Bybit client is dry-run only (a safety guard; no request "
    "ever leaves this machine). Use network_enabled=False"
)
CREATE = "/v5/order/create"
CANCEL = "/v5/order/cancel"
REALTIME = "/v5/order/realtime"
QUERY_LIMIT_PER_S = 50  # Bybit's per-UID limit of order, position and execution queries
POSITIONS = "/v5/position/list"
EXECUTIONS = "/v5/execution/list"

log = logging.getLogger("mmexec.bybit")


def _rate(name: str, value: float) -> float:
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be within [0, 1], got {value}")
    return value


def _bucket_section(bucket: TokenBucket) -> dict[str, Any]:
    return {"capacity": bucket.capacity, "refill_per_s": bucket.refill_per_s, "limited": bucket.denied}


class BybitApiError(Exception):
    """A query answered with a non-zero ``retCode`` (orders report failures in their response instead)."""

    def __init__(self, response: dict[str, Any]) -> None:
        super().__init__(v5.describe(response))
        self.ret_code = int(response.get("retCode", -1))
        self.ret_msg = str(response.get("retMsg", ""))
        self.response = response


class BybitV5Client:
    """Signed V5 requests against Bybit, answered locally in dry-run.

    ``secret_provider`` supplies the credentials of (``bybit``, ``api_env``) (default: a
    ``SecretProvider(backend="env")``, i.e. ``BYBIT_API_KEY`` / ``BYBIT_API_SECRET``). The rate limit
    (``rate_limit_capacity`` tokens, ``rate_limit_refill`` per second) applies to order create / cancel;
    queries have their own bucket (50, 50/s: Bybit's per-UID query limit). ``clock`` is the
    virtual clock shared with the execution loop (default: one starting at the current time); request
    timestamps, fill times and the rate limit all run on it.
    """

    def __init__(
        self,
        secret_provider: SecretProvider | None = None,
        api_env: str = "dev",
        network_enabled: bool = False,
        fill_rate: float = 0.7,
        fill_latency_ms: int = 100,
        seed: int = 42,
        *,
        mode: str = "shadow",
        partial_fill_rate: float = 0.0,
        rate_limit_capacity: int = DEFAULT_CAPACITY,
        rate_limit_refill: Number = DEFAULT_REFILL_PER_S,
        query_rate_limit_capacity: int = QUERY_LIMIT_PER_S,
        query_rate_limit_refill: Number = QUERY_LIMIT_PER_S,
        clock: VirtualClock | None = None,
        recv_window: int = DEFAULT_RECV_WINDOW,
        category: str = "linear",
        settle_coin: str = "USDT",
        time_in_force: str = "PostOnly",
    ) -> None:
        if network_enabled:
            raise NotImplementedError(NETWORK_NOT_IMPLEMENTED)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if int(fill_latency_ms) < 0:
            raise ValueError(f"fill_latency_ms must be >= 0, got {fill_latency_ms}")
        self.network_enabled = False
        self.mode = mode
        self.api_env = api_env
        self.category = category
        self.settle_coin = settle_coin
        self.time_in_force = time_in_force
        self.fill_rate = _rate("fill_rate", fill_rate)
        self.partial_fill_rate = _rate("partial_fill_rate", partial_fill_rate)
        self.fill_latency_ms = int(fill_latency_ms)
        self.seed = int(seed)
        self.clock = clock if clock is not None else VirtualClock(time.time_ns() // 1_000_000)
        if secret_provider is None:
            from mmexec.secrets.provider import SecretProvider

            secret_provider = SecretProvider(backend="env")
        credentials = secret_provider.get_credentials(EXCHANGE, api_env)
        self.signer = RequestSigner(credentials, recv_window)
        self.rate_limiter = TokenBucket(rate_limit_capacity, to_decimal(rate_limit_refill), self.clock.now_ms)
        self.query_rate_limiter = TokenBucket(query_rate_limit_capacity, to_decimal(query_rate_limit_refill),
                                              self.clock.now_ms)
        self.venue = DryRunVenue(fill_rate=self.fill_rate, fill_latency_ms=self.fill_latency_ms, seed=self.seed,
                                 partial_fill_rate=self.partial_fill_rate, category=category)
        self.transport: Transport = DryRunTransport(self.venue, self.signer, self.rate_limiter,
                                                    self.query_rate_limiter, self.clock.now_ms)
        self.signed_by_endpoint: Counter[str] = Counter()
        self.ret_codes: Counter[int] = Counter()
        self.validation_rejects: Counter[int] = Counter()
        self.rate_limited = 0
        self.stream_messages = 0
        self._symbols: dict[str, str] = {}  # order id -> symbol of the orders created here and not seen closed
        self.stream_totals: dict[str, ExecutionTotals] = {}  # per symbol, over every execution streamed
        log_event(log, logging.INFO, "bybit_client_init", api_key=self.signer.masked_api_key, api_env=api_env,
                  mode=mode, network_enabled=False, dry_run=True, recv_window=self.signer.recv_window,
                  rate_limit_capacity=self.rate_limiter.capacity, rate_limit_refill=str(self.rate_limiter.refill_per_s))

    # ---------------------------------------------------------------- the one way out
    def request(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        """Build and sign ``method path`` with ``params``, send it through the transport, return the answer."""
        signed = self.signer.sign(method, path, params, self.clock.now_ms())
        self.signed_by_endpoint[signed.endpoint] += 1
        response = self.transport.send(signed)
        code = int(response["retCode"])
        self.ret_codes[code] += 1
        if code == v5.TOO_MANY_VISITS:
            self.rate_limited += 1
        elif code in v5.VALIDATION_CODES:
            self.validation_rejects[code] += 1
        if code != v5.RET_OK:
            if log.isEnabledFor(logging.INFO):
                log_event(log, logging.INFO, "bybit_request_refused", endpoint=signed.endpoint,
                          payload=signed.payload, ret_code=code, ret_msg=response.get("retMsg"),
                          virtual_ms=signed.timestamp_ms)
        elif log.isEnabledFor(logging.DEBUG):
            log_event(log, logging.DEBUG, "bybit_request", endpoint=signed.endpoint, payload=signed.payload,
                      headers=signed.masked_headers(), ret_code=code, virtual_ms=signed.timestamp_ms)
        return response

    # ---------------------------------------------------------------- V5 endpoints (camelCase, like pybit)
    def create_order(self, **params: Any) -> dict[str, Any]:
        """``POST /v5/order/create`` (``category`` defaults to the client's)."""
        response = self.request("POST", CREATE, {"category": self.category, **params})
        if response["retCode"] == v5.RET_OK:
            self._symbols[str(response["result"]["orderId"])] = str(params.get("symbol"))
        return response

    def cancel_order(self, **params: Any) -> dict[str, Any]:
        """``POST /v5/order/cancel``: ``symbol`` and ``orderId`` or ``orderLinkId``."""
        response = self.request("POST", CANCEL, {"category": self.category, **params})
        if response["retCode"] in (v5.RET_OK, v5.ORDER_NOT_EXISTS):
            self._symbols.pop(str(response["result"].get("orderId", params.get("orderId"))), None)
        return response

    def symbol_of(self, order_id: str) -> str | None:
        """The symbol of an order created through this client that it has not yet seen closed."""
        return self._symbols.get(order_id)

    def get_open_orders_v5(self, **params: Any) -> dict[str, Any]:
        """``GET /v5/order/realtime``: active orders (``openOnly=0``) or the recent closed ones (``1``)."""
        return self.request("GET", REALTIME, {"category": self.category, **params})

    def get_positions_v5(self, **params: Any) -> dict[str, Any]:
        """``GET /v5/position/list``: ``symbol`` or ``settleCoin``."""
        return self.request("GET", POSITIONS, {"category": self.category, **params})

    def get_executions_v5(self, **params: Any) -> dict[str, Any]:
        """``GET /v5/execution/list``: the recent executions, newest first."""
        return self.request("GET", EXECUTIONS, {"category": self.category, **params})

    def poll_execution_stream(self) -> list[dict[str, Any]]:
        """The private ``execution`` WebSocket topic: messages with every execution up to now (none if idle)."""
        now = self.clock.now_ms()
        data = self.venue.drain_executions(now)
        if not data:
            return []
        for item in data:
            if item["leavesQty"] == "0":
                self._symbols.pop(item["orderId"], None)
            totals = self.stream_totals.get(item["symbol"])
            if totals is None:
                totals = self.stream_totals[item["symbol"]] = ExecutionTotals()
            totals.add(item["side"] == "Buy", Decimal(item["execQty"]), Decimal(item["execPrice"]),
                       bool(item["isMaker"]))
        self.stream_messages += 1
        return [{"topic": "execution", "id": f"dryrun-{self.stream_messages}", "creationTime": now, "data": data,
                 v5.DRY_RUN_KEY: True}]

    # ---------------------------------------------------------------- reporting
    def report_section(self) -> dict[str, Any]:
        """The run report's ``bybit`` section: deterministic counts, no credentials, no wall-clock values."""
        return {
            "bybit": {
                "dry_run": True,
                "network": False,
                "mode": self.mode,
                "api_env": self.api_env,
                "category": self.category,
                "recv_window": self.signer.recv_window,
                "requests": {
                    "signed": sum(self.signed_by_endpoint.values()),
                    "by_endpoint": dict(sorted(self.signed_by_endpoint.items())),
                },
                "responses": {"by_ret_code": {str(k): n for k, n in sorted(self.ret_codes.items())}},
                "validation_rejects": {str(k): n for k, n in sorted(self.validation_rejects.items())},
                "rate_limited": self.rate_limited,
                "rate_limit": {
                    "orders": _bucket_section(self.rate_limiter),
                    "queries": _bucket_section(self.query_rate_limiter),
                },
                "executions": self.venue.executions_total,
                "simulation": {
                    "fill_rate": self.fill_rate,
                    "partial_fill_rate": self.partial_fill_rate,
                    "fill_latency_ms": self.fill_latency_ms,
                    "seed": self.seed,
                },
            }
        }

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(api_key={self.signer.masked_api_key!r}, api_env={self.api_env!r}, "
                f"mode={self.mode!r}, network_enabled=False)")
