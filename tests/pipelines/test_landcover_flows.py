"""Land-cover flows on a real PostGIS index and real Prefect flows: SIMULATED past years train, the current year is
mapped (yearly and at key dates) and scored against the simulation's truth; the real Theia Landsat-8 crops with
their OSO polygons run end to end."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from helpers import purge
from odc.geo import geom

from flows.pipelines.landcover import (
    land_cover,
    land_cover_key_date,
    score_map,
    train_land_cover,
)
from flows.pipelines.landcover.inputs import LandCoverInputError
from flows.pipelines.landcover.train import TrainingOptions, trained_model
from flows.storage import properties as prop
from flows.storage.grid import EEA_CRS
from flows.storage.index import sources_of
from flows.storage.load import load
from products.landcover.samples import NoPolygonError, TooFewSamplesError
from products.landcover.validity import NoValidDateError

ROOT = Path(__file__).resolve().parents[2]
PAST, CURRENT = [2022, 2023], 2024
# the mapping: found from the truth's `code`; 20 m (the demo maps at the default 10 m)
FAST = TrainingOptions(year_column="year", runs=1, max_samples_per_class=400, resolution_m=20)


@pytest.fixture(scope="module")
def lc_sim(database, prefect_harness, tmp_path_factory):
    """A small SIMULATED world, three calendar years of Sentinel-2 every 10 days, indexed through the flow."""
    from flows.pipelines.index import index_scenes
    from flows.simulator.scenes import simulate_landcover_years

    folder = tmp_path_factory.mktemp("lcsim")
    sim = simulate_landcover_years(folder, years=(*PAST, CURRENT))
    report = index_scenes(static=[str(sim.catalog)])
    assert not report.failed, report.summary()
    return sim


@pytest.fixture(scope="module")
def truth(lc_sim):
    return lc_sim.truth.parent / "landcover.gpkg"


@pytest.fixture(scope="module")
def area(lc_sim):
    x0, y0, x1, y1 = json.loads(Path(lc_sim.truth).read_text())["world"]["bounds"]
    return geom.box(x0, y0, x1, y1, crs=EEA_CRS)


def _train(truth, years, **kw):
    """The training flow's report (its one outcome: the model dataset); ``kw``: flow arguments and options."""
    flow_args = {k: kw.pop(k) for k in ("reference", "cells", "bbox", "key_date", "overwrite") if k in kw}
    return train_land_cover(**{"reference": str(truth), **flow_args}, years=years, options=replace(FAST, **kw))


def _model(truth, years, **kw) -> str:
    return _train(truth, years, **kw).ids[0]


def _model_cells(dc, model: str) -> list[str]:
    return dc.index.datasets.get(model).metadata_doc["properties"][prop.CELLS]


def _score(dc, ids, truth):
    """Pixel accuracy of a written map against the simulated parcels of its year (at its nomenclature level)."""
    score = score_map(ids[0], reference=str(truth), mapping="oso23_codes", year_column="year", dc=dc)
    acc = score.accuracy
    unmapped = acc.confusion[:, acc.classes.index(0)].sum() / acc.n if 0 in acc.classes else 0.0
    assert unmapped < 0.01, f"{unmapped:.1%} of the simulated pixels are not mapped"
    return score.accuracy.overall_accuracy, score


