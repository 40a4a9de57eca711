"""The snow-daily flow on the simulated winter: a map every day, incremental equal to the window, lineage, re-runs,
a window without scenes, and snow_cover on another grid refused by id."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import rasterio
import xarray as xr
from helpers import purge

from flows.ask.queries import snow_area
from flows.cli import main
from flows.pipelines.snow_cover import snow_cover
from flows.pipelines.snow_daily import CellDays, compute_day, grid_refusal, read_day, snow_daily
from flows.pipelines.validate_snow import format_daily, simulated_world, validate_daily
from flows.storage import properties as prop
from flows.storage.eo3 import dataset_id
from flows.storage.grid import Cell
from flows.storage.index import sources_of
from products.snow.codes import NO_OBSERVATION, NODATA
from products.snow.daily import NONE, sensor_code

CELL = "100kmE40N24"
SCENES = ("2024-01-12", "2024-01-15")  # Landsat-8, then Sentinel-2B, in the simulated calendar
DAYS = ("2024-01-11", "2024-01-17")  # the first day's window holds no scene


def _ids(dc, product: str) -> set[str]:
    return {str(d.id) for d in dc.find_datasets(product=product)}


@pytest.fixture(scope="module")
def daily_run(dc, simulated):
    """snow_cover of two scene days, then the daily maps of a week around them; all go when the module ends."""
    before = _ids(dc, "snow_cover") | _ids(dc, "snow_daily")
    covers = snow_cover(start=SCENES[0], end=SCENES[1], cells=[CELL])
    assert len(covers.written) + len(covers.exists) == 2, covers.summary()
    yield snow_daily(start=DAYS[0], end=DAYS[1], cells=[CELL])
    purge(dc, sorted(_ids(dc, "snow_cover") - before) + sorted(_ids(dc, "snow_daily") - before))


def _day(dc, day: str):
    return dc.index.datasets.get(dataset_id("snow_daily", f"{CELL}/{day}"))


def _bands(ds) -> dict[str, np.ndarray]:
    folder = Path(ds.uri.removeprefix("file://")).parent
    out = {}
    for name, meas in ds.measurements.items():
        with rasterio.open(folder / meas["path"]) as src:
            out[name] = src.read(1)
    return out


def test_a_map_is_written_every_day_with_or_without_a_scene(dc, daily_run):
    assert not daily_run.failed and len(daily_run.written) == 7, daily_run.summary()
    first = _day(dc, DAYS[0]).metadata_doc["properties"]
    assert "no snow_cover" in first[prop.NO_SCENE_REASON] and first[prop.OBSERVED_PERCENT] == 0
    assert f"1 day(s) mapped as 'no observation': {CELL}/{DAYS[0]}" in daily_run.summary()  # said once, at the end
    bands = _bands(_day(dc, DAYS[0]))
    assert set(np.unique(bands["snow"])) <= {NO_OBSERVATION, NODATA} and (bands["age"] == NONE).all()
    for day in ("2024-01-13", "2024-01-16", "2024-01-17"):  # days without a scene keep the last observations
        props = _day(dc, day).metadata_doc["properties"]
        assert props[prop.OBSERVED_PERCENT] > 50 and props[prop.WINDOW_DAYS] == 7 and props[prop.SIMULATED]
        assert prop.NO_SCENE_REASON not in props


def test_ages_and_sensors_follow_the_scenes_and_age_zero_is_that_days_snow_cover(dc, daily_run):
    last = _bands(_day(dc, "2024-01-17"))
    observed = last["age"] != NONE
    assert set(np.unique(last["age"][observed])) <= {2, 5}
    assert set(np.unique(last["sensor"][last["age"] == 2])) == {sensor_code("sentinel-2b")}
    assert set(np.unique(last["sensor"][last["age"] == 5])) == {sensor_code("landsat-8")}
    same_day = _bands(_day(dc, "2024-01-15"))
    cover = next(d for d in dc.find_datasets(product="snow_cover", time=("2024-01-15", "2024-01-16"))
                 if d.metadata_doc["properties"][prop.SENSOR] == "s2")
    fresh = same_day["age"] == 0
    assert fresh.sum() > 1000
    days = CellDays(CELL, start=dt.date(2024, 1, 15), end=dt.date(2024, 1, 15), window_days=7, resolution=20.0,
                    dc=dc)
    scene = days.scenes(dt.date(2024, 1, 15))[0]
    assert np.array_equal(scene.snow.values[fresh], same_day["snow"][fresh])
    assert np.array_equal(scene.fsc.values[fresh], same_day["fsc"][fresh])
    assert str(cover.id) in {str(d.id) for d in sources_of(str(_day(dc, "2024-01-15").id), dc=dc)["snow_cover"]}


def test_lineage_lists_the_scene_products_that_gave_pixels(dc, daily_run):
    covers = {d.metadata_doc["properties"][prop.SENSOR]: str(d.id)
              for d in dc.find_datasets(product="snow_cover", time=("2024-01-12", "2024-01-16"))}
    for day, expected in (("2024-01-13", {"l8"}), ("2024-01-17", {"l8", "s2"})):
        sources = {str(d.id) for d in sources_of(str(_day(dc, day).id), dc=dc)["snow_cover"]}
        assert sources == {covers[s] for s in expected}, day
    assert not sources_of(str(_day(dc, DAYS[0]).id), dc=dc).get("snow_cover")


def test_the_incremental_map_equals_the_window_rebuild_and_a_missing_day_is_rebuilt(dc, daily_run):
    day = dt.date(2024, 1, 17)
    days = CellDays(CELL, start=day, end=day, window_days=7, resolution=20.0, dc=dc)
    written = read_day(days, _day(dc, "2024-01-17"))
    xr.testing.assert_equal(compute_day(days, day, previous=None), written)
    missing = _day(dc, "2024-01-16")
    purge(dc, [str(missing.id)])
    rerun = snow_daily(start="2024-01-17", end="2024-01-17", cells=[CELL], overwrite=True)
    assert [o.unit for o in rerun.replaced] == [f"{CELL}/2024-01-17"], rerun.summary()
    xr.testing.assert_equal(read_day(days, _day(dc, "2024-01-17")), written)
    again = snow_daily(start="2024-01-16", end="2024-01-16", cells=[CELL])
    assert [o.id for o in again.written] == [str(missing.id)], "the same deterministic id"


def test_rerunning_adds_nothing(dc, daily_run):
    count = len(dc.find_datasets(product="snow_daily"))
    again = snow_daily(start=DAYS[0], end=DAYS[1], cells=[CELL])
    assert not again.written and len(again.exists) == 7
    assert len(dc.find_datasets(product="snow_daily")) == count


def test_snow_cover_on_another_grid_is_refused_by_its_id(dc, daily_run):
    days = CellDays(CELL, start=dt.date(2024, 1, 15), end=dt.date(2024, 1, 15), window_days=7, resolution=40.0,
                    dc=dc)
    assert len(days.refused) == 2 and not days.by_day
    for id_, reason in days.refused.items():
        assert id_ in reason and "not the cell's EEA grid at 40 m" in reason
    shifted = SimpleNamespace(id="abc", metadata_doc={"crs": "EPSG:3035", "grids": {"default": {
        "transform": [20.0, 0.0, 4_000_010.0, 0.0, -20.0, 2_500_000.0, 0, 0, 1]}}})
    assert "snow_cover abc" in grid_refusal(shifted, resolution=20.0)
    utm = SimpleNamespace(id="def", metadata_doc={"crs": "EPSG:32632", "grids": {"default": {
        "transform": [20.0, 0.0, 400_000.0, 0.0, -20.0, 5_000_000.0, 0, 0, 1]}}})
    assert "EPSG:32632" in grid_refusal(utm, resolution=20.0)


def test_the_command_and_the_snow_area_query_give_one_row_per_day(dc, daily_run, capsys):
    assert main(["snow-daily", "--start", DAYS[0], "--end", DAYS[1], "--cell", CELL]) == 0
    assert "7 already there" in capsys.readouterr().out
    table = snow_area(Cell.parse(CELL).geometry, time=DAYS, product="snow_daily", dc=dc)
    assert [str(d.date()) for d in table.date] == [f"2024-01-{d}" for d in range(11, 18)]
    parts = table[["snow_km2", "no_snow_km2", "no_observation_km2", "no_data_km2"]].sum(axis=1)
    assert np.allclose(parts, table.area_km2) and table.area_km2.iloc[0] == 10_000
    assert table.snow_km2.iloc[0] == 0 and table.no_observation_km2.iloc[0] > 100
    assert (table.snow_km2.iloc[1:] > 0).all() and (table.sensor == "all").all()
    assert main(["query", "snow-area", "--bbox", "6.0", "44.98", "6.02", "45.0", "--time", *DAYS,
                 "--product", "snow_daily"]) == 0


def test_validation_scores_the_daily_map_by_observation_age_against_the_ground_under_clouds(dc, simulated, daily_run,
                                                                                            capsys):
    world = simulated_world(simulated.out_dir)
    day = dt.date(2024, 1, 15)
    assert np.array_equal(world.ground_snow(day), world.state(day).snow), "the scenes' truth where the sky is clear"
    result = validate_daily(simulated.out_dir, dc=dc)
    assert result.days == 7
    fresh, recent, older = (result.by_age[k] for k in ("0", "1-3", "4-7"))
    assert fresh.n > 10_000 and recent.n > 10_000 and older.n > 1_000
    assert fresh.accuracy >= 0.97, "as good as the scene products"
    assert fresh.accuracy > recent.accuracy > older.accuracy > 0.8, "the snow line moves while observations age"
    assert 0 < result.no_observation_share < 1 and 0 < result.scene_cloud_share < 1
    table = format_daily(result)
    assert "1-3" in table and "without observation in the window" in table
    assert main(["validate-snow", str(simulated.out_dir)]) == 0
    assert "daily map (snow_daily), 7 day(s)" in capsys.readouterr().out


def test_a_scene_indexed_late_makes_the_next_day_rebuild_from_its_window(dc, daily_run):
    """Run last: it takes the Sentinel-2 product of 15 January away and back."""
    late = next(d for d in dc.find_datasets(product="snow_cover", time=("2024-01-15", "2024-01-16")))
    purge(dc, [str(late.id)])
    stale = snow_daily(start="2024-01-15", end="2024-01-16", cells=[CELL], overwrite=True)
    assert len(stale.replaced) == 2 and _day(dc, "2024-01-16").metadata_doc["properties"][prop.INPUTS] == 1
    assert snow_cover(start="2024-01-15", end="2024-01-15", cells=[CELL]).written
    snow_daily(start="2024-01-17", end="2024-01-17", cells=[CELL], overwrite=True)
    day = dt.date(2024, 1, 17)
    days = CellDays(CELL, start=day, end=day, window_days=7, resolution=20.0, dc=dc)
    rebuilt = read_day(days, _day(dc, "2024-01-17"))
    assert (rebuilt.age == 2).sum() > 1000, "the late scene's pixels are in"
    xr.testing.assert_equal(rebuilt, compute_day(days, day, previous=None))
    snow_daily(start="2024-01-15", end="2024-01-16", cells=[CELL], overwrite=True)


def test_per_massif_the_daily_snow_areas_add_up_to_the_whole_and_each_has_a_snow_line(dc, simulated, daily_run,
                                                                                        tmp_path):
    import json

    import geopandas as gpd
    from shapely.geometry import box

    from flows.ask.queries import snow_by_massif
    from flows.storage.grid import EEA_CRS

    x0, y0, x1, y1 = json.loads(Path(simulated.truth).read_text())["world"]["bounds"]
    mid = round((x0 + x1) / 2 / 20) * 20  # on the 20 m grid: each pixel in one half
    halves = gpd.GeoDataFrame({"massif": ["west", "east"]}, geometry=[box(x0, y0, mid, y1), box(mid, y0, x1, y1)],
                              crs=str(EEA_CRS))
    halves.to_file(tmp_path / "massifs.gpkg")
    png = tmp_path / "massifs.png"
    table = snow_by_massif(tmp_path / "massifs.gpkg", by="massif", time=DAYS, png=png, dc=dc)
    assert sorted(set(table.massif)) == ["east", "west"] and len(table) == 2 * 7
    whole = snow_area(_world(x0, y0, x1, y1), time=DAYS, product="snow_daily", dc=dc)
    summed = table.groupby("date").snow_km2.sum().to_numpy()
    assert np.allclose(summed, whole.snow_km2.to_numpy(), rtol=1e-6)
    lines = table.snowline_m.dropna()
    assert len(lines) > 0 and lines.between(0, 5000).all() and (lines % 100 == 0).all()
    assert png.stat().st_size > 10_000
    command = ["query", "snow-area", "--file", str(tmp_path / "massifs.gpkg"), "--by", "massif", "--time", *DAYS]
    assert main(command) == 2  # --by reads the daily map: said in one line
    assert main([*command, "--product", "snow_daily", "--csv", str(tmp_path / "massifs.csv")]) == 0
    assert len(pd.read_csv(tmp_path / "massifs.csv")) == len(table)


def _world(x0: float, y0: float, x1: float, y1: float):
    from odc.geo import geom

    from flows.storage.grid import EEA_CRS

    return geom.box(x0, y0, x1, y1, crs=EEA_CRS)
