"""Operator-facing wording of the engine's risk notifications (the CLI prints them; the engine prints nothing)."""

from __future__ import annotations

from mmexec.engine.ports import RiskNotice


def freeze_notice_line(notice: RiskNotice) -> str:
    """The one-line freeze notice: symbol, exact edge and threshold, virtual time, and what happens next."""
    edge = "not a number" if notice.edge_bps is None else f"{notice.edge_bps} bps"
    if notice.unfreeze_after_ms is None:
        then = "no order follows for the rest of the run (--unfreeze-after-ms N lifts a freeze after N virtual ms)"
    else:
        then = (f"no order follows until the edges recover, at least {notice.unfreeze_after_ms} virtual ms "
                "(--unfreeze-after-ms)")
    return (f"warning: trading frozen at {notice.at_ms} ms: {notice.symbol} edge {edge} is below the threshold "
            f"{notice.threshold_bps} bps ({notice.reason}); open orders canceled, {then}")
