"""The original "Programmatic Usage" example of the Bybit dry-run client, with mmexec's import lines.

No request leaves this process: the client signs every request it would send to Bybit V5 and a local
dry-run venue answers. The demo credentials below therefore never reach Bybit; for your own keys use
BYBIT_API_KEY / BYBIT_API_SECRET or `mmexec secrets save` (they take precedence over the memory backend).
"""

import json
import secrets

from mmexec import (
    BybitRestClient,
    ExecutionLoop,
    ExecutionParams,
    InMemoryOrderStore,
    RuntimeRiskMonitor,
    SecretProvider,
)

# Create Bybit client (dry-run)
secret_provider = SecretProvider(backend="memory")
# A throwaway key pair: in dry-run it only signs requests that never leave this process.
secret_provider.save("bybit", "dev", api_key="demo-dryrun-key", api_secret=secrets.token_hex(32))
bybit_client = BybitRestClient(
    secret_provider=secret_provider,
    api_env="dev",
    network_enabled=False,
    fill_rate=0.9,
    fill_latency_ms=100,
    seed=42,
)

# Create execution loop
order_store = InMemoryOrderStore()
risk_monitor = RuntimeRiskMonitor(
    max_inventory_usd_per_symbol=10000.0,
    max_total_notional_usd=50000.0,
    edge_freeze_threshold_bps=1.5,
)

loop = ExecutionLoop(
    exchange=bybit_client,
    order_store=order_store,
    risk_monitor=risk_monitor,
)

# Run shadow trading
params = ExecutionParams(
    symbols=["BTCUSDT"],
    iterations=20,
    max_inventory_usd_per_symbol=10000.0,
    max_total_notional_usd=50000.0,
    edge_freeze_threshold_bps=1.5,
)

report = loop.run_shadow(params)
print(json.dumps(report, indent=2))

# What the client sent, as Bybit would have received it (counts only; no credentials)
print(json.dumps(bybit_client.report_section()["bybit"]["requests"], indent=2, default=str))
