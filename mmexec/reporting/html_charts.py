"""Plotly figures of one or two run reports (imported only by the HTML report; needs ``mmexec[html]``).

Every figure has a title and axis titles with units. Runs, series and sides differ by line dash, marker
shape and fill as well as by colour, so the charts read in greyscale too. Freezes, unfreezes and market-data
events (gaps, resyncs, crossed books, reconnects) are vertical lines on every time axis.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import plotly.graph_objects as go

from mmexec.reporting import html_markout

# Colours of very different lightness (dark blue / orange / light blue) for runs A and B and a third series.
RUN_COLOURS = ("#1a2f5a", "#d55e00", "#56b4e9")
SYMBOL_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
EVENT_STYLE = {  # kind -> (colour, dash, legend label)
    "freeze": ("#b00020", "dash", "freeze (kill switch)"),
    "unfreeze": ("#1b7837", "dot", "unfreeze"),
    "gap": ("#555555", "dashdot", "market-data gap"),
    "resync": ("#555555", "longdash", "book resync"),
    "reconnect": ("#555555", "longdashdot", "reconnect"),
    "crossed": ("#777777", "dot", "crossed book"),
}
TIME_AXIS = "virtual time since start (s)"
Run = tuple[str, dict[str, Any]]  # (label, report as read from JSON)


def timeline_of(report: dict[str, Any]) -> dict[str, Any] | None:
    """The report's timeline when it has samples and the expected shape (else None: drawn as "no timeline")."""
    timeline = report.get("timeline")
    if not isinstance(timeline, dict) or not isinstance(timeline.get("t_ms"), list) or not timeline["t_ms"]:
        return None
    count = len(timeline["t_ms"])
    symbols = timeline.get("symbols")
    if not isinstance(symbols, dict) or not all(
        isinstance(columns, dict) and all(isinstance(columns.get(name), list) and len(columns[name]) == count
                                          for name in ("mid", "position", "net", "realized", "unrealized",
                                                       "our_bid", "our_ask"))
        for columns in symbols.values()
    ):
        return None
    if not isinstance(timeline.get("events", []), list):
        return None
    return timeline


def _seconds(values: Sequence[int]) -> list[float]:
    return [v / 1000 for v in values]


def _total(timeline: dict[str, Any], series: str) -> list[float]:
    """The sum over symbols of one series, sample by sample (missing values count as 0)."""
    totals = [0.0] * len(timeline["t_ms"])
    for columns in timeline["symbols"].values():
        for i, value in enumerate(columns.get(series, [])):
            totals[i] += value or 0.0
    return totals


def _layout(fig: go.Figure, title: str, y_title: str, x_title: str = TIME_AXIS) -> go.Figure:
    fig.update_layout(
        template="none", title={"text": title, "x": 0.01}, height=460, margin={"l": 80, "r": 20, "t": 60, "b": 130},
        xaxis={"title": {"text": x_title}, "showgrid": True, "gridcolor": "#e5e5e5", "zeroline": False},
        yaxis={"title": {"text": y_title}, "showgrid": True, "gridcolor": "#e5e5e5"},
        legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0}, hovermode="closest", font={"size": 13},
        plot_bgcolor="white", paper_bgcolor="white",
    )
    return fig


def _events(runs: Sequence[Run], kinds: set[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    for index, (_, report) in enumerate(runs):
        timeline = timeline_of(report) or {}
        for event in timeline.get("events", []):
            if isinstance(event, dict) and event.get("kind") in kinds and isinstance(event.get("t_ms"), int):
                yield index, event


def mark_events(fig: go.Figure, runs: Sequence[Run]) -> None:
    """Vertical lines at every freeze / unfreeze / market-data event, with one legend entry per kind."""
    seen: set[str] = set()
    for index, event in _events(runs, set(EVENT_STYLE)):
        kind = event["kind"]
        colour, dash, label = EVENT_STYLE[kind]
        fig.add_shape(type="line", xref="x", yref="paper", x0=event["t_ms"] / 1000, x1=event["t_ms"] / 1000,
                      y0=0, y1=1, line={"color": colour, "dash": dash, "width": 1.5 if index == 0 else 1})
        if kind not in seen:
            seen.add(kind)
            fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name=label, line={"color": colour,
                                                                                          "dash": dash}))


def _run_name(label: str, runs: Sequence[Run], what: str) -> str:
    return what if len(runs) == 1 else f"{label}: {what}"


def pnl_figure(runs: Sequence[Run]) -> go.Figure:
    fig = go.Figure()
    for index, (label, report) in enumerate(runs):
        timeline = timeline_of(report)
        if timeline is None:
            continue
        x = _seconds(timeline["t_ms"])
        colour = RUN_COLOURS[index % len(RUN_COLOURS)]
        for series, dash, width in (("net", "solid", 3), ("realized", "dash", 2), ("unrealized", "dot", 2)):
            fig.add_trace(go.Scatter(x=x, y=_total(timeline, series), mode="lines",
                                     name=_run_name(label, runs, f"{series} PnL"),
                                     line={"color": colour, "dash": dash, "width": width}))
    mark_events(fig, runs)
    return _layout(fig, "Net PnL over time (realized + unrealized − fees + rebates), all symbols", "PnL (USD)")


