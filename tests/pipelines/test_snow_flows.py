"""The snow flows on simulated scenes (against their truth), on bad input, and on the real samples."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
from helpers import purge
from itemfactory import write_tiny_s2_item
from rasterio.transform import from_origin
from realsamples import S2_DIR, landsat_item, localised_item, s2_item

from flows.pipelines.index import index_scenes
from flows.pipelines.snow_cover import SnowJob, snow_cover
from flows.pipelines.snow_season import snow_season
from flows.pipelines.validate_snow import format_scores, validate_snow
from flows.simulator.scenes import TCD_FILE
from flows.storage.index import sources_of
from flows.storage.load import load


@pytest.fixture(scope="module")
def snow_run(dc, simulated):
    """The snow flow over the simulated winter. The snow products the module makes go when it ends: other modules
    (the deployment's) need simulated days without one."""
    before = _snow_products(dc)
    report = index_scenes(tcd=[str(simulated.out_dir / TCD_FILE)])
    assert len(report.written) == 1, report.summary()
    yield snow_cover(start="2023-12-01", end="2024-03-31", cells=["100kmE40N24"])
    purge(dc, [id_ for id_ in _snow_products(dc) if id_ not in before])


def _snow_products(dc) -> list[str]:
    """Ids of the snow_cover, then the snow_season datasets: sources before the products made from them."""
    return [str(d.id) for product in ("snow_cover", "snow_season") for d in dc.find_datasets(product=product)]


def test_snow_cover_matches_the_simulated_truth(dc, simulated, snow_run):
    assert snow_run.written and not snow_run.failed, snow_run.summary()
    scores = validate_snow(simulated.out_dir, dc=dc)
    total = sum((s.score for s in scores[1:]), scores[0].score)
    assert total.n > 1_000_000
    assert total.accuracy >= 0.97 and total.kappa >= 0.90, (total.accuracy, total.kappa)
    with_zs = [s for s in scores if s.zs > -1000 and np.isfinite(s.zs_truth)]
    assert len(with_zs) >= len(scores) // 2
    for s in with_zs:  # one 100 m band, plus the metre LIS floors zs to
        assert abs(s.zs - s.zs_truth) <= 101, (s.day, s.sensor, s.zs, s.zs_truth)
    assert all(s.zs < s.snowline for s in with_zs), "LIS puts zs below the 50 % snow line"
    table, sensors = format_scores(scores).splitlines(), {s.sensor for s in scores}
    # snow on cloud measured 0.45 % (s2) and 2.59 % (l8) in the world with cast shadows and shaded snow on (l8 was
    # 1.24 % before cast shadows; keeping the dilated ring out of the shaded-snow test changed it by 0.02 %)
    # the gap is the sensors' dates: on the same dates both are 1.5 % (bench/bench_snow_on_cloud.py, bench/README.md)
    bound = {"s2": 0.01, "l8": 0.03}
    for sensor in sensors:
        of = [s.score for s in scores if s.sensor == sensor]
        assert sum(of[1:], of[0]).cloud_called_snow_share < bound[sensor], (sensor, "snow on cloud")
        assert len(sensors) == 1 or any(line.split()[:2] == ["all", sensor] for line in table), "a total per sensor"


def test_rerunning_snow_cover_adds_nothing_and_overwrite_replaces_in_place(dc, simulated, snow_run):
    count = len(dc.find_datasets(product="snow_cover"))
    again = snow_cover(start="2023-12-01", end="2024-03-31", cells=["100kmE40N24"])
    assert again.written == [] and _units(again.exists) == _units(snow_run.written)
    assert sorted(again.ids) == sorted(snow_run.ids)
    first = min(_units(snow_run.written))
    day = first.split("/")[1]
    replaced = snow_cover(start=day, end=day, cells=["100kmE40N24"], overwrite=True)
    assert first in _units(replaced.replaced)
    assert len(dc.find_datasets(product="snow_cover")) == count


def test_since_days_looks_only_at_the_recent_acquisitions(dc, simulated, snow_run):
    import datetime as dt

    start = dt.datetime(2024, 3, 1, tzinfo=dt.timezone.utc)
    days = (dt.datetime.now(dt.timezone.utc) - start).total_seconds() / 86400
    recent = snow_cover(since_days=days, end="2024-03-31", cells=["100kmE40N24"])
    expected = {k for k in _units(snow_run.written) if k.split("/")[1] >= "2024-03-01"}
    assert expected and len(expected) < len(snow_run.written)
    assert _units(recent.exists) == expected and not recent.written


def _units(outcomes) -> set[str]:
    return {o.unit for o in outcomes}


def test_snow_cover_records_zs_platform_and_lineage(dc, simulated, snow_run):
    ds = dc.find_datasets(product="snow_cover", time=("2023-12-01", "2024-03-31"))[0]
    props = ds.metadata_doc["properties"]
    assert props["snowland:sensor"] in ("s2", "l8") and props["eo:platform"]
    assert {"snowland:zs", "snowland:snow_percent", "snowland:cloud_percent", "snowland:parameters"} <= set(props)
    assert props["snowland:parameters"]["ndsi_pass1"] == 0.4
    sources = sources_of(str(ds.id), dc=dc)
    assert "dem_cop30" in sources and set(sources) & {"s2_l2a", "landsat_c2l2"}
    assert all(s.product.name == classifier for classifier, found in sources.items() for s in found)


def test_fsc_on_ground_corrects_fsc_top_of_canopy_with_the_indexed_tree_cover(dc, simulated, snow_run):
    tcd_ds = dc.find_datasets(product="tcd")
    assert len(tcd_ds) == 1 and str(tcd_ds[0].center_time).startswith("2018"), "reference year from the HRL name"
    ds = max(dc.find_datasets(product="snow_cover", time=("2023-12-01", "2024-03-31")),
             key=lambda d: d.metadata_doc["properties"]["snowland:snow_percent"])
    assert ds.metadata_doc["properties"]["snowland:tcd_used"] is True
    assert [str(d.id) for d in sources_of(str(ds.id), dc=dc)["tcd"]] == [str(tcd_ds[0].id)]
    toc, og = _band(ds, "fsc_toc"), _band(ds, "fsc_og")
    tcd = _read_on(simulated.out_dir / TCD_FILE, _band_path(ds, "fsc_og"))
    snow = (toc >= 1) & (toc <= 100)
    assert snow.sum() > 1000
    assert np.array_equal(og[~snow], toc[~snow]), "cloud, nodata and no-snow codes pass through"
    open_ground, forest = snow & (tcd == 0), snow & (tcd >= 30) & (tcd <= 100)
    assert open_ground.sum() > 100 and forest.sum() > 100
    assert np.array_equal(og[open_ground], toc[open_ground])
    expected = np.clip(np.rint(100 * toc[forest] / (100 - tcd[forest])), 1, 100)
    assert np.abs(og[forest] - expected).max() <= 1  # FSC_OG is computed from the unrounded FSC_TOC
    partial = forest & (toc < 100)  # not full already (shaded snow's FSC is 100, for one)
    assert partial.sum() > 100 and (og[partial] > toc[partial]).mean() > 0.9


def _band_path(ds, name: str) -> Path:
    return Path(ds.uri.removeprefix("file://")).parent / ds.measurements[name]["path"]


def _band(ds, name: str) -> np.ndarray:
    with rasterio.open(_band_path(ds, name)) as src:
        return src.read(1).astype(int)


def _read_on(path: Path, like: Path) -> np.ndarray:
    """The raster ``path`` read on the grid of ``like`` (both EPSG:3035 20 m, aligned), 255 outside."""
    from rasterio.windows import from_bounds

    with rasterio.open(like) as ref, rasterio.open(path) as src:
        window = from_bounds(*ref.bounds, transform=src.transform).round_offsets().round_lengths()
        return src.read(1, window=window, boundless=True, fill_value=255).astype(int)


def test_datacube_and_snowland_commands_list_products_datasets_and_sources(dc, simulated, snow_run):
    ds = dc.find_datasets(product="snow_cover")[0]
    bin_dir = Path(sys.executable).parent
    listing = subprocess.run([bin_dir / "datacube", "product", "list"], capture_output=True, text=True, check=True)
    assert "snow_cover" in listing.stdout and "s2_l2a" in listing.stdout
    search = subprocess.run([bin_dir / "datacube", "dataset", "search", "product=snow_cover"],
                            capture_output=True, text=True, check=True)
    assert str(ds.id) in search.stdout
    lineage = subprocess.run([bin_dir / "snowland", "lineage", str(ds.id)], capture_output=True, text=True, check=True)
    assert "<- dem_cop30:" in lineage.stdout


def test_snow_season_has_lineage_and_more_snow_days_higher_up(dc, simulated, snow_run):
    report = snow_season(year=2023, cells=["100kmE40N24"])
    assert len(report.written) == 1, report.summary()
    ds = dc.find_datasets(product="snow_season")[0]
    sources = sources_of(str(ds.id), dc=dc)
    assert set(sources) == {"snow_cover"}
    in_cell = [d for d in dc.find_datasets(product="snow_cover", time=("2023-08-01", "2024-09-15"))
               if d.metadata_doc["properties"]["odc:region_code"] == "100kmE40N24"]
    assert len(sources["snow_cover"]) == len(in_cell)
    scd = load("snow_season", geobox=_truth_geobox(simulated), measurements=["scd"], dc=dc).scd.isel(time=0).values
    with rasterio.open(simulated.out_dir / "truth" / "dem.tif") as src:
        dem = src.read(1)
    ok = (scd < 65535) & (dem > -1000)
    assert np.corrcoef(scd[ok], dem[ok])[0, 1] > 0.5
    again = snow_season(year=2023, cells=["100kmE40N24"])
    assert not again.written and again.ids == report.ids == [str(ds.id)]
    assert _units(again.exists) == _units(report.written) == {"100kmE40N24/2023-2024"}

    from flows.ask.queries import (
        snow_season_figures,  # the season query on the product the flow wrote
    )

    figures = snow_season_figures(_truth_geobox(simulated).extent, year=2023).set_index("band")
    valid = scd[scd < 65535]
    assert figures.loc["scd", "mean"] == pytest.approx(valid.mean())
    assert figures.loc["scd", "valid_km2"] == pytest.approx(valid.size * 20 * 20 / 1e6)
    assert figures.loc["scd", "area_km2"] == pytest.approx(scd.size * 20 * 20 / 1e6)
    assert snow_season_figures(_truth_geobox(simulated).extent, year=2019).empty


def _truth_geobox(sim):
    from odc.geo.geobox import GeoBox

    with rasterio.open(sim.out_dir / "truth" / "dem.tif") as src:
        return GeoBox(src.shape, src.transform, "EPSG:3035")


def _flat_dem(path: Path, *, west: float, south: float, east: float, north: float, elevation: float) -> Path:
    """A constant-elevation stand-in DEM (EPSG:4326) for real scenes that come without one."""
    step = 0.01
    width, height = int((east - west) / step) + 1, int((north - south) / step) + 1
    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_origin(west, north, step, step), nodata=-32767) as dst:
        dst.write(np.full((height, width), elevation, dtype="float32"), 1)
    return path


