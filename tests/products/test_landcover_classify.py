import json

import numpy as np
import pytest
import xarray as xr
from helpers import blob_samples

from flows.storage.models import METADATA_FILE, MODEL_FILE, ModelFileError, load_model, read_metadata, save_model
from products.landcover.classify import (
    CLASSIFIERS,
    RF_IOTA2,
    ClassifierSpec,
    FeatureMismatchError,
    predict,
    predict_map,
    predict_samples,
    train,
)
from products.landcover.samples import Samples, TooFewSamplesError


def _small(kind="random_forest", **params):
    return ClassifierSpec(kind, {"n_estimators": 9, "max_depth": 6, "min_samples_split": 5, **params})


def test_iota2_forest_parameters_map_to_sklearn():
    model = RF_IOTA2.build(seed=1)
    assert (model.n_estimators, model.max_depth, model.min_samples_split, model.max_features) == (100, 25, 5, "sqrt")
    assert model.bootstrap and model.random_state == 1


def test_forest_confidence_is_the_share_of_trees_voting_for_the_class():
    samples = blob_samples()
    model = train(samples, nomenclature="test", spec=_small(), seed=0)
    x = np.random.default_rng(5).normal(2.0, 2.0, size=(200, 6)).astype(np.float32)
    codes, confidence = predict(model, x)
    votes = np.stack([model.estimator.classes_[t.predict(x).astype(int)] for t in model.estimator.estimators_])
    counts = np.stack([(votes == c).sum(axis=0) for c in model.classes], axis=1)
    np.testing.assert_array_equal(codes, np.asarray(model.classes)[counts.argmax(axis=1)])
    np.testing.assert_array_equal(confidence, np.rint(100 * counts.max(axis=1) / 9).astype(np.uint8))
    assert set(np.unique(codes)) <= {11, 22, 33}


def test_other_models_give_the_winning_probability_as_confidence():
    samples = blob_samples()
    spec = ClassifierSpec("hist_gradient_boosting", {"max_iter": 10})
    model = train(samples, nomenclature="test", spec=spec)
    _, confidence = predict(model, samples.features[:20])
    expected = np.rint(100 * model.estimator.predict_proba(samples.features[:20]).max(axis=1))
    np.testing.assert_array_equal(confidence, expected)


def test_rows_with_missing_features_get_nodata_and_zero_confidence():
    model = train(blob_samples(), nomenclature="test", spec=_small())
    x = np.zeros((3, 6), dtype=np.float32)
    x[1, 2] = np.nan
    codes, confidence = predict(model, x)
    assert codes[1] == 0 and confidence[1] == 0 and codes[0] != 0


def test_predict_map_on_dask_blocks_equals_in_memory():
    model = train(blob_samples(), nomenclature="test", spec=_small())
    rng = np.random.default_rng(2)
    cube = xr.DataArray(rng.normal(2, 2, size=(9, 7, 6)).astype(np.float32), dims=("y", "x", "feature"),
                        coords={"feature": list(model.feature_names), "y": np.arange(9), "x": np.arange(7)})
    eager = predict_map(model, cube)
    lazy = predict_map(model, cube.chunk({"y": 4, "x": 3, "feature": 2}))
    assert lazy["classification"].chunks is not None
    xr.testing.assert_equal(eager.compute(), lazy.compute())
    assert eager["classification"].dtype == np.uint8 and eager.attrs["nomenclature"] == "test"


def test_features_are_matched_by_name_and_a_missing_one_is_reported():
    model = train(blob_samples(), nomenclature="test", spec=_small())
    names = list(model.feature_names)
    cube = xr.DataArray(np.ones((2, 2, 6), dtype=np.float32), dims=("y", "x", "feature"), coords={"feature": names})
    shuffled = cube.isel(feature=[5, 4, 3, 2, 1, 0])
    xr.testing.assert_equal(predict_map(model, cube), predict_map(model, shuffled))
    with pytest.raises(FeatureMismatchError, match="lack 1 of the model's 6 features"):
        predict_map(model, cube.isel(feature=slice(0, 5)))
    samples = blob_samples()
    reordered = Samples(samples.features[:, ::-1], samples.labels, samples.polygons, samples.feature_names[::-1])
    np.testing.assert_array_equal(predict_samples(model, reordered)[0], predict_samples(model, samples)[0])


