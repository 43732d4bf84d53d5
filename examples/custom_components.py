"""The original "Custom Components" and "Manual Quote Processing", unchanged except for the import lines."""

from mmexec import (
    ExecutionLoop,
    ExecutionParams,
    FakeExchangeClient,
    InMemoryOrderStore,
    Quote,
    RuntimeRiskMonitor,
)

# Create components
exchange = FakeExchangeClient(
    fill_rate=0.8,
    reject_rate=0.05,
    latency_ms=120,
    seed=42,
)

order_store = InMemoryOrderStore()

risk_monitor = RuntimeRiskMonitor(
    max_inventory_usd_per_symbol=10000.0,
    max_total_notional_usd=50000.0,
    edge_freeze_threshold_bps=2.0,
)

loop = ExecutionLoop(exchange, order_store, risk_monitor)

# Simulate trading
params = ExecutionParams(
    symbols=["BTCUSDT"],
    iterations=10,
    max_inventory_usd_per_symbol=10000.0,
    max_total_notional_usd=50000.0,
    edge_freeze_threshold_bps=2.0,
)

report = loop.run_shadow(params)
print(report)

# --- Manual Quote Processing -------------------------------------------------------------------
# Feed quotes manually
quote = Quote(
    symbol="BTCUSDT",
    bid=49990.0,
    ask=50010.0,
    timestamp_ms=1234567890000,
)

loop.on_quote(quote, params)

# Process fills
loop.on_fill()

# Update edge
loop.on_edge_update("BTCUSDT", 3.5)  # 3.5 bps edge
