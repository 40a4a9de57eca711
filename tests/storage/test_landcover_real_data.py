"""Land cover on the real samples in ../shared/data/real (missing ones: skipped, saying so, or failed under CI)."""

import numpy as np
import pytest
from helpers import REAL_DATA, real_sample

from flows.pipelines.landcover.report import write_report
from flows.storage.reference import rasterise_polygons, read_reference
from flows.storage.sources.eolearn import load_eolearn_patch
from products.landcover import classify, features, gapfill, nrt, samples, validation
from products.landcover.nomenclature import load_nomenclature

RPG = REAL_DATA / "eolearn" / "example_data" / "import-gpkg-test.gpkg"
D5H2 = REAL_DATA / "iota2" / "data" / "references" / "D5H2_groundTruth_samples.shp"
EOPATCH = REAL_DATA / "eolearn" / "example_data" / "TestEOPatch"


def test_every_crop_code_of_the_real_rpg_parcels_is_mapped_or_excluded_on_purpose():
    real_sample(RPG)
    ref = read_reference(RPG, mapping="rpg_code_cultu_to_oso23", on_unmapped="raise")
    assert not ref.unmapped
    assert len(ref.frame) + sum(ref.excluded.values()) == 193
    by_code = dict(zip(ref.frame["source_code"], ref.frame["class_code"]))
    assert by_code["BTH"] == 6 and by_code["ORH"] == 6 and by_code["AVP"] == 6
    assert by_code["MIS"] == by_code["MIE"] == 10 and by_code["SOJ"] == 8 and by_code["TRN"] == 9
    assert by_code["CZH"] == 5 and by_code["PPH"] == by_code["PTR"] == by_code["LUZ"] == 13
    assert by_code["LDP"] == 7 and by_code["PTC"] == 12
    assert set(ref.excluded) == {"BOR", "BTA", "J5M", "J6P", "J6S", "SNE", "25"}
    assert ref.frame["class_code"].value_counts()[10] == 62


def test_rpg_crop_groups_alone_map_the_real_parcels():
    real_sample(RPG)
    ref = read_reference(RPG, mapping="rpg_code_group_to_oso23", on_unmapped="raise")
    assert set(ref.frame["class_code"]) <= set(load_nomenclature("oso23").codes)
    assert "7" in ref.excluded


def test_iota2_ground_truth_in_oso17_maps_to_oso23_in_the_eea_grid_crs():
    real_sample(D5H2)
    wrong = read_reference(D5H2, mapping="oso23_to_oso17", column="CODE", on_unmapped="ignore")
    assert {"31", "211", "222"} <= set(wrong.unmapped) and len(wrong.frame) == 4
    ref = read_reference(D5H2, mapping="oso17_to_oso23", column="CODE", crs="EPSG:3035")
    assert ref.frame.crs.to_epsg() == 3035 and len(ref.frame) == 24
    assert dict(ref.excluded) == {"11": 2, "12": 2}
    x0, y0, x1, y1 = ref.frame.total_bounds
    transform = (30.0, 0.0, x0, 0.0, -30.0, y1)
    ids = rasterise_polygons(ref, shape=(int((y1 - y0) // 30) + 1, int((x1 - x0) // 30) + 1), transform=transform)
    assert set(np.unique(ids)) - {0} <= set(ref.frame["polygon_id"]) and (ids > 0).sum() > 100


@pytest.fixture(scope="module")
def eopatch():
    real_sample(EOPATCH)
    return load_eolearn_patch(EOPATCH)


def test_yearly_chain_on_the_real_eolearn_ndvi_series(eopatch, tmp_path):
    assert eopatch.series.sizes["time"] == 68
    np.testing.assert_array_equal(eopatch.labels[eopatch.polygon_ids > 0] > 0, True)
    filled = gapfill.gapfill(eopatch.series, eopatch.valid, step_days=gapfill.S2_STEP_DAYS)
    assert filled.sizes["time"] == 90 and not np.isnan(filled["ndvi"].values).any()
    feats = features.features(filled, roles=None)
    found = samples.extract_samples(feats, eopatch.polygon_ids, eopatch.polygon_classes)
    np.testing.assert_array_equal(found.labels, eopatch.labels[eopatch.polygon_ids > 0])
    runs = []
    for split in samples.split_runs(found, runs=3, seed=0, rare="drop"):
        model = classify.train(split.train, nomenclature="eolearn_lulc", seed=split.split.seed, n_jobs=2)
        predicted, _ = classify.predict_samples(model, split.validation)
        runs.append(validation.accuracy(split.validation.labels, predicted))
    summary = validation.summarise_runs(runs)
    print(f"\neo-learn real NDVI, {classify.DEFAULT_CLASSIFIER}, 3 runs: OA {summary.overall_accuracy.mean:.3f}"
          f" [{summary.overall_accuracy.low:.3f}, {summary.overall_accuracy.high:.3f}],"
          f" kappa {summary.kappa.mean:.3f} [{summary.kappa.low:.3f}, {summary.kappa.high:.3f}]")
    assert summary.overall_accuracy.mean > 0.70 and summary.kappa.mean > 0.40
    files = write_report(summary, tmp_path, title="eo-learn TestEOPatch", metadata={"model": classify.DEFAULT_CLASSIFIER})
    assert files.html.exists() and files.confusion_png.stat().st_size > 1000
    maps = classify.predict_map(model, feats.chunk({"y": 50, "x": 50}))
    agree = (maps["classification"].values == eopatch.labels)[eopatch.labels > 0].mean()
    assert agree > 0.7 and maps["confidence"].values.max() <= 100


def test_near_real_time_on_the_real_series_trained_on_2016_mapping_2017(eopatch):
    settings = nrt.FeatureSettings(roles=None)
    ref = lambda year: nrt.YearReference(year, eopatch.series, eopatch.valid, eopatch.polygon_ids, eopatch.polygon_classes)  # noqa: E731
    kappas = {}
    for when in ("march", "july", "december"):
        model = nrt.train_key_date_model([ref(2016)], when=when, settings=settings, labels_nomenclature=None, n_jobs=2)
        acc = nrt.validate_key_date(model, ref(2017), settings=settings, labels_nomenclature=None)
        kappas[when] = round(acc.kappa, 3)
    print(f"\neo-learn near real time, trained on 2016, 2017 kappa by key date: {kappas}")
    # one past year, NDVI only, very different cloud gaps in 2016 and 2017: transfer is weak in July
    assert min(kappas.values()) > 0.15 and kappas["march"] > 0.4
