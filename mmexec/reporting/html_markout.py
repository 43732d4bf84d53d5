"""The markout chart of the HTML report: the distribution of net markouts per horizon (or, for reports written
before the distribution existed, the mean markouts). Needs ``mmexec[html]``; imported by :mod:`.html_charts`.

Horizons differ by fill lightness (dark = short horizon, light = long) with a black outline, so they read in
greyscale; the second run of a comparison is hatched.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import pairwise
from typing import Any

import plotly.graph_objects as go

from mmexec.accounting.markout import horizon_label

HORIZON_COLOURS = ("#08306b", "#2f6fad", "#8fbfe0", "#e3eef8")  # lightness about 20 / 45 / 75 / 93 %
RUN_PATTERNS = ("", "/")
Run = tuple[str, dict[str, Any]]


def distribution_of(report: dict[str, Any]) -> tuple[list[float], list[tuple[str, list[int]]]] | None:
    """(bucket edges in bps, [(horizon label, counts)] in horizon order) of a report's markout section."""
    section = report.get("markout")
    dist = section.get("distribution") if isinstance(section, dict) else None
    if not isinstance(dist, dict):
        return None
    edges, counts = dist.get("edges_bps"), dist.get("counts")
    if not isinstance(edges, list) or not isinstance(counts, dict) or not edges:
        return None
    horizons = section.get("horizons_ms") if isinstance(section, dict) else None
    order = [horizon_label(h) for h in horizons if isinstance(h, int)] if isinstance(horizons, list) else []
    order += sorted(label for label in counts if label not in order)
    rows = [(label, counts[label]) for label in order if isinstance(counts.get(label), list)
            and len(counts[label]) == len(edges) + 1]
    return (edges, rows) if rows else None


def bucket_labels(edges: Sequence[float]) -> list[str]:
    """``< e0``, ``[e0, e1)``, ..., ``≥ en`` with a typographic minus sign."""
    def num(value: float) -> str:
        return f"{value:g}".replace("-", "−")

    middle = [f"[{num(lo)}, {num(hi)})" for lo, hi in pairwise(edges)]
    return [f"< {num(edges[0])}", *middle, f"≥ {num(edges[-1])}"]


def _mean(report: dict[str, Any], label: str) -> str:
    total = (report.get("markout") or {}).get("total") or {}
    mean = (total.get(label) or {}).get("mean_net_bps") if isinstance(total, dict) else None
    return f", mean {mean:+.2f} bps" if isinstance(mean, (int, float)) else ""


def distribution_figure(runs: Sequence[Run], layout: Any) -> go.Figure | None:
    """Grouped bars: fills per net-markout bucket, one bar per horizon (and run); None without distributions."""
    fig = go.Figure()
    for index, (label, report) in enumerate(runs):
        found = distribution_of(report)
        if found is None:
            continue
        edges, rows = found
        x = bucket_labels(edges)
        for number, (horizon, counts) in enumerate(rows):
            name = f"{horizon} (n={sum(counts)}{_mean(report, horizon)})"
            fig.add_trace(go.Bar(
                x=x, y=[count or None for count in counts], name=name if len(runs) == 1 else f"{label}: {name}",
                marker={"color": HORIZON_COLOURS[number % len(HORIZON_COLOURS)],
                        "line": {"color": "#111111", "width": 1},
                        "pattern": {"shape": RUN_PATTERNS[index % len(RUN_PATTERNS)], "fgcolor": "#111111"}},
                hovertemplate=f"{horizon}<br>net markout %{{x}} bps<br>%{{y}} fills<extra></extra>",
            ))
    if not fig.data:
        return None
    fig.update_layout(barmode="group", bargap=0.15, bargroupgap=0.05)
    fig = layout(fig, "Markout distribution: fills per net markout bucket (net of fees), by horizon",
                 "fills (count)", x_title="net markout at the horizon (bps; buckets include their lower edge)")
    # rotated bucket labels, the axis title and the legend each get their own band below the plot
    fig.update_layout(margin={"b": 160}, legend={"y": -0.45, "title": {"text": "horizon (fills, mean net markout):"}})
    fig.update_xaxes(tickangle=-35, title={"standoff": 6})
    return fig


def _numbers(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], float]]:
    if isinstance(node, dict):
        for key in sorted(node):
            if key != "distribution":
                yield from _numbers(node[key], (*path, str(key)))
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        yield path, float(node)


def means_figure(runs: Sequence[Run], layout: Any, colours: Sequence[str]) -> go.Figure | None:
    """Mean markouts (bps) by horizon and symbol, for reports without a distribution (None if no markouts)."""
    fig = go.Figure()
    for index, (label, report) in enumerate(runs):
        section = report.get("markout")
        if not isinstance(section, dict):
            continue
        points = [(".".join(path[:-1]) + f" ({path[-1]})", value) for path, value in _numbers(section)
                  if "mean" in path[-1]]
        if points:
            fig.add_trace(go.Bar(x=[p[0] for p in points], y=[p[1] for p in points], name=label,
                                 marker={"color": colours[index % len(colours)],
                                         "pattern": {"shape": RUN_PATTERNS[index % len(RUN_PATTERNS)]}}))
    if not fig.data:
        return None
    result: go.Figure = layout(fig, "Markouts: mean by symbol and horizon", "markout (bps)",
                               x_title="symbol, horizon (measure)")
    return result


def markout_figure(runs: Sequence[Run], layout: Any, colours: Sequence[str]) -> go.Figure | None:
    """The distribution when a report has one, else the means; None when no report has markouts."""
    result = distribution_figure(runs, layout)
    return result if result is not None else means_figure(runs, layout, colours)
