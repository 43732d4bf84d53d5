"""The HTML report: self-contained (nothing from the network), contents, two-report overlay, CLI behaviour."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("plotly", reason="the HTML report needs the mmexec[html] extra (plotly)")

from mmexec.canonical import dumps, to_jsonable
from mmexec.reporting.html import build_html
from mmexec.run.builder import run_session
from mmexec.run.spec import RunSpec

UTC = "2025-01-01T00:00:00Z"
MAX_PAGE_BYTES = 8 * 1024 * 1024


class Elements(HTMLParser):
    """Every element of the page with its attributes, and the text of its <style> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def report(**overrides: Any) -> dict[str, Any]:
    return to_jsonable(run_session(RunSpec.from_settings(overrides, strict=True), utc=UTC), fragments=False)  # type: ignore[no-any-return]


def without_plotly_bundle(page: str) -> str:
    import plotly.offline

    bundle = plotly.offline.get_plotlyjs()
    assert page.count(bundle) == 1  # the library is inlined exactly once
    return page.replace(bundle, "")


def test_page_is_self_contained() -> None:
    page = build_html([("run.json", report())])
    parser = Elements()
    parser.feed(page)
    tags = {tag for tag, _ in parser.tags}
    assert "link" not in tags and "iframe" not in tags and "img" not in tags
    for tag, attrs in parser.tags:
        assert "src" not in attrs and "href" not in attrs, (tag, attrs)  # scripts and styles are all inline
    assert sum(1 for tag, _ in parser.tags if tag == "script") == 3  # plotly, the chart data, the start-up
    for style in parser.styles:
        assert "url(" not in style and "@import" not in style
    rest = without_plotly_bundle(page)
    assert "http://" not in rest and "https://" not in rest  # our own markup names no address at all


def test_page_contents(tmp_path: Path) -> None:
    data = report(iterations=200, edge_threshold=Decimal("2.2"), unfreeze_after_ms=500)
    page = without_plotly_bundle(build_html([("run.json", data)]))
    for chart in ("chart-pnl", "chart-inventory", "chart-price-BTCUSDT", "chart-price-ETHUSDT"):
        assert f'id="{chart}"' in page
    for label in ("net PnL (USD)", "fees (USD)", "rebates (USD)", "traded notional (USD)", "fills",
                  "fill ratio (filled / placed)", "max |inventory| (USD)", "freezes"):
        assert f"<td>{label}</td>" in page
    assert f"{data['pnl']['total']['net']:,.4f}" in page
    # charts: titles and axis titles with units; freeze markers on the time axes; buys and sells distinct
    specs = json.loads(re.search(r'id="mmexec-charts">(.*?)</script>', page, re.S).group(1).replace("<\\/", "</"))
    for spec in specs:
        layout = spec["figure"]["layout"]
        assert layout["title"]["text"]
        assert "(" in layout["xaxis"]["title"]["text"] and "(" in layout["yaxis"]["title"]["text"]  # units
        assert any(s.get("line", {}).get("color") == "#b00020" for s in layout.get("shapes", []))  # freezes
    price = next(s for s in specs if s["id"] == "chart-price-BTCUSDT")["figure"]["data"]
    markers = {t["marker"]["symbol"] for t in price if t.get("mode") == "markers"}
    assert markers == {"triangle-up", "triangle-down-open"}
    # the configuration the run came from
    assert "<td>edge_threshold</td><td>2.2</td>" in page
    assert "<td>unfreeze_after_ms</td><td>500</td>" in page


def test_two_reports_overlaid() -> None:
    page = without_plotly_bundle(build_html([("base.json", report()), ("new.json", report(seed=7))]))
    assert "A: base.json" in page and "B: new.json" in page
    assert "B − A" in page
    assert "<strong>(differs)</strong>" in page  # seed
    specs = re.search(r'id="mmexec-charts">(.*?)</script>', page, re.S).group(1)
    assert "A: base.json: net PnL" in specs and "B: new.json: net PnL" in specs


def test_report_without_timeline_still_renders() -> None:
    data = report()
    del data["timeline"]
    page = without_plotly_bundle(build_html([("old.json", data)]))
    assert "no timeline in this report" in page
    assert 'class="chart"' not in page
    assert "<td>net PnL (USD)</td>" in page


def test_markout_section_gets_a_chart() -> None:
    data = report()
    data["markout"] = {"by_symbol": {"BTCUSDT": {"1s": {"count": 4, "mean_bps": -0.5, "mean_bps_net": -1.5}}},
                       "total": {"1s": {"count": 4, "mean_bps": -0.5, "mean_bps_net": -1.5}}}
    page = build_html([("replay.json", data)])
    assert 'id="chart-markout"' in page


