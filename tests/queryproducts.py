"""Small SIMULATED snow_cover, snow_season and land_cover products with known pixels, written into the session's
index for the modules that query it (queries, catalogue, serve).

They are written through the one writer (COGs + eo3 + lineage to the simulated inputs) in a winter and years the
snow and land-cover flow tests do not use, and purged when the module that asked for them ends (the
``query_products`` fixture of conftest.py), so those tests find the index as they expect it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr
from odc.geo.geobox import GeoBox

from flows.storage.grid import EEA_CRS

PIXEL_KM2 = 20 * 20 / 1e6
X0, Y1, SIDE = 4_002_000, 2_442_000, 200  # 4 km x 4 km at 20 m, inside the Taillefer box and the simulated world
SNOW_DAYS = {"2023-01-10": ("s2", "sentinel-2a", 1500.0), "2023-01-20": ("l8", "landsat-8", -1000.0)}
SEASON_YEAR, LAND_COVER_YEAR = 2022, 2021


@dataclass(frozen=True)
class QueryProducts:
    geobox: GeoBox
    snow: dict[str, np.ndarray]
    season: dict[str, np.ndarray]
    classes: np.ndarray
    ids: list[str]


def _geobox() -> GeoBox:
    return GeoBox.from_bbox((X0, Y1 - SIDE * 20, X0 + SIDE * 20, Y1), crs=EEA_CRS, resolution=20)


def _band(values: np.ndarray, gbox: GeoBox, nodata: int) -> xr.DataArray:
    band = xr.DataArray(values, dims=("y", "x"))
    band.attrs["nodata"] = nodata
    return band


def _complete(dc, product: str, bands: dict[str, np.ndarray], gbox: GeoBox) -> xr.Dataset:
    """Every measurement of ``product``: the given bands, the others filled with their nodata."""
    out = {}
    for name, spec in dc.index.products.get_by_name(product).measurements.items():
        nodata = spec["nodata"]
        values = bands[name] if name in bands else np.full(gbox.shape, nodata, dtype=spec["dtype"])
        out[name] = _band(values.astype(spec["dtype"]), gbox, nodata)
    return xr.Dataset(out)


def _snow_codes(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    codes = rng.choice(np.array([0, 100, 205], dtype="uint8"), size=(SIDE, SIDE), p=[0.4, 0.45, 0.15])
    codes[:, -20:] = 255  # a strip of no data
    return codes


def write_query_products(dc) -> QueryProducts:
    """Write the module's SIMULATED snow_cover (2 days), snow_season and land_cover datasets; ids in write order."""
    from flows.storage.writer import write_dataset

    gbox = _geobox()
    dem = [str(d.id) for d in dc.find_datasets(product="dem_cop30", geopolygon=gbox.extent)]
    common = dict(geobox=gbox, region="100kmE40N24", dc=dc, overwrite=True)
    ids, snow = [], {}
    for n, (day, (sensor, platform, zs)) in enumerate(SNOW_DAYS.items()):
        codes = _snow_codes(n)
        snow[day] = codes
        written = write_dataset(
            _complete(dc, "snow_cover", {"snow": codes}, gbox), product="snow_cover", key=f"100kmE40N24/{day}/{sensor}",
            when=f"{day}T10:30:00.000000Z", sources={"dem_cop30": dem},
            properties={"eo:platform": platform, "snowland:sensor": sensor, "snowland:zs": zs,
                        "snowland:snow_percent": 45.0, "snowland:cloud_percent": 15.0, "snowland:simulated": True},
            **common)
        ids.append(written.id)
    yy, xx = np.mgrid[0:SIDE, 0:SIDE]
    season = {"scd": (xx % 150).astype("uint16"), "sod": (yy % 90).astype("uint16"),
              "smod": (100 + yy % 90).astype("uint16"), "nobs": np.full((SIDE, SIDE), 12, "uint16"),
              "nsp": (xx % 3).astype("uint16")}
    for band in season.values():
        band[:30, :] = 65535
    written = write_dataset(
        _complete(dc, "snow_season", season, gbox), product="snow_season",
        key=f"100kmE40N24/{SEASON_YEAR}-{SEASON_YEAR + 1}", when=f"{SEASON_YEAR}-09-01T00:00:00Z",
        sources={"snow_cover": ids[:2]},
        properties={"dtr:start_datetime": f"{SEASON_YEAR}-09-01T00:00:00Z",
                    "dtr:end_datetime": f"{SEASON_YEAR + 1}-08-31T23:59:59Z", "snowland:simulated": True},
        **common)
    ids.append(written.id)
    classes = np.select([yy < 60, xx < 80, xx < 150], [13, 17, 18], 0).astype("uint8")  # meadows, forests, 0 = no data
    written = write_dataset(
        _complete(dc, "land_cover", {"classification": classes, "confidence": np.full((SIDE, SIDE), 80),
                                     "n_clear": np.full((SIDE, SIDE), 20)}, gbox),
        product="land_cover", key=f"100kmE40N24/{LAND_COVER_YEAR}", when=f"{LAND_COVER_YEAR}-01-01T00:00:00Z",
        sources={}, properties={"snowland:nomenclature": "oso23", "snowland:simulated": True}, **common)
    ids.append(written.id)
    return QueryProducts(geobox=gbox, snow=snow, season=season, classes=classes, ids=ids)