def test_yearly_map_of_the_current_year_from_past_years_matches_the_truth(dc, lc_sim, truth, area, tmp_path):
    training = _train(truth, PAST, runs=2)
    print(f"\n{training.summary()}")
    assert len(training.written + training.exists) == 1 and not training.failed
    trained = trained_model(training.ids[0], dc=dc)
    assert Path(trained.report_html).exists() and trained.report_html in training.details["validation"]
    assert json.loads(Path(trained.report_json).read_text())["overall_accuracy"]["runs"] == 2
    report = land_cover(year=CURRENT, model=trained.model, min_mapping_unit_m2=1200)
    oa, _ = _score(dc, report.ids, truth)
    day = str(dc.index.datasets.get(report.ids[0]).center_time)[:10]
    data = load("land_cover", geometry=area, measurements=["classification", "confidence", "n_clear"],
                time=(day, day), scale=False, dc=dc).isel(time=0)
    print(f"SIMULATED yearly land cover {CURRENT} (model of {PAST}) vs truth: OA {oa:.3f}")
    assert oa >= 0.90
    assert data.n_clear.max() > 20 and ((data.confidence <= 100) | (data.classification == 0)).all()

    doc = dc.index.datasets.get(report.ids[0]).metadata_doc["properties"]
    assert doc["snowland:nomenclature"] == "oso23" and doc["snowland:year"] == CURRENT
    assert doc["snowland:model_id"] == trained.model and doc["snowland:simulated"]
    sources = sources_of(report.ids[0], dc=dc)
    assert [d.id for d in sources["land_cover_model"]] == [__import__("uuid").UUID(trained.model)]
    assert all(str(d.center_time)[:4] in ("2023", "2024") for d in sources["s2_l2a"])
    model_sources = sources_of(trained.model, dc=dc)["s2_l2a"]
    assert {str(d.center_time)[:4] for d in model_sources} >= {"2022", "2023"}

    before = {p: len(dc.find_datasets(product=p)) for p in ("land_cover", "land_cover_model")}
    again = land_cover(year=CURRENT, model=_model(truth, PAST, runs=2))
    assert again.exists and not again.written
    assert {p: len(dc.find_datasets(product=p)) for p in before} == before
    replaced = land_cover(year=CURRENT, model=trained.model, overwrite=True)
    assert replaced.replaced and replaced.ids == report.ids
    assert {p: len(dc.find_datasets(product=p)) for p in before} == before
    far = "100kmE30N20"  # no acquisition there: that cell is skipped with its reason, the others go on
    cells = _model_cells(dc, trained.model)
    beside = land_cover(year=CURRENT, model=trained.model, cells=[*cells, far])
    assert beside.ids == report.ids and [o.unit for o in beside.skipped] == [f"{far}/{CURRENT}/oso23"]
    assert "no s2_l2a acquisition" in beside.skipped[0].reason and not beside.failed
    _class_area_queries_add_up_on_the_map(data.classification.values, area, truth, tmp_path)


def _class_area_queries_add_up_on_the_map(classes, area, truth, tmp_path):
    """flows.ask.queries.land_cover_areas on the map the flow wrote: over the world, each class's km² is its pixel count
    (counted here on the loaded map); per parcel of the current year, the classes add up to the parcel."""
    import geopandas as gpd
    import numpy as np

    from flows.ask.queries import land_cover_areas

    table = land_cover_areas(area, year=CURRENT)
    codes, counts = np.unique(classes, return_counts=True)
    assert {int(r.code): r.km2 for r in table.itertuples()} == pytest.approx(
        {int(c): n * 20 * 20 / 1e6 for c, n in zip(codes, counts)})
    assert table.percent.sum() == pytest.approx(100)
    parcels = gpd.read_file(truth)
    parcels = parcels[parcels.year == CURRENT].head(40)
    parcels.to_file(tmp_path / "parcels.gpkg")
    per_parcel = land_cover_areas(str(tmp_path / "parcels.gpkg"), year=CURRENT, by="parcel_id")
    assert per_parcel.polygon.nunique() == len(parcels)
    assert np.allclose(per_parcel.groupby("polygon").percent.sum(), 100)
    assert per_parcel[per_parcel["class"] == "no data"].km2.sum() < 0.01 * per_parcel.km2.sum()


