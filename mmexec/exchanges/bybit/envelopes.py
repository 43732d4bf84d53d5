"""The Bybit V5 response envelope, its return codes, and the wire forms of sides, statuses and numbers.

Every response is ``{"retCode", "retMsg", "result", "retExtInfo", "time"}``; the dry-run adds one key,
``"dryRun": true``, so a dry-run answer can never be mistaken for a real one. Numbers on the wire are strings.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from mmexec.engine.models import OrderState, Side

DRY_RUN_KEY = "dryRun"

RET_OK = 0
PARAMS_ERROR = 10001
TIMESTAMP_ERROR = 10002
INVALID_API_KEY = 10003
SIGN_ERROR = 10004
TOO_MANY_VISITS = 10006
ORDER_NOT_EXISTS = 110001
DUPLICATE_ORDER_LINK_ID = 110072

RET_MESSAGES: dict[int, str] = {
    RET_OK: "OK",
    PARAMS_ERROR: "params error",
    TIMESTAMP_ERROR: "invalid request, please check your server timestamp or recv_window param",
    INVALID_API_KEY: "API key is invalid.",
    SIGN_ERROR: "error sign!",
    TOO_MANY_VISITS: "Too many visits!",
    ORDER_NOT_EXISTS: "Order does not exist.",
    DUPLICATE_ORDER_LINK_ID: "OrderLinkedID is duplicate",
}
# Answers to a request the venue refused on its own terms (not auth, not the rate limit).
VALIDATION_CODES = frozenset({PARAMS_ERROR, ORDER_NOT_EXISTS, DUPLICATE_ORDER_LINK_ID})

SIDE_TO_V5: dict[Side, str] = {Side.BUY: "Buy", Side.SELL: "Sell"}
V5_TO_SIDE: dict[str, Side] = {v: k for k, v in SIDE_TO_V5.items()}

ORDER_STATUS: dict[OrderState, str] = {
    OrderState.PENDING: "Created",
    OrderState.OPEN: "New",
    OrderState.PARTIALLY_FILLED: "PartiallyFilled",
    OrderState.FILLED: "Filled",
    OrderState.CANCELED: "Cancelled",
    OrderState.REJECTED: "Rejected",
}
STATUS_TO_STATE: dict[str, OrderState] = {v: k for k, v in ORDER_STATUS.items()}


def envelope(ret_code: int, ret_msg: str | None, result: dict[str, Any] | None, time_ms: int) -> dict[str, Any]:
    """A V5 response with the dry-run marker. ``ret_msg`` ``None`` means the code's standard message."""
    return {
        "retCode": ret_code,
        "retMsg": RET_MESSAGES.get(ret_code, "") if ret_msg is None else ret_msg,
        "result": result if result is not None else {},
        "retExtInfo": {},
        "time": time_ms,
        DRY_RUN_KEY: True,
    }


def ok(result: dict[str, Any], time_ms: int) -> dict[str, Any]:
    return envelope(RET_OK, None, result, time_ms)


def error(ret_code: int, time_ms: int, detail: str | None = None) -> dict[str, Any]:
    """An error answer: the code's standard message, with ``detail`` appended for parameter errors."""
    message = RET_MESSAGES.get(ret_code, "")
    if detail:
        message = f"{message}: {detail}"
    return envelope(ret_code, message, {}, time_ms)


def describe(response: dict[str, Any]) -> str:
    """``retCode 10006: Too many visits!`` -- how a failed answer reads in engine messages."""
    return f"retCode {response.get('retCode')}: {response.get('retMsg')}"


def num(value: Decimal) -> str:
    """A Decimal as Bybit writes numbers: plain text, no exponent, no trailing zeros (``60000``, ``0.001``)."""
    return "0" if value == 0 else format(value.normalize(), "f")


def ms(value: int) -> str:
    """Times on the wire are millisecond strings."""
    return str(value)
