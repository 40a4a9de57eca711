"""Shaded snow through the snow flow: the relief shadow from the indexed DEM and the items' sun angles, its switch,
what the products record (properties, snow_bits 64, FSC 100, QC bit 6), and what it finds on the simulated
December scenes against their truth; an item without sun angles is mapped without it and says so."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import yaml
from helpers import purge
from itemfactory import write_tiny_s2_item
from rasterio.transform import from_origin

from flows.pipelines.index import index_scenes
from flows.pipelines.snow_cover import (
    compute_snow_cover,
    find_snow_jobs,
    snow_cover,
    snow_params,
)
from flows.pipelines.validate_snow import format_scores, validate_snow
from flows.storage import properties as prop
from products.errors import BadInputError
from products.snow import QcFlag, SnowBit, SnowParams

CELL = "100kmE40N24"
DECEMBER = ("2023-12-01", "2023-12-31")


@pytest.fixture(scope="module")
def december(dc, simulated):
    """Snow products of the simulated December (shaded snow on, the default); they go when the module ends."""
    before = {str(d.id) for d in dc.find_datasets(product="snow_cover")}
    report = snow_cover(start=DECEMBER[0], end=DECEMBER[1], cells=[CELL])
    yield report
    purge(dc, [str(d.id) for d in dc.find_datasets(product="snow_cover") if str(d.id) not in before])


def _datasets(dc):
    return dc.find_datasets(product="snow_cover", time=DECEMBER)


def _bands(ds, *names) -> list[np.ndarray]:
    folder = Path(ds.uri.removeprefix("file://")).parent
    out = []
    for name in names:
        with rasterio.open(folder / ds.measurements[name]["path"]) as src:
            out.append(src.read(1))
    return out


def test_products_record_the_sun_and_that_shaded_snow_ran(dc, december):
    assert december.written and not december.failed, december.summary()
    for ds in _datasets(dc):
        p = ds.metadata_doc["properties"]
        assert p[prop.PARAMETERS]["detect_shaded_snow"] is True and p[prop.PARAMETERS]["shaded_snow_pass"] == 0.016
        assert 0 < p[prop.SUN_ELEVATION] < 30 and 120 < p[prop.SUN_AZIMUTH] < 200, "a December morning sun"
        assert p[prop.SHADED_SNOW] is True or "pass 2 did not run" in p[prop.SHADED_SNOW_REASON]


def test_snow_only_the_shaded_test_found_is_fsc_100_and_qc_bit_6(dc, december):
    found = 0
    for ds in _datasets(dc):
        snow, bits, toc, qc = _bands(ds, "snow", "snow_bits", "fsc_toc", "qc_flags")
        shaded = (bits != 255) & ((bits & SnowBit.SHADED_SNOW) != 0)
        found += int(shaded.sum())
        assert (snow[shaded] == 100).all() and (toc[shaded] == 100).all()
        assert np.array_equal((qc != 255) & ((qc & QcFlag.SHADED_SNOW) != 0), shaded)
        assert (qc[snow == 255] == 255).all()
    assert found > 1000, "December's low sun leaves much of the simulated relief in cast shadow"


def test_in_cast_shadow_december_snow_is_found_with_the_test_and_missed_without(dc, simulated, december):
    scores = [s for s in validate_snow(simulated.out_dir, dc=dc) if s.day <= DECEMBER[1]]
    print(format_scores(scores))
    shaded = sum((s.shaded for s in scores[1:]), scores[0].shaded)
    without = sum((s.shaded_without for s in scores[1:]), scores[0].shaded_without)
    total = sum((s.score for s in scores[1:]), scores[0].score)
    assert shaded.n > 10_000
    assert shaded.accuracy > 0.9 and without.accuracy < 0.2, (shaded.accuracy, without.accuracy)
    assert total.accuracy >= 0.97 and total.kappa >= 0.9, (total.accuracy, total.kappa)


def _most_shaded_job(dc):
    """The December unit whose product has the most snow found by the shaded-snow test alone."""
    def shaded_count(ds) -> int:
        bits = _bands(ds, "snow_bits")[0]
        return int(((bits != 255) & ((bits & SnowBit.SHADED_SNOW) != 0)).sum())

    most = max(_datasets(dc), key=shaded_count)
    day, sensor = str(most.center_time)[:10], most.metadata_doc["properties"][prop.SENSOR]
    return next(j for j in find_snow_jobs(time=DECEMBER, cells=[CELL], dc=dc)
                if j.day == day and j.key.endswith(f"/{sensor}"))


def test_the_switch_turns_the_test_off_and_the_product_says_so(dc, december, tmp_path):
    job = _most_shaded_job(dc)
    on = compute_snow_cover(job, params=SnowParams(), scratch=tmp_path / "on", dc=dc)
    off = compute_snow_cover(job, params=SnowParams(detect_shaded_snow=False), scratch=tmp_path / "off", dc=dc)
    assert off.properties[prop.SHADED_SNOW] is False
    assert off.properties[prop.SHADED_SNOW_REASON] == "switched off (detect_shaded_snow: false)"
    snow_on, snow_off = (int((out.bands.snow == 100).sum()) for out in (on, off))
    bits = off.bands.snow_bits
    assert snow_off < snow_on and not ((bits != 255) & ((bits & SnowBit.SHADED_SNOW) != 0)).any()


def test_a_unit_held_in_memory_and_one_spilled_block_by_block_are_the_same_product(dc, december, tmp_path,
                                                                                   monkeypatch):
    from flows.pipelines import snow_cover as module

    job = _most_shaded_job(dc)
    whole = compute_snow_cover(job, params=SnowParams(), scratch=tmp_path / "whole", dc=dc)
    monkeypatch.setattr(module, "IN_MEMORY_PX", 0)
    spilled = compute_snow_cover(job, params=SnowParams(), scratch=tmp_path / "spilled", dc=dc)
    assert not whole.bands.snow.chunks and spilled.bands.snow.chunks
    assert whole.properties == spilled.properties and whole.lineage == spilled.lineage
    assert whole.properties[prop.SHADED_SNOW]
    for name in whole.bands.data_vars:
        np.testing.assert_array_equal(whole.bands[name].values, spilled.bands[name].values, err_msg=name)
        assert whole.bands[name].dtype == spilled.bands[name].dtype
        assert whole.bands[name].attrs["nodata"] == spilled.bands[name].attrs["nodata"]


def test_the_flow_and_cli_switch_overrides_the_parameter_file(tmp_path):
    assert snow_params(None, 20).detect_shaded_snow is True
    assert snow_params(None, 20, shaded_snow=False).detect_shaded_snow is False
    path = tmp_path / "lis.yaml"
    path.write_text(yaml.safe_dump({"detect_shaded_snow": False}))
    assert snow_params(str(path), 20).detect_shaded_snow is False
    assert snow_params(str(path), 20, shaded_snow=True).detect_shaded_snow is True
    with pytest.raises(BadInputError, match="detect_shaded_snow"):
        SnowParams.from_mapping({"detect_shaded_snow": "maybe"})


def test_an_item_without_sun_angles_is_mapped_without_shaded_snow_and_says_why(dc, prefect_harness, tmp_path):
    item = write_tiny_s2_item(tmp_path / "nosun", item_id="S2B_31TGL_20240312_0_L2A", x0=300_000, y0=4_900_020,
                              datetime="2024-03-12T10:30:00Z")
    dem = tmp_path / "flat_dem.tif"
    with rasterio.open(dem, "w", driver="GTiff", width=100, height=50, count=1, dtype="float32", crs="EPSG:4326",
                       transform=from_origin(0.0, 44.5, 0.01, 0.01), nodata=-32767) as dst:
        dst.write(np.full((50, 100), 1500, dtype="float32"), 1)
    indexed = index_scenes(static=[str(item)], dem=[str(dem)])
    report = snow_cover(start="2024-03-12", end="2024-03-12")
    try:
        assert report.written and not report.failed, report.summary()
        p = dc.index.datasets.get(report.written[0].id).metadata_doc["properties"]
        assert p[prop.SHADED_SNOW] is False and prop.SUN_AZIMUTH not in p
        assert p[prop.SHADED_SNOW_REASON] == "no sun angles in S2B_31TGL_20240312_0_L2A"
    finally:
        purge(dc, [o.id for o in report.written] + indexed.ids)
