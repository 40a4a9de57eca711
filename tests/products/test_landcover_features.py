import numpy as np
import pandas as pd
import pytest
import xarray as xr

from products.errors import MissingDataError
from products.landcover.features import (
    LANDSAT8,
    SENTINEL2,
    BandRoles,
    feature_names,
    features,
    spectral_indices,
    stack_features,
    to_samples,
)

DIMS = ("time", "y", "x")


def _constant_series(values: dict[str, float], *, n_dates=3, shape=(2, 3)):
    times = pd.date_range("2022-01-01", periods=n_dates, freq="10D")
    return xr.Dataset(
        {b: (DIMS, np.full((n_dates, *shape), v, dtype=np.float32)) for b, v in values.items()},
        coords={"time": times},
    )


def test_indices_have_the_iota2_definitions():
    roles = BandRoles(red="red", nir="nir", swir="swir16", reflectance=("green", "red", "nir", "swir16"))
    series = _constant_series({"green": 0.1, "red": 0.05, "nir": 0.35, "swir16": 0.15})
    out = spectral_indices(series, roles=roles)
    assert float(out["ndvi"][0, 0, 0]) == pytest.approx((0.35 - 0.05) / (0.35 + 0.05))
    assert float(out["ndwi"][0, 0, 0]) == pytest.approx((0.15 - 0.35) / (0.15 + 0.35))
    assert float(out["brightness"][0, 0, 0]) == pytest.approx(np.sqrt(0.1**2 + 0.05**2 + 0.35**2 + 0.15**2))


def test_index_is_zero_on_zero_sum_and_nan_where_the_series_is_nan():
    roles = BandRoles(red="red", nir="nir", swir="swir16", reflectance=("red", "nir", "swir16"))
    series = _constant_series({"red": 0.0, "nir": 0.0, "swir16": 0.1})
    series["red"][1] = np.nan
    out = spectral_indices(series, roles=roles)
    assert float(out["ndvi"][0, 0, 0]) == 0.0
    assert np.isnan(out["ndvi"][1]).all() and np.isnan(out["brightness"][1]).all()


def test_feature_matrix_is_bands_then_indices_per_date_with_day_offset_names():
    values = {b: 0.01 * (i + 1) for i, b in enumerate(SENTINEL2.reflectance)}
    series = _constant_series(values)
    feats = features(series)
    assert feats.dims == ("y", "x", "feature")
    assert feats.sizes["feature"] == 3 * (10 + 3)
    names = feats["feature"].values.tolist()
    assert names[:3] == ["blue_d000", "blue_d010", "blue_d020"]
    assert names[-3:] == ["brightness_d000", "brightness_d010", "brightness_d020"]
    assert float(feats.sel(feature="nir08_d010")[0, 0]) == pytest.approx(values["nir08"])
    assert feats.dtype == np.float32


def test_names_are_offsets_from_an_origin_so_years_align():
    d2021 = pd.date_range("2021-01-01", periods=3, freq="10D")
    d2024 = pd.date_range("2024-01-01", periods=3, freq="10D")
    assert feature_names(["ndvi"], d2021) == feature_names(["ndvi"], d2024) == ("ndvi_d000", "ndvi_d010", "ndvi_d020")
    assert feature_names(["ndvi"], d2021, origin="2020-12-22") == ("ndvi_d010", "ndvi_d020", "ndvi_d030")


def test_a_missing_band_is_named_in_the_error():
    series = _constant_series({"red": 0.1, "nir": 0.3})
    with pytest.raises(MissingDataError, match="swir16"):
        features(series, roles=LANDSAT8)


def test_series_variables_are_the_features_without_roles_and_to_samples_picks_masked_pixels():
    series = _constant_series({"ndvi": 0.5}, shape=(2, 2))
    series["ndvi"][:, 1, 0] = 0.9
    feats = stack_features(series)
    assert feats["feature"].values.tolist() == ["ndvi_d000", "ndvi_d010", "ndvi_d020"]
    assert features(series, roles=None).equals(feats)
    mask = np.array([[False, True], [True, False]])
    picked = to_samples(feats, mask)
    np.testing.assert_allclose(picked, [[0.5] * 3, [0.9] * 3])
    lazy = to_samples(feats.chunk({"y": 1}), mask)
    np.testing.assert_allclose(lazy, picked)