def test_a_saved_model_loads_back_from_its_folder_with_its_metadata(tmp_path):
    model = train(blob_samples(), nomenclature="oso23", spec=_small(), years=(2021, 2022), area="100kmE38N22", key_date="july")
    folder = save_model(model, tmp_path / "models" / "lc")
    meta = read_metadata(folder)
    assert sorted(p.name for p in folder.iterdir()) == sorted([MODEL_FILE, METADATA_FILE])
    assert meta["model_id"] == model.model_id
    assert meta["years"] == [2021, 2022] and meta["area"] == "100kmE38N22" and meta["key_date"] == "july"
    assert meta["feature_names"][0] == "f_d000" and "scikit-learn" in meta["library_versions"]
    assert json.loads((folder / METADATA_FILE).read_text())["nomenclature"] == "oso23"
    loaded = load_model(folder)
    np.testing.assert_array_equal(predict(loaded, blob_samples().features)[0], predict(model, blob_samples().features)[0])
    (folder / METADATA_FILE).unlink()
    with pytest.raises(ModelFileError, match=f"lc has no {METADATA_FILE}"):
        load_model(folder)


def test_a_model_and_its_metadata_are_replaced_together_or_not_at_all(tmp_path, monkeypatch):
    import flows.storage.models

    first = train(blob_samples(), nomenclature="oso23", spec=_small())
    second = train(blob_samples(seed=1), nomenclature="oso23", spec=_small())
    folder = save_model(first, tmp_path / "lc")
    save_model(second, folder)
    assert load_model(folder).model_id == read_metadata(folder)["model_id"] == second.model_id

    def dies_after_the_model(model, path, **kwargs):
        path.write_bytes(b"a model")
        raise OSError("disk full")

    monkeypatch.setattr(flows.storage.models.joblib, "dump", dies_after_the_model)
    with pytest.raises(OSError, match="disk full"):
        save_model(first, folder)
    assert load_model(folder).model_id == read_metadata(folder)["model_id"] == second.model_id
    assert [p.name for p in tmp_path.iterdir()] == ["lc"]  # no half-written folder beside it


def test_the_default_and_reference_models_are_registered():
    from products.landcover.classify import DEFAULT_CLASSIFIER

    assert DEFAULT_CLASSIFIER in CLASSIFIERS and CLASSIFIERS["rf_iota2"] is RF_IOTA2
    with pytest.raises(TooFewSamplesError, match="at least two classes"):
        s = blob_samples()
        train(Samples(s.features[:5], s.labels[:5], s.polygons[:5], s.feature_names), nomenclature="t")


def test_adaptive_voting_settles_confident_pixels_early_and_keeps_full_votes_for_the_others():
    from products.landcover.classify import forest_votes

    model = train(blob_samples(), nomenclature="test", spec=_small(n_estimators=20, max_depth=8))
    forest = model.estimator
    x = np.concatenate([np.full((5, 6), 0.0), np.full((5, 6), 4.0), np.random.default_rng(1).normal(1.0, 1.5, (40, 6))]).astype(np.float32)
    full = forest_votes(forest, x)
    adaptive = forest_votes(forest, x, batch=5, agreement=0.7)
    first5 = forest_votes(type("F", (), {"estimators_": forest.estimators_[:5], "classes_": forest.classes_})(), x)
    settled = first5.max(axis=1) >= 0.7
    np.testing.assert_allclose(adaptive[settled], first5[settled])
    assert settled[:10].all() and not settled.all()
    assert np.allclose(forest_votes(forest, x, batch=5, agreement=1.01), full)
    np.testing.assert_allclose(adaptive.sum(axis=1), 1.0, rtol=1e-6)


def test_a_pixel_stops_once_its_lead_over_the_runner_up_passes_the_margin_and_undecided_ones_vote_to_the_end():
    """Stages of 5, 10 and 20 trees, margin 2: a lead of 5 of 5 (>= 2 sqrt 5 = 4.47) stops at 5 trees, 8 to 1
    of 10 (7 >= 6.32) at 10; 3 to 2 never leads enough and is voted by all 20 trees."""
    from products.landcover.votes import staged_votes, tree_groups

    assert [(g.start, g.stop) for g in tree_groups(20, stages=(5, 10, 30))] == [(0, 5), (5, 10), (10, 20)]
    assert [(g.start, g.stop) for g in tree_groups(20, batch=8)] == [(0, 8), (8, 16), (16, 20)]
    assert [(g.start, g.stop) for g in tree_groups(20)] == [(0, 20)]
    per_tree = np.zeros((3, 20), dtype=int)  # the class each tree votes for, per pixel
    per_tree[1, [0, 5]] = [1, 2]  # pixel 1: 4 to 1 after 5 trees, 8 to 1 (and 1 for class 2) after 10
    per_tree[2, 1::2] = 1  # pixel 2: an even split
    calls = []

    def group(trees: slice):
        def votes(rows: np.ndarray) -> np.ndarray:
            calls.append(len(rows))
            chosen = per_tree[rows[:, 0].astype(int), trees]
            return np.stack([(chosen == c).sum(axis=1) for c in range(3)], axis=1).astype(np.float32)
        return trees.stop - trees.start, votes

    x = np.arange(3, dtype=np.float32)[:, None]
    shares = staged_votes([group(g) for g in tree_groups(20, stages=(5, 10))], x, n_classes=3, margin=2.0)
    assert calls == [3, 2, 1]
    np.testing.assert_allclose(shares[0], [1, 0, 0])
    np.testing.assert_allclose(shares[1], [0.8, 0.1, 0.1])
    np.testing.assert_allclose(shares[2], [0.5, 0.5, 0])


