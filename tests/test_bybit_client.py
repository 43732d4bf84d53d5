"""BybitRestClient in dry-run: V5 envelopes and shapes, validation codes, fills on virtual time, rate limit."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmexec.compat import BybitRestClient
from mmexec.engine.clock import VirtualClock
from mmexec.engine.models import OrderState, PlaceOrderRequest, Side
from mmexec.errors import SecretsError
from mmexec.exchanges.base import IExchangeClient
from mmexec.exchanges.bybit import BybitApiError
from mmexec.exchanges.outcomes import order_uniforms
from mmexec.secrets.provider import SecretProvider

V5 = Path(__file__).resolve().parent / "fixtures" / "bybit" / "v5"
T0 = 1_735_689_600_000
KEY, SECRET = "AKbybitClientKey5", "SKbybitClientSecret8q"
ENVELOPE_KEYS = {"retCode", "retMsg", "result", "retExtInfo", "time"}


def provider() -> SecretProvider:
    p = SecretProvider(backend="memory")
    p.save("bybit", "dev", api_key=KEY, api_secret=SECRET)
    return p


def client(**kwargs: Any) -> BybitRestClient:
    options: dict[str, Any] = {"fill_rate": 1.0, "fill_latency_ms": 100, "seed": 42, "clock": VirtualClock(T0)}
    options.update(kwargs)
    return BybitRestClient(provider(), **options)


def req(n: int = 1, side: Side = Side.BUY, qty: str = "0.01", price: str = "50000", symbol: str = "BTCUSDT",
        coid: str | None = None) -> PlaceOrderRequest:
    return PlaceOrderRequest(coid or f"CLI{n:08d}", symbol, side, qty, price)


def realtime(c: BybitRestClient, **params: Any) -> list[dict[str, Any]]:
    response = c.get_open_orders_v5(**{"symbol": "BTCUSDT", **params})
    assert response["retCode"] == 0
    items: list[dict[str, Any]] = response["result"]["list"]
    return items


def fixture_item(name: str) -> dict[str, Any]:
    item: dict[str, Any] = json.loads((V5 / name).read_text())["result"]["list"][0]
    return item


# ------------------------------------------------------------------------------------------- construction
def test_is_an_exchange_client_sharing_the_clock() -> None:
    clock = VirtualClock(T0)
    c = client(clock=clock)
    assert isinstance(c, IExchangeClient)
    assert c.clock is clock


def test_network_enabled_is_refused_with_the_reason() -> None:
    with pytest.raises(NotImplementedError, match=r"dry-run only.*safety guard"):
        BybitRestClient(provider(), network_enabled=True)


def test_missing_credentials_name_the_variables_and_the_save_command(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SecretsError) as info:
        BybitRestClient(SecretProvider(backend="memory"), api_env="soak")
    message = str(info.value)
    assert "BYBIT_API_KEY" in message and "BYBIT_API_SECRET" in message and "mmexec secrets save" in message
    assert info.value.exit_code == 2
    monkeypatch.setenv("BYBIT_API_KEY", "envKeyAAAA")
    monkeypatch.setenv("BYBIT_API_SECRET", "envSecretBBBB")
    assert BybitRestClient().signer.masked_api_key == "env...***"  # default provider: the env variables


@pytest.mark.parametrize(("option", "value"), [("mode", "live"), ("fill_rate", 1.5), ("fill_latency_ms", -1)])
def test_bad_options(option: str, value: object) -> None:
    with pytest.raises(ValueError, match=option):
        client(**{option: value})


def test_repr_masks_the_key() -> None:
    text = repr(client())
    assert "AKb...***" in text and KEY not in text and SECRET not in text


# ------------------------------------------------------------------------------------------- place
def test_place_answers_with_the_v5_envelope_and_rests_new() -> None:
    c = client(fill_rate=0.0)
    response = c.place_limit(req())
    assert response.success and response.order_id == "ORD000001" and response.state is OrderState.OPEN
    raw = response.raw
    assert raw is not None and set(raw) == ENVELOPE_KEYS | {"dryRun"} and raw["dryRun"] is True
    assert (raw["retCode"], raw["retMsg"], raw["retExtInfo"], raw["time"]) == (0, "OK", {}, T0)
    assert raw["result"] == {"orderId": "ORD000001", "orderLinkId": "CLI00000001"}
    [item] = realtime(c)
    assert item["orderStatus"] == "New" and item["orderLinkId"] == "CLI00000001"
    assert (item["qty"], item["price"], item["side"], item["leavesQty"], item["cumExecQty"]) == (
        "0.01", "50000", "Buy", "0.01", "0")
    assert item["createdTime"] == str(T0) and item["timeInForce"] == "PostOnly"
    # every field we write has the type the real API uses (string numbers and times)
    reference = fixture_item("http_get_orders_realtime.json")
    for key, value in item.items():
        assert key in reference, key
        if reference[key] is not None:
            assert type(value) is type(reference[key]), key


def test_the_request_sent_is_the_documented_create_body() -> None:
    c = client()
    c.place_limit(req(qty="0.0010", price="60000.0"))
    assert dict(c.signed_by_endpoint) == {"POST /v5/order/create": 1}
    seen: list[Any] = []
    send = c.transport.send
    c.transport.send = lambda request: seen.append(request) or send(request)  # type: ignore[method-assign]
    c.place_limit(req(2, qty="0.0010", price="60000.0"))
    body = json.loads(seen[0].body)
    assert body == {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.001",
                    "price": "60000", "timeInForce": "PostOnly", "orderLinkId": "CLI00000002", "positionIdx": 0}


@pytest.mark.parametrize("coid", ["x" * 37, "has space", "dot.ted", "ünï", ""])
def test_invalid_order_link_id_is_10001_and_places_nothing(coid: str) -> None:
    c = client()
    response = c.place_limit(req(coid=coid) if coid else PlaceOrderRequest("", "BTCUSDT", "BUY", 1, 1))
    if not coid:  # an empty orderLinkId is "not given": Bybit accepts the order without one
        assert response.success
        return
    assert not response.success and response.state is OrderState.REJECTED and response.order_id is None
    assert response.message.startswith("retCode 10001: params error: orderLinkId")
    assert realtime(c) == []
    assert c.report_section()["bybit"]["validation_rejects"] == {"10001": 1}


def test_order_link_id_of_36_allowed_characters_is_accepted() -> None:
    assert client().place_limit(req(coid="aZ09_-" * 6)).success


def test_duplicate_order_link_id_is_110072_even_after_the_first_is_done() -> None:
    c = client(fill_rate=0.0)
    first = c.place_limit(req())
    again = c.place_limit(req())
    assert not again.success and again.message == "retCode 110072: OrderLinkedID is duplicate"
    assert c.cancel(str(first.order_id))
    assert c.place_limit(req()).message.startswith("retCode 110072")
    assert len(realtime(c)) == 0


@pytest.mark.parametrize(("qty", "price"), [("0", "1"), ("-1", "1"), ("1", "0"), ("1", "-5"), ("NaN", "1"),
                                            ("1", "Infinity")])
def test_non_positive_qty_or_price_is_10001(qty: str, price: str) -> None:
    c = client()
    response = c.place_limit(req(qty=qty, price=price))
    assert not response.success and response.message.startswith("retCode 10001: params error:")
    assert realtime(c) == []


@pytest.mark.parametrize(("params", "detail"), [
    ({"category": "spot"}, "category"), ({"side": "buy"}, "side"), ({"orderType": "Market"}, "orderType"),
    ({"timeInForce": "IOC"}, "timeInForce"), ({"symbol": "btc/usdt"}, "symbol"), ({"qty": 1}, "qty"),
])
def test_other_parameter_errors_are_10001(params: dict[str, Any], detail: str) -> None:
    c = client()
    body = {"symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "1", "price": "1", **params}
    response = c.create_order(**body)
    assert response["retCode"] == 10001 and detail in response["retMsg"] and response["result"] == {}
    assert response["dryRun"] is True


# ------------------------------------------------------------------------------------------- fills
@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32), fill_rate=st.floats(0, 1), n=st.integers(1, 10**6))
def test_fill_is_scheduled_iff_the_hash_of_seed_and_link_id_is_below_fill_rate(seed: int, fill_rate: float,
                                                                               n: int) -> None:
    c = client(seed=seed, fill_rate=fill_rate)
    c.place_limit(req(n))
    expected = order_uniforms(seed, f"CLI{n:08d}")[1] < fill_rate
    assert (c.next_fill_ms() == T0 + 100) is expected
    assert c.pending_fill_count() == int(expected)


def test_fill_is_released_at_clock_plus_latency() -> None:
    clock = VirtualClock(T0)
    c = client(clock=clock, fill_latency_ms=250)
    response = c.place_limit(req(side=Side.SELL))
    clock.advance(249)
    assert list(c.stream_fills()) == []
    assert realtime(c)[0]["orderStatus"] == "New"
    clock.advance(1)
    [fill] = list(c.stream_fills())
    assert (fill.client_order_id, fill.order_id, fill.symbol, fill.side) == (
        "CLI00000001", response.order_id, "BTCUSDT", Side.SELL)
    assert (fill.qty, fill.price, fill.timestamp_ms, fill.is_maker, fill.fill_id) == (
        Decimal("0.01"), Decimal(50000), T0 + 250, True, "EXE00000001")
    assert list(c.stream_fills()) == []
    assert realtime(c) == []
    [closed] = realtime(c, openOnly=1)
    assert (closed["orderStatus"], closed["cumExecQty"], closed["leavesQty"], closed["avgPrice"]) == (
        "Filled", "0.01", "0", "50000")
    assert c.next_fill_ms() is None


def test_partial_fills_show_partially_filled_then_filled() -> None:
    clock = VirtualClock(T0)
    c = client(clock=clock, partial_fill_rate=1.0)
    c.place_limit(req(qty="1"))
    clock.advance(100)
    first = list(c.stream_fills())
    [item] = realtime(c)
    assert item["orderStatus"] == "PartiallyFilled"
    assert Decimal(item["cumExecQty"]) == first[0].qty and Decimal(item["leavesQty"]) == 1 - first[0].qty
    [open_order] = c.get_open_orders()
    assert open_order.state is OrderState.PARTIALLY_FILLED and open_order.filled_qty == first[0].qty
    clock.advance(100)
    second = list(c.stream_fills())
    assert first[0].qty + second[0].qty == 1 and realtime(c) == []


def test_cancel_marks_cancelled_and_unschedules_the_fill() -> None:
    clock = VirtualClock(T0)
    c = client(clock=clock)
    order_id = str(c.place_limit(req()).order_id)
    assert c.next_fill_ms() == T0 + 100
    clock.advance(50)
    assert c.cancel(order_id)
    assert c.next_fill_ms() is None and c.pending_fill_count() == 0
    clock.advance(1000)
    assert list(c.stream_fills()) == []
    [item] = realtime(c, openOnly=1)
    assert (item["orderStatus"], item["cancelType"], item["updatedTime"]) == ("Cancelled", "CancelByUser",
                                                                            str(T0 + 50))
    assert not c.cancel(order_id)  # already done: nothing sent for an order the client knows is closed


def test_cancel_of_an_unknown_order_is_110001() -> None:
    c = client()
    response = c.cancel_order(symbol="BTCUSDT", orderId="ORD999999")
    assert (response["retCode"], response["retMsg"]) == (110001, "Order does not exist.")
    assert c.cancel_order(symbol="BTCUSDT", orderLinkId="nope")["retCode"] == 110001
    assert c.cancel_order(symbol="BTCUSDT")["retCode"] == 10001
    assert not c.cancel("ORD999999")


def test_cancel_after_the_fill_time_is_too_late() -> None:
    """Fills happen in venue time: a cancel arriving after the fill's time finds the order done (110001)."""
    clock = VirtualClock(T0)
    c = client(clock=clock)
    order_id = str(c.place_limit(req()).order_id)
    clock.advance(100)
    assert not c.cancel(order_id)
    assert c.report_section()["bybit"]["validation_rejects"] == {"110001": 1}
    assert [f.order_id for f in c.stream_fills()] == [order_id]


