"""`snowland serve`: datacube-explorer over the real index, read-only, its STAC API, and its pages in a real
headless Chromium (Debian's chromium + chromium-driver)."""

from __future__ import annotations

import json
import urllib.request

import pytest
import yaml
from helpers import free_port, headless_chromium
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError


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
    assert item["assets"]["snow"]["href"].startswith("file://") and item["assets"]["snow"]["href"].endswith(".tif")
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
    with headless_chromium() as driver:
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
