"""`snowland serve`: datacube-explorer over the real index, read-only, its STAC API, and its pages in a real
headless Chromium (Debian's chromium + chromium-driver); the distribution site with real clients: pystac-client and
rasterio over /vsicurl/ on the served files, the browser registering, filling a cart and ordering, and aria2c
downloading the ordered Metalink without a browser session, checking every SHA-256. One server for the module."""

from __future__ import annotations

import hashlib
import http.cookiejar
import json
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pytest
import yaml
from helpers import free_port, headless_chromium, outside_requests
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

META = "{urn:ietf:params:xml:ns:metalink}"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def server(query_products, tmp_path_factory):
    from flows.ask.serve import running

    with running(port=free_port(), log=tmp_path_factory.mktemp("serve") / "explorer.log") as served:
        yield served


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=60) as answer:
        return json.load(answer)


def test_stac_search_with_bbox_and_datetime_returns_the_expected_items(server, query_products):
    found = _get(f"{server.url}/stac/search?collections=snow_cover&bbox=5.9,44.9,6.1,45.1"
                 "&datetime=2023-01-01T00:00:00Z/2023-01-31T23:59:59Z")
    assert sorted(f["id"] for f in found["features"]) == sorted(query_products.ids[:2])
    item = next(f for f in found["features"] if f["id"] == query_products.ids[0])
    assert item["properties"]["snowland:zs"] == 1500.0
    assert item["assets"]["snow"]["href"].startswith(f"{server.url}/files/") and item["assets"]["snow"]["href"].endswith(".tif")
    elsewhere = _get(f"{server.url}/stac/search?collections=snow_cover&bbox=1.3,43.5,1.5,43.7"
                     "&datetime=2023-01-01T00:00:00Z/2023-01-31T23:59:59Z")
    assert elsewhere["features"] == []
    later = _get(f"{server.url}/stac/search?collections=snow_cover&bbox=5.9,44.9,6.1,45.1"
                 "&datetime=2019-01-01T00:00:00Z/2019-12-31T23:59:59Z")
    assert later["features"] == []


def test_every_product_is_served_inputs_and_outputs(server, dc):
    served = {c["id"] for c in _get(f"{server.url}/stac/collections")["collections"]}
    assert {p.name for p in dc.index.products.get_all()} <= served
    assert {"s2_l2a", "landsat_c2l2", "dem_cop30", "snow_cover", "snow_season", "land_cover"} <= served


def test_the_server_binds_loopback_and_its_database_role_cannot_write(server, query_products):
    from flows.ask.serve import READER_ROLE, _odc_environ
    from odc_config.settings import load_settings

    assert server.url.startswith("http://127.0.0.1:")
    settings = load_settings()
    url = _odc_environ(settings, read_only=True)[f"ODC_{settings.env_name.upper()}_DB_URL"]
    assert READER_ROLE in url
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("select count(*) from odc.dataset")).scalar() > 0
        for statement in ("update odc.dataset set archived = now()", "create table odc.intruder (x int)",
                          "delete from cubedash.dataset_spatial", "set transaction read write; delete from odc.dataset"):
            with engine.connect() as conn, pytest.raises(DBAPIError, match="read-only|permission denied"):
                conn.execute(text(statement))
                conn.commit()
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def browser():
    with headless_chromium(logs=True) as driver:
        yield driver


def test_a_browser_finds_snow_cover_and_follows_a_dataset_to_its_metadata(server, query_products, browser, dc):
    from selenium.webdriver.common.by import By

    browser.get(f"{server.url}/products")
    _click(browser, "a[href='/products/snow_cover']")
    assert browser.current_url.endswith("/products/snow_cover")
    _click(browser, "a[href='/products/snow_cover/datasets']")
    browser.find_element(By.LINK_TEXT, "snow_cover_100kmE40N24_2023-01-10_s2").click()
    assert query_products.ids[0] in browser.current_url
    page = browser.page_source
    assert "snow_cover_100kmE40N24_2023-01-10_s2_snow.tif" in page, "the dataset links to its COGs"
    links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "a[href^='/dataset/']")]
    dem = {str(d.id) for d in dc.find_datasets(product="dem_cop30", geopolygon=query_products.geobox.extent)}
    assert dem and dem <= {link.rsplit("/", 1)[-1] for link in links}, "the dataset links to its sources"
    _click(browser, f"a[href='/dataset/{query_products.ids[0]}.odc-metadata.yaml']")
    doc = yaml.safe_load(browser.find_element(By.TAG_NAME, "body").text)
    assert doc["id"] == query_products.ids[0] and doc["product"]["name"] == "snow_cover"
    assert doc["properties"]["snowland:zs"] == 1500.0 and doc["lineage"]["dem_cop30"]


