"""One self-contained HTML page of one or two run reports: headline figures, tables, charts, configuration.

The page works offline: plotly's JavaScript and the styles are inlined, and nothing refers to a network
address. Plotly is the ``mmexec[html]`` extra, imported only here (by ``mmexec report html`` and ``--html``).
The page is built from reports as read from JSON, so ``mmexec shadow --html`` and ``mmexec report html``
produce the same page for the same report.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mmexec.errors import ConfigError
from mmexec.reporting.html_style import BOOTSTRAP_JS, STYLE

Run = tuple[str, dict[str, Any]]  # (label, report as read from JSON)
MISSING_EXTRA = "the HTML report needs plotly: install mmexec[html] (pip install 'mmexec[html]')"


def require_html_extra(*, source: str) -> None:
    """Raise :class:`ConfigError` (exit 2) unless plotly is importable; call before any work starts."""
    try:
        import plotly  # noqa: F401
    except ImportError as exc:
        raise ConfigError(MISSING_EXTRA, source=source) from exc


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _get(report: dict[str, Any], *path: str) -> Any:
    node: Any = report
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _fmt(value: Any, places: int | None = None) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and places is not None:
        return f"{value:,.{places}f}"
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def _max_inventory(report: dict[str, Any]) -> float | None:
    """Largest |position × mid| over the timeline and symbols (else the end-of-run positions)."""
    timeline = report.get("timeline")
    values: list[float] = []
    if isinstance(timeline, dict):
        for columns in (timeline.get("symbols") or {}).values():
            values += [abs(p * m) for p, m in zip(columns.get("position", []), columns.get("mid", []), strict=False)
                       if p is not None and m is not None]
    if not values:
        values = [abs(v) for v in (_get(report, "positions", "net_pos_usd") or {}).values()]
    return max(values) if values else None


def headline(report: dict[str, Any]) -> list[tuple[str, Any, int | None]]:
    """(label, value, decimal places) of the headline figures of one report."""
    placed, filled = _get(report, "orders", "placed"), _get(report, "orders", "filled")
    ratio = filled / placed if isinstance(placed, int) and placed and isinstance(filled, int) else None
    fee_total = _get(report, "fees", "total") or {}
    notional = None
    if isinstance(fee_total, dict) and ("maker_notional" in fee_total or "taker_notional" in fee_total):
        notional = (fee_total.get("maker_notional") or 0.0) + (fee_total.get("taker_notional") or 0.0)
    return [
        ("net PnL (USD)", _get(report, "pnl", "total", "net"), 4),
        ("realized PnL (USD)", _get(report, "pnl", "total", "realized"), 4),
        ("unrealized PnL (USD)", _get(report, "pnl", "total", "unrealized"), 4),
        ("fees (USD)", _get(report, "pnl", "total", "fees"), 4),
        ("rebates (USD)", _get(report, "pnl", "total", "rebates"), 4),
        ("traded notional (USD)", notional, 2),
        ("fills", _get(report, "orders", "fills"), None),
        ("fill ratio (filled / placed)", ratio, 3),
        ("max |inventory| (USD)", _max_inventory(report), 2),
        ("freezes", _get(report, "risk", "freeze_events"), None),
        ("virtual run time (ms)", _get(report, "execution", "virtual_ms"), None),
    ]


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], caption: str, klass: str = "") -> str:
    cells = "".join(f"<th scope=\"col\">{_esc(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return (f"<table class=\"{klass}\"><caption>{_esc(caption)}</caption><thead><tr>{cells}</tr></thead>"
            f"<tbody>{body}</tbody></table>")


def headline_table(runs: Sequence[Run]) -> str:
    figures = [headline(report) for _, report in runs]
    head = ["figure", *(label for label, _ in runs)]
    if len(runs) == 2:
        head.append("B − A")
    rows = []
    for i, (name, _, places) in enumerate(figures[0]):
        values = [f[i][1] for f in figures]
        row = [_esc(name), *(_esc(_fmt(v, places)) for v in values)]
        if len(runs) == 2:
            a, b = values
            delta = b - a if isinstance(a, (int, float)) and isinstance(b, (int, float)) else None
            row.append(_esc(_fmt(float(delta) if delta is not None and places is not None else delta, places)))
        rows.append(row)
    return _table(head, rows, "Headline figures", "headline")


SYMBOL_COLUMNS = (("position", "position"), ("realized", "realized"), ("unrealized", "unrealized"),
                  ("fees", "fees"), ("rebates", "rebates"), ("net", "net PnL"), ("mark_price", "mark price"))


def symbol_table(runs: Sequence[Run]) -> str:
    rows = []
    for label, report in runs:
        by_symbol = _get(report, "pnl", "by_symbol") or {}
        net_usd = _get(report, "positions", "net_pos_usd") or {}
        fills = _get(report, "fees", "by_symbol") or {}
        symbols = sorted(set(by_symbol) | set(net_usd) | set(_get(report, "execution", "symbols") or []))
        for symbol in symbols:
            entry = by_symbol.get(symbol) or {}
            rows.append([_esc(label), _esc(symbol), *(_esc(_fmt(entry.get(key))) for key, _ in SYMBOL_COLUMNS),
                         _esc(_fmt(net_usd.get(symbol), 2)), _esc(_fmt((fills.get(symbol) or {}).get("fills")))])
    head = ["run", "symbol", *(title for _, title in SYMBOL_COLUMNS), "position (USD)", "fills"]
    return _table(head, rows, "Per symbol (PnL in USD, average-cost method)", "symbols")


def config_table(runs: Sequence[Run]) -> str:
    configs = [report.get("config") or {} for _, report in runs]
    keys = sorted(set().union(*configs))
    rows = []
    for key in keys:
        values = [_fmt(c.get(key)) for c in configs]
        differs = len(runs) == 2 and values[0] != values[1]
        rows.append([_esc(key) + (" <strong>(differs)</strong>" if differs else ""), *(_esc(v) for v in values)])
    return _table(["key", *(label for label, _ in runs)], rows, "Configuration the runs came from", "config")


def _script_json(value: str) -> str:
    """JSON safe to place inside a <script> element."""
    return value.replace("</", "<\\/").replace("<!--", "<\\!--")


def build_html(runs: Sequence[Run]) -> str:
    """The page for one or two ``(label, report)`` runs (reports as read from JSON)."""
    import plotly.io as pio
    import plotly.offline

    from mmexec.canonical import to_jsonable
    from mmexec.reporting.html_charts import figures, timeline_of

    if not 1 <= len(runs) <= 2:
        raise ValueError("the HTML report shows one or two reports")
    # Exact Decimals (as read by load_report) become the floats a JSON reader sees: the page only displays.
    runs = [(label, to_jsonable(report, fragments=False)) for label, report in runs]
    labels = [f"{'AB'[i]}: {label}" if len(runs) == 2 else label for i, (label, _) in enumerate(runs)]
    runs = [(name, report) for name, (_, report) in zip(labels, runs, strict=True)]
    charts = figures(runs)
    parts = []
    for chart_id, fig in charts:
        parts.append(f'<figure class="chart-box"><div class="chart" id="{_esc(chart_id)}" role="img" '
                     f'aria-label="{_esc(fig.layout.title.text)}"></div></figure>')
    specs = ",".join(f'{{"id":{json.dumps(cid)},"figure":{pio.to_json(fig, validate=False)}}}' for cid, fig in charts)
    no_timeline = [label for label, report in runs if timeline_of(report) is None]
    notes = "".join(f'<p class="no-timeline">{_esc(label)}: no timeline in this report (charts over time need a '
                    f"report written by mmexec with a <code>timeline</code> section).</p>" for label in no_timeline)
    versions = ", ".join(f"{_esc(label)} — mmexec {_esc(_get(r, 'runtime', 'mmexec_version') or '?')}, "
                         f"{_esc(_get(r, 'runtime', 'utc') or '?')}" for label, r in runs)
    title = "mmexec run report" + (" — comparison" if len(runs) == 2 else "")
    return "".join([
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(title)}: {_esc(' vs '.join(labels))}</title><style>{STYLE}</style>",
        f"<script>{plotly.offline.get_plotlyjs()}</script></head><body>",
        f"<header><h1>{_esc(title)}</h1><p class=\"runs\">{versions}</p></header><main>",
        f"<section id=\"headline\"><h2>Headline</h2>{headline_table(runs)}</section>",
        f"<section id=\"symbols\"><h2>Per symbol</h2>{symbol_table(runs)}</section>",
        f"<section id=\"charts\"><h2>Over time</h2>{notes}{''.join(parts)}</section>",
        f"<section id=\"config\"><h2>Configuration</h2>{config_table(runs)}</section>",
        "</main><footer>Written by mmexec from canonical JSON reports; self-contained (works offline). Times are "
        "virtual (the simulation's clock), in seconds since the run started.</footer>",
        f'<script type="application/json" id="mmexec-charts">[{_script_json(specs)}]</script>',
        f"<script>{BOOTSTRAP_JS}</script></body></html>\n",
    ])


def write_html_report(path: str | Path, runs: Sequence[Run]) -> Path:
    """Write the page atomically (never half-written; see :mod:`mmexec.artifacts`)."""
    from mmexec.artifacts import write_artifact

    return write_artifact(path, build_html(runs).encode("utf-8"), what="HTML page")