def test_key_date_maps_use_past_years_only_and_gain_accuracy_through_the_year(dc, lc_sim, truth, area):
    scores = {}
    for key_date in ("march", "july", "december"):
        report = land_cover_key_date(year=CURRENT, key_date=key_date, reference=str(truth), train_years=PAST,
                                     options=FAST)
        props = dc.index.datasets.get(report.ids[0]).metadata_doc["properties"]
        assert props["snowland:key_date"] == key_date and props["snowland:year"] == CURRENT
        assert props["dtr:end_datetime"].startswith(f"{CURRENT}-{ {'march': '03-31', 'july': '07-31', 'december': '12-31'}[key_date]}")
        used = sources_of(report.ids[0], dc=dc)["s2_l2a"]
        assert max(str(d.center_time)[:10] for d in used) <= props["dtr:end_datetime"][:10], "no image after the key date"
        scores[key_date], score = _score(dc, report.ids, truth)
        assert score.nomenclature == props["snowland:level"] == {"march": "nrt_march", "july": "nrt_july"}.get(key_date, "oso23")
        members = props[prop.CLASS_MEMBERS]  # the OSO 23 classes each code groups, for any reader of the map
        assert props[prop.BASE_NOMENCLATURE] == "oso23" and members["16"] == [16]
        assert members.get({"march": "112", "july": "10", "december": "10"}[key_date]) == {
            "march": [8, 9, 10, 11, 12], "july": [10], "december": [10]}[key_date]
        assert report.details["model"] == props[prop.MODEL_ID] and "OA" in report.details["validation"]
        season = dc.index.datasets.get(props[prop.MODEL_ID]).metadata_doc["properties"][prop.PARAMETERS]["season"]
        if key_date == "march":  # from the autumn before, which the world has: it sees winter crops sown
            assert season == {"season_start": "10-01", "season_starts_previous_year": True}
            assert min(str(d.center_time)[:10] for d in used) < f"{CURRENT}-01-01"
        else:
            assert season == {"season_start": "01-01", "season_starts_previous_year": False}
    print("\nSIMULATED near-real-time accuracy vs truth at each key date's level: "
          + ", ".join(f"{k} {v:.3f}" for k, v in scores.items()))
    assert scores["march"] < scores["july"] < scores["december"]
    december = props[prop.MODEL_ID]  # the December key date is the yearly training: one model, trained once
    assert dc.index.datasets.get(december).metadata_doc["properties"][prop.KEY_DATE] == "yearly"
    assert _train(truth, PAST, key_date="december").exists and _model(truth, PAST) == december
    again = land_cover_key_date(year=CURRENT, key_date="december", model=december)
    assert again.exists and again.details["model"] == december


RPG_CODES = {5: "CZH", 6: "BTH", 9: "TRN", 10: "MIS", 13: "PPH", 14: "VRG", 15: "VRC", 18: "SPH", 19: "SPL"}


def test_score_land_cover_translates_any_reference_to_the_map_and_refuses_a_class_its_mapping_does_not_know(
        dc, lc_sim, truth, tmp_path):
    """A yearly OSO 23 map against RPG crop codes in Lambert-93 (one parcel declared rice, a class the map never
    predicts); a July map against an OSO 23 raster; an RPG code no mapping knows stops it with nothing written."""
    import geopandas as gpd
    import numpy as np
    import rasterio

    from flows.pipelines.landcover.score import score_land_cover
    from flows.storage.reference import rasterise_polygons
    from products.landcover.nomenclature import UnmappedCodeError

    parcels = gpd.read_file(truth)
    parcels = parcels[(parcels.year == CURRENT) & parcels.code.isin(list(RPG_CODES))].reset_index(drop=True)
    rpg = gpd.GeoDataFrame({"CODE_CULTU": parcels.code.map(RPG_CODES)}, geometry=parcels.geometry).to_crs("EPSG:2154")
    rpg.loc[rpg.index[rpg.CODE_CULTU == "MIS"][0], "CODE_CULTU"] = "RIZ"
    rpg.to_file(tmp_path / "rpg.gpkg")
    yearly = land_cover(year=CURRENT, model=_model(truth, PAST, runs=2)).ids[0]
    report = score_land_cover(yearly, reference=str(tmp_path / "rpg.gpkg"), out=tmp_path / "rpg")
    print(f"\n{report.summary()}")
    acc, crops = report.score.accuracy, report.score.crops
    rice = acc.classes.index(11)
    assert acc.confusion[rice].sum() > 0 and acc.confusion[:, rice].sum() == 0 and acc.f1[11] == 0
    assert acc.overall_accuracy > 0.8 and crops.n < acc.n and set(crops.classes) >= {6, 10, 11}
    saved = json.loads(report.crops_json.read_text())
    assert saved["kappa"]["mean"] == pytest.approx(crops.kappa) and report.html.exists() and report.crops_html.exists()

    july = land_cover_key_date(year=CURRENT, key_date="july", reference=str(truth), train_years=PAST, options=FAST)
    record = dc.index.datasets.get(july.ids[0])
    gbox = load("land_cover_nrt", geometry=record.extent, measurements=["classification"], group_by="time",
                scale=False, dc=dc, where={"id": july.ids[0]}).odc.geobox
    truth_now = gpd.read_file(truth).query(f"year == {CURRENT}").assign(class_code=lambda f: f.code)
    raster = rasterise_polygons(truth_now, shape=tuple(gbox.shape), transform=gbox.affine, value_column="class_code")
    with rasterio.open(tmp_path / "oso.tif", "w", driver="GTiff", width=gbox.shape[1], height=gbox.shape[0], count=1,
                       dtype="uint8", crs="EPSG:3035", transform=gbox.affine, nodata=0) as dst:
        dst.write(raster.astype(np.uint8), 1)
    on_raster = score_land_cover(july.ids[0], reference=str(tmp_path / "oso.tif"), out=tmp_path / "july").score
    _, on_polygons = _score(dc, july.ids, truth)
    assert "oso23_codes" in on_raster.reference and 10 in on_raster.accuracy.classes  # maize, apart in July
    assert on_raster.accuracy.overall_accuracy == pytest.approx(on_polygons.accuracy.overall_accuracy, abs=0.005)

    rpg.loc[rpg.index[0], "CODE_CULTU"] = "XYZ"
    rpg.to_file(tmp_path / "unknown.gpkg")
    with pytest.raises(UnmappedCodeError, match="XYZ"):
        score_land_cover(yearly, reference=str(tmp_path / "unknown.gpkg"), out=tmp_path / "unknown")
    assert not (tmp_path / "unknown").exists()


