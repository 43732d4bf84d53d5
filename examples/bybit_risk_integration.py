"""The original "Integration with Risk Monitor" example: a pre-trade risk check, then a Bybit dry-run order.

The client signs the V5 request it would send and a local dry-run venue answers (no network). The demo
credentials never leave this process.
"""

import secrets

from mmexec import BybitRestClient, PlaceOrderRequest, RuntimeRiskMonitor, SecretProvider, Side

secret_provider = SecretProvider(backend="memory")
# A throwaway key pair: in dry-run it only signs requests that never leave this process.
secret_provider.save("bybit", "dev", api_key="demo-dryrun-key", api_secret=secrets.token_hex(32))
bybit_client = BybitRestClient(secret_provider=secret_provider, api_env="dev", network_enabled=False, seed=42)

risk_monitor = RuntimeRiskMonitor(
    max_inventory_usd_per_symbol=10000.0,
    max_total_notional_usd=50000.0,
    edge_freeze_threshold_bps=1.5,
)

# Place order with risk checks
request = PlaceOrderRequest(
    client_order_id="CLI00000001",
    symbol="BTCUSDT",
    side=Side.BUY,
    qty=0.1,
    price=50000.0,
)

# Risk check happens in ExecutionLoop.on_quote(); done by hand here.
# If limits are exceeded, the order is blocked and never sent.
if risk_monitor.check_before_order(request.symbol, request.side, request.qty, request.price):
    response = bybit_client.place_limit_order(request)
    if response.success:
        print(f"Order placed: {response.order_id}")
        risk_monitor.on_order_open(request.symbol, request.side, request.qty, request.price)
    else:
        print(f"Order rejected: {response.message}")

# A second order that would take the position past max_inventory_usd_per_symbol is blocked.
too_big = PlaceOrderRequest("CLI00000002", "BTCUSDT", Side.BUY, qty=0.2, price=50000.0)
if not risk_monitor.check_before_order(too_big.symbol, too_big.side, too_big.qty, too_big.price):
    print(f"Order blocked by risk: {risk_monitor.last_block_reason}")

# The same orderLinkId again is refused by Bybit's rules (retCode 110072); nothing is placed.
duplicate = bybit_client.place_limit_order(request)
print(f"Order rejected: {duplicate.message}")

# The order as /v5/order/realtime lists it
orders = bybit_client.get_open_orders_v5(symbol="BTCUSDT")
print(orders["result"]["list"][0]["orderStatus"], orders["result"]["list"][0]["orderLinkId"])
