"""One run of a sweep, on a worker: the ONLY module of the sweep that knows the run API.

:func:`run_one` turns a mapping of run settings into the canonical report bytes (the settings model
:class:`~mmexec.config.run.ShadowSettings`, the :class:`~mmexec.run.spec.RunSpec` built from it and
:func:`~mmexec.run.builder.run_session`). When the engine's run API changes, this function changes, nothing else.
:func:`execute` wraps it for the executors: it never raises, a failed run becomes a result line with its error.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

FillListener = Callable[[Any], object]
# Rounding of ratios (fill ratio): exact decimals, 6 places.
RATIO_PLACES = Decimal("0.000001")


def run_one(params: Mapping[str, object], *, utc: str | None = None,
            fill_listeners: Sequence[FillListener] = ()) -> bytes:
    """Validate ``params`` (run settings keys) with the settings model, run the session, return the report bytes.

    ``params`` should hold every setting (as :meth:`~mmexec.config.run.RunSettings.model_dump` gives them): the
    worker's environment and config file are never consulted for a key that is given.
    """
    from pydantic import ValidationError

    from mmexec.canonical import dumps
    from mmexec.config.run import ShadowSettings
    from mmexec.errors import ConfigError
    from mmexec.run.builder import run_session
    from mmexec.run.spec import RunSpec

    try:  # model_validate: the values given and the defaults, never the worker's environment or files
        settings = ShadowSettings.model_validate(dict(params))
    except ValidationError as exc:
        err = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in err.get("loc", ())) or "?"
        raise ConfigError(f"invalid {where}: {err.get('msg', 'invalid value')}", source="sweep run") from None
    spec = RunSpec.from_settings(settings.model_dump())
    return dumps(run_session(spec, utc=utc, fill_listeners=fill_listeners))


class InventoryPeak:
    """Fill listener: the largest |position| × fill price (USD) any symbol reached during the run."""

    def __init__(self) -> None:
        self.positions: dict[str, Decimal] = {}
        self.peak = Decimal(0)

    def on_fill(self, fill: Any) -> None:
        qty = fill.qty if str(fill.side) == "BUY" else -fill.qty
        position = self.positions.get(fill.symbol, Decimal(0)) + qty
        self.positions[fill.symbol] = position
        self.peak = max(self.peak, abs(position * fill.price))


def headline_metrics(report: Mapping[str, Any], max_abs_inventory: Decimal) -> dict[str, Any]:
    """The numbers a sweep compares runs by, exact decimals read from the report's text."""
    pnl = report.get("pnl", {}).get("total", {})
    fees = report.get("fees", {}).get("total", {})
    orders = report.get("orders", {})
    placed = Decimal(orders.get("placed", 0))
    filled = Decimal(orders.get("filled", 0))
    metrics: dict[str, Any] = {
        "net_pnl": _dec(pnl.get("net")),
        "realized_pnl": _dec(pnl.get("realized")),
        "unrealized_pnl": _dec(pnl.get("unrealized")),
        "fees": _dec(pnl.get("fees")),
        "rebates": _dec(pnl.get("rebates")),
        "traded_notional": _dec(fees.get("maker_notional")) + _dec(fees.get("taker_notional")),
        "fills": int(orders.get("fills", 0)),
        "orders_placed": int(placed),
        "fill_ratio": (filled / placed).quantize(RATIO_PLACES) if placed else Decimal(0),
        "max_abs_inventory": max_abs_inventory,
        "freezes": int(report.get("risk", {}).get("freezes_total", 0)),
    }
    markouts = report.get("markout")  # replay runs: markouts per horizon
    if isinstance(markouts, Mapping):
        metrics["markouts"] = markouts.get("total", markouts)
    return metrics


def _dec(value: Any) -> Decimal:
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))


@dataclass(frozen=True, slots=True)
class RunTask:
    """What a worker needs: the run's key and varying parameters, its full settings, the sweep's time stamp."""

    key: str
    combination: str
    params: Mapping[str, Any]
    settings: Mapping[str, Any]
    utc: str
    sweep_id: str
    keep_report: bool = False


class RunResult(NamedTuple):
    key: str
    line: bytes  # one canonical JSON line
    report: bytes | None  # the full report, only when the sweep keeps reports
    ok: bool


def result_line(task: RunTask, *, metrics: Mapping[str, Any] | None, sha256: str | None,
                error: str | None) -> bytes:
    from mmexec.canonical import dumps

    return dumps({
        "run": task.key, "combination": task.combination, "params": dict(task.params), "metrics": metrics,
        "report_sha256": sha256, "error": error, "sweep": task.sweep_id, "utc": task.utc,
    })


def execute(task: RunTask) -> RunResult:
    """Run one task; any failure is recorded in the result line, never raised (the sweep goes on)."""
    try:
        peak = InventoryPeak()
        report = run_one(task.settings, utc=task.utc, fill_listeners=[peak.on_fill])
        metrics = headline_metrics(json.loads(report, parse_float=Decimal), peak.peak)
        line = result_line(task, metrics=metrics, sha256=hashlib.sha256(report).hexdigest(), error=None)
        return RunResult(task.key, line, report if task.keep_report else None, True)
    except Exception as exc:  # a failed run is a result, not the end of the sweep
        return failed_result(task, describe_error(exc))


def failed_result(task: RunTask, error: str) -> RunResult:
    return RunResult(task.key, result_line(task, metrics=None, sha256=None, error=error), None, False)


def describe_error(exc: BaseException) -> str:
    from mmexec.errors import MmexecError

    if isinstance(exc, MmexecError):
        return str(exc)
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
