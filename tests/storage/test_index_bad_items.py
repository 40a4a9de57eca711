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

    report = index_scenes(static=[str(batch)], check_headers="all")  # green.tif: trusted by the default sample
    assert len(report.written) == 1
    reasons = {f.unit.split("/")[-1]: f.reason for f in report.failed}
    assert "missing its mask 'scl'" in reasons["S2B_31TGL_20240202_0_L2A"]
    assert "cannot read" in reasons["S2B_31TGL_20240203_0_L2A"]
    assert index_scenes(static=[str(batch)], check_headers="all").exists[0].id == report.ids[0]


def test_sampled_headers_check_each_layouts_first_item_and_the_files_read_anyway(dc, prefect_harness, tmp_path):
    """By default every band of a layout's first item is checked, then, of the others, the files opened for their
    pixels (blue, red, swir22 for the BOA offset): a broken one of those is refused; a broken band outside the sample
    (green) is trusted, counted in the report, and caught when loaded (tests/run/test_faults.py, test_snow_flows.py)."""
    first, bad_red, bad_green = (write_tiny_s2_item(tmp_path / name, item_id=f"S2B_31TGL_2024030{day}_0_L2A")
                                 for day, name in ((1, "first"), (2, "red"), (3, "green")))
    (tmp_path / "red" / "red.tif").write_bytes(b"garbage")
    (tmp_path / "green" / "green.tif").write_bytes(b"garbage")
    batch = tmp_path / "items.json"
    batch.write_text(json.dumps({"type": "FeatureCollection",
                                 "features": [json.loads(p.read_text()) for p in (first, bad_red, bad_green)]}))

    report = index_scenes(static=[str(batch)])
    assert {o.unit.split("/")[-1] for o in report.written} == {"S2B_31TGL_20240301_0_L2A", "S2B_31TGL_20240303_0_L2A"}
    (refused,) = report.failed
    assert "cannot read" in refused.reason and "red.tif" in refused.reason
    bands = len(list(tmp_path.joinpath("first").glob("*.tif")))
    assert report.details[f"band headers ({batch})"].startswith(f"{bands + 3} read and checked against their items, "
                                                                f"{bands - 3} trusted")


def test_items_added_over_several_batches_keep_their_order_and_a_second_run_adds_nothing(dc, tmp_path, monkeypatch):
    """The next batch is built while one is added: outcomes stay in item order, a refused item in a middle batch
    stops nothing, and running again finds each added item there."""
    import flows.pipelines.index as indexing

    monkeypatch.setattr(indexing, "ADD_BATCH", 2)
    paths = [write_tiny_s2_item(tmp_path / f"d{day}", item_id=f"S2B_31TGL_2024040{day}_0_L2A") for day in range(1, 6)]
    edit_item(paths[2], lambda d: d["assets"].pop("scl"))
    items = [_item(p) for p in paths]

    first = indexing.index_items.fn(items)
    assert [o.unit.split("/")[-1] for o in first.outcomes] == [item.id for item in items]
    assert [o.status for o in first.outcomes] == ["written", "written", "failed", "written", "written"]
    again = indexing.index_items.fn(items)
    assert [o.status for o in again.outcomes] == ["already there", "already there", "failed", "already there",
                                                  "already there"]
    assert [o.id for o in again.exists] == [o.id for o in first.written]
