"""The inlined style sheet and start-up script of the HTML report (no external resources)."""

from __future__ import annotations

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#111;background:#fff}
header{padding:16px 24px;border-bottom:2px solid #1a2f5a}header h1{margin:0;font-size:1.5rem}
.runs{margin:4px 0 0;color:#333}main{padding:8px 24px}h2{font-size:1.2rem;margin:24px 0 8px}
table{border-collapse:collapse;margin:8px 0;font-size:.9rem}caption{text-align:left;font-weight:600;padding:4px 0}
th,td{border:1px solid #bbb;padding:4px 8px;text-align:right}th{background:#eef1f6}
td:first-child,th:first-child{text-align:left}table.config td{text-align:left;font-family:monospace}
.chart-box{margin:12px 0;border:1px solid #ddd}.chart{width:100%;height:460px}
.no-timeline{padding:12px;border:1px dashed #888;background:#fafafa}
footer{padding:16px 24px;color:#444;font-size:.85rem;border-top:1px solid #ddd}
"""

# Draws every chart from the JSON block; sets data-charts="ready" (or "error: ...") on <body> when done.
BOOTSTRAP_JS = """
(function () {
  var body = document.body;
  try {
    var specs = JSON.parse(document.getElementById("mmexec-charts").textContent);
    var config = {displaylogo: false, responsive: true};
    Promise.all(specs.map(function (spec) {
      return Plotly.newPlot(spec.id, spec.figure.data, spec.figure.layout, config);
    })).then(function () { body.setAttribute("data-charts", "ready"); },
             function (err) { body.setAttribute("data-charts", "error: " + err); console.error(err); });
  } catch (err) {
    body.setAttribute("data-charts", "error: " + err);
    console.error(err);
  }
})();
"""