def test_training_errors_say_what_is_wrong(dc, lc_sim, truth):
    with pytest.raises(NoPolygonError, match="intersects the area"):
        _train(truth, PAST, cells=["100kmE30N20"])
    with pytest.raises(TooFewSamplesError, match="reference polygon"):
        _train(truth, [CURRENT])  # some classes have a single parcel in one year
    with pytest.raises(NoValidDateError, match="no s2_l2a acquisition"):
        _train(truth, [2019], year_column=None, drop_rare=True)
    with pytest.raises(LandCoverInputError, match="must all precede"):
        land_cover_key_date(year=CURRENT, key_date="march", reference=str(truth), train_years=[2023, 2024])
    assert not dc.find_datasets(product="land_cover_model", time=("2019-01-01", "2019-12-31"))


def test_a_map_without_any_acquisition_is_skipped_with_its_reason_and_leaves_nothing(dc, lc_sim, truth):
    model = _model(truth, PAST, runs=2)
    before = len(dc.find_datasets(product="land_cover"))
    report = land_cover(year=2020, model=model)
    assert report.skipped and not (report.written or report.exists or report.failed), report.summary()
    assert all("no s2_l2a acquisition" in o.reason for o in report.skipped)
    assert {o.unit for o in report.skipped} == {f"{c}/2020/oso23" for c in _model_cells(dc, model)}
    assert len(dc.find_datasets(product="land_cover")) == before


def test_a_scene_carrying_only_the_snow_bands_is_left_out_of_a_map_and_the_report_says_so(dc, lc_sim, truth, tmp_path):
    from flows.pipelines.index import index_scenes, read_static_items

    model = _model(truth, PAST, runs=2)
    item = next(i for i in read_static_items(lc_sim.catalog) if i.collection_id == "sentinel-2-l2a")
    doc = item.to_dict()
    doc.update(id=f"{item.id}_snow_only", links=[])
    doc["properties"]["datetime"] = "2020-06-15T10:30:00Z"
    doc["assets"] = {k: {**a, "href": item.assets[k].get_absolute_href()} for k, a in doc["assets"].items()
                     if k in ("blue", "green", "red", "nir", "swir16", "scl")}
    path = tmp_path / "snow_only.json"
    path.write_text(json.dumps(doc))
    indexed = index_scenes(static=[str(path)])
    try:
        assert len(indexed.written) == 1, indexed.summary()
        report = land_cover(year=2020, model=model)
        scenes = [o for o in report.skipped if o.unit.startswith("scene ")]
        assert [o.unit for o in scenes] == [f"scene {item.id}_snow_only"], report.summary()
        assert "lacks ['rededge1', 'rededge2', 'rededge3', 'nir08', 'swir22']" in scenes[0].reason
        assert all("no s2_l2a acquisition" in o.reason for o in report.skipped if o not in scenes)
        assert not (report.written or report.failed), "nothing crashes on the missing bands; nothing is mapped"
    finally:
        purge(dc, indexed.ids)


