"""datacube-ows configuration generated from the product YAMLs and the land-cover nomenclatures.

``OWS_CFG`` is what ``DATACUBE_OWS_CFG=flows.ask.ows.config.OWS_CFG`` points datacube-ows at; the URL it
advertises comes from ``SNOWLAND_OWS_URL`` (set by the server for its own host and port).
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import yaml

from flows.ask.ows import palette
from products.landcover.nomenclature import Nomenclature, load_nomenclature

PRODUCTS_DIR = Path(__file__).resolve().parents[3] / "products"
LAND_COVER_NOMENCLATURES = {"land_cover": ("oso23", "oso17"), "land_cover_nrt": ("nrt_march", "nrt_july")}
TRUE_COLOUR_RANGE = {"s2_l2a": (1000, 3500), "landsat_c2l2": (7500, 20000)}
DAY_RANGES = {"scd": 300, "sod": 365, "smod": 365, "age": 10}
MAX_SIZE = 1024
TITLES = {
    "s2_l2a": "Sentinel-2 L2A reflectance",
    "landsat_c2l2": "Landsat-8/9 C2 L2 reflectance",
    "snow_cover": "Snow cover per acquisition (LIS)",
    "snow_daily": "Daily gap-free snow",
    "snow_season": "Snow season (hydrological year)",
    "land_cover": "Yearly land cover",
    "land_cover_nrt": "Near-real-time land cover",
    "dem_cop30": "Copernicus DEM 30 m",
}
SUMMARY = ("snow_season", "land_cover", "land_cover_nrt")
STATIC = ("dem_cop30",)
CRSS = {
    "EPSG:3857": {"geographic": False, "horizontal_coord": "x", "vertical_coord": "y"},
    "EPSG:4326": {"geographic": True, "vertical_coord_first": True},
    "EPSG:3035": {"geographic": False, "horizontal_coord": "x", "vertical_coord": "y"},
}


@cache
def product_definition(name: str) -> dict:
    """The product YAML of ``name`` under products/."""
    found = sorted(PRODUCTS_DIR.glob(f"**/{name}.odc-product.yaml"))
    if not found:
        raise KeyError(f"no product definition {name}.odc-product.yaml under {PRODUCTS_DIR}")
    return yaml.safe_load(found[0].read_text())


def _bands(name: str) -> dict[str, list[str]]:
    return {m["name"]: list(m.get("aliases", [])) for m in product_definition(name)["measurements"]}


def _value_map(band: str, entries, *, name: str, title: str, abstract: str) -> dict:
    rules = [{"title": label, "abstract": "", "values": [int(code)], "color": colour}
             for code, label, colour in entries]
    return {"name": name, "title": title, "abstract": abstract, "needed_bands": [band],
            "value_map": {band: rules}, "legend": {"rcParams": {"savefig.facecolor": palette.LEGEND_BACKGROUND}}}


def _ramp(band: str, colours: tuple[str, str, str], *, low: float, high: float, name: str, title: str,
          units: str) -> dict:
    mid = (low + high) / 2
    return {
        "name": name, "title": title, "abstract": f"{title} ({units})", "needed_bands": [band],
        "index_function": {"function": "datacube_ows.band_utils.single_band", "mapped_bands": True,
                           "kwargs": {"band": band}},
        "color_ramp": [{"value": v, "color": c} for v, c in zip((low, mid, high), colours, strict=True)],
        "range": [low, high],
        "legend": {"title": title, "units": units, "begin": str(low), "end": str(high),
                   "ticks_every": str((high - low) / 4), "decimal_places": 0},
    }


def _nomenclature_style(nomenclature: Nomenclature) -> dict:
    entries = zip(nomenclature.codes, nomenclature.names, nomenclature.colours, strict=True)
    return _value_map("classification", entries, name=nomenclature.name, title=nomenclature.title,
                      abstract=f"Classes of the {nomenclature.name} nomenclature")


def _true_colour(product: str) -> dict:
    low, high = TRUE_COLOUR_RANGE[product]
    return {"name": "true_colour", "title": "True colour", "abstract": "Red, green, blue reflectance",
            "components": {"red": {"red": 1.0}, "green": {"green": 1.0}, "blue": {"blue": 1.0}},
            "scale_range": [low, high]}


def _styles(product: str) -> list[dict]:
    if product in TRUE_COLOUR_RANGE:
        return [_true_colour(product)]
    if product == "snow_cover":
        return [_value_map("snow", palette.SNOW_CODES, name="snow", title="Snow, no snow, cloud",
                           abstract="LIS snow codes of the acquisition"),
                _ramp("fsc_toc", palette.FSC, low=0, high=100, name="fsc_toc", title="FSC top of canopy",
                      units="%"),
                _ramp("fsc_og", palette.FSC, low=0, high=100, name="fsc_og", title="FSC on ground", units="%")]
    if product == "snow_daily":
        return [_value_map("snow", palette.DAILY_CODES, name="snow", title="Latest clear snow observation",
                           abstract="Snow codes of the latest clear observation in the window"),
                _ramp("fsc", palette.FSC, low=0, high=100, name="fsc", title="FSC top of canopy", units="%"),
                _ramp("age", palette.DAYS, low=0, high=DAY_RANGES["age"], name="age", title="Observation age",
                      units="days")]
    if product == "snow_season":
        titles = {"scd": "Snow cover duration", "sod": "Snow onset (days since 1 September)",
                  "smod": "Snow melt-out (days since 1 September)"}
        return [_ramp(band, palette.DAYS, low=0, high=DAY_RANGES[band], name=band, title=title, units="days")
                for band, title in titles.items()]
    if product in LAND_COVER_NOMENCLATURES:
        return [_nomenclature_style(load_nomenclature(n)) for n in LAND_COVER_NOMENCLATURES[product]]
    if product == "dem_cop30":
        return [{"name": "hillshade", "title": "Hillshade", "abstract": "Shaded relief, sun from the north-west",
                 "needed_bands": ["elevation"],
                 "index_function": {"function": "flows.ask.ows.hillshade.hillshade", "mapped_bands": True,
                                    "kwargs": {"band": "elevation"}},
                 "color_ramp": [{"value": v, "color": c} for v, c in zip((0, 0.5, 1), palette.GREYS, strict=True)],
                 "range": [0, 1], "include_in_feature_info": False, "legend": {"show_legend": False}},
                _ramp("elevation", palette.DAYS, low=0, high=4000, name="elevation", title="Elevation",
                      units="m")]
    raise KeyError(f"no map styles for product {product}")


def _layer(product: str) -> dict:
    definition = product_definition(product)
    load = definition["load"]
    styles = _styles(product)
    layer = {
        "name": product, "title": TITLES[product], "abstract": " ".join(definition["description"].split()),
        "product_name": product, "bands": _bands(product),
        "native_crs": load["crs"], "native_resolution": [load["resolution"]["x"], load["resolution"]["y"]],
        "time_resolution": "summary" if product in SUMMARY else "solar",
        "resource_limits": {"wms": {"zoomed_out_fill_colour": [150, 180, 200, 160], "min_zoom_factor": 0.0,
                                    "max_datasets": 64},
                            "wcs": {"max_datasets": 64}},
        "image_processing": {"extent_mask_func": "datacube_ows.ogc_utils.mask_by_val",
                             "always_fetch_bands": [], "manual_merge": False},
        "styling": {"default_style": styles[0]["name"], "styles": styles},
    }
    return layer


def ows_config(*, url: str) -> dict:
    """The whole configuration: every product of ``TITLES`` as a layer, served at ``url``."""
    return {
        "global": {
            "title": "snowland: snow and land cover on the EEA grid",
            "abstract": "Snow-cover, snow-season and land-cover products and their inputs, from snowland's cube",
            "env": os.environ.get("ODC_ENVIRONMENT", "snowland"),
            "allowed_urls": [url],
            "info_url": url,
            "services": {"wms": True, "wmts": True, "wcs": True},
            "published_CRSs": CRSS,
            "response_headers": {},
        },
        "wms": {"max_width": MAX_SIZE, "max_height": MAX_SIZE},
        "wcs": {"formats": {"GeoTIFF": {"renderers": {"1": "datacube_ows.wcs1_utils.get_tiff",
                                                       "2": "datacube_ows.wcs2_utils.get_tiff"},
                                         "mime": "image/geotiff", "extension": "tif", "multi-time": False}},
                "native_format": "GeoTIFF"},
        "layers": [{"title": "snowland", "abstract": "Every product of the cube",
                    "layers": [_layer(p) for p in TITLES]}],
    }


OWS_CFG = ows_config(url=os.environ.get("SNOWLAND_OWS_URL", "http://127.0.0.1:8080/ows"))