def test_long_run_page_stays_small() -> None:
    data = report(iterations=20_000, edge_threshold=Decimal(-1000), symbols=("BTCUSDT", "ETHUSDT", "SOLUSDT"))
    assert data["timeline"]["samples"] <= 1000
    size = len(build_html([("a", data), ("b", data)]).encode("utf-8"))
    assert size < MAX_PAGE_BYTES, size


# ---------------------------------------------------------------- CLI


def test_run_html_equals_report_html(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("shadow", "--iterations", "30", "--out", "run.json", "--html", "run.html")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    result = cli("report", "html", "run.json", "-o", "again.html")
    assert result.exit_code == 0, result.stderr
    page = (tmp_path / "run.html").read_bytes()
    assert page == (tmp_path / "again.html").read_bytes()
    assert page.startswith(b"<!DOCTYPE html>")


def test_report_html_to_stdout_and_two_reports(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "a.json").write_bytes(dumps(run_session(RunSpec().replace(iterations=10), utc=UTC)))
    (tmp_path / "b.json").write_bytes(dumps(run_session(RunSpec().replace(iterations=10, seed=1), utc=UTC)))
    result = cli("report", "html", "a.json", "b.json")
    assert result.exit_code == 0, result.stderr
    assert "A: a.json" in result.stdout and "B: b.json" in result.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "error: report file does not exist (missing.json)"), (b"{not json", "error: ")],
)
def test_report_html_bad_input(cli, tmp_path: Path, content: bytes | None, message: str) -> None:  # type: ignore[no-untyped-def]
    if content is not None:
        (tmp_path / "missing.json").write_bytes(content)
    result = cli("report", "html", "missing.json", "-o", "out.html")
    assert result.exit_code == 2
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1
    assert not (tmp_path / "out.html").exists()


def test_missing_extra_is_refused_before_the_run(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import sys

    monkeypatch.setitem(sys.modules, "plotly", None)  # import plotly -> ImportError
    result = cli("shadow", "--iterations", "5", "--out", "run.json", "--html", "run.html")
    assert result.exit_code == 2
    assert result.stderr == ("error: the HTML report needs plotly: install mmexec[html] (pip install "
                             "'mmexec[html]') (flag --html)\n")
    assert not (tmp_path / "run.json").exists() and not (tmp_path / "run.html").exists()


def test_installed_cli_page_is_byte_identical_across_processes(tmp_path: Path) -> None:
    import os
    import shutil
    import subprocess
    import sys

    sibling = Path(sys.executable).with_name("mmexec")
    mmexec = str(sibling) if sibling.exists() else shutil.which("mmexec")
    if mmexec is None:
        pytest.skip("mmexec is not installed: pip install -e .")
    pages = []
    for hash_seed in ("0", "4242"):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MMEXEC_", "BYBIT_"))}
        env.update(PYTHONHASHSEED=hash_seed, MM_FREEZE_UTC_ISO=UTC)
        out = tmp_path / f"run-{hash_seed}.html"
        result = subprocess.run([mmexec, "shadow", "--iterations", "40", "--out", "run.json", "--html", str(out)],
                                capture_output=True, env=env, cwd=tmp_path, timeout=120, check=False)
        assert result.returncode == 0, result.stderr
        assert result.stdout == b"" and result.stderr == b""
        pages.append(out.read_bytes())
    assert pages[0] == pages[1]


@pytest.mark.parametrize("target", ["missing-dir/page.html", "missing-dir/deeper/page.html"])
def test_bad_output_path_is_refused_before_the_work(cli, tmp_path: Path, target: str) -> None:  # type: ignore[no-untyped-def]
    result = cli("shadow", "--iterations", "5", "--out", "run.json", "--html", target)
    assert result.exit_code == 2
    assert result.stderr == f"error: cannot write HTML page: No such file or directory ({target})\n"
    assert not (tmp_path / "run.json").exists() and not list(tmp_path.glob(".*.tmp"))
    (tmp_path / "a.json").write_bytes(dumps(run_session(RunSpec().replace(iterations=5), utc=UTC)))
    result = cli("report", "html", "a.json", "-o", target)
    assert result.exit_code == 2
    assert result.stderr == f"error: cannot write HTML page: No such file or directory ({target})\n"


def test_html_may_not_name_the_report_file(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("shadow", "--iterations", "5", "--out", "run.json", "--html", "./run.json")
    assert result.exit_code == 2
    assert result.stderr == "error: --out and --html name the same file 'run.json' (flags --out, --html)\n"
    assert not (tmp_path / "run.json").exists()
