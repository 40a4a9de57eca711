"""Tiny Sentinel-2 L2A items in the Earth Search layout, written on the fly for tests of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

from products.sensors import S2_L2A

MASK_RESOLUTION = 20  # Sen2Cor writes SCL at 20 m


def write_tiny_s2_item(
    folder: Path, *, item_id: str = "S2B_31TGL_20240115_0_L2A", baseline: str = "05.10",
    epsg: int = 32631, x0: float = 720_000, y0: float = 5_000_040, dn: int = 3000, size: int = 32,
    datetime: str = "2024-01-15T10:30:00Z",
) -> Path:
    """An item with 10 m and 20 m COG-like GeoTIFFs whose proj fields match the files."""
    folder.mkdir(parents=True, exist_ok=True)
    assets = {}
    for measurement in S2_L2A.measurements:
        name, dtype = measurement.name, measurement.encoding.dtype
        res = measurement.band.resolution if measurement.band else MASK_RESOLUTION
        n = size if res == 10 else size // 2
        data = np.full((n, n), dn if measurement.band else S2_L2A.measurement(name).value("vegetation"), dtype=dtype)
        path = folder / f"{name}.tif"
        with rasterio.open(path, "w", driver="GTiff", width=n, height=n, count=1, dtype=dtype, nodata=0,
                           crs=f"EPSG:{epsg}", transform=from_origin(x0, y0, res, res)) as dst:
            dst.write(data, 1)
        assets[name] = {
            "href": str(path), "type": "image/tiff; application=geotiff; profile=cloud-optimized",
            "proj:shape": [n, n], "proj:transform": [res, 0, x0, 0, -res, y0],
            "raster:bands": [{"nodata": 0, "data_type": dtype, "scale": 0.0001, "offset": -0.1}],
            "roles": ["data"],
        }
    item = {
        "type": "Feature", "stac_version": "1.0.0", "id": item_id, "collection": "sentinel-2-l2a",
        "stac_extensions": [],
        "geometry": {"type": "Polygon", "coordinates": [[[5.9, 45.0], [6.1, 45.0], [6.1, 45.1], [5.9, 45.1], [5.9, 45.0]]]},
        "bbox": [5.9, 45.0, 6.1, 45.1],
        "properties": {"datetime": datetime, "platform": "sentinel-2b", "instruments": ["msi"],
                       "proj:epsg": epsg, "s2:processing_baseline": baseline,
                       "earthsearch:boa_offset_applied": False, "eo:cloud_cover": 0.0},
        "assets": assets, "links": [],
    }
    path = folder / f"{item_id}.json"
    path.write_text(json.dumps(item))
    return path


def edit_item(path: Path, edit) -> Path:
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))
    return path
