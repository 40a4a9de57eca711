import numpy as np
import pandas as pd
import pytest

from flows.simulator.landcover_series import simulate_scene
from products.errors import BadInputError
from products.landcover.classify import FeatureMismatchError, predict_map
from products.landcover.nomenclature import load_nomenclature
from products.landcover.nrt import (
    FeatureSettings,
    Season,
    YearReference,
    classify_key_date,
    first_observation_day,
    key_date,
    key_date_features,
    key_date_grid,
    key_dates,
    relabel_for,
    series_until,
    train_key_date_model,
    validate_key_date,
)
from products.landcover.validity import NoValidDateError

FAST = "rf_small"


@pytest.fixture(scope="module")
def scene():
    return simulate_scene(years=(2020, 2021, 2022), shape=(48, 48), n_parcels=70, revisit_days=5, seed=4)


def _reference(scene, year):
    return YearReference(year, scene.series, scene.valid, scene.polygon_ids, scene.classes_by_year[year])


def test_key_dates_are_end_of_march_july_and_year_with_their_levels():
    kd = key_dates()
    assert [(k.month, k.day, k.nomenclature) for k in kd.values()] == [(3, 31, "nrt_march"), (7, 31, "nrt_july"), (12, 31, "oso23")]
    grid = key_date_grid(2022, "march")  # from the autumn before: the sowing of winter crops
    assert grid[0] == pd.Timestamp("2021-10-01") and grid[-1] == pd.Timestamp("2022-03-30") and len(grid) == 19
    assert key_date("march").end(2022) < pd.Timestamp("2022-04-01")
    assert len(key_date_grid(2024, "march")) == 19 and len(key_date_grid(2020, "december")) == len(key_date_grid(2021, "december"))
    assert key_date_grid(2022, "july")[0] == pd.Timestamp("2022-01-01")
    assert first_observation_day(2022) == pd.Timestamp("2021-09-01")
    with pytest.raises(BadInputError, match="known: march, july, december"):
        key_date("june")


def test_observations_after_the_key_date_are_never_used(scene):
    feats = key_date_features(scene.series, scene.valid, year=2021, when="march")
    later = scene.series.time > np.datetime64("2021-03-31T23:59:59")
    tampered = scene.series.where(~later, 0.99)
    valid = scene.valid.where(~later, True)
    again = key_date_features(tampered, valid, year=2021, when="march")
    np.testing.assert_array_equal(feats.values, again.values)
    cut, _ = series_until(scene.series, scene.valid, year=2021, when="march")
    assert cut.time.max() <= np.datetime64("2021-03-31T23:59:59") and cut.time.min() >= np.datetime64("2020-09-01")


def test_past_years_give_the_same_feature_names_as_the_current_year(scene):
    a = key_date_features(scene.series, scene.valid, year=2021, when="july")
    b = key_date_features(scene.series, scene.valid, year=2022, when="july")
    assert a["feature"].values.tolist() == b["feature"].values.tolist()
    assert a.sizes["feature"] == 13 * len(key_date_grid(2022, "july"))


def test_labels_are_relabelled_to_the_key_date_level():
    assert relabel_for("march", {1: 5, 2: 10, 3: 16, 4: 2}) == {1: 111, 2: 112, 3: 16, 4: 100}
    assert relabel_for("december", {1: 5}) == {1: 5}


def test_a_key_date_model_maps_the_current_year_in_its_level(scene):
    refs = [_reference(scene, 2020), _reference(scene, 2021)]
    march = train_key_date_model(refs, when="march", spec=FAST)
    assert march.key_date == "march" and march.nomenclature == "nrt_march" and march.years == (2020, 2021)
    assert set(march.classes) <= set(load_nomenclature("nrt_march").codes)
    out = classify_key_date(march, scene.series, scene.valid, year=2022)
    assert set(np.unique(out["classification"].values)) <= set(march.classes) | {0}
    assert out.attrs["key_date"] == "march" and out.attrs["year"] == 2022
    december = train_key_date_model(refs, when="december", spec=FAST)
    acc = validate_key_date(december, _reference(scene, 2022))
    assert acc.kappa > 0.6, acc.kappa


def test_a_later_key_date_model_refuses_earlier_features(scene):
    refs = [_reference(scene, 2021)]
    july = train_key_date_model(refs, when="july", spec=FAST)
    march_features = key_date_features(scene.series, scene.valid, year=2022, when="march")
    with pytest.raises(FeatureMismatchError, match="for key date 'july'"):
        predict_map(july, march_features)


def test_no_acquisition_before_the_key_date_raises(scene):
    late = FeatureSettings(season=Season(month=1, day=1), margin_days=0)
    with pytest.raises(NoValidDateError, match="no acquisition"):
        series_until(scene.series.sel(time=slice("2022-05-01", None)), scene.valid.sel(time=slice("2022-05-01", None)),
                     year=2022, when="march", settings=late)
