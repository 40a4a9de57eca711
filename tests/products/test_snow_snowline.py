"""The snowline zs: elevation histogram counts and the band scan."""

import math

import numpy as np
import pytest
import xarray as xr

from products.snow.snowline import BAND_DIM, elevation_histogram, snowline_elevation

LIMITS = {"dz": 100.0, "fclear_lim": 0.1, "fsnow_lim": 0.1}


def histogram(pixels, clear, snow, *, lowest=1000.0, dz=100.0):
    edges = lowest + dz * np.arange(len(pixels))
    return xr.Dataset(
        {"pixels": (BAND_DIM, pixels), "clear": (BAND_DIM, clear), "snow": (BAND_DIM, snow)}, coords={BAND_DIM: edges}
    )


def test_zs_is_the_lower_edge_of_the_band_two_below_the_first_qualifying_band():
    counts = histogram([10, 10, 10, 10, 10], [10, 10, 10, 10, 10], [0, 1, 1, 2, 9])
    assert snowline_elevation(histogram=counts, **LIMITS) == 1100.0


def test_both_fractions_must_be_strictly_above_their_limits():
    too_cloudy = (10, 1, 1)
    snow_at_limit = (10, 10, 1)
    qualifying = (10, 2, 1)
    counts = histogram(*(list(column) for column in zip(too_cloudy, snow_at_limit, qualifying, strict=True)))
    assert snowline_elevation(histogram=counts, **LIMITS) == 1000.0


def test_zs_may_fall_below_the_dem_minimum():
    counts = histogram([10, 10], [10, 10], [5, 5], lowest=1234.5)
    assert snowline_elevation(histogram=counts, **LIMITS) == math.floor(1234.5 - 200.0)


def test_no_qualifying_band_gives_nan():
    counts = histogram([10, 0, 10], [10, 0, 0], [0, 0, 0])
    assert math.isnan(snowline_elevation(histogram=counts, **LIMITS))
    assert math.isnan(snowline_elevation(histogram=histogram([], [], []), **LIMITS))


@pytest.mark.parametrize("chunks", [None, {"y": 2, "x": 3}])
def test_histogram_counts_per_band_leave_out_invalid_pixels_and_unknown_elevation(chunks):
    dem = np.array([[1000, 1050, 1099, 1100], [1150, 1250, np.nan, 1300]], dtype="f4")
    snow = np.array([[True, False, False, True], [False, False, True, False]])
    cloud = np.array([[False, True, False, False], [True, False, False, False]])
    valid = np.array([[True, True, True, True], [True, False, True, True]])
    arrays = [xr.DataArray(a, dims=("y", "x")) for a in (dem, snow, cloud, valid)]
    if chunks:
        arrays = [a.chunk(chunks) for a in arrays]
    dem_, snow_, cloud_, valid_ = arrays
    counts = elevation_histogram(dem=dem_, snow=snow_, cloud=cloud_, valid=valid_, dz=100.0).compute()
    assert counts[BAND_DIM].values.tolist() == [1000.0, 1100.0, 1200.0, 1300.0]
    assert counts.pixels.values.tolist() == [3, 2, 0, 1]
    assert counts.clear.values.tolist() == [2, 1, 0, 1]
    assert counts.snow.values.tolist() == [1, 1, 0, 0]
