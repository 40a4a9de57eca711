"""Season syntheses: same-day merge, daily linear gap filling, SCD / SOD / SMOD / NOBS / NSP."""

from datetime import date

import numpy as np
import pytest
import xarray as xr

from products.snow.codes import CLOUD, NODATA
from products.snow.daily_series import daily_snow, merge_same_day
from products.snow.params import SynthesisParams
from products.snow.synthesis import hydrological_year, snow_season_synthesis

START = np.datetime64("2020-09-01")


def series(days, values):
    """A (time, y, x) series with one pixel per column of ``values`` (a list per date), dates as day offsets."""
    times = (START + np.asarray(days)).astype("datetime64[ns]")
    data = np.asarray(values, dtype="u1").reshape(len(days), 1, -1)
    return xr.DataArray(data, dims=("time", "y", "x"), coords={"time": times})


def daily(days, values, *, length):
    return daily_snow(codes=series(days, values), start=START, stop=START + length - 1).values[:, 0, :].T.tolist()


def test_hydrological_years():
    assert hydrological_year(year=2016) == (date(2016, 9, 1), date(2017, 8, 31))
    assert hydrological_year(year=2023, hemisphere="south") == (date(2023, 3, 1), date(2024, 2, 29))


def test_same_day_merge_takes_the_first_valid_product_in_priority_order():
    codes = series([0, 0, 1, 1, 2, 2], [[CLOUD, 0], [100, 100], [0, NODATA], [100, 40], [CLOUD, NODATA], [254, CLOUD]])
    merged = merge_same_day(codes=codes, priority=[0, 1, 0, 1, 0, 1])
    assert merged.time.values.astype("datetime64[D]").tolist() == [date(2020, 9, d) for d in (1, 2, 3)]
    assert merged.values[:, 0, :].tolist() == [[100, 0], [0, 40], [CLOUD, NODATA]]
    landsat_first = merge_same_day(codes=codes, priority=[1, 0, 1, 0, 1, 0])
    assert landsat_first.values[:, 0, :].tolist() == [[100, 100], [100, 40], [254, CLOUD]]


def test_same_day_merge_orders_by_priority_not_by_position():
    codes = series([3, 3], [[0], [100]])
    assert merge_same_day(codes=codes, priority=[1, 0]).values.ravel().tolist() == [100]
    assert merge_same_day(codes=codes).values.ravel().tolist() == [0]


def test_gaps_are_filled_linearly_and_binarised_at_50():
    melting, falling = [100, 0], [0, 100]
    assert daily([0, 4], [melting, falling], length=5) == [[1, 1, 1, 0, 0], [0, 0, 1, 1, 1]]


def test_cloudy_and_nodata_observations_are_gaps():
    assert daily([0, 2, 3, 4], [[100], [0], [CLOUD], [NODATA]], length=5) == [[1, 1, 0, 0, 0]]
    assert daily([0, 2, 4], [[100], [CLOUD], [0]], length=5) == daily([0, 4], [[100], [0]], length=5)


def test_fsc_values_above_0_count_as_snow():
    assert daily([0, 1, 2], [[1], [0], [100]], length=3) == [[1, 0, 1]]


def test_ends_carry_the_nearest_valid_observation_and_a_never_seen_pixel_is_no_snow():
    assert daily([2, 4], [[100, CLOUD], [0, CLOUD]], length=7) == [[1, 1, 1, 1, 0, 0, 0], [0] * 7]


def test_observations_outside_the_season_support_the_interpolation():
    assert daily([-4, 4], [[100], [0]], length=4) == [[1, 0, 0, 0]]


def test_gap_filling_matches_numpy_interp_on_a_random_series():
    rng = np.random.default_rng(5)
    days = np.sort(rng.choice(np.arange(-10, 50), size=14, replace=False))
    values = rng.choice([0, 100, 30, CLOUD, NODATA], size=(days.size, 40))
    result = daily_snow(codes=series(days, values), start=START, stop=START + 39).values[:, 0, :]
    for pixel in range(values.shape[1]):
        valid = values[:, pixel] <= 100
        expected = np.interp(np.arange(40), days[valid], np.where(values[valid, pixel] > 0, 100.0, 0.0)) >= 50
        np.testing.assert_array_equal(result[:, pixel], expected)


def _every_day(pattern):
    days = list(range(len(pattern[0])))
    return series(days, np.array(pattern).T.tolist())


def test_scd_sod_smod_nsp_of_a_known_series():
    two_runs = [0, 0, 1, 1, 1, 1, 0, 0, 0, 0] + [1] * 15 + [0] * 5
    tied = [1] * 6 + [0] * 3 + [1] * 6 + [0] * 15
    short = [0] * 5 + [1] * 10 + [0] * 15
    synthesis = snow_season_synthesis(
        codes=_every_day([two_runs, tied, short]), start=START, stop=START + 29
    )
    assert synthesis.scd.values[0].tolist() == [19, 12, 10]
    assert synthesis.sod.values[0].tolist() == [10, 0, 0]
    assert synthesis.smod.values[0].tolist() == [24, 5, 0]
    assert synthesis.nsp.values[0].tolist() == [2, 2, 1]
    assert synthesis.nobs.values[0].tolist() == [30, 30, 30]
    assert {synthesis[name].dtype for name in ("scd", "sod", "smod", "nobs", "nsp")} == {np.dtype("u2")}


def test_min_snow_days_sets_where_sod_and_smod_are_computed():
    short = [0] * 5 + [1] * 10 + [0] * 15
    synthesis = snow_season_synthesis(
        codes=_every_day([short]), start=START, stop=START + 29, params=SynthesisParams(min_snow_days=9)
    )
    assert (synthesis.sod.item(), synthesis.smod.item()) == (5, 14)


def test_nobs_counts_valid_days_in_the_season_once():
    codes = series([-3, 0, 0, 1, 2, 5], [[100], [CLOUD], [0], [NODATA], [100], [0]])
    synthesis = snow_season_synthesis(codes=codes, start=START, stop=START + 4, priority=[0, 0, 1, 0, 0, 0])
    assert synthesis.nobs.item() == 2


def test_daily_series_must_be_merged_first():
    with pytest.raises(ValueError, match="merge_same_day"):
        daily_snow(codes=series([0, 0], [[0], [100]]), start=START, stop=START + 3)


def test_synthesis_is_identical_on_dask_with_time_split_in_chunks():
    rng = np.random.default_rng(8)
    days = np.sort(rng.choice(np.arange(-15, 380), size=60, replace=False))
    days = np.concatenate([days, days[:5]])
    codes = xr.DataArray(
        rng.choice([0, 100, 60, CLOUD, NODATA], size=(days.size, 6, 7)).astype("u1"),
        dims=("time", "y", "x"),
        coords={"time": (START + days).astype("datetime64[ns]")},
    )
    priority = [0] * 60 + [1] * 5
    stop = np.datetime64("2021-08-31")
    eager = snow_season_synthesis(codes=codes, start=START, stop=stop, priority=priority)
    chunked = codes.chunk({"time": 10, "y": 4, "x": 3})
    lazy = snow_season_synthesis(codes=chunked, start=START, stop=stop, priority=priority)
    assert lazy.scd.chunks is not None
    assert eager.daily_snow.sizes["time"] == 365
    assert eager.scd.values.max() > 10
    xr.testing.assert_identical(eager, lazy.compute())