def test_real_theia_landsat8_crops_with_the_oso_polygons_say_that_no_polygon_covers_them(dc, prefect_harness, real_data):
    """The 28 OSO polygons (D5H2, Lambert-93) spread over 110 km; none falls on the two 1.5 km Landsat-8 crops, so
    the chain reads the real reference and images and stops with the reason (no model, nothing indexed)."""
    from realsamples import THEIA_L8

    from flows.pipelines.index import index_scenes

    index_scenes(theia=[str(real_data / THEIA_L8)])
    shp = real_data / "iota2" / "data" / "references" / "D5H2_groundTruth_samples.shp"
    with pytest.raises(NoPolygonError, match="none covers a usable pixel"):
        train_land_cover(reference=str(shp), years=[2016], options=TrainingOptions(
            product="theia_l8_n2a", mapping="oso17_to_oso23", column="CODE", drop_rare=True, runs=2))
    assert not dc.find_datasets(product="land_cover_model", time=("2016-01-01", "2016-12-31"))


def _no_current_maps(dc, model: str) -> set[str]:
    """Remove the current year's yearly maps (index and files); the units (cell keys) the model maps."""
    import shutil

    from flows.storage.writer import product_folder

    for old in dc.find_datasets(product="land_cover", time=(f"{CURRENT}-01-01", f"{CURRENT}-12-31")):
        dc.index.datasets.archive([str(old.id)])
        dc.index.datasets.purge([str(old.id)])
    cells = {f"{c}/{CURRENT}/oso23" for c in _model_cells(dc, model)}
    for key in cells:
        shutil.rmtree(product_folder("land_cover", key), ignore_errors=True)
    return cells


def _assert_each_map_once(dc, cells: set[str]) -> None:
    from flows.storage.writer import product_folder

    found = dc.find_datasets(product="land_cover", time=(f"{CURRENT}-01-01", f"{CURRENT}-12-31"))
    assert sorted(d.metadata_doc["label"].split("_", 2)[-1] for d in found) == sorted(
        k.replace("/", "_") for k in cells)
    assert all((product_folder("land_cover", k) / "odc-metadata.yaml").exists() for k in cells)
    assert not [p for k in cells for p in product_folder("land_cover", k).parent.glob(".*")], "half-written"


MAP_STEPS = {  # a cell map's steps, by the function the worker calls there
    "load": ("flows.pipelines.landcover.maps", "reflectance_series"),
    "compute": ("products.landcover.classify", "predict_map"),
    "write": ("flows.storage.writer", "_write_cogs"),
    "index": ("flows.storage.writer", "add_dataset"),
}


def test_a_worker_killed_at_each_step_of_a_land_cover_map_loses_and_duplicates_nothing(dc, lc_sim, truth,
                                                                                        tmp_path):
    """One run meets a worker's death at each step of a map (load, compute, write, index), each step killed once
    by whichever worker, running or restarted in a killed one's place, reaches it first; what a dead writer left,
    the next attempt clears. The re-run writes what the first could not."""
    from distributed import default_client
    from helpers import StepFaults, kill_this_process

    model = _model(truth, PAST, runs=2)
    cells = _no_current_maps(dc, model)
    with StepFaults.armed(default_client(), steps=MAP_STEPS, action=kill_this_process, marks=tmp_path) as faults:
        first = land_cover(year=CURRENT, model=model)
    assert faults.met == set(MAP_STEPS), f"the run never reached {set(MAP_STEPS) - faults.met}"
    again = land_cover(year=CURRENT, model=model)
    for failure in first.failed:  # a map whose every try died is reported with the cause
        assert "KilledWorker" in failure.reason or "worker" in failure.reason.lower(), failure.reason
    assert not again.failed, again.summary()
    written = {o.unit for o in first.written} | {o.unit for o in again.written}
    assert not {o.unit for o in first.written} & {o.unit for o in again.written}, "a map was written twice"
    assert written == cells
    _assert_each_map_once(dc, cells)


