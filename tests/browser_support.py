"""Headless Chromium for the HTML report's browser test (selenium + Debian's chromium-driver).

The browser opens files from disk with the network disabled: every host name resolves to nothing, and
background networking, component updates and sync are off; each session gets a fresh profile directory.
Also a script: ``python tests/browser_support.py PAGE.html OUT.png`` writes a full-page screenshot (the
``docs/report.png`` in docs/html-report.md is made this way).
"""

from __future__ import annotations

import base64
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
DRIVER_NAMES = ("chromedriver",)
WAIT_S = 60  # upper bound of every wait; nothing sleeps
NETWORK_OFF = (
    "--headless=new", '--host-resolver-rules=MAP * ~NOTFOUND', "--no-sandbox", "--disable-gpu",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
    "--disable-dev-shm-usage", "--window-size=1280,900",
)


def find_browser() -> tuple[str, str] | None:
    """(chromium, chromedriver) paths, or None when either is missing."""
    browser = next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)
    driver = next((p for p in map(shutil.which, DRIVER_NAMES) if p), None)
    return (browser, driver) if browser and driver else None


def open_browser(profile_dir: Path) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    found = find_browser()
    if found is None:
        raise RuntimeError("no chromium / chromedriver on PATH")
    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for arg in (*NETWORK_OFF, f"--user-data-dir={profile_dir}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=found[1]))
    driver.set_page_load_timeout(WAIT_S)
    driver.set_script_timeout(WAIT_S)
    return driver


def load_report_page(driver: Any, page: Path) -> str:
    """Open ``page`` and wait until its charts are drawn; returns the body's ``data-charts`` state."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(page.resolve().as_uri())
    WebDriverWait(driver, WAIT_S).until(
        lambda d: d.execute_script("return document.body && document.body.getAttribute('data-charts')"))
    state: str = driver.execute_script("return document.body.getAttribute('data-charts')")
    return state


def full_page_png(driver: Any) -> bytes:
    """A screenshot of the whole page (beyond the viewport), through the DevTools protocol."""
    size = driver.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1},
    })
    return base64.b64decode(shot["data"])


def screenshot(page: Path, out: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="mmexec-chromium-") as profile:
        driver = open_browser(Path(profile))
        try:
            state = load_report_page(driver, page)
            if state != "ready":
                raise RuntimeError(f"charts did not render: {state}")
            out.write_bytes(full_page_png(driver))
        finally:
            driver.quit()


if __name__ == "__main__":
    screenshot(Path(sys.argv[1]), Path(sys.argv[2]))
