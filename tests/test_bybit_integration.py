"""The Bybit dry-run client under the execution loop and risk monitor, and the original Bybit examples."""

from __future__ import annotations

import json
import runpy
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from mmexec.compat import (
    BybitRestClient,
    ExecutionLoop,
    ExecutionParams,  # the original API: it carries the test's risk limits too
    InMemoryOrderStore,
    RuntimeRiskMonitor,
)
from mmexec.engine.clock import VirtualClock
from mmexec.engine.models import OrderState
from mmexec.secrets.provider import SecretProvider

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
T0 = 1_735_689_600_000


def wired(*, threshold: str = "1.5", max_inv: str = "10000", **client_options: Any
          ) -> tuple[ExecutionLoop, BybitRestClient, ExecutionParams]:
    provider = SecretProvider(backend="memory")
    provider.save("bybit", "dev", api_key="AKintegrationKey", api_secret="SKintegrationSecret")
    options: dict[str, Any] = {"fill_rate": 0.7, "fill_latency_ms": 100, "seed": 7, "clock": VirtualClock(T0)}
    options.update(client_options)
    client = BybitRestClient(provider, **options)
    risk = RuntimeRiskMonitor(Decimal(max_inv), Decimal(50000), Decimal(threshold))
    loop = ExecutionLoop(client, InMemoryOrderStore(), risk)
    params = ExecutionParams(symbols=["BTCUSDT", "ETHUSDT"], iterations=80, edge_freeze_threshold_bps=threshold,
                             max_inventory_usd_per_symbol=max_inv, seed=7)
    return loop, client, params


def venue_view(client: BybitRestClient) -> tuple[set[str], dict[str, Decimal]]:
    open_ids = {o.client_order_id for o in client.get_open_orders()}
    positions = {p.symbol: p.qty for p in client.get_positions()}
    return open_ids, positions


def test_store_risk_and_venue_agree_after_a_run() -> None:
    loop, client, params = wired()
    report = loop.run(params)
    open_ids, positions = venue_view(client)
    assert open_ids == {o.client_order_id for o in loop.order_store.get_open_orders()}
    for symbol, qty in loop.risk_monitor.get_positions().items():
        assert positions.get(symbol, Decimal(0)) == qty
    assert report["orders"]["filled"] == client.venue.executions_total
    assert client.report_section()["bybit"]["requests"]["by_endpoint"]["POST /v5/order/create"] == \
        report["orders"]["placed"]


def test_freeze_cancels_every_order_on_the_venue() -> None:
    loop, client, params = wired(threshold="2.8")
    report = loop.run(params)
    assert report["risk"]["frozen"] is True
    assert client.get_open_orders() == [] and loop.order_store.get_open_orders() == []
    cancelled = client.get_open_orders_v5(settleCoin="USDT", openOnly=1, limit=50)["result"]["list"]
    assert {item["orderStatus"] for item in cancelled} <= {"Cancelled", "Filled"}
    assert any(item["orderStatus"] == "Cancelled" for item in cancelled)


def test_risk_blocks_are_never_sent() -> None:
    loop, client, params = wired(max_inv="1500", fill_rate=1.0)
    report = loop.run(params)
    assert report["orders"]["risk_blocks"] > 0
    assert client.report_section()["bybit"]["requests"]["by_endpoint"]["POST /v5/order/create"] == \
        report["orders"]["placed"]


def test_rate_limited_placements_become_rejected_orders() -> None:
    loop, client, params = wired(rate_limit_capacity=2, rate_limit_refill=1)
    report = loop.run(params)
    rejected = loop.order_store.get_by_state(OrderState.REJECTED)
    assert report["orders"]["rejected"] == len(rejected) > 0
    assert {o.message for o in rejected} == {"retCode 10006: Too many visits!"}
    assert client.report_section()["bybit"]["rate_limited"] >= len(rejected)


def test_programmatic_example(capsys: pytest.CaptureFixture[str]) -> None:
    namespace = runpy.run_path(str(EXAMPLES / "bybit_programmatic.py"), run_name="__main__")
    out = capsys.readouterr().out
    report = namespace["report"]
    assert report["execution"]["iterations"] == 20 and report["execution"]["symbols"] == ["BTCUSDT"]
    assert json.loads(out[: out.index("\n}\n") + 2]) == report
    client = namespace["bybit_client"]
    assert isinstance(client, BybitRestClient) and client.fill_rate == 0.9
    assert client.report_section()["bybit"]["requests"]["signed"] > 0
    assert "demo-dryrun-key" not in out


def test_risk_integration_example(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(EXAMPLES / "bybit_risk_integration.py"), run_name="__main__")
    assert capsys.readouterr().out.splitlines() == [
        "Order placed: ORD000001",
        "Order blocked by risk: max_inventory_usd_per_symbol",
        "Order rejected: retCode 110072: OrderLinkedID is duplicate",
        "New CLI00000001",
    ]
