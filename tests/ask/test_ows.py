"""OGC services of `snowland serve` (datacube-ows at /ows) over the real index, read-only: capabilities, maps in the
products' colours at pixels the test knows, feature info, coverages with the product's values unchanged."""

from __future__ import annotations

import io
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from helpers import free_port, headless_chromium, outside_requests

WMS = "{http://www.opengis.net/wms}"


@pytest.fixture(scope="module")
def server(query_products, tmp_path_factory):
    from flows.ask.serve import running

    with running(port=free_port(), log=tmp_path_factory.mktemp("serve") / "server.log") as served:
        yield served


def _fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=120) as answer:
            return answer.status, answer.headers.get_content_type(), answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers.get_content_type(), refused.read()


def _ows(server, **params) -> tuple[int, str, bytes]:
    return _fetch(f"{server.url}/ows/?{urllib.parse.urlencode(params)}")


@pytest.fixture(scope="module")
def capabilities(server) -> dict[str, list[str]]:
    """Layer name -> its time values, from the WMS 1.3 GetCapabilities document."""
    status, kind, body = _ows(server, service="WMS", version="1.3.0", request="GetCapabilities")
    assert status == 200, body[:500]
    root = ET.fromstring(body)
    layers = {}
    for layer in root.iter(f"{WMS}Layer"):
        name = layer.find(f"{WMS}Name")
        if name is None:
            continue
        time = next((d for d in layer.findall(f"{WMS}Dimension") if d.get("name") == "time"), None)
        layers[name.text] = (time.text or "").split(",") if time is not None else []
    return layers


def _box(query_products) -> dict[str, str]:
    """The module's products' own grid: map pixel (row, col) is product pixel (row, col)."""
    left, bottom, right, top = query_products.geobox.boundingbox
    height, width = query_products.geobox.shape
    return {"crs": "EPSG:3035", "bbox": f"{left},{bottom},{right},{top}", "width": str(width), "height": str(height)}


def _get_map(server, query_products, **params) -> tuple[int, str, bytes]:
    return _ows(server, **{"service": "WMS", "version": "1.3.0", "request": "GetMap", "format": "image/png",
                           "transparent": "true", **_box(query_products), **params})


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


def _snow_rgb() -> tuple[int, int, int]:
    from flows.ask.ows.palette import SNOW_CODES

    return next(_rgb(colour) for _, label, colour in SNOW_CODES if label == "snow")


def test_capabilities_list_every_product_with_data_and_its_times(capabilities, dc, query_products):
    from flows.ask.ows.config import TITLES

    with_data = {name for name in TITLES if dc.find_datasets(product=name, limit=1)}
    assert with_data <= set(capabilities)
    assert {"s2_l2a", "landsat_c2l2", "snow_cover", "snow_season", "land_cover", "dem_cop30"} <= set(capabilities)
    assert set(capabilities["snow_cover"]) >= set(query_products.snow)
    s2_days = {str(d.center_time.date()) for d in dc.find_datasets(product="s2_l2a")}
    assert len(capabilities["s2_l2a"]) > 1 and set(capabilities["s2_l2a"]) <= s2_days


def test_a_snow_map_has_the_snow_colour_where_the_product_has_snow_and_the_cloud_colour_at_clouds(
        server, query_products):
    from flows.ask.ows.palette import SNOW_CODES
    from PIL import Image
    from products.snow.codes import CLOUD, NODATA, SNOW

    day = "2023-01-10"
    status, kind, body = _get_map(server, query_products, layers="snow_cover", styles="snow", time=day)
    assert (status, kind) == (200, "image/png"), body[:500]
    image = np.asarray(Image.open(io.BytesIO(body)).convert("RGBA"))
    codes = query_products.snow[day]
    colours = {code: _rgb(colour) for code, _, colour in SNOW_CODES}
    for code in (SNOW, CLOUD):
        rows, cols = np.nonzero(codes == code)
        pixels = image[rows, cols, :3]
        assert (pixels == colours[code]).all(axis=1).mean() > 0.99, f"code {code} drawn in another colour"
    assert (image[codes == NODATA, 3] == 0).all(), "no data is transparent"
    other = _get_map(server, query_products, layers="snow_cover", styles="snow", time="2023-01-20")[2]
    assert other != body, "another date, another map"


WMTS, OWS = "{http://www.opengis.net/wmts/1.0}", "{http://www.opengis.net/ows/1.1}"