def inventory_figure(runs: Sequence[Run]) -> go.Figure:
    fig = go.Figure()
    limits: set[float] = set()
    for index, (label, report) in enumerate(runs):
        timeline = timeline_of(report)
        max_inv = (report.get("config") or {}).get("max_inv")
        if isinstance(max_inv, (int, float)):
            limits.add(float(max_inv))
        if timeline is None:
            continue
        x = _seconds(timeline["t_ms"])
        colour = RUN_COLOURS[index % len(RUN_COLOURS)]
        for number, (symbol, columns) in enumerate(sorted(timeline["symbols"].items())):
            usd = [None if p is None or m is None else p * m for p, m in zip(columns["position"], columns["mid"],
                                                                             strict=True)]
            fig.add_trace(go.Scatter(x=x, y=usd, mode="lines", name=_run_name(label, runs, symbol),
                                     line={"color": colour, "dash": SYMBOL_DASHES[number % len(SYMBOL_DASHES)],
                                           "width": 2.5 if index == 0 else 1.8}))
    for limit in sorted(limits):
        for sign in (1, -1):
            fig.add_hline(y=sign * limit, line={"color": "#444444", "dash": "longdash", "width": 1})
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name=f"±max_inv ({limit:g} USD)",
                                 line={"color": "#444444", "dash": "longdash", "width": 1}))
    mark_events(fig, runs)
    return _layout(fig, "Inventory per symbol (position × mid) against ±max_inv", "inventory (USD)")


def price_figure(runs: Sequence[Run], symbol: str) -> go.Figure:
    """Mid, best bid/ask, our resting quotes, and our fills (buys ▲ filled, sells ▼ hollow) for one symbol."""
    fig = go.Figure()
    for index, (label, report) in enumerate(runs):
        timeline = timeline_of(report)
        if timeline is None or symbol not in timeline["symbols"]:
            continue
        columns = timeline["symbols"][symbol]
        x = _seconds(timeline["t_ms"])
        colour = RUN_COLOURS[index % len(RUN_COLOURS)]
        fig.add_trace(go.Scatter(x=x, y=columns["mid"], mode="lines", name=_run_name(label, runs, "mid"),
                                 line={"color": "#888888" if index == 0 else "#bbbbbb", "width": 2,
                                       "dash": "solid" if index == 0 else "longdash"}))
        fig.add_trace(go.Scatter(x=x, y=columns["our_bid"], mode="lines", line_shape="hv",
                                 name=_run_name(label, runs, "our bid"),
                                 line={"color": colour, "dash": "dash", "width": 1.5}))
        fig.add_trace(go.Scatter(x=x, y=columns["our_ask"], mode="lines", line_shape="hv",
                                 name=_run_name(label, runs, "our ask"),
                                 line={"color": colour, "dash": "dot", "width": 1.5}))
        fills = [e for e in timeline.get("events", []) if isinstance(e, dict) and e.get("kind") == "fill"
                 and e.get("symbol") == symbol and isinstance(e.get("t_ms"), int)]
        for side, marker in (("BUY", "triangle-up"), ("SELL", "triangle-down-open")):
            chosen = [e for e in fills if e.get("side") == side]
            fig.add_trace(go.Scatter(
                x=[e["t_ms"] / 1000 for e in chosen], y=[e["price"] for e in chosen], mode="markers",
                name=_run_name(label, runs, f"{side.lower()} fills ({len(chosen)})"),
                marker={"symbol": marker, "size": 10, "color": colour, "line": {"width": 1.5, "color": colour}},
                customdata=[[e["qty"], e.get("liquidity", "")] for e in chosen],
                hovertemplate="%{x} s<br>price %{y}<br>qty %{customdata[0]} (%{customdata[1]})<extra></extra>",
            ))
    mark_events(fig, runs)
    fig = _layout(fig, f"{symbol}: mid, our quotes and fills", "price (quote currency)")
    fig.update_yaxes(tickformat=",", exponentformat="none")  # 61,800 rather than 61.8k: prices need digits
    return fig


def markout_figure(runs: Sequence[Run]) -> go.Figure | None:
    """The markout chart (see :mod:`.html_markout`); None when no report has a ``markout`` section."""
    return html_markout.markout_figure(runs, _layout, RUN_COLOURS)


def symbols_of(runs: Sequence[Run]) -> list[str]:
    found: set[str] = set()
    for _, report in runs:
        timeline = timeline_of(report)
        if timeline is not None:
            found.update(timeline["symbols"])
    return sorted(found)


def time_span_s(runs: Sequence[Run]) -> float:
    """Seconds from the start to the last sample or event of the longest run (at least 1 ms)."""
    last = 1
    for _, report in runs:
        timeline = timeline_of(report)
        if timeline is not None:
            last = max(last, *(t for t in timeline["t_ms"] if isinstance(t, int)))
    for _, event in _events(runs, {*EVENT_STYLE, "fill"}):
        last = max(last, event["t_ms"])
    return last / 1000


def figures(runs: Sequence[Run]) -> list[tuple[str, go.Figure]]:
    """(element id, figure) of every chart for these runs; empty when no run has a timeline."""
    if not symbols_of(runs):
        markout = markout_figure(runs)
        return [("chart-markout", markout)] if markout is not None else []
    out = [("chart-pnl", pnl_figure(runs)), ("chart-inventory", inventory_figure(runs))]
    out += [(f"chart-price-{symbol}", price_figure(runs, symbol)) for symbol in symbols_of(runs)]
    span = time_span_s(runs)
    for _, fig in out:  # one time axis for every chart: from the run's start to its last point or event
        fig.update_xaxes(range=[0, span])
    markout = markout_figure(runs)
    if markout is not None:
        out.append(("chart-markout", markout))
    return out
