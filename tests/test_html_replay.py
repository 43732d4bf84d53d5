"""The HTML report of replay runs: the markout distribution chart, market-data markers, size, CLI paths."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("plotly", reason="the HTML report needs the mmexec[html] extra (plotly)")

from mmexec.accounting.markout import BUCKET_EDGES_BPS
from mmexec.reporting.html import build_html
from mmexec.reporting.html_markout import bucket_labels, distribution_of
from tests.replay_support import BTC

MAX_PAGE_BYTES = 8_000_000


def chart_specs(page: str) -> list[dict[str, Any]]:
    block = re.search(r'id="mmexec-charts">(.*?)</script>', page, re.S)
    assert block is not None
    specs: list[dict[str, Any]] = json.loads(block.group(1).replace("<\\/", "</").replace("<\\!--", "<!--"))
    return specs


def test_bucket_labels_name_half_open_buckets() -> None:
    labels = bucket_labels([float(e) for e in BUCKET_EDGES_BPS])
    assert len(labels) == len(BUCKET_EDGES_BPS) + 1
    assert labels[0] == "< −50" and labels[-1] == "≥ 50"
    assert "[−0.2, 0)" in labels and "[0, 0.2)" in labels


def test_distribution_follows_the_horizon_order_and_refuses_bad_shapes() -> None:
    counts = {"1s": [1, 2, 3], "100ms": [0, 1, 0], "30s": [0, 0, 1], "5s": [1, 1, 1], "odd": [1]}
    report = {"markout": {"horizons_ms": [100, 1000, 5000, 30000],
                          "distribution": {"edges_bps": [-1, 1], "counts": counts}}}
    found = distribution_of(report)
    assert found is not None
    assert [label for label, _ in found[1]] == ["100ms", "1s", "5s", "30s"]  # "odd" has the wrong length
    assert distribution_of({"markout": {"distribution": {"edges_bps": [], "counts": {}}}}) is None
    assert distribution_of({"markout": {"total": {}}}) is None


def test_replay_run_and_report_html_give_the_same_small_page(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("shadow", "--market", "replay", "--data", str(BTC), "--out", "run.json", "--html", "run.html")
    assert result.exit_code == 0, result.stderr
    result = cli("report", "html", "run.json", "-o", "again.html")
    assert result.exit_code == 0, result.stderr
    page = (tmp_path / "run.html").read_bytes()
    assert page == (tmp_path / "again.html").read_bytes()
    assert len(page) < MAX_PAGE_BYTES
    report = json.loads((tmp_path / "run.json").read_text())
    assert 300 <= report["timeline"]["samples"] <= 400  # 5.7 minutes at the default 1 s
    specs = {spec["id"]: spec["figure"] for spec in chart_specs(page.decode())}
    assert list(specs) == ["chart-pnl", "chart-inventory", "chart-price-BTCUSDT", "chart-markout"]
    markout = specs["chart-markout"]
    assert markout["layout"]["title"]["text"].startswith("Markout distribution")
    assert markout["layout"]["xaxis"]["title"]["text"].startswith("net markout")
    bars = markout["data"]
    assert [bar["name"].split(" ")[0] for bar in bars] == ["100ms", "1s", "5s", "30s"]
    assert len({bar["marker"]["color"] for bar in bars}) == 4  # horizons differ in lightness
    counts = report["markout"]["distribution"]["counts"]
    for bar in bars:
        horizon = bar["name"].split(" ")[0]
        assert [y or 0 for y in bar["y"]] == counts[horizon]


def test_two_replay_reports_overlay_their_distributions() -> None:
    a = {"markout": {"horizons_ms": [100], "total": {"100ms": {"mean_net_bps": -0.5}},
                     "distribution": {"edges_bps": [0], "counts": {"100ms": [3, 1]}}}}
    b = {"markout": {"horizons_ms": [100], "distribution": {"edges_bps": [0], "counts": {"100ms": [1, 3]}}}}
    specs = chart_specs(build_html([("a.json", a), ("b.json", b)]))
    (markout,) = [spec["figure"] for spec in specs if spec["id"] == "chart-markout"]
    assert [bar["name"] for bar in markout["data"]] == ["A: a.json: 100ms (n=4, mean -0.50 bps)",
                                                        "B: b.json: 100ms (n=4)"]
    assert [bar["marker"]["pattern"]["shape"] for bar in markout["data"]] == ["", "/"]