def _click(browser, css: str) -> None:
    """Click the first visible link matching ``css`` (explorer repeats some links in a collapsed menu)."""
    from selenium.webdriver.common.by import By

    visible = [e for e in browser.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()]
    assert visible, f"no visible {css} on {browser.current_url}"
    visible[0].click()


class Client:
    """One person's HTTP client (its own cookies)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def open(self, path: str, *, form: dict | None = None, method: str | None = None, headers: dict | None = None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        url = path if path.startswith("http") else self.base + path
        return self.opener.open(urllib.request.Request(url, data=data, method=method, headers=headers or {}),
                                timeout=60)

    def refused(self, path: str, **kwargs) -> tuple[int, str]:
        with pytest.raises(urllib.error.HTTPError) as refused:
            self.open(path, **kwargs)
        return refused.value.code, refused.value.read().decode()

    def sign_up(self, email: str) -> Client:
        self.open("/site/register", form={"email": email, "password": PASSWORD}).read()
        self.open("/site/signin", form={"email": email, "password": PASSWORD}).read()
        assert self.session, "signed in"
        return self

    @property
    def session(self) -> str:
        return next((c.value for c in self.jar if c.name == "snowland_session"), "")


@pytest.fixture(scope="module")
def user(server) -> Client:
    return Client(server.url).sign_up("ada@example.org")


def _file_path(dc, dataset_id: str, band: str) -> Path:
    ds = dc.index.datasets.get(dataset_id)
    return Path(ds.uri.removeprefix("file://")).parent / Path(ds.measurements[band]["path"]).name


def test_pystac_client_finds_a_snow_product_whose_asset_rasterio_reads_over_http(server, user, query_products, dc):
    import rasterio
    from pystac_client import Client as StacClient

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. pystac-client's "POST is not advertised"
        catalog = StacClient.open(f"{server.url}/stac")
    items = list(catalog.search(
        collections=["snow_cover"], bbox=[5.9, 44.9, 6.1, 45.1], datetime="2023-01-01/2023-01-31").items())
    item = next(i for i in items if i.id == query_products.ids[0])
    asset = item.assets["snow"]
    local = _file_path(dc, item.id, "snow")
    assert asset.href == f"{server.url}/files/{item.id}/{local.name}"
    assert asset.extra_fields["file:size"] == local.stat().st_size
    assert asset.extra_fields["file:checksum"] == "1220" + hashlib.sha256(local.read_bytes()).hexdigest()
    cookie = f"snowland_session={user.session}"
    with rasterio.Env(GDAL_HTTP_COOKIE=cookie, GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR"), rasterio.open(asset.href) as remote:
        pixels = remote.read(1)
    with rasterio.open(local) as disk:
        assert np.array_equal(pixels, disk.read(1))


def test_a_range_request_returns_206_with_the_bytes_asked(server, user, query_products, dc):
    local = _file_path(dc, query_products.ids[0], "snow")
    url = f"/files/{query_products.ids[0]}/{local.name}"
    with user.open(url, headers={"Range": "bytes=100-299"}) as answer:
        assert answer.status == 206 and answer.headers["Content-Range"] == f"bytes 100-299/{local.stat().st_size}"
        assert answer.read() == local.read_bytes()[100:300]
    with user.open(url, method="HEAD") as answer:
        assert answer.status == 200 and int(answer.headers["Content-Length"]) == local.stat().st_size


def test_the_site_refuses_with_a_reason_and_serves_nothing(server, user, query_products, dc):
    from flows.ask.site.signing import Signer, site_key
    from odc_config.settings import load_settings

    name = _file_path(dc, query_products.ids[0], "snow").name
    path = f"/files/{query_products.ids[0]}/{name}"
    stranger = Client(server.url)
    refused = "downloads are for signed-in users (/site/signin) or signed links of an order\n"
    assert stranger.refused(path) == (401, refused)
    signer = Signer(key=site_key(load_settings().state_dir / "site"))
    expired = signer.link_query(path, now=time.time() - 7200, seconds=3600)
    code, message = stranger.refused(f"{path}?{expired}")
    assert code == 403 and "expired" in message
    valid = signer.link_query(path)
    with stranger.open(f"{path}?{valid}") as answer:
        assert answer.status == 200, "a valid signed link needs no session"
    altered = valid[:-1] + ("0" if valid[-1] != "0" else "1")
    assert stranger.refused(f"{path}?{altered}")[0] == 403
    assert stranger.refused(f"/files/{query_products.ids[1]}/{name}?{valid}")[0] == 403, "signed for another path"
    code, message = user.refused(path, method="POST", form={})
    assert code == 405 and "only GET and HEAD" in message
    for climb in (f"{query_products.ids[0]}/..%2F..%2F..%2Fetc%2Fpasswd", f"{query_products.ids[0]}/%2Fetc%2Fpasswd",
                  "not-an-id/x.tif"):
        code, message = user.refused(f"/files/{climb}")
        assert code == 404 and "no file" in message, climb
    for _ in range(3):
        code, message = stranger.refused("/site/signin", form={"email": "ada@example.org", "password": "wrong!!!"})
        assert code == 401 and "wrong e-mail or password" in message
    code, message = stranger.refused("/site/signin", form={"email": "ada@example.org", "password": PASSWORD})
    assert code == 429 and "too many wrong passwords" in message, "slowed down, even with the right password"
    other = Client(server.url).sign_up("bob@example.org")
    mine = user.open("/site/cart").geturl().rsplit("/", 1)[-1]
    code, message = other.refused(f"/site/carts/{mine}")
    assert code == 403 and "belongs to another account" in message


def test_a_person_registers_fills_a_cart_orders_and_aria2c_downloads_it(server, query_products, browser, dc,
                                                                         tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from flows.ask.catalogue import search

    if not shutil.which("aria2c"):
        pytest.fail("aria2c is needed: infra/bootstrap.sh --test installs Debian's aria2")
    driver = browser
    driver.get_log("performance")  # from here on: the site's own requests (explorer's pages ask an online tile style)
    downloads = tmp_path / "browser"
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})

    def fill(url: str, email: str) -> None:
        driver.get(url)
        driver.find_element(By.ID, "email").send_keys(email)
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        _click_and_wait(driver, driver.find_element(By.ID, "submit"))

    fill(f"{server.url}/site/register", "claude@example.org")
    assert "account made" in driver.find_element(By.ID, "message").text
    fill(f"{server.url}/site/signin", "claude@example.org")
    assert driver.find_element(By.ID, "account").text == "claude@example.org"

    def search_and_add(text: str, dataset_id: str) -> None:
        box = driver.find_element(By.ID, "q")
        box.clear()
        box.send_keys(text)
        _click_and_wait(driver, driver.find_element(By.ID, "search"))
        shown = [r.get_attribute("data-id") for r in driver.find_elements(By.CSS_SELECTOR, "tr.result")]
        assert shown == [str(d.id) for d in search(text, dc=dc).datasets], "the same answer as `snowland search`"
        row = driver.find_element(By.CSS_SELECTOR, f"tr.result[data-id='{dataset_id}']")
        assert row.find_elements(By.CSS_SELECTOR, "svg.footprint polygon"), "the footprint on a small map"
        picture = row.find_element(By.CSS_SELECTOR, "img.quicklook")
        WebDriverWait(driver, 30).until(lambda d: d.execute_script("return arguments[0].complete", picture))
        assert driver.execute_script("return arguments[0].naturalWidth", picture) > 0, "a quick-look thumbnail"
        _click_and_wait(driver, row.find_element(By.CSS_SELECTOR, "button.add"))
        assert driver.find_elements(By.CSS_SELECTOR, f"tr.result[data-id='{dataset_id}'] button.remove")

    chosen = [query_products.ids[0], query_products.ids[3]]
    search_and_add("neige Taillefer janvier 2023", chosen[0])
    search_and_add("occupation du sol Taillefer 2021", chosen[1])
    driver.get(f"{server.url}/site/cart")
    driver.refresh()
    assert [r.get_attribute("data-id") for r in driver.find_elements(By.CSS_SELECTOR, "tr.item")] == chosen
    driver.find_element(By.ID, "order").click()
    order = downloads / "snowland-order.meta4"
    deadline = time.monotonic() + 30
    while not order.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    files = ET.parse(order).getroot().findall(f"{META}file")
    datasets = [dc.index.datasets.get(i) for i in chosen]
    assert len(files) == sum(len(d.measurements) + 1 for d in datasets)
    assert all("sig=" in f.find(f"{META}url").text and f.find(f"{META}hash") is not None for f in files)

    done = subprocess.run(["aria2c", "--no-conf", "--check-integrity=true", "--allow-overwrite=true",
                           "--console-log-level=warn", "--summary-interval=0", "--max-connection-per-server=1",
                           "-d", str(tmp_path / "aria2c"), "-M", str(order)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    for entry in files:
        got = tmp_path / "aria2c" / entry.get("name")
        assert got.stat().st_size == int(entry.find(f"{META}size").text)
        assert hashlib.sha256(got.read_bytes()).hexdigest() == entry.find(f"{META}hash").text
    assert outside_requests(driver, served=server.url) == set(), "a request left the machine"


def _click_and_wait(driver, element) -> None:
    """Click ``element`` and wait until the page it leads to replaced it. Chromium reports an element of a page
    being replaced either as stale or, mid-navigation, as a node that "does not belong to the document"."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    def replaced(_driver) -> bool:
        try:
            element.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as gone:
            if "does not belong to the document" in str(gone):
                return True
            raise
        return False

    element.click()
    WebDriverWait(driver, 60).until(replaced)