def test_cancel_by_order_link_id() -> None:
    c = client(fill_rate=0.0)
    c.place_limit(req())
    response = c.cancel_order(symbol="BTCUSDT", orderLinkId="CLI00000001")
    assert response["retCode"] == 0 and response["result"] == {"orderId": "ORD000001", "orderLinkId": "CLI00000001"}


# ------------------------------------------------------------------------------------------- queries
def test_open_orders_and_positions_through_the_engine_interface() -> None:
    clock = VirtualClock(T0)
    c = client(clock=clock, fill_rate=1.0)
    c.place_limit(req(1, Side.BUY, "0.3", "100", "ETHUSDT"))
    c.place_limit(req(2, Side.BUY, "0.1", "130", "ETHUSDT"))
    clock.advance(100)
    assert len(list(c.stream_fills())) == 2
    c2 = c.place_limit(req(3, Side.SELL, "2", "50000"))
    [open_order] = c.get_open_orders()
    assert (open_order.order_id, open_order.client_order_id, open_order.side, open_order.qty, open_order.state) == (
        c2.order_id, "CLI00000003", Side.SELL, Decimal(2), OrderState.OPEN)
    assert c.get_open_orders("ETHUSDT") == []
    [position] = c.get_positions()
    assert (position.symbol, position.qty, position.avg_price) == ("ETHUSDT", Decimal("0.4"), Decimal("107.5"))
    clock.advance(100)
    list(c.stream_fills())
    positions = {p.symbol: p.qty for p in c.get_positions()}
    assert positions == {"BTCUSDT": Decimal(-2), "ETHUSDT": Decimal("0.4")}


