"""Bybit V5 signing: the reference vectors, pybit as an oracle, and the exact bytes of built requests."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmexec.exchanges.bybit import generate_signature
from mmexec.exchanges.bybit.signing import (
    H_API_KEY,
    H_RECV_WINDOW,
    H_SIGN,
    H_SIGN_TYPE,
    H_TIMESTAMP,
    RequestSigner,
    json_body,
    parse_query_string,
    query_string,
)
from mmexec.secrets.credentials import ApiCredentials

VECTORS = Path(__file__).resolve().parent / "fixtures" / "bybit" / "signature_vectors.json"
KEY = "AKbybitSignKey77"
SECRET = "SKbybitSignSecret31x"


def signer(recv_window: int = 5000) -> RequestSigner:
    return RequestSigner(ApiCredentials(KEY, SECRET, exchange="bybit", api_env="dev"), recv_window)


@pytest.mark.parametrize("vector", json.loads(VECTORS.read_text()), ids=lambda v: v["name"])
def test_reference_vectors(vector: dict[str, object]) -> None:
    signature = generate_signature(str(vector["api_secret"]), int(str(vector["timestamp"])), str(vector["api_key"]),
                                   int(str(vector["recv_window"])), str(vector["payload"]))
    assert signature == vector["signature"]


def test_signature_is_lowercase_hex_hmac_sha256_of_the_concatenation() -> None:
    expected = hmac.new(b"s3cr3t", b"1700000000000key5000a=1&b=2", hashlib.sha256).hexdigest()
    assert generate_signature("s3cr3t", 1700000000000, "key", 5000, "a=1&b=2") == expected
    assert expected == expected.lower() and len(expected) == 64
    # bytes and text payloads sign the same UTF-8 bytes
    assert generate_signature("s", 1, "k", 2, "é") == generate_signature("s", 1, "k", 2, "é".encode())


printable = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80)


@settings(max_examples=300, deadline=None)
@given(key=printable, secret=printable, timestamp=st.integers(0, 10**14), recv_window=st.integers(1, 10**6),
       payload=printable)
def test_matches_pybit(key: str, secret: str, timestamp: int, recv_window: int, payload: str) -> None:
    from pybit._http_manager import generate_signature as pybit_signature

    ours = generate_signature(secret, timestamp, key, recv_window, payload)
    assert ours == pybit_signature(False, secret, str(timestamp) + key + str(recv_window) + payload)


@settings(max_examples=100, deadline=None)
@given(params=st.dictionaries(st.text("abcdefghijklmnopqrstuvwxyzXYZ", min_size=1, max_size=12),
                              st.one_of(st.none(), st.text("0123456789.ABCxyz-_", max_size=12)), max_size=8))
def test_query_string_is_pybits(params: dict[str, str | None]) -> None:
    """pybit's GET payload: sorted k=v joined by &, None dropped; it parses back to the same values."""
    expected = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if v is not None)
    assert query_string(params) == expected
    assert parse_query_string(expected) == {k: v for k, v in params.items() if v is not None}


def test_get_request_is_built_and_signed_over_the_query() -> None:
    request = signer().sign("get", "/v5/order/realtime",
                            {"symbol": "BTCUSDT", "category": "linear", "openOnly": 0, "limit": 20, "cursor": None},
                            1658384314791)
    assert request.method == "GET"
    assert request.query == "category=linear&limit=20&openOnly=0&symbol=BTCUSDT"
    assert request.body == b""
    assert request.target == "/v5/order/realtime?category=linear&limit=20&openOnly=0&symbol=BTCUSDT"
    h = request.headers
    assert (h[H_API_KEY], h[H_TIMESTAMP], h[H_RECV_WINDOW], h[H_SIGN_TYPE]) == (KEY, "1658384314791", "5000", "2")
    assert h["Content-Type"] == "application/json"
    assert h[H_SIGN] == generate_signature(SECRET, 1658384314791, KEY, 5000, request.query)


def test_post_request_signs_exactly_the_body_bytes() -> None:
    params = {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.001",
              "price": "60000", "timeInForce": "PostOnly", "orderLinkId": "mmexec-0001", "positionIdx": 0,
              "reduceOnly": None}
    request = signer(recv_window=7000).sign("POST", "/v5/order/create", params, 1658385579423)
    assert request.body == json_body(params)
    assert request.body == (b'{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.001",'
                            b'"price":"60000","timeInForce":"PostOnly","orderLinkId":"mmexec-0001","positionIdx":0}')
    assert request.query == "" and request.payload == request.body.decode()
    assert json.loads(request.body) == {k: v for k, v in params.items() if v is not None}
    expected = hmac.new(SECRET.encode(), b"1658385579423" + KEY.encode() + b"7000" + request.body, hashlib.sha256)
    assert request.headers[H_SIGN] == expected.hexdigest()
    assert request.headers[H_RECV_WINDOW] == "7000"


def test_unicode_body_is_utf8_and_signed_as_sent() -> None:
    request = signer().sign("POST", "/v5/order/create", {"note": "déjà vu ✓"}, 1)
    assert request.body == '{"note":"déjà vu ✓"}'.encode()
    assert request.headers[H_SIGN] == generate_signature(SECRET, 1, KEY, 5000, request.body)
    assert signer().verify(request)


def test_verify_detects_any_change_of_the_signed_bytes() -> None:
    from dataclasses import replace

    request = signer().sign("POST", "/v5/order/create", {"qty": "1"}, 1000)
    assert signer().verify(request)
    assert not signer().verify(replace(request, body=b'{"qty":"2"}'))
    assert not signer().verify(replace(request, headers={**request.headers, H_TIMESTAMP: "1001"}))
    other = RequestSigner(ApiCredentials(KEY, "another-secret"), 5000)
    assert not other.verify(request)


def test_repr_and_masked_headers_never_show_the_key_or_signature() -> None:
    s = signer()
    request = s.sign("GET", "/v5/position/list", {"category": "linear"}, 5)
    shown = repr(request) + repr(s) + json.dumps(request.masked_headers())
    assert KEY not in shown and SECRET not in shown and request.headers[H_SIGN] not in shown
    assert request.masked_headers()[H_API_KEY] == "AKb...***"


def test_bad_method_and_recv_window_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported method"):
        signer().sign("DELETE", "/v5/order/cancel", {}, 1)
    with pytest.raises(ValueError, match="recv_window"):
        signer(recv_window=0)