def test_bad_inputs_give_a_reason_and_no_product(dc, prefect_harness, tmp_path):
    far = dict(x0=300_000, y0=4_900_020)  # ~0.5 E: no DEM indexed there
    cloudy = write_tiny_s2_item(tmp_path / "cloudy", item_id="S2B_31TGL_20240310_0_L2A", **far,
                                datetime="2024-03-10T10:30:00Z")
    with rasterio.open(tmp_path / "cloudy" / "scl.tif", "r+") as dst:
        dst.write(np.full(dst.shape, 9, dtype="uint8"), 1)
    no_dem = write_tiny_s2_item(tmp_path / "nodem", item_id="S2B_31TGL_20240311_0_L2A", **far,
                                datetime="2024-03-11T10:30:00Z")
    assert len(index_scenes(static=[str(cloudy), str(no_dem)]).written) == 2
    _flat_dem(tmp_path / "dem_cloudy.tif", west=0.0, south=44.0, east=1.0, north=44.5, elevation=500)
    # a DEM that covers the cloudy day's scene but not the other one is not possible here: both lie in one
    # place, so the no-DEM case is checked before the DEM is indexed, the cloudy one after.
    before = len(dc.find_datasets(product="snow_cover"))
    report = snow_cover(start="2024-03-11", end="2024-03-11")
    assert "no DEM" in report.skipped[0].reason
    index_scenes(dem=[str(tmp_path / "dem_cloudy.tif")])
    report = snow_cover(start="2024-03-10", end="2024-03-10")
    assert "no clear pixel" in report.skipped[0].reason
    (tmp_path / "nodem" / "red.tif").unlink()
    report = snow_cover(start="2024-03-11", end="2024-03-11")
    (said,) = report.failed  # a band file gone since indexing: the unit fails at once, naming the dataset and file
    assert said.reason.startswith("100kmE")
    assert "cannot read s2_l2a dataset S2B_31TGL_20240311_0_L2A file" in said.reason
    assert str(tmp_path / "nodem" / "red.tif") in said.reason and not report.skipped, report.summary()
    assert len(dc.find_datasets(product="snow_cover")) == before
    assert not list(tmp_path.rglob("*.partial-*"))


