"""The map page in Debian's headless Chromium (through selenium and chromedriver): the browser test drives it, the
demo saves its screenshot with it."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flows.ask.mappage import MapPageError
from products.errors import UnreachableError

PAGE_READY = "return document.body.dataset.ready === 'yes'"
TILES_LOADED = ("const tiles = Array.from(document.querySelectorAll('.leaflet-tile'));"
                "return tiles.length > 0 && tiles.every(t => t.complete && t.naturalWidth > 0);")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1200,800")


class BrowserMissingError(UnreachableError):
    """Chromium, its WebDriver or selenium is not installed; the message says which and how to install it."""


def missing_browser() -> str | None:
    """What is missing to drive a headless Chromium, or None."""
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        return "chromium and chromium-driver are not installed (infra/bootstrap.sh --test installs them)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (infra/bootstrap.sh --test installs it)"
    return None


@contextmanager
def headless_chromium(*, logs: bool = False) -> Iterator:
    """Debian's chromium in headless mode through its WebDriver, with a throw-away profile; ``logs`` keeps the
    console and network logs (``get_log("browser")``, ``get_log("performance")``)."""
    if missing := missing_browser():
        raise BrowserMissingError(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="snowland-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    if logs:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
        driver.set_page_load_timeout(120)
        try:
            yield driver
        finally:
            driver.quit()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def wait_until(driver, condition: str, *, timeout: float = 90) -> None:
    """Until the page's JavaScript ``condition`` returns true; a ``TimeoutError`` names it after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not driver.execute_script(condition):
        if time.monotonic() > deadline:
            raise TimeoutError(f"not true within {timeout:.0f} s: {condition}")
        time.sleep(0.3)


def open_map(driver, *, url: str) -> None:
    """The map page of the server at ``url``, once it has read the capabilities."""
    driver.get(f"{url}/map/")
    wait_until(driver, PAGE_READY)


def show(driver, *, layer: str, time: str | None = None) -> None:
    """Select ``layer`` (its first style) at ``time`` (one of its dates; its latest if None) and wait for its tiles."""
    found = driver.execute_script(
        "const [name, time] = arguments; const layer = state.layers[name];"
        "if (!layer) return 'layer';"
        "const s = document.getElementById('layer'); s.value = name; s.dispatchEvent(new Event('change'));"
        "if (time === null) return 'ok';"
        "const at = layer.times.indexOf(time); if (at < 0) return 'date';"
        "const t = document.getElementById('time'); t.value = at; t.dispatchEvent(new Event('input'));"
        "return 'ok';", layer, time)
    if found != "ok":
        raise MapPageError(f"the map page has no {found} {time if found == 'date' else layer}"
                           + (f" for {layer}" if found == "date" else ""))
    wait_until(driver, TILES_LOADED)


def screenshot(*, url: str, path: Path, layer: str, time: str | None = None) -> Path:
    """The map page of the server at ``url`` showing ``layer`` at ``time``, saved as the PNG ``path``."""
    with headless_chromium() as driver:
        open_map(driver, url=url)
        show(driver, layer=layer, time=time)
        path.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(path))
    return path
