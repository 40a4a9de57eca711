"""The real Sentinel-2, Landsat C2 L2 and Theia samples go through the indexing flow and load in EPSG:3035.

Other modules index some of these samples too, in the same session's index: a test here asserts on the ids the
flow gives and finds (added or already there), never on how many it added, so the order of modules does not
matter."""

from __future__ import annotations

import numpy as np
import pytest
from realsamples import THEIA_L8, landsat_item, s2_item

from flows.pipelines.index import index_scenes
from flows.storage.load import load


@pytest.fixture(scope="module")
def items(real_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("items")
    return {"s2": s2_item(real_data, out / "s2"), "landsat": landsat_item(real_data, out / "ls")}


def _area(dc, dataset_id):
    return dc.index.datasets.get(dataset_id).extent


def test_real_sentinel2_item_is_refused_when_its_grid_disagrees_with_the_files(dc, prefect_harness, items):
    report = index_scenes(static=[str(items["s2"])])
    assert not report.written and len(report.failed) == 1
    assert "does not match its file" in report.failed[0].reason


def test_real_sentinel2_sample_indexes_once_and_loads_as_desert_reflectance(dc, prefect_harness, items):
    first = index_scenes(static=[str(items["s2"])], grid_from="file")
    again = index_scenes(static=[str(items["s2"])], grid_from="file")
    ids = first.ids
    assert len(ids) == 1 and not first.failed and dc.index.datasets.has(ids[0])
    assert again.written == [] and again.ids == ids
    assert [str(d.id) for d in dc.find_datasets(product="s2_l2a", time=("2020-02-19", "2020-02-20"))] == ids

    data = load("s2_l2a", geometry=_area(dc, ids[0]), resolution=600,
                measurements=["blue", "red", "swir16", "scl"], dc=dc)
    assert data.sizes["time"] == 1 and data.attrs["crs"] == "EPSG:3035"
    red, swir = float(data.red.mean()), float(data.swir16.mean())
    assert 0.15 < red < 0.5 and 0.25 < swir < 0.7, "Western Sahara desert: bright red and SWIR"
    assert float(data.blue.mean()) < red < swir, "bare sand reflectance rises from blue to SWIR"
    scl = data.scl.values
    assert (scl == 5).sum() > 0.8 * (scl > 0).sum(), "SCL: mostly 'not vegetated'"


def test_real_landsat_item_without_projection_is_refused_then_indexed_from_file_grids(dc, prefect_harness, items):
    refused = index_scenes(static=[str(items["landsat"])])
    assert "no projection" in refused.failed[0].reason
    report = index_scenes(static=[str(items["landsat"])], grid_from="file")
    ids = report.ids
    assert len(ids) == 1 and not report.failed and dc.index.datasets.has(ids[0])
    data = load("landsat_c2l2", geometry=_area(dc, ids[0]), resolution=1200,
                measurements=["red", "swir16", "qa_pixel"], dc=dc)
    qa = data.qa_pixel.values.astype(np.uint16)
    has_data = (qa != 0) & ((qa & 1) == 0)  # 0: outside the scene; bit 0: fill
    cloud = (qa & 0b1000) > 0
    assert cloud[has_data].mean() > 0.95, "the sample is 99.9 % cloud"
    red = data.red.values[np.isfinite(data.red.values)]
    assert 0.05 < np.median(red) < 1.0, "bright cloud tops in surface reflectance units"


def test_real_theia_landsat8_crops_index_and_load(dc, prefect_harness, real_data):
    root = real_data / THEIA_L8
    report = index_scenes(theia=[str(root)])
    again = index_scenes(theia=[str(root)])
    ids = report.ids
    assert len(set(ids)) == 4 and not report.failed and all(dc.index.datasets.has(i) for i in ids)
    assert again.written == [] and sorted(again.ids) == sorted(ids)
    data = load("theia_l8_n2a", geometry=_area(dc, ids[0]), resolution=30,
                measurements=["red", "nir08", "cloud"], dc=dc)
    assert data.sizes["time"] == 2
    red, nir = data.red.values, data.nir08.values
    ok = np.isfinite(red) & np.isfinite(nir)
    assert ok.mean() > 0.5
    assert 0.01 < np.median(red[ok]) < 0.3 and np.median(nir[ok]) > np.median(red[ok]), "vegetated farmland near Toulouse"