# The real samples are decimated to 100-600 m pixels: products are made at 240 m (rf = 1) to stay fast.
def test_real_sentinel2_desert_scene_is_snow_free(dc, prefect_harness, real_data, tmp_path):
    item = s2_item(real_data, tmp_path)
    index_scenes(static=[str(item)], grid_from="file")
    index_scenes(dem=[str(_flat_dem(tmp_path / "sahara_flat_dem.tif", west=-12.2, south=24.1, east=-10.7,
                                    north=25.5, elevation=250))])
    report = snow_cover(start="2020-02-19", end="2020-02-19", products=["s2_l2a"], resolution=240)
    assert report.written and not report.failed, report.summary()
    codes = _codes(dc, "2020-02-19", "s2")
    valid = codes[codes != 255]
    assert (valid == 100).mean() < 0.001 and (valid == 0).mean() > 0.9, "bare ground, no snow in the Western Sahara"
    cells = [d.metadata_doc["properties"] for d in dc.find_datasets(product="snow_cover", time=("2020-02-19", "2020-02-19"))]
    assert len(cells) == len(report.written) > 1, "the tile spans several 100 km cells of the EEA grid"
    assert max(p["snowland:snow_percent"] for p in cells) < 0.1
    assert not any(p["snowland:tcd_used"] for p in cells), "no tree cover density indexed over the Sahara"
    desert = dc.find_datasets(product="snow_cover", time=("2020-02-19", "2020-02-19"))[0]
    assert (_band(desert, "fsc_og") == 255).all() and "tcd" not in sources_of(str(desert.id), dc=dc)
    assert 0 < max(p["snowland:cloud_percent"] for p in cells) < 20, "a few clouds (SCL 8-10: 4 % of the tile)"
    for p in cells:  # the item's sun reached the product; without snow there is no snow line, so no shaded snow
        assert (p["view:sun_azimuth"], p["view:sun_elevation"]) == pytest.approx((147.671, 48.293), abs=1e-3)
        assert p["snowland:shaded_snow"] is False and "pass 2 did not run" in p["snowland:shaded_snow_reason"]