def test_a_full_disk_and_a_corrupt_input_fail_a_land_cover_map_with_their_reason_and_leave_nothing(dc, lc_sim,
                                                                                                    truth, tmp_path):
    """ENOSPC in the writer, then a Sentinel-2 band file corrupted after indexing: each time the map fails at once
    with one line saying why, nothing half-written or indexed; once the file is repaired the run writes it."""
    import shutil
    from urllib.parse import urljoin, urlparse

    from distributed import default_client
    from helpers import StepFaults, full_disk

    from flows.storage.writer import product_folder

    model = _model(truth, PAST, runs=2)
    cells = _no_current_maps(dc, model)
    write = {"write": MAP_STEPS["write"]}
    with StepFaults.armed(default_client(), steps=write, action=full_disk, marks=tmp_path) as faults:
        full = land_cover(year=CURRENT, model=model)
    assert faults.met == set(write) and {o.unit for o in full.failed} == cells, full.summary()
    assert all(o.reason == "OSError: [Errno 28] No space left on device" for o in full.failed), full.summary()
    _assert_each_map_once(dc, set())
    assert not [p for k in cells for p in product_folder("land_cover", k).parent.glob(".*")], "half-written"

    scene = dc.find_datasets(product="s2_l2a", time=(f"{CURRENT}-06-01", f"{CURRENT}-08-31"))[0]
    band = Path(urlparse(urljoin(scene.uris[0], scene.metadata_doc["measurements"]["red"]["path"])).path)
    saved = band.with_name(f".{band.name}.saved")
    shutil.copy2(band, saved)
    try:
        band.write_bytes(b"II*\x00 not a GeoTIFF any more")
        corrupt = land_cover(year=CURRENT, model=model)
    finally:
        shutil.move(saved, band)
    assert {o.unit for o in corrupt.failed} == cells, corrupt.summary()
    for failure in corrupt.failed:
        assert failure.reason.startswith(f"{failure.unit}: cannot read s2_l2a dataset {scene.metadata_doc['label']} "
                                         f"file {band}: "), failure.reason
    _assert_each_map_once(dc, set())
    repaired = land_cover(year=CURRENT, model=model)
    assert {o.unit for o in repaired.written} == cells and not repaired.failed, repaired.summary()
    _assert_each_map_once(dc, cells)


def test_the_land_cover_flow_process_killed_mid_map_and_run_again_maps_each_cell_once(dc, lc_sim, truth, tmp_path):
    """``snowland land-cover`` is killed (SIGKILL) at the moment a worker starts to classify a map it sent there:
    the map goes on on that worker, under its claim, to its end; the re-run says ``in progress elsewhere`` until
    then, and ``already there`` after. Nothing is made twice and the killed run's claim blocks nothing."""
    import signal
    import subprocess
    import sys
    import time
    from functools import partial

    from distributed import default_client
    from helpers import StepFaults
    from prefect.settings import PREFECT_API_URL

    model = _model(truth, PAST, runs=2)
    cells = _no_current_maps(dc, model)
    client = default_client()
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "PYTHONPATH": str(ROOT),
           "SNOWLAND_DASK_ADDRESS": client.scheduler.address}  # the session's workers: a unit outlives its flow
    compute = {"compute": MAP_STEPS["compute"]}
    with open(tmp_path / "run.log", "w") as said:
        run = subprocess.Popen([sys.executable, "-m", "flows.cli", "land-cover", "--year", str(CURRENT), "--model",
                                model], env=env, stdout=said, stderr=subprocess.STDOUT)
        try:
            with StepFaults.armed(client, steps=compute, action=partial(os.kill, run.pid, signal.SIGKILL),
                                  marks=tmp_path) as faults:
                run.wait(timeout=600)
        finally:
            run.kill()
            run.wait()
    assert faults.met == set(compute) and run.returncode == -signal.SIGKILL, (tmp_path / "run.log").read_text()[-3000:]

    deadline, waited = time.monotonic() + 300, []
    while True:
        again = land_cover(year=CURRENT, model=model)
        assert not again.failed, again.summary()
        if not again.elsewhere or time.monotonic() > deadline:
            break
        waited.append(again)
        time.sleep(1)
    assert not again.elsewhere, "the killed run's claim still blocks its map"
    assert not again.written and {o.unit for o in again.exists} == cells, "the map the killed run began is kept"
    assert all({o.unit for o in w.elsewhere} <= cells for w in waited)
    _assert_each_map_once(dc, cells)


