"""Each kind of bad item is reported with its reason, and the rest of the batch is indexed."""

from __future__ import annotations

import json

import pystac
import pytest
from itemfactory import edit_item, write_tiny_s2_item

from flows.pipelines.index import index_scenes, read_static_items
from flows.storage.eo3 import BadSourceError, dataset_id
from flows.storage.sources.stac import item_to_eo3, s2_boa_offset


def _item(path):
    return pystac.Item.from_file(str(path))


def test_item_missing_a_band_names_it(tmp_path):
    path = edit_item(write_tiny_s2_item(tmp_path), lambda d: d["assets"].pop("swir16"))
    with pytest.raises(BadSourceError, match=r"missing band\(s\) \['swir16'\]"):
        item_to_eo3(_item(path))


def test_item_without_projection_is_refused(tmp_path):
    def drop(doc):
        doc["properties"].pop("proj:epsg")
    path = edit_item(write_tiny_s2_item(tmp_path), drop)
    with pytest.raises(BadSourceError, match="no projection"):
        item_to_eo3(_item(path))


def test_item_declaring_the_wrong_crs_is_caught_against_the_file(tmp_path):
    path = edit_item(write_tiny_s2_item(tmp_path), lambda d: d["properties"].update({"proj:epsg": 32632}))
    with pytest.raises(BadSourceError, match="EPSG:32632 .* does not match its file EPSG:32631"):
        item_to_eo3(_item(path))


def test_corrupt_cog_is_reported_as_unreadable(tmp_path):
    path = write_tiny_s2_item(tmp_path)
    (tmp_path / "red.tif").write_bytes(b"II*\x00 this is not a TIFF any more")
    with pytest.raises(BadSourceError, match="cannot read .*red.tif"):
        item_to_eo3(_item(path))


def test_unknown_collection_is_refused(tmp_path):
    path = edit_item(write_tiny_s2_item(tmp_path), lambda d: d.update({"collection": "modis-10a1"}))
    with pytest.raises(BadSourceError, match="'modis-10a1' is not one snowland indexes"):
        item_to_eo3(_item(path))


def test_dataset_ids_are_deterministic_and_distinct_per_item(tmp_path):
    a, _ = item_to_eo3(_item(write_tiny_s2_item(tmp_path / "a")))
    b, _ = item_to_eo3(_item(write_tiny_s2_item(tmp_path / "b")))
    c, _ = item_to_eo3(_item(write_tiny_s2_item(tmp_path / "c", item_id="S2B_31TGL_20240120_0_L2A")))
    assert a["id"] == b["id"] == dataset_id("s2_l2a", "sentinel-2-l2a/S2B_31TGL_20240115_0_L2A")
    assert c["id"] != a["id"]


@pytest.mark.parametrize(
    ("baseline", "dn", "expected"),
    [("02.14", 3000, 0.0), ("05.10", 3000, -1000.0), ("05.10", 400, 0.0)],
    ids=["old-baseline-no-offset", "raw-pixels-get-offset", "dark-pixels-prove-offset-removed"],
)
def test_s2_boa_offset_follows_baseline_and_pixels_not_the_flag(tmp_path, baseline, dn, expected):
    item = _item(write_tiny_s2_item(tmp_path, baseline=baseline, dn=dn, size=256))
    hrefs = {k: a.href for k, a in item.assets.items()}
    offset, reason = s2_boa_offset(item, hrefs)
    assert offset == expected, reason


def test_a_batch_with_bad_items_indexes_the_good_ones_and_reports_each_reason(dc, prefect_harness, tmp_path):
    good = write_tiny_s2_item(tmp_path / "good", item_id="S2B_31TGL_20240201_0_L2A")
    missing = edit_item(write_tiny_s2_item(tmp_path / "missing", item_id="S2B_31TGL_20240202_0_L2A"),
                        lambda d: d["assets"].pop("scl"))
    corrupt = write_tiny_s2_item(tmp_path / "corrupt", item_id="S2B_31TGL_20240203_0_L2A")
    (tmp_path / "corrupt" / "green.tif").write_bytes(b"garbage")
    collection = {"type": "FeatureCollection",
                  "features": [json.loads(p.read_text()) for p in (good, missing, corrupt)]}
    batch = tmp_path / "items.json"
    batch.write_text(json.dumps(collection))
    assert len(list(read_static_items(batch))) == 3

    report = index_scenes(static=[str(batch)])
    assert len(report.written) == 1
    reasons = {f.unit.split("/")[-1]: f.reason for f in report.failed}
    assert "missing its mask 'scl'" in reasons["S2B_31TGL_20240202_0_L2A"]
    assert "cannot read" in reasons["S2B_31TGL_20240203_0_L2A"]
    assert index_scenes(static=[str(batch)]).exists[0].id == report.ids[0]