def test_real_sentinel2_item_with_bands_removed_indexes_and_runs_snow(dc, prefect_harness, real_data, tmp_path):
    """The real item as a user mirrors it: only the bands snow needs, on a day of its own (a copy: another id)."""
    item = localised_item(real_data, S2_DIR, "S2A_29RKH_20200219_0_L2A.json", tmp_path,
                          id="S2A_29RKH_20200220_0_L2A_snow_bands")
    doc = json.loads(item.read_text())
    doc["properties"]["datetime"] = "2020-02-20T11:20:00Z"
    doc["assets"] = {k: a for k, a in doc["assets"].items() if k in ("blue", "green", "red", "nir", "swir16", "scl")}
    item.write_text(json.dumps(doc))
    indexed = index_scenes(static=[str(item)], grid_from="file")
    assert len(indexed.written) == 1, indexed.summary()
    stored = dc.index.datasets.get(indexed.ids[0])
    assert set(stored.measurements) == {"blue", "green", "red", "nir", "swir16", "scl"}
    assert "swir22" in stored.metadata_doc["properties"]["snowland:absent_measurements"]
    index_scenes(dem=[str(_flat_dem(tmp_path / "sahara_flat_dem.tif", west=-12.2, south=24.1, east=-10.7,
                                    north=25.5, elevation=250))])
    report = snow_cover(start="2020-02-20", end="2020-02-20", products=["s2_l2a"], resolution=240)
    try:
        assert report.written and not report.failed and not report.skipped, report.summary()
        valid = _codes(dc, "2020-02-20", "s2")
        valid = valid[valid != 255]
        assert (valid == 0).mean() > 0.9, "the same desert as the whole item: bare ground"
    finally:
        purge(dc, [*report.ids, *indexed.ids])


def test_real_landsat_cloudy_scene_is_cloud(dc, prefect_harness, real_data, tmp_path):
    item = landsat_item(real_data, tmp_path)
    index_scenes(static=[str(item)], grid_from="file")
    index_scenes(dem=[str(_flat_dem(tmp_path / "amazon_flat_dem.tif", west=-66.3, south=-4.0, east=-64.1,
                                    north=-1.8, elevation=60))])
    report = snow_cover(start="2020-10-31", end="2020-10-31", products=["landsat_c2l2"], resolution=240)
    assert not report.failed, report.summary()
    if report.skipped:
        assert "no clear pixel" in report.skipped[0].reason
        return
    valid = _codes(dc, "2020-10-31", "l8")
    valid = valid[valid != 255]
    assert (valid == 205).mean() > 0.95, "99.9 % cloud"