def test_the_database_restarted_mid_map_costs_retries_only(dc, database, lc_sim, truth, tmp_path, monkeypatch):
    """PostgreSQL stopped and started again as a worker begins to write a map: every connection drops (the pools',
    the map's claim); the pools reconnect, a unit that met the restart is retried, and the map is written once."""
    from functools import partial

    from distributed import default_client
    from helpers import StepFaults, restart_database

    from flows.pipelines.landcover.maps import map_cell

    monkeypatch.setattr(map_cell, "retry_delay_seconds", [0.5, 1, 2])
    model = _model(truth, PAST, runs=2)
    cells = _no_current_maps(dc, model)
    write = {"write": MAP_STEPS["write"]}
    with StepFaults.armed(default_client(), steps=write, action=partial(restart_database, database),
                          marks=tmp_path) as faults:
        first = land_cover(year=CURRENT, model=model)
    assert faults.met == set(write)
    for failure in first.failed:
        assert "Traceback" not in failure.reason and "\n" not in failure.reason, failure.reason
    again = land_cover(year=CURRENT, model=model)
    assert not again.failed, again.summary()
    assert {o.unit for o in again.written} == {o.unit for o in first.failed}
    assert {o.unit for o in first.written} | {o.unit for o in again.written} == cells
    _assert_each_map_once(dc, cells)


def test_two_land_cover_runs_at_once_map_each_cell_once_between_them(dc, lc_sim, truth):
    from concurrent.futures import ThreadPoolExecutor

    model = _model(truth, PAST, runs=2)
    cells = _no_current_maps(dc, model)
    with ThreadPoolExecutor(max_workers=2) as pool:
        one, other = (run.result() for run in [pool.submit(land_cover, year=CURRENT, model=model) for _ in range(2)])

    for report in (one, other):
        assert not report.failed, report.summary()
        assert {o.unit for o in report} == cells
    written = {o.unit for o in one.written} | {o.unit for o in other.written}
    assert not {o.unit for o in one.written} & {o.unit for o in other.written}, "a cell was mapped by both runs"
    assert written == cells
    _assert_each_map_once(dc, cells)


def test_a_model_another_run_is_training_is_left_to_it_and_its_key_date_maps_wait(dc, lc_sim, truth):
    from flows.pipelines.landcover.train import training_request
    from flows.run.claims import claim

    def key(key_date):
        return training_request(reference=str(truth), years=PAST, cells=None, bbox=None, key_date=key_date,
                                options=FAST).key()

    with claim(f"land_cover_model/{key(None)}") as yearly, claim(f"land_cover_model/{key('march')}") as march:
        assert yearly and march
        trained = _train(truth, PAST)
        mapped = land_cover_key_date(year=CURRENT, key_date="march", reference=str(truth), train_years=PAST,
                                     options=FAST)
    for report, unit in ((trained, key(None)), (mapped, key("march"))):
        assert [(o.status, o.unit) for o in report] == [("in progress elsewhere", unit)], report.summary()
        assert not report.ids and not report.failed


def test_a_map_with_no_clear_pixel_is_refused_from_its_written_counts_and_otherwise_says_its_mapped_share():
    """The map unit tells 'no valid date' from the classification's value counts (counted as it is written, so the
    refusal leaves nothing indexed); else the share of classified pixels."""
    from flows.pipelines.landcover.maps import mapped_percent
    from flows.storage import properties as prop

    counts = np.zeros(256, dtype=np.int64)
    counts[0] = 40
    with pytest.raises(NoValidDateError, match="no valid date for 100kmE41N24 2024: every acquisition is cloud"):
        mapped_percent({"classification": counts}, what="100kmE41N24 2024")
    counts[16] = 120
    assert mapped_percent({"classification": counts}, what="x") == {prop.MAPPED_PERCENT: 75.0}