def _tile_matrix(capabilities: ET.Element, *, layer: str, zoom: int) -> dict:
    """The layer's first tile matrix set, at ``zoom``: its CRS, top-left corner, pixel size and tile size."""
    found = next(node for node in capabilities.iter(f"{WMTS}Layer") if node.findtext(f"{OWS}Identifier") == layer)
    name = found.find(f"{WMTS}TileMatrixSetLink/{WMTS}TileMatrixSet").text
    tms = next(node for node in capabilities.iter(f"{WMTS}TileMatrixSet")
               if node.find(f"{OWS}Identifier") is not None and node.findtext(f"{OWS}Identifier") == name)
    matrix = next(m for m in tms.findall(f"{WMTS}TileMatrix") if m.findtext(f"{OWS}Identifier") == str(zoom))
    return {"set": name, "crs": tms.findtext(f"{OWS}SupportedCRS"),
            "corner": tuple(map(float, matrix.findtext(f"{WMTS}TopLeftCorner").split())),
            "pixel": float(matrix.findtext(f"{WMTS}ScaleDenominator")) * 0.28e-3,  # WMTS 1.0: 0.28 mm pixels
            "size": int(matrix.findtext(f"{WMTS}TileWidth"))}


def test_wmts_lists_the_snow_layers_dates_and_its_tiles_have_the_products_colours_at_known_pixels(
        server, query_products):
    from odc.geo.geom import point
    from PIL import Image
    from scipy.ndimage import binary_erosion

    from flows.ask.ows.palette import SNOW_CODES
    from products.snow.codes import NO_SNOW, SNOW

    status, _, body = _ows(server, service="WMTS", version="1.0.0", request="GetCapabilities")
    assert status == 200, body[:500]
    capabilities = ET.fromstring(body)
    layer = next(node for node in capabilities.iter(f"{WMTS}Layer")
                 if node.findtext(f"{OWS}Identifier") == "snow_cover")
    assert set(query_products.snow) <= {v.text for v in layer.iter(f"{WMTS}Value")}
    zoom, day = 14, "2023-01-10"
    matrix = _tile_matrix(capabilities, layer="snow_cover", zoom=zoom)
    left, top = matrix["corner"]
    span = matrix["pixel"] * matrix["size"]
    tiles: dict[tuple[int, int], np.ndarray] = {}
    colours = {code: _rgb(colour) for code, _, colour in SNOW_CODES}
    for code in (SNOW, NO_SNOW):
        inner = binary_erosion(query_products.snow[day] == code, np.ones((3, 3)))  # away from other codes
        rows, cols = np.nonzero(inner)
        assert rows.size >= 3, f"the module's product has code {code} among its own"
        for n in np.linspace(0, rows.size - 1, 3).astype(int):
            x, y = query_products.geobox.pix2wld(cols[n] + 0.5, rows[n] + 0.5)
            (mx, my), = point(x, y, crs=query_products.geobox.crs).to_crs(matrix["crs"]).coords
            row, col = int((top - my) // span), int((mx - left) // span)
            if (row, col) not in tiles:
                status, kind, body = _ows(server, service="WMTS", version="1.0.0", request="GetTile",
                                          layer="snow_cover", style="snow", format="image/png",
                                          tileMatrixSet=matrix["set"], tileMatrix=str(zoom), tileRow=str(row),
                                          tileCol=str(col), time=day)
                assert (status, kind) == (200, "image/png"), body[:500]
                tiles[row, col] = np.asarray(Image.open(io.BytesIO(body)).convert("RGBA"))
            tile = tiles[row, col]
            assert tile.shape == (matrix["size"], matrix["size"], 4)
            j, i = int((top - my - row * span) // matrix["pixel"]), int((mx - left - col * span) // matrix["pixel"])
            assert (*tile[j, i, :3], tile[j, i, 3]) == (*colours[code], 255), f"code {code} at ({x}, {y})"


def test_feature_info_returns_the_pixels_values(server, query_products):
    import json

    row, col = 50, 37
    status, _, body = _ows(server, service="WMS", version="1.3.0", request="GetFeatureInfo", layers="snow_season",
                           query_layers="snow_season", styles="", info_format="application/json", i=str(col),
                           j=str(row), **_box(query_products))
    assert status == 200, body[:500]
    bands = json.loads(body)["features"][0]["properties"]["data"][0]["bands"]
    assert bands["snow_cover_duration"] == query_products.season["scd"][row, col]
    assert bands["snow_melt_out_date"] == query_products.season["smod"][row, col]


def test_a_coverage_has_the_products_values_unchanged(server, query_products):
    import rasterio

    day = "2023-01-10"
    box = _box(query_products)
    status, kind, body = _ows(server, service="WCS", version="1.0.0", request="GetCoverage", coverage="snow_cover",
                              crs=box["crs"], bbox=box["bbox"], width=box["width"], height=box["height"],
                              format="GeoTIFF", time=day, measurements="snow")
    assert (status, kind) == (200, "image/geotiff"), body[:500]
    with rasterio.MemoryFile(body) as memory, memory.open() as tif:
        assert tif.crs.to_epsg() == 3035 and tif.dtypes == ("uint8",)
        np.testing.assert_array_equal(tif.read(1), query_products.snow[day])


def test_a_legend_is_drawn_for_a_class_style(server):
    status, kind, body = _ows(server, service="WMS", version="1.3.0", request="GetLegendGraphic",
                              layer="land_cover", style="oso23", format="image/png")
    assert (status, kind) == (200, "image/png") and len(body) > 1000


def test_the_snow_legend_shows_its_white_cloud_class_on_a_grey_ground(server):
    from PIL import Image

    from flows.ask.ows import palette

    status, kind, body = _ows(server, service="WMS", version="1.3.0", request="GetLegendGraphic",
                              layer="snow_cover", style="snow", format="image/png")
    assert (status, kind) == (200, "image/png")
    rgb = np.asarray(Image.open(io.BytesIO(body)).convert("RGB"))
    colours, counts = np.unique(rgb.reshape(-1, 3), axis=0, return_counts=True)
    ground = tuple(colours[counts.argmax()])
    assert ground == tuple(int(palette.LEGEND_BACKGROUND[i : i + 2], 16) for i in (1, 3, 5))
    white = int(counts[(colours == 255).all(axis=1)].sum())
    assert white > 50, "the cloud patch should be drawn in white, apart from the ground"


@pytest.mark.parametrize(("params", "message"), [
    ({"layers": "snow_cover", "styles": "snow", "width": "4096"}, "exceeds supported maximum"),
    ({"layers": "no_such_layer", "styles": ""}, "Layer no_such_layer is not defined"),
    ({"layers": "snow_cover", "styles": "no_such_style"}, "Style no_such_style is not defined"),
    ({"layers": "snow_cover", "styles": "snow", "crs": "EPSG:9999"}, "EPSG:9999 is not supp"),
    ({"layers": "snow_cover", "styles": "snow", "bbox": "1,2,3"}, "Invalid bbox"),
    ({"layers": "snow_cover", "styles": "snow", "time": "2019-05-05"}, "2019-05-05"),
])
def test_bad_map_requests_are_refused_with_a_clear_message(server, query_products, params, message):
    status, _, body = _get_map(server, query_products, **{"time": "2023-01-10", **params})
    assert status == 400 and message in body.decode(), body[:800]


def test_methods_other_than_get_are_refused(server):
    request = urllib.request.Request(f"{server.url}/ows/?service=WMS&request=GetCapabilities", method="POST",
                                     data=b"")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 405


@pytest.fixture(scope="module")
def page(server):
    """The map page in Debian's headless chromium, its console and network logs kept."""
    from flows.ask.mappage.browser import open_map

    with headless_chromium(logs=True) as driver:
        open_map(driver, url=server.url)
        yield driver


OVERLAY_TILES = ("return Array.from(document.querySelectorAll('.leaflet-tile'))"
                 ".map(t => t.src).filter(s => !s.includes('dem_cop30')).sort();")


def _snow_pixels(png) -> int:
    """How many pixels of a screenshot have about the snow colour (the page blends it with the hillshade)."""
    from PIL import Image

    pixels = np.asarray(Image.open(png).convert("RGB")).reshape(-1, 3).astype(int)
    return int((np.abs(pixels - np.array(_snow_rgb())).sum(axis=1) < 60).sum())


def test_the_map_page_shows_snow_and_follows_the_layer_and_time_with_no_error_nor_outside_request(
        page, server, query_products, tmp_path):
    from selenium.webdriver.support.ui import Select

    from flows.ask.mappage.browser import TILES_LOADED, show, wait_until

    wait_until(page, TILES_LOADED)
    assert page.execute_script("return document.body.dataset.layer") == "snow_cover"
    first = page.execute_script(OVERLAY_TILES)
    assert first and all("snow_cover" in src for src in first)
    shot = tmp_path / "map.png"
    page.save_screenshot(str(shot))
    assert _snow_pixels(shot) > 500, "the screenshot shows snow"

    show(page, layer="snow_cover", time="2023-01-10")
    earlier = page.execute_script(OVERLAY_TILES)
    assert earlier != first and all("time=2023-01-10" in src for src in earlier)
    Select(page.find_element("id", "layer")).select_by_value("snow_season")
    wait_until(page, TILES_LOADED)
    season = page.execute_script(OVERLAY_TILES)
    assert season and all("snow_season" in src for src in season)

    assert [e for e in page.get_log("browser") if e["level"] == "SEVERE"] == []
    assert outside_requests(page, served=server.url) == set()


def test_the_demos_screenshot_of_the_page_shows_the_snow_of_the_date_it_asks_for(server, tmp_path):
    from flows.ask.mappage.browser import screenshot

    shot = screenshot(url=server.url, path=tmp_path / "map.png", layer="snow_cover", time="2023-01-10")
    assert _snow_pixels(shot) > 500
