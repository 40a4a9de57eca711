"""Items that carry only some bands (users mirror what they need) index with the bands they have; an item no flow
can use, or without its mask, is refused with its reason; a load of a band some datasets lack names them."""

from __future__ import annotations

import numpy as np
import pystac
import pytest
from helpers import purge
from itemfactory import edit_item, write_tiny_s2_item
from test_index_theia_maja import write_maja_folder

from flows.pipelines.index import index_scenes
from flows.storage import properties as prop
from flows.storage.eo3 import BadSourceError
from flows.storage.load import load
from flows.storage.sources.stac import item_to_eo3
from flows.storage.sources.theia import theia_to_eo3
from products.errors import MissingDataError
from products.sensors import S2_L2A, lacks, needs

SNOW_ONLY = ("blue", "green", "red", "nir", "swir16", "scl")  # the user: what snow needs, and no more


def _keep(*names: str):
    def edit(doc):
        doc["assets"] = {k: v for k, v in doc["assets"].items() if k in names}
    return edit


def _item(path):
    return pystac.Item.from_file(str(path))


def test_an_item_with_the_snow_bands_only_records_the_bands_it_lacks(tmp_path):
    doc, _ = item_to_eo3(_item(edit_item(write_tiny_s2_item(tmp_path), _keep(*SNOW_ONLY))))
    assert set(doc["measurements"]) == set(SNOW_ONLY)
    assert doc["properties"][prop.ABSENT_MEASUREMENTS] == ["rededge1", "rededge2", "rededge3", "nir08", "swir22"]
    full, _ = item_to_eo3(_item(write_tiny_s2_item(tmp_path / "full")))
    assert prop.ABSENT_MEASUREMENTS not in full["properties"], "a whole item's document is as before"


def test_an_item_without_its_mask_is_refused_naming_it(tmp_path):
    path = edit_item(write_tiny_s2_item(tmp_path), lambda d: d["assets"].pop("scl"))
    with pytest.raises(BadSourceError, match=r"missing its mask 'scl' \(looked for assets \['scl', 'SCL'"):
        item_to_eo3(_item(path))


def test_an_item_no_flow_can_use_is_refused_with_what_each_flow_lacks(tmp_path):
    path = edit_item(write_tiny_s2_item(tmp_path), _keep("blue", "red", "nir", "scl"))
    with pytest.raises(BadSourceError, match=r"no flow can run on it \(snow lacks \['green', 'swir16'\]; "
                                             r"land_cover lacks \['green', 'rededge1'"):
        item_to_eo3(_item(path))


def test_each_job_names_what_a_scene_lacks_from_the_sensor_table():
    assert lacks("snow", S2_L2A, SNOW_ONLY) == ()
    assert lacks("land_cover", S2_L2A, SNOW_ONLY) == ("rededge1", "rededge2", "rededge3", "nir08", "swir22")
    assert lacks("snow", S2_L2A, needs("land_cover", S2_L2A)) == ()


def test_a_static_catalog_of_snow_only_items_indexes_whole_and_a_load_names_the_datasets_lacking_a_band(
        dc, prefect_harness, tmp_path):
    days = ["2019-01-05", "2019-01-06", "2019-01-07", "2019-01-08"]  # days no other module indexes
    paths = [edit_item(write_tiny_s2_item(tmp_path / d, item_id=f"S2B_31TGL_{d.replace('-', '')}_9_L2A",
                                          datetime=f"{d}T10:30:00Z"), _keep(*SNOW_ONLY)) for d in days]
    broken = edit_item(write_tiny_s2_item(tmp_path / "nomask", item_id="S2B_31TGL_20190109_9_L2A",
                                          datetime="2019-01-09T10:30:00Z"), _keep(*SNOW_ONLY[:-1]))
    report = index_scenes(static=[str(p) for p in [*paths, broken]])
    try:
        assert len(report.written) == 4 and len(report.failed) == 1, report.summary()
        assert "S2B_31TGL_20190109_9_L2A" in report.failed[0].unit and "missing its mask" in report.failed[0].reason
        assert index_scenes(static=[str(p) for p in paths]).written == [], "re-runs never duplicate"
        stored = dc.index.datasets.get(report.written[0].id)
        assert set(stored.measurements) == set(SNOW_ONLY)

        area = stored.extent
        data = load("s2_l2a", geometry=area, time=(days[0], days[-1]), measurements=["green", "swir16", "scl"], dc=dc)
        assert data.sizes["time"] == 4 and np.isclose(float(data.green.isel(time=0).mean()), 0.2)  # DN 3000, BOA -1000
        with pytest.raises(MissingDataError, match=r"4 of 4 dataset\(s\) lack bands asked for: "
                                                   r"S2B_31TGL_20190105_9_L2A lacks \['swir22', 'B8A'\]; "
                                                   r"S2B_31TGL_20190106_9_L2A lacks"):
            load("s2_l2a", geometry=area, time=(days[0], days[-1]), measurements=["swir22", "B8A", "red"], dc=dc)
    finally:
        purge(dc, report.ids)


def test_a_theia_folder_with_some_flat_reflectance_bands_indexes_and_one_without_snow_bands_is_refused(tmp_path):
    folder = write_maja_folder(tmp_path / "some")
    for band in ("B5", "B6", "B7", "B8A", "B12"):
        next(folder.glob(f"*_FRE_{band}.tif")).unlink()
    doc, _ = theia_to_eo3(folder)
    assert set(doc["measurements"]) == {"blue", "green", "red", "nir", "swir16", "clm", "mg2"}
    assert doc["properties"][prop.ABSENT_MEASUREMENTS] == ["rededge1", "rededge2", "rededge3", "nir08", "swir22"]
    next(folder.glob("*_FRE_B11.tif")).unlink()
    with pytest.raises(BadSourceError, match=r"missing band\(s\) \['rededge1', .*'swir16'.*snow lacks \['swir16'\]"):
        theia_to_eo3(folder)
