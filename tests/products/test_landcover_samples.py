import numpy as np
import pytest
import xarray as xr

from products.landcover.samples import (
    NoPolygonError,
    Samples,
    TooFewSamplesError,
    extract_samples,
    split_polygons,
    split_runs,
    split_samples,
)


def _samples(polygons_per_class: dict[int, int], pixels_per_polygon: int = 4) -> Samples:
    labels, polygons = [], []
    pid = 0
    for code, n in polygons_per_class.items():
        for _ in range(n):
            pid += 1
            labels += [code] * pixels_per_polygon
            polygons += [pid] * pixels_per_polygon
    x = np.arange(len(labels), dtype=np.float32)[:, None]
    return Samples(x, np.asarray(labels), np.asarray(polygons), ("f_d000",))


def test_no_polygon_is_on_both_sides_and_every_pixel_follows_its_polygon():
    samples = _samples({1: 7, 2: 4, 3: 10})
    for sp in split_runs(samples, runs=5, seed=3):
        assert not (sp.split.train & sp.split.validation)
        assert set(np.unique(sp.train.polygons)) == sp.split.train
        assert set(np.unique(sp.validation.polygons)) == sp.split.validation
        assert len(sp.train) + len(sp.validation) == len(samples)


def test_split_is_stratified_per_class_with_the_ratio():
    classes = {pid: code for pid, code in _samples({1: 7, 2: 4, 3: 10}, 1).polygon_classes().items()}
    split = split_polygons(classes, ratio=0.5, seed=0)
    per_class = {c: sum(1 for p in split.train if classes[p] == c) for c in (1, 2, 3)}
    assert per_class == {1: 4, 2: 2, 3: 5}
    assert {classes[p] for p in split.validation} == {1, 2, 3}
    small = split_polygons(classes, ratio=0.1, seed=0)
    assert {c: sum(1 for p in small.train if classes[p] == c) for c in (1, 2, 3)} == {1: 1, 2: 1, 3: 1}


def test_runs_use_successive_seeds_and_are_reproducible():
    samples = _samples({1: 12, 2: 12})
    first, again = split_runs(samples, runs=3, seed=10), split_runs(samples, runs=3, seed=10)
    assert [s.split.seed for s in first] == [10, 11, 12]
    assert [s.split.train for s in first] == [s.split.train for s in again]
    assert len({s.split.train for s in first}) == 3


def test_a_class_with_one_polygon_is_named_with_its_count():
    samples = _samples({1: 5, 7: 1})
    with pytest.raises(TooFewSamplesError, match="class 7 has 1 polygon") as err:
        split_samples(samples)
    assert (err.value.class_code, err.value.count, err.value.needed) == (7, 1, 2)
    dropped = split_samples(samples, rare="drop")
    assert 7 in dropped.split.dropped and 7 not in dropped.train.class_counts()


def test_a_class_with_too_few_learning_pixels_is_named():
    samples = _samples({1: 4, 2: 4}, pixels_per_polygon=3)
    with pytest.raises(TooFewSamplesError, match=r"class 1 has 6 learning pixel\(s\).*at least 10") as err:
        split_samples(samples, min_samples=10)
    assert err.value.what == "learning pixels"


def test_extract_takes_polygon_pixels_with_finite_features_and_clear_dates():
    feats = xr.DataArray(np.arange(24, dtype=np.float32).reshape(3, 4, 2), dims=("y", "x", "feature"),
                         coords={"feature": ["a_d000", "b_d000"]})
    feats[0, 0, 1] = np.nan
    ids = np.array([[1, 1, 0, 2], [0, 0, 0, 2], [3, 3, 3, 0]])
    clear = np.full((3, 4), 5)
    clear[2, 2] = 0
    samples = extract_samples(feats, ids, {1: 10, 2: 20, 3: 10}, clear_observations=clear, min_clear_dates=0)
    assert samples.polygons.tolist() == [1, 2, 2, 3, 3]
    assert samples.labels.tolist() == [10, 20, 20, 10, 10]
    assert samples.feature_names == ("a_d000", "b_d000")
    np.testing.assert_array_equal(samples.features[0], [2, 3])


def test_no_polygon_in_the_area_raises():
    feats = xr.DataArray(np.zeros((2, 2, 1), dtype=np.float32), dims=("y", "x", "feature"), coords={"feature": ["f"]})
    with pytest.raises(NoPolygonError, match="no reference polygon in the area"):
        extract_samples(feats, np.zeros((2, 2), dtype=int), {5: 1})
    with pytest.raises(NoPolygonError, match="1 polygon.s. given, none covers a usable pixel of the 2x2 grid"):
        extract_samples(feats, np.array([[9, 9], [0, 0]]), {5: 1})
    with pytest.raises(NoPolygonError, match="no reference polygon in the area"):
        split_polygons({})