def _codes(dc, day: str, sensor: str) -> np.ndarray:
    found = [d for d in dc.find_datasets(product="snow_cover", time=(day, day))
             if d.metadata_doc["properties"]["snowland:sensor"] == sensor]
    assert found
    data = load("snow_cover", geometry=found[0].extent, measurements=["snow"], resolution=200, dc=dc)
    return data.snow.isel(time=0).values


def test_snow_job_keys_name_cell_day_and_sensor():
    assert SnowJob(cell="100kmE40N24", day="2024-01-15", product="s2_l2a").key == "100kmE40N24/2024-01-15/s2"
    assert SnowJob(cell="100kmE40N24", day="2024-01-15", product="landsat_c2l2").key == "100kmE40N24/2024-01-15/l8"


def test_snow_jobs_carry_the_area_of_the_cell_their_scenes_cover(dc, simulated):
    from flows.pipelines.snow_cover import find_snow_jobs

    truth = json.loads(Path(simulated.truth).read_text())
    x0, y0, x1, y1 = truth["world"]["bounds"]
    world_km2 = (x1 - x0) * (y1 - y0) / 1e6
    simulated_days = {d["date"] for d in truth["dates"]}  # other tests index small scenes of their own here
    period = (min(simulated_days), max(simulated_days))
    jobs = [j for j in find_snow_jobs(time=period, cells=["100kmE40N24"], dc=dc) if j.day in simulated_days]
    assert len(jobs) >= len(simulated_days)
    for job in jobs:  # two UTM tiles of one day overlap: their union is counted once
        assert 0.9 * world_km2 <= job.area_km2 <= 1.1 * world_km2, (job, world_km2)


