"""The original "Basic Shadow Run" example, unchanged except for the import line."""

from mmexec import run_shadow_demo

report_json = run_shadow_demo(
    symbols=["BTCUSDT", "ETHUSDT"],
    iterations=50,
    max_inventory_usd_per_symbol=10000.0,
    max_total_notional_usd=50000.0,
    edge_freeze_threshold_bps=1.5,
    fill_rate=0.7,
    reject_rate=0.05,
    latency_ms=100,
)

print(report_json)  # Deterministic JSON output
