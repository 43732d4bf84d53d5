"""Where a signed request goes. In dry-run: :class:`DryRunTransport`, a local stand-in for Bybit's gateway.

It checks each request the way the gateway does -- API key (10003), timestamp within ``recv_window``
(10002), signature over the exact payload bytes (10004), the per-UID rate limit (10006, ``Too many visits!``;
trading requests (POST: create, cancel) and queries (GET) have separate buckets, as on Bybit) --
then decodes the payload exactly as sent (query string or JSON body) and lets the
:class:`~mmexec.exchanges.bybit.venue.DryRunVenue` answer. Nothing here opens a socket. A network transport
would implement the same :class:`Transport` protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import orjson

from mmexec.exchanges.bybit import envelopes as v5
from mmexec.exchanges.bybit.ratelimit import TokenBucket
from mmexec.exchanges.bybit.signing import (
    H_API_KEY,
    H_RECV_WINDOW,
    H_TIMESTAMP,
    RequestSigner,
    SignedRequest,
    parse_query_string,
)
from mmexec.exchanges.bybit.venue import DryRunVenue, Refusal

# Bybit accepts server_time - recv_window <= timestamp < server_time + 1000.
FUTURE_TOLERANCE_MS = 1000


class Transport(Protocol):
    def send(self, request: SignedRequest) -> dict[str, Any]:
        """Deliver ``request`` and return the decoded V5 response envelope."""
        ...


class DryRunTransport:
    """Delivers requests to the local venue after the gateway's checks; counts nothing (the client does)."""

    def __init__(self, venue: DryRunVenue, verifier: RequestSigner, order_bucket: TokenBucket,
                 query_bucket: TokenBucket, clock: Callable[[], int]) -> None:
        self.venue = venue
        self._verifier = verifier
        self.order_bucket = order_bucket
        self.query_bucket = query_bucket
        self.clock = clock

    def send(self, request: SignedRequest) -> dict[str, Any]:
        now = self.clock()
        headers = request.headers
        if headers.get(H_API_KEY) != self._verifier.api_key:
            return v5.error(v5.INVALID_API_KEY, now)
        try:
            timestamp = int(headers.get(H_TIMESTAMP, ""))
            recv_window = int(headers.get(H_RECV_WINDOW, ""))
        except ValueError:
            return v5.error(v5.TIMESTAMP_ERROR, now)
        if not now - recv_window <= timestamp < now + FUTURE_TOLERANCE_MS:
            return v5.error(v5.TIMESTAMP_ERROR, now)
        if not self._verifier.verify(request):
            return v5.error(v5.SIGN_ERROR, now)
        bucket = self.query_bucket if request.method == "GET" else self.order_bucket
        if not bucket.acquire(1):
            return v5.error(v5.TOO_MANY_VISITS, now)
        try:
            params = parse_query_string(request.query) if request.method == "GET" else orjson.loads(request.body)
        except orjson.JSONDecodeError:
            return v5.error(v5.PARAMS_ERROR, now, "request body is not JSON")
        if not isinstance(params, dict):
            return v5.error(v5.PARAMS_ERROR, now, "request body must be a JSON object")
        try:
            result = self.venue.handle(request.endpoint, params, now)
        except Refusal as refusal:
            return v5.error(refusal.code, now, refusal.detail)
        return v5.ok(result, now)
