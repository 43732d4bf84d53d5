"""The HTML report in a real browser: headless Chromium, network disabled, file opened from disk.

No console errors, every chart drawn with a non-zero size, no request that is not a local file, and a
full-page screenshot that is not blank. Every wait is bounded (WebDriver waits; nothing sleeps). Skipped, with
the reason shown, only when no Chromium / chromedriver is installed (``.ci/run`` installs them).
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("plotly", reason="the HTML report needs the mmexec[html] extra (plotly)")
pytest.importorskip("selenium", reason="the browser test needs selenium (the dev extra)")

from browser_support import find_browser, full_page_png, load_report_page, open_browser

from mmexec.canonical import to_jsonable
from mmexec.reporting.html import write_html_report
from mmexec.run.builder import run_session
from mmexec.run.spec import RunSpec
from tests.replay_support import BTC, lines, troubled_capture, write

pytestmark = pytest.mark.skipif(find_browser() is None,
                                reason="no chromium + chromedriver on PATH (apt-get install chromium chromium-driver)")
UTC = "2025-01-01T00:00:00Z"
MAX_PAGE_BYTES = 8_000_000


def report(**overrides: Any) -> dict[str, Any]:
    return to_jsonable(run_session(RunSpec.from_settings(overrides, strict=True), utc=UTC), fragments=False)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    with tempfile.TemporaryDirectory(prefix="mmexec-chromium-") as profile:
        browser = open_browser(Path(profile))
        try:
            yield browser
        finally:
            browser.quit()


def page_problems(driver: Any, page: Path, expected_charts: int) -> Any:
    driver.get_log("browser")  # drop anything logged before this page
    assert load_report_page(driver, page) == "ready"
    errors = [entry for entry in driver.get_log("browser") if entry["level"] in {"SEVERE", "ERROR"}]
    assert errors == []
    sizes = driver.execute_script("""
        return Array.from(document.querySelectorAll('.chart')).map(function (el) {
          var r = el.getBoundingClientRect();
          return {id: el.id, width: r.width, height: r.height, svg: el.querySelectorAll('svg.main-svg').length,
                  traces: el.querySelectorAll('.trace, .scatterlayer .trace, .barlayer .trace').length};
        });""")
    assert len(sizes) == expected_charts
    for chart in sizes:
        assert chart["width"] > 0 and chart["height"] > 0, chart
        assert chart["svg"] > 0 and chart["traces"] > 0, chart
    requests = driver.execute_script(
        "return performance.getEntriesByType('resource').map(function (e) { return e.name; })")
    assert all(url.startswith(("file:", "data:", "blob:")) for url in requests), requests
    png = full_page_png(driver)
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("L")
    height = driver.execute_script("return document.documentElement.scrollHeight")
    assert image.height >= height > 900  # the whole page, beyond the viewport
    low, high = image.getextrema()
    assert high - low > 100  # not a blank page: dark text and lines on white
    histogram = image.histogram()
    assert sum(1 for count in histogram if count) > 20  # anti-aliased text and charts, not a flat fill
    assert histogram[255] < image.width * image.height * 0.97
    return sizes


def test_one_report_with_freezes_renders(driver: Any, tmp_path: Path) -> None:
    page = write_html_report(tmp_path / "run.html", [("run.json", report(
        iterations=300, edge_threshold=Decimal("2.2"), unfreeze_after_ms=500))])
    page_problems(driver, page, expected_charts=4)  # PnL, inventory, one price chart per symbol


def test_two_reports_and_markouts_render(driver: Any, tmp_path: Path) -> None:
    b = report(seed=7, symbols=("BTCUSDT", "ETHUSDT", "SOLUSDT"))
    b["markout"] = {"total": {"1s": {"count": 3, "mean_bps": 0.4, "mean_bps_net": -0.6}}}
    page = write_html_report(tmp_path / "ab.html", [("a.json", report()), ("b.json", b)])
    page_problems(driver, page, expected_charts=6)


def test_report_without_timeline_renders(driver: Any, tmp_path: Path) -> None:
    data = report()
    del data["timeline"]
    page = write_html_report(tmp_path / "old.html", [("old.json", data)])
    driver.get_log("browser")
    assert load_report_page(driver, page) == "ready"
    assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []
    assert "no timeline in this report" in driver.find_element("id", "charts").text


def drawn(driver: Any, chart_id: str) -> dict[str, Any]:
    """What plotly drew in one chart: its legend entries and vertical-line shapes (dash styles)."""
    found: dict[str, Any] = driver.execute_script("""
        var el = document.getElementById(arguments[0]);
        return {legend: Array.from(el.querySelectorAll('.legendtext')).map(function (t) { return t.textContent; }),
                shapes: (el.layout.shapes || []).filter(function (s) { return s.x0 === s.x1; })
                                               .map(function (s) { return s.line.dash; }),
                bars: el.querySelectorAll('.barlayer .trace').length};""", chart_id)
    return found


def test_replay_report_of_the_btc_capture_renders(driver: Any, tmp_path: Path) -> None:
    # the README's replay example: mmexec shadow --market replay --data btcusdt_20240808.gz --html run.html
    data = report(market="replay", data=(BTC,))
    assert data["risk"]["freeze_events"] == 1 and data["orders"]["fills"] == 20
    page = write_html_report(tmp_path / "replay.html", [("run.json", data)])
    assert page.stat().st_size < MAX_PAGE_BYTES
    charts = page_problems(driver, page, expected_charts=4)  # PnL, inventory, BTCUSDT price, markouts
    assert [c["id"] for c in charts] == ["chart-pnl", "chart-inventory", "chart-price-BTCUSDT", "chart-markout"]
    for chart_id in ("chart-pnl", "chart-inventory", "chart-price-BTCUSDT"):
        assert "freeze (kill switch)" in drawn(driver, chart_id)["legend"]
    price = drawn(driver, "chart-price-BTCUSDT")["legend"]
    assert {"mid", "our bid", "our ask", "buy fills (10)", "sell fills (10)"} <= set(price)
    assert "±max_inv (10000 USD)" in drawn(driver, "chart-inventory")["legend"]
    markout = drawn(driver, "chart-markout")
    assert markout["bars"] == 4  # one per horizon
    assert [text.split(" ")[0] for text in markout["legend"]] == ["100ms", "1s", "5s", "30s"]


def test_replay_gaps_and_resyncs_are_marked_on_every_time_axis(driver: Any, tmp_path: Path) -> None:
    capture = write(tmp_path / "c.txt", lines(troubled_capture()))
    data = report(market="replay", data=(capture,), edge_threshold=Decimal(-1000), sample_ms=100)
    page = write_html_report(tmp_path / "gaps.html", [("gaps.json", data)])
    driver.get_log("browser")
    assert load_report_page(driver, page) == "ready"
    assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []
    for chart_id in ("chart-pnl", "chart-inventory", "chart-price-BTCUSDT"):
        chart = drawn(driver, chart_id)
        assert {"market-data gap", "book resync", "crossed book"} <= set(chart["legend"]), chart
        assert sorted(chart["shapes"]) == ["dashdot", "dot", "longdash"]