def test_position_list_shape() -> None:
    clock = VirtualClock(T0)
    c = client(clock=clock)
    c.place_limit(req(side=Side.SELL, qty="0.5"))
    clock.advance(100)
    list(c.stream_fills())
    response = c.get_positions_v5(symbol="BTCUSDT")
    [item] = response["result"]["list"]
    assert (item["side"], item["size"], item["avgPrice"], item["positionValue"]) == ("Sell", "0.5", "50000", "25000")
    reference = fixture_item("http_get_positions.json")
    assert set(item) <= set(reference)
    assert c.get_positions_v5()["retCode"] == 10001  # symbol or settleCoin is required
    flat = c.get_positions_v5(symbol="ETHUSDT")["result"]["list"][0]
    assert (flat["side"], flat["size"]) == ("", "0")


def test_execution_list_and_stream_shapes() -> None:
    clock = VirtualClock(T0)
    c = client(clock=clock)
    c.place_limit(req())
    clock.advance(100)
    [message] = c.poll_execution_stream()
    assert message["topic"] == "execution" and message["dryRun"] is True
    [execution] = message["data"]
    reference = fixture_item("http_get_executions.json")
    assert set(execution) - {"category"} <= set(reference)
    assert (execution["execQty"], execution["execPrice"], execution["execValue"], execution["isMaker"]) == (
        "0.01", "50000", "500", True)
    listed = c.get_executions_v5(symbol="BTCUSDT")["result"]["list"]
    assert listed == [execution]


