"""eo-learn's test patch (a real Sentinel-2 NDVI series with land-use polygons) read into snowland's types."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from products.landcover.validity import validity


@dataclass(frozen=True)
class EOPatchSample:
    """The real eo-learn test patch: NDVI series, validity, polygon ids and land-use classes."""

    series: xr.Dataset
    valid: xr.DataArray
    polygon_ids: np.ndarray
    polygon_classes: Mapping[int, int]
    labels: np.ndarray


def load_eolearn_patch(folder: str | Path) -> EOPatchSample:
    """Read eo-learn's `TestEOPatch` (NDVI, CLM, timestamps, LULC polygons and raster, bbox).

    Validity is CLM == 0 and IS_DATA; polygons of class 0 (no data) are left out.
    """
    import geopandas as gpd
    from rasterio.features import rasterize
    from rasterio.transform import from_bounds

    folder = Path(folder)
    times = pd.DatetimeIndex(json.loads((folder / "timestamps.json").read_text()))
    ndvi = np.load(folder / "data" / "NDVI.npy")[..., 0]
    dims = ("time", "y", "x")
    clm = xr.DataArray(np.load(folder / "mask" / "CLM.npy")[..., 0], dims=dims, coords={"time": times})
    is_data = xr.DataArray(np.load(folder / "mask" / "IS_DATA.npy")[..., 0], dims=dims, coords={"time": times})
    bounds = gpd.read_file(folder / "bbox.geojson").total_bounds
    rows, cols = ndvi.shape[1:]
    transform = from_bounds(*bounds, cols, rows)
    x = bounds[0] + (np.arange(cols) + 0.5) * transform.a
    y = bounds[3] + (np.arange(rows) + 0.5) * transform.e
    series = xr.Dataset({"ndvi": (dims, ndvi)}, coords={"time": times, "y": y, "x": x})
    polygons = gpd.read_file(folder / "vector_timeless" / "LULC.gpkg")
    polygons = polygons[polygons["LULC_ID"] > 0].reset_index(drop=True)
    pids = np.arange(1, len(polygons) + 1)
    ids = rasterize(zip(polygons.geometry, pids.tolist()), out_shape=(rows, cols), transform=transform, fill=0, dtype="int32")
    return EOPatchSample(
        series=series,
        valid=validity(clm=clm, flags=[is_data == 0]).assign_coords(y=y, x=x),
        polygon_ids=ids,
        polygon_classes=dict(zip(pids.tolist(), polygons["LULC_ID"].astype(int).tolist())),
        labels=np.load(folder / "mask_timeless" / "LULC.npy")[..., 0],
    )