def test_one_km_cells_split_the_world_into_small_units_each_written_in_its_cell(dc, simulated):
    from conftest import SIM_PERIOD
    from odc.geo import geom

    from flows.pipelines.snow_cover import find_snow_jobs
    from flows.storage.grid import EEA_CRS, Cell

    truth = json.loads(Path(simulated.truth).read_text())
    x0, y0, x1, y1 = truth["world"]["bounds"]
    world = geom.box(x0, y0, x1, y1, crs=EEA_CRS)
    clearest = min(dc.find_datasets(product="s2_l2a", time=SIM_PERIOD, geopolygon=world),
                   key=lambda d: d.metadata_doc["properties"]["eo:cloud_cover"])
    day = str(clearest.center_time)[:10]
    jobs = find_snow_jobs(time=(day, day), cell_size_m=1000, dc=dc)
    assert len({j.cell for j in jobs}) >= (x1 - x0) * (y1 - y0) / 1e6  # every km² of the world, edges partly
    inner = sorted({j.cell for j in jobs if j.area_km2 == 1.0})
    cells = inner[len(inner) // 2 - 2:len(inner) // 2 + 2]  # mid-world: a cloud edge seldom takes all four
    before = set(_snow_products(dc))
    report = snow_cover(start=day, end=day, cells=cells, cell_km=1)
    made = [dc.index.datasets.get(id_) for id_ in _snow_products(dc) if id_ not in before]
    try:
        assert _units(report.outcomes) == {j.key for j in jobs if j.cell in cells}, report.summary()
        assert made and len(made) == len(report.written), report.summary()
        for ds in made:
            cell = ds.metadata_doc["properties"]["odc:region_code"]
            assert cell in cells
            assert ds.extent.to_crs("EPSG:3035").buffer(-1).within(Cell.parse(cell).geometry)
    finally:
        purge(dc, [str(ds.id) for ds in made])


def test_an_index_made_before_fsc_og_and_qc_flags_gains_the_bands_in_place(dc):
    import yaml

    from flows.storage.index import add_product
    from products import PRODUCTS_DIR
    from products.errors import BadInputError

    definition = yaml.safe_load((PRODUCTS_DIR / "snow" / "snow_cover.odc-product.yaml").read_text())
    definition["name"] = definition["metadata"]["product"]["name"] = "snow_cover_before_fsc_og"
    names = [m["name"] for m in definition["measurements"]]
    assert names[-2:] == ["fsc_og", "qc_flags"], "bands added later go at the end of the list"
    before = {**definition, "measurements": definition["measurements"][:-2]}
    add_product(dc.index, before)
    add_product(dc.index, definition)
    assert {"fsc_og", "qc_flags"} <= set(dc.index.products.get_by_name("snow_cover_before_fsc_og").measurements)
    with pytest.raises(BadInputError, match="snow_cover_before_fsc_og: the definition changes what indexed"):
        add_product(dc.index, before)  # removing a band is refused: datasets may have it


def test_cog_writer_streams_blocks_and_counts_values_identically_on_threads_distributed_and_from_memory(tmp_path):
    import xarray as xr
    from distributed import Client, LocalCluster
    from odc.geo.geobox import GeoBox

    from flows.storage.writer import _write_cogs

    gbox = GeoBox.from_bbox((4_000_000, 2_400_000, 4_026_000, 2_422_000), "EPSG:3035", resolution=20)
    rng = np.random.default_rng(3)
    codes = rng.choice(np.array([0, 100, 205, 255], dtype="uint8"), size=gbox.shape)
    ndsi = rng.integers(-1000, 1000, size=gbox.shape, dtype="int16")
    bands = xr.Dataset({"snow": (("y", "x"), codes), "ndsi": (("y", "x"), ndsi)}).chunk({"y": 500, "x": 700})
    bands.snow.attrs["nodata"] = 255
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster):
        on_cluster = _write_cogs(bands, gbox, {n: tmp_path / f"cluster_{n}.tif" for n in bands.data_vars})
    on_threads = _write_cogs(bands, gbox, {n: tmp_path / f"threads_{n}.tif" for n in bands.data_vars})
    from_memory = _write_cogs(bands.compute(), gbox, {n: tmp_path / f"memory_{n}.tif" for n in bands.data_vars})
    for paths, counts in (on_cluster, on_threads, from_memory):
        assert set(counts) == {"snow"} and (counts["snow"] == np.bincount(codes.ravel(), minlength=256)).all()
        for name, expected in (("snow", codes), ("ndsi", ndsi)):
            with rasterio.open(paths[name]) as src, rasterio.open(on_threads[0][name]) as streamed:
                assert src.profile.get("tiled") and src.overviews(1) and src.nodata == (255 if name == "snow" else None)
                assert (src.read(1) == expected).all()
                assert src.overviews(1) == streamed.overviews(1) and all(
                    (src.read(1, out_shape=shape) == streamed.read(1, out_shape=shape)).all()
                    for shape in ((src.height // f, src.width // f) for f in src.overviews(1)))
    assert not list(tmp_path.glob(".*"))  # no staging file left


def test_the_default_season_is_the_latest_hydrological_year_that_has_ended():
    import datetime as dt

    from flows.pipelines.snow_season import last_hydrological_year

    assert last_hydrological_year(dt.date(2027, 9, 1)) == 2026  # the schedule's day: 2026-2027 just ended
    assert last_hydrological_year(dt.date(2027, 8, 31)) == 2025  # 2026-2027 still runs


def test_snow_area_query_on_the_flow_products_adds_up_and_agrees_with_their_percentages(dc, simulated, snow_run):
    """The ad-hoc query (flows.ask.queries.snow_area) on the products the demo's snow flow writes: its areas add up,
    and its snow and cloud shares equal those the writer counted (a separate path) for every dataset."""
    from flows.ask.queries import snow_area
    from flows.storage.grid import Cell

    cell = Cell.parse("100kmE40N24")
    table = snow_area(cell.geometry, time=("2023-12-01", "2024-03-31"))
    datasets = dc.find_datasets(product="snow_cover", time=("2023-12-01", "2024-03-31"), geopolygon=cell.geometry)
    assert len(table) == len(datasets) == len(snow_run.written)
    props = {str(d.id): d.metadata_doc["properties"] for d in datasets}
    for row in table.itertuples():
        p = props[row.datasets]
        assert row.area_km2 == pytest.approx(100 * 100)
        assert row.snow_km2 + row.no_snow_km2 + row.cloud_km2 + row.no_data_km2 == pytest.approx(row.area_km2)
        valid = row.snow_km2 + row.no_snow_km2 + row.cloud_km2
        assert 100 * row.snow_km2 / valid == pytest.approx(p["snowland:snow_percent"], abs=1e-3)
        assert 100 * row.cloud_km2 / valid == pytest.approx(p["snowland:cloud_percent"], abs=1e-3)
        assert row.sensor == p["snowland:sensor"]
    assert snow_area(cell.geometry, time=("2019-01-01", "2019-03-31")).empty, "no product then: an empty table"