def test_realtime_pages_with_a_cursor() -> None:
    c = client(fill_rate=0.0)
    for n in range(1, 8):
        c.place_limit(req(n))
    first = c.get_open_orders_v5(symbol="BTCUSDT", limit=3)["result"]
    assert len(first["list"]) == 3 and first["nextPageCursor"] == "3"
    rest = c.get_open_orders_v5(symbol="BTCUSDT", limit=50, cursor=first["nextPageCursor"])["result"]
    assert len(rest["list"]) == 4 and rest["nextPageCursor"] == ""
    assert len(c.get_open_orders()) == 7
    assert c.get_open_orders_v5(symbol="BTCUSDT", limit=51)["retCode"] == 10001


# ------------------------------------------------------------------------------------------- rate limit
def test_exhausted_bucket_answers_10006_and_places_nothing() -> None:
    clock = VirtualClock(T0)
    c = client(clock=clock, rate_limit_capacity=2, rate_limit_refill=10, fill_rate=0.0)
    assert c.place_limit(req(1)).success and c.place_limit(req(2)).success
    limited = c.place_limit(req(3))
    assert not limited.success and limited.message == "retCode 10006: Too many visits!"
    assert limited.raw is not None and limited.raw["result"] == {} and limited.raw["dryRun"] is True
    assert len(realtime(c)) == 2  # queries have their own bucket
    clock.advance(100)
    assert c.place_limit(req(3)).success  # refilled; the refused request had not used the link id
    section = c.report_section()["bybit"]
    assert section["rate_limited"] == 1
    assert section["rate_limit"]["orders"] == {"capacity": 2, "refill_per_s": Decimal(10), "limited": 1}
    assert section["responses"]["by_ret_code"] == {"0": 4, "10006": 1}


