import numpy as np
import pandas as pd
import pytest
import xarray as xr

from products.landcover.gapfill import LANDSAT_STEP_DAYS, date_grid, gapfill
from products.landcover.validity import (
    NoValidDateError,
    clear_observations,
    valid_from_clm,
    valid_from_qa_pixel,
    valid_from_scl,
    validity,
)

DIMS = ("time", "y", "x")


def _series(times, values, valid):
    times = pd.DatetimeIndex(times)
    coords = {"time": times}
    return (
        xr.Dataset({"b": (DIMS, np.asarray(values, dtype=np.float32))}, coords=coords),
        xr.DataArray(np.asarray(valid, dtype=bool), dims=DIMS, coords=coords),
    )


def _irregular_linear(seed=0, n=30, shape=(4, 5)):
    rng = np.random.default_rng(seed)
    offsets = np.sort(rng.choice(np.arange(0, 200), size=n, replace=False))
    times = pd.Timestamp("2021-01-03") + pd.to_timedelta(offsets, unit="D") + pd.Timedelta(hours=10, minutes=17)
    slope = rng.normal(size=shape)
    intercept = rng.normal(size=shape)
    days = ((times - times[0]) / pd.Timedelta(days=1)).to_numpy()
    values = intercept[None] + slope[None] * days[:, None, None]
    valid = rng.random((n, *shape)) > 0.4
    valid[0] = valid[-1] = True
    values = np.where(valid, values, 5000.0)
    return times, values, valid, slope, intercept


def test_gapfill_is_exact_on_a_linear_series_with_random_gaps():
    times, values, valid, slope, intercept = _irregular_linear()
    ds, ok = _series(times, values, valid)
    out = gapfill(ds, ok, step_days=10)
    days = ((out.time.to_index() - times[0].normalize()) / pd.Timedelta(days=1)).to_numpy()
    expected = intercept[None] + slope[None] * days[:, None, None]
    np.testing.assert_allclose(out["b"].values, expected, rtol=1e-5, atol=1e-4)


def test_gapfill_fills_the_ends_with_the_nearest_valid_value():
    times = pd.date_range("2021-01-01", periods=6, freq="10D")
    values = np.array([9.0, 9.0, 2.0, 4.0, 9.0, 9.0])[:, None, None]
    valid = np.array([False, False, True, True, False, False])[:, None, None]
    ds, ok = _series(times, values, valid)
    out = gapfill(ds, ok, step_days=5)["b"].values[:, 0, 0]
    assert out[0] == 2.0 and out[3] == 2.0
    assert out[4] == pytest.approx(2.0)
    assert out[5] == pytest.approx(3.0)
    assert out[6] == pytest.approx(4.0)
    assert np.all(out[7:] == 4.0)


def test_a_pixel_never_clear_is_nan_and_others_are_filled():
    times = pd.date_range("2021-01-01", periods=4, freq="10D")
    values = np.arange(8, dtype=float).reshape(4, 1, 2)
    valid = np.zeros((4, 1, 2), dtype=bool)
    valid[:, 0, 1] = True
    ds, ok = _series(times, values, valid)
    out = gapfill(ds, ok)["b"].values
    assert np.isnan(out[:, 0, 0]).all()
    np.testing.assert_allclose(out[:, 0, 1], values[:, 0, 1])


def test_no_valid_date_at_all_raises():
    times = pd.date_range("2021-01-01", periods=3, freq="10D")
    ds, ok = _series(times, np.ones((3, 2, 2)), np.zeros((3, 2, 2)))
    with pytest.raises(NoValidDateError, match="all 3 dates are masked"):
        gapfill(ds, ok)


def test_nan_values_count_as_invalid():
    times = pd.date_range("2021-01-01", periods=3, freq="10D")
    ds, ok = _series(times, np.array([0.0, np.nan, 2.0])[:, None, None], np.ones((3, 1, 1)))
    assert gapfill(ds, ok)["b"].values[1, 0, 0] == pytest.approx(1.0)


def test_grid_runs_from_first_to_last_date_or_given_bounds():
    grid = date_grid("2021-01-05T10:30", "2021-03-01", step_days=LANDSAT_STEP_DAYS)
    assert grid[0] == pd.Timestamp("2021-01-05") and grid[-1] <= pd.Timestamp("2021-03-01")
    assert (np.diff(grid.values) == np.timedelta64(16, "D")).all() and len(grid) == 4
    times, values, valid, *_ = _irregular_linear()
    ds, ok = _series(times, values, valid)
    out = gapfill(ds, ok, start="2021-02-01", end="2021-03-01", step_days=7)
    assert list(out.time.dt.strftime("%m-%d").values) == ["02-01", "02-08", "02-15", "02-22", "03-01"]
    with pytest.raises(ValueError, match="before its start"):
        date_grid("2021-03-01", "2021-01-01")


def test_unsorted_and_duplicate_dates_are_handled():
    times = pd.DatetimeIndex(["2021-01-21", "2021-01-01", "2021-01-11", "2021-01-11"])
    values = np.array([20.0, 0.0, 10.0, 10.0])[:, None, None]
    ds, ok = _series(times, values, np.ones((4, 1, 1)))
    out = gapfill(ds, ok, step_days=5)["b"].values[:, 0, 0]
    np.testing.assert_allclose(out, [0, 5, 10, 15, 20])


def test_gapfill_on_dask_equals_numpy_and_keeps_chunks_over_space():
    times, values, valid, *_ = _irregular_linear(shape=(6, 8))
    ds, ok = _series(times, values, valid)
    eager = gapfill(ds, ok)
    lazy = gapfill(ds.chunk({"time": 5, "y": 3, "x": 4}), ok.chunk({"time": 5, "y": 3, "x": 4}))
    assert lazy["b"].chunks is not None and lazy["b"].chunks[1] == (3, 3)
    np.testing.assert_allclose(lazy["b"].values, eager["b"].values)


def test_validity_from_theia_clm_any_bit_sen2cor_scl_and_landsat_qa():
    clm = xr.DataArray(np.array([0, 1, 16, 128], dtype=np.uint8), dims="time")
    assert valid_from_clm(clm).values.tolist() == [True, False, False, False]
    scl = xr.DataArray(np.array([4, 5, 6, 11, 3, 8, 9, 10, 0, 1]), dims="time")
    assert valid_from_scl(scl).values.tolist() == [True] * 4 + [False] * 6
    qa = xr.DataArray(np.array([1 << 6, 1 << 5 | 1 << 6, 1 << 3, 1 << 4, 1 << 1, 1 << 2, 1]), dims="time")
    assert valid_from_qa_pixel(qa).values.tolist() == [True, True, False, False, False, False, False]
    given = xr.DataArray(np.array([True, True, False, True]), dims="time")
    combined = validity(clm=clm * 0, valid=given, flags=[xr.DataArray(np.array([0, 1, 0, 0]), dims="time")])
    assert combined.values.tolist() == [True, False, False, True]
    assert int(clear_observations(combined)) == 2
