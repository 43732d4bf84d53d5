"""Bybit V5 request authentication: payload encoding, HMAC-SHA256 signatures and the ``X-BAPI-*`` headers.

The string to sign is ``str(timestamp_ms) + api_key + str(recv_window_ms) + payload`` where the payload is the
query string of a GET (``k=v`` pairs sorted by key, joined by ``&``, ``None`` dropped, values not URL-encoded,
as pybit builds it) or the exact JSON body of a POST. The signature is the lowercase hex HMAC-SHA256 of that
string with the API secret (``X-BAPI-SIGN-TYPE: 2``).

A :class:`SignedRequest` holds the exact bytes that would go on the wire; its ``repr`` masks the API key and
omits the signature. Only :class:`RequestSigner` ever reads the API secret, at signing time.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mmexec.secrets.credentials import ApiCredentials

DEFAULT_RECV_WINDOW = 5000
SIGN_TYPE_HMAC = "2"
CONTENT_TYPE = "application/json"
H_API_KEY = "X-BAPI-API-KEY"
H_TIMESTAMP = "X-BAPI-TIMESTAMP"
H_RECV_WINDOW = "X-BAPI-RECV-WINDOW"
H_SIGN = "X-BAPI-SIGN"
H_SIGN_TYPE = "X-BAPI-SIGN-TYPE"


def generate_signature(
    api_secret: str, timestamp: int | str, api_key: str, recv_window: int | str, payload: str | bytes
) -> str:
    """Lowercase hex HMAC-SHA256 of ``str(timestamp) + api_key + str(recv_window) + payload`` (UTF-8).

    ``payload`` may be the exact body bytes; text is encoded as UTF-8 (what pybit does).
    """
    body = payload if isinstance(payload, bytes) else payload.encode("utf-8")
    message = f"{timestamp}{api_key}{recv_window}".encode() + body
    return hmac.digest(api_secret.encode("utf-8"), message, "sha256").hex()


def query_string(params: Mapping[str, Any]) -> str:
    """A GET payload as pybit builds it: ``k=v`` sorted by key, joined by ``&``; ``None`` values dropped."""
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if v is not None)


def parse_query_string(query: str) -> dict[str, str]:
    """The parameters of a payload built by :func:`query_string` (values as text)."""
    out: dict[str, str] = {}
    for pair in query.split("&") if query else ():
        key, _, value = pair.partition("=")
        out[key] = value
    return out


def json_body(params: Mapping[str, Any]) -> bytes:
    """A POST body: compact JSON, keys in the order given, UTF-8, ``None`` dropped. Signed and sent as is.

    The same bytes as ``json.dumps(params, separators=(",", ":"), ensure_ascii=False)`` for the text, integer
    and boolean values a V5 request carries (numbers travel as text).
    """
    import orjson

    return orjson.dumps({k: v for k, v in params.items() if v is not None})


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """One fully built, signed request. ``payload`` is the signed text: the query (GET) or the body (POST)."""

    method: str
    path: str
    query: str
    body: bytes
    timestamp_ms: int
    recv_window: int
    headers: Mapping[str, str] = field(repr=False)

    @property
    def endpoint(self) -> str:
        """``METHOD /path``, e.g. ``POST /v5/order/create``."""
        return f"{self.method} {self.path}"

    @property
    def payload(self) -> str:
        return self.query if self.method == "GET" else self.body.decode("utf-8")

    @property
    def target(self) -> str:
        """Path plus query string, as in the request line."""
        return f"{self.path}?{self.query}" if self.query else self.path

    def masked_headers(self) -> dict[str, str]:
        """The headers with the API key masked and the signature left out (for logs)."""
        from mmexec.secrets.credentials import mask_secret

        out = {k: v for k, v in self.headers.items() if k != H_SIGN}
        if H_API_KEY in out:
            out[H_API_KEY] = mask_secret(out[H_API_KEY])
        return out

    def __repr__(self) -> str:
        return f"SignedRequest({self.endpoint!r}, payload={self.payload!r}, headers={self.masked_headers()!r})"


class RequestSigner:
    """Builds and signs V5 requests with one set of credentials (``repr`` shows the masked key only)."""

    __slots__ = ("_credentials", "recv_window")

    def __init__(self, credentials: ApiCredentials, recv_window: int = DEFAULT_RECV_WINDOW) -> None:
        if int(recv_window) <= 0:
            raise ValueError(f"recv_window must be a positive number of ms, got {recv_window}")
        self._credentials = credentials
        self.recv_window = int(recv_window)

    @property
    def api_key(self) -> str:
        return self._credentials.api_key

    @property
    def masked_api_key(self) -> str:
        return self._credentials.masked_api_key

    def sign(self, method: str, path: str, params: Mapping[str, Any], timestamp_ms: int) -> SignedRequest:
        """Encode ``params`` for ``method`` and sign exactly the bytes that would be sent."""
        method = method.upper()
        if method == "GET":
            query, body = query_string(params), b""
            payload: str | bytes = query
        elif method == "POST":
            query, body = "", json_body(params)
            payload = body
        else:
            raise ValueError(f"unsupported method {method!r} (Bybit V5 uses GET and POST)")
        key = self._credentials.api_key
        signature = generate_signature(self._credentials.reveal_secret(), timestamp_ms, key, self.recv_window,
                                       payload)
        headers = {
            "Content-Type": CONTENT_TYPE,
            H_API_KEY: key,
            H_SIGN: signature,
            H_SIGN_TYPE: SIGN_TYPE_HMAC,
            H_TIMESTAMP: str(timestamp_ms),
            H_RECV_WINDOW: str(self.recv_window),
        }
        return SignedRequest(method, path, query, body, int(timestamp_ms), self.recv_window, headers)

    def verify(self, request: SignedRequest) -> bool:
        """What the server checks: the signature matches the request's own headers and payload bytes."""
        headers = request.headers
        payload: str | bytes = request.query if request.method == "GET" else request.body
        expected = generate_signature(self._credentials.reveal_secret(), headers.get(H_TIMESTAMP, ""),
                                      headers.get(H_API_KEY, ""), headers.get(H_RECV_WINDOW, ""), payload)
        return hmac.compare_digest(expected, headers.get(H_SIGN, ""))

    def __repr__(self) -> str:
        return f"RequestSigner(api_key={self.masked_api_key!r}, recv_window={self.recv_window})"