def test_a_rate_limited_query_raises() -> None:
    c = client(query_rate_limit_capacity=1, query_rate_limit_refill=0)
    assert c.get_open_orders() == []
    with pytest.raises(BybitApiError, match="retCode 10006: Too many visits!") as info:
        c.get_positions()
    assert info.value.ret_code == 10006


def test_a_tampered_request_is_refused_by_the_gateway() -> None:
    from dataclasses import replace

    c = client()
    good = c.signer.sign("POST", "/v5/order/create", {"category": "linear", "symbol": "BTCUSDT"}, T0)
    assert c.transport.send(replace(good, body=b'{"category":"linear"}'))["retCode"] == 10004
    stale = c.signer.sign("POST", "/v5/order/create", {"category": "linear"}, T0 - 5001)
    assert c.transport.send(stale)["retCode"] == 10002
    future = c.signer.sign("POST", "/v5/order/create", {"category": "linear"}, T0 + 1000)
    assert c.transport.send(future)["retCode"] == 10002
    assert c.transport.send(replace(good, headers={**good.headers, "X-BAPI-API-KEY": "other"}))["retCode"] == 10003
    assert c.transport.send(good)["retCode"] == 10001  # authentic; refused only for its parameters


# ------------------------------------------------------------------------------------------- report
def test_report_section_counts_and_never_holds_credentials() -> None:
    clock = VirtualClock(T0)
    c = client(clock=clock, api_env="dev", mode="dryrun")
    c.place_limit(req(1))
    c.place_limit(req(1))
    c.cancel(str(c.place_limit(req(2)).order_id))
    section = c.report_section()
    bybit = section["bybit"]
    assert bybit["dry_run"] is True and bybit["network"] is False and bybit["mode"] == "dryrun"
    assert bybit["requests"] == {"signed": 4, "by_endpoint": {"POST /v5/order/cancel": 1,
                                                              "POST /v5/order/create": 3}}
    assert bybit["validation_rejects"] == {"110072": 1}
    assert bybit["recv_window"] == 5000 and bybit["api_env"] == "dev"
    text = json.dumps(section, default=str)
    assert KEY not in text and SECRET not in text and "AKb" not in text
    assert str(T0) not in text  # no times at all
