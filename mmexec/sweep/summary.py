"""Robustness per combination: mean, stdev and worst case of one metric across seeds and data files.

Read back from the sorted result file (so a resumed or interrupted sweep summarises everything on disk). Values
are exact decimals from the result lines; mean and stdev are rounded to 10 places (half-even).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from mmexec.errors import ConfigError
from mmexec.money import plain
from mmexec.sweep.grid import SEED_KEY, run_key

# metric -> True when higher is better
RANK_METRICS: dict[str, bool] = {
    "net_pnl": True, "realized_pnl": True, "unrealized_pnl": True, "rebates": True, "traded_notional": True,
    "fills": True, "fill_ratio": True, "orders_placed": True,
    "fees": False, "max_abs_inventory": False, "freezes": False,
}
STAT_PLACES = Decimal("1E-10")


def check_rank_by(metric: str) -> str:
    from mmexec.sweep.grid import did_you_mean

    if metric not in RANK_METRICS:
        known = sorted(RANK_METRICS)
        raise ConfigError(f"unknown metric {metric!r}{did_you_mean(metric, known)} (one of {', '.join(known)})",
                          source="--rank-by")
    return metric


@dataclass(frozen=True, slots=True)
class CombinationStats:
    combination: str
    runs: int
    failed: int
    mean: Decimal | None
    stdev: Decimal | None
    worst: Decimal | None
    best: Decimal | None

    def as_dict(self) -> dict[str, Any]:
        return {"combination": self.combination, "runs": self.runs, "failed": self.failed, "mean": self.mean,
                "stdev": self.stdev, "worst": self.worst, "best": self.best}


@dataclass(frozen=True, slots=True)
class Summary:
    rank_by: str
    runs: int
    failed: int
    combinations: tuple[CombinationStats, ...]  # best first

    def as_dict(self, top: int) -> dict[str, Any]:
        return {"rank_by": self.rank_by, "higher_is_better": RANK_METRICS[self.rank_by], "runs": self.runs,
                "failed": self.failed, "combinations_total": len(self.combinations),
                "best": [c.as_dict() for c in self.combinations[:top]]}


def combination_of(line: Mapping[str, Any]) -> str:
    """The grid part of a run's key (seed and data file are what the statistics run across)."""
    combination = line.get("combination")
    if isinstance(combination, str):
        return combination or "(run flags)"
    grid = {k: v for k, v in (line.get("params") or {}).items() if k not in (SEED_KEY, "data")}
    return run_key(grid) or "(run flags)"


def summarize(lines: Iterable[Mapping[str, Any]], rank_by: str) -> Summary:
    values: dict[str, list[Decimal]] = {}
    failed: dict[str, int] = {}
    runs = bad = 0
    for line in lines:
        combo = combination_of(line)
        values.setdefault(combo, [])
        failed.setdefault(combo, 0)
        runs += 1
        metrics = line.get("metrics")
        if line.get("error") is not None or not isinstance(metrics, Mapping):
            failed[combo] += 1
            bad += 1
            continue
        values[combo].append(Decimal(str(metrics[rank_by])))
    higher = RANK_METRICS[rank_by]
    stats = [_stats(combo, vals, failed[combo], higher) for combo, vals in values.items()]

    def order(c: CombinationStats) -> tuple[int, Decimal, str]:
        if c.mean is None:
            return (1, Decimal(0), c.combination)
        return (0, -c.mean if higher else c.mean, c.combination)

    return Summary(rank_by, runs, bad, tuple(sorted(stats, key=order)))


def _stats(combo: str, vals: list[Decimal], failed: int, higher: bool) -> CombinationStats:
    if not vals:
        return CombinationStats(combo, failed, failed, None, None, None, None)
    mean = plain(statistics.mean(vals).quantize(STAT_PLACES))
    stdev = plain(statistics.stdev(vals).quantize(STAT_PLACES)) if len(vals) > 1 else Decimal(0)
    worst, best = (min(vals), max(vals)) if higher else (max(vals), min(vals))
    return CombinationStats(combo, len(vals) + failed, failed, mean, stdev, worst, best)


def read_summary(results: Path, rank_by: str) -> Summary:
    lines = (json.loads(raw, parse_float=Decimal) for raw in results.read_bytes().splitlines() if raw.strip())
    return summarize(lines, rank_by)


def render_table(summary: Summary, top: int) -> Any:
    """A rich table of the best ``top`` combinations."""
    from rich.table import Table

    direction = "higher" if RANK_METRICS[summary.rank_by] else "lower"
    shown = summary.combinations[:top]
    table = Table(title=f"Best {len(shown)} of {len(summary.combinations)} combinations by {summary.rank_by} "
                        f"({direction} is better; across seeds/files)")
    table.add_column("#", justify="right")
    table.add_column("combination")
    table.add_column("runs", justify="right")
    table.add_column("failed", justify="right")
    for name in ("mean", "stdev", "worst", "best"):
        table.add_column(name, justify="right")
    for rank, c in enumerate(shown, 1):
        table.add_row(str(rank), c.combination, str(c.runs), str(c.failed),
                      *(_fmt(v) for v in (c.mean, c.stdev, c.worst, c.best)))
    return table


def _fmt(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:f}"