def test_benchmark_compares_models_on_paired_runs():
    """What the comparison computes, not how fast a model was: every model on the same splits, the kappa
    difference taken run by run against the reference, and the goal read from those figures."""
    from dataclasses import replace

    from helpers import bench_module

    from products.landcover.samples import split_runs
    from products.landcover.validation import accuracy, interval

    bench = bench_module("bench_landcover")
    blobs = blob_samples()
    noisy = np.random.default_rng(3).normal(0.0, 1.5, blobs.features.shape).astype(np.float32)
    samples = Samples(blobs.features + noisy, blobs.labels, blobs.polygons, blobs.feature_names)  # kappa < 1
    specs = {"big": _small(n_estimators=20), "fast": _small(n_estimators=2)}
    big, fast = bench.compare_classifiers(samples, samples.features, specs=specs, reference="big", runs=3, repeats=1,
                                          min_pixels=1000)

    kappas = {name: [] for name in specs}
    for split in split_runs(samples, runs=3, seed=0):  # the benchmark's splits, each shared by both models
        for name, spec in specs.items():
            model = train(split.train, nomenclature="benchmark", spec=spec, seed=split.split.seed, n_jobs=1)
            kappas[name].append(accuracy(split.validation.labels, predict(model, split.validation.features)[0]).kappa)
    assert (big.name, fast.name) == ("big", "fast")
    assert big.kappa == interval(kappas["big"]) and fast.kappa == interval(kappas["fast"])
    assert fast.kappa_delta == interval(list(np.subtract(kappas["fast"], kappas["big"]))) and fast.kappa_delta.runs == 3
    assert big.kappa_delta == interval([0.0] * 3) and big.speedup == 1.0
    assert fast.speedup == pytest.approx(fast.pixels_per_second / big.pixels_per_second)

    close = interval([-0.004, -0.006, -0.005])
    assert bench.meets_goal(replace(fast, speedup=10.0, kappa_delta=close))
    assert not bench.meets_goal(replace(fast, speedup=9.9, kappa_delta=close))
    assert not bench.meets_goal(replace(fast, speedup=12.0, kappa_delta=interval([-0.02, -0.01, -0.015])))


def test_the_svm_standardises_cross_validates_by_polygon_and_scores_duels(tmp_path):
    samples = blob_samples()
    scaled = Samples(samples.features * np.array([1, 1000, 1, 1, 1, 1], dtype=np.float32), samples.labels,
                     samples.polygons, samples.feature_names)  # one feature in other units: standardised away
    model = train(scaled, nomenclature="test", spec="svm_rbf", seed=0)
    svm, grid = model.estimator, CLASSIFIERS["svm_rbf"].params
    assert svm.best_params_["C"] in grid["c_grid"]
    assert any(np.isclose(svm.best_params_["gamma"], g / 6) for g in grid["gamma_grid"])
    np.testing.assert_allclose(svm.scaler_.mean_[1] / 1000, samples.features[:, 1].mean(), rtol=1e-3)
    codes, confidence = predict(model, scaled.features)
    np.testing.assert_array_equal(codes, svm.svc_.predict(svm.scaler_.transform(scaled.features)))
    assert (codes == scaled.labels).mean() > 0.9 and set(np.unique(confidence)) <= {0, 50, 100}
    meta = read_metadata(save_model(model, tmp_path / "svm"))
    assert meta["kind"] == "svm" and meta["chosen_params"] == svm.best_params_
    capped = train(scaled, nomenclature="test", spec=ClassifierSpec("svm", {"max_samples_per_class": 20}))
    assert len(capped.estimator.svc_.support_) <= 60
