"""The MAJA Theia L2A layout (FRE bands, MASKS/CLM and MG2 at R2) indexes and loads as theia_l2a."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from flows.pipelines.index import index_scenes
from flows.storage.eo3 import BadSourceError
from flows.storage.load import load
from flows.storage.sources.theia import find_theia_products, theia_to_eo3
from products.sensors import THEIA_L2A

NAME = "SENTINEL2A_20240115-103551-370_L2A_T31TGL_C_V2-2"


def _write(path, value, res, dtype):
    n = 40 if res == 10 else 20
    with rasterio.open(path, "w", driver="GTiff", width=n, height=n, count=1, dtype=dtype, crs="EPSG:32631",
                       transform=from_origin(720_000, 5_000_040, res, res), nodata=-10000 if dtype == "int16" else None) as dst:
        dst.write(np.full((n, n), value, dtype=dtype), 1)


def write_maja_folder(root, *, clm_value=0):
    """A tiny MAJA product: flat reflectance 0.1234 everywhere, one CLM value."""
    folder = root / NAME
    (folder / "MASKS").mkdir(parents=True)
    for band in THEIA_L2A.bands:
        _write(folder / f"{NAME}_{band.file}.tif", 1234, band.band.resolution, "int16")
    _write(folder / "MASKS" / f"{NAME}_CLM_R2.tif", clm_value, 20, "uint8")
    _write(folder / "MASKS" / f"{NAME}_MG2_R2.tif", 0, 20, "uint8")
    return folder


def test_maja_folder_gives_a_document_with_10_and_20_m_grids(tmp_path):
    folder = write_maja_folder(tmp_path)
    assert find_theia_products(tmp_path) == [folder]
    doc, _ = theia_to_eo3(folder)
    assert doc["product"]["name"] == "theia_l2a" and doc["properties"]["eo:platform"] == "sentinel-2a"
    assert doc["properties"]["odc:region_code"] == "T31TGL"
    assert len(doc["grids"]) == 2, "10 m (R1) and 20 m (R2) bands"
    assert set(doc["measurements"]) == {m.name for m in THEIA_L2A.measurements}


def test_maja_folder_missing_its_cloud_mask_is_refused(tmp_path):
    folder = write_maja_folder(tmp_path)
    next((folder / "MASKS").glob("*_CLM_R2.tif")).unlink()
    with pytest.raises(BadSourceError, match="missing cloud mask CLM_R2"):
        theia_to_eo3(folder)


def test_maja_folder_indexes_once_and_loads_flat_reflectance(dc, prefect_harness, tmp_path):
    write_maja_folder(tmp_path, clm_value=2)
    report = index_scenes(theia=[str(tmp_path)])
    assert len(report.written) == 1 and index_scenes(theia=[str(tmp_path)]).exists[0].id == report.ids[0]
    area = dc.index.datasets.get(report.ids[0]).extent
    data = load("theia_l2a", geometry=area, measurements=["green", "swir16", "clm"], dc=dc)
    green = data.green.values[np.isfinite(data.green.values)]
    assert np.allclose(green, 0.1234, atol=1e-4)
    assert set(np.unique(data.clm.values)) <= {2, 255}
