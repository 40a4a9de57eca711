"""The coarse red of the dark-cloud test: rf x rf block means brought back to full size."""

import numpy as np
import pytest
import xarray as xr

from products.snow.downsample import coarse_red_nearest


def test_block_means_repeat_over_their_blocks_with_partial_edge_blocks():
    red = xr.DataArray(np.arange(25, dtype="f4").reshape(5, 5), dims=("y", "x"))
    coarse = coarse_red_nearest(red=red, rf=2).values
    assert coarse[0, 0] == coarse[1, 1] == np.mean([0, 1, 5, 6])
    assert coarse[4, 4] == 24.0
    assert coarse[0, 4] == coarse[1, 4] == np.mean([4, 9])


def test_nan_pixels_are_left_out_and_an_empty_block_is_nan():
    values = [[np.nan, 0.4, np.nan, np.nan], [0.2, np.nan, np.nan, np.nan]]
    red = xr.DataArray(np.array(values, dtype="f4"), dims=("y", "x"))
    coarse = coarse_red_nearest(red=red, rf=2).values
    assert coarse[0, 0] == pytest.approx(0.3)
    assert np.isnan(coarse[:, 2:]).all()


@pytest.mark.parametrize("chunks", [{"y": 7, "x": 10}, {"y": 5, "x": 29}, {"y": 13, "x": 11}])
def test_dask_chunks_that_do_not_divide_rf_give_bit_identical_values_and_keep_their_chunks(chunks):
    red = xr.DataArray(np.random.default_rng(0).random((35, 29)).astype("f4"), dims=("y", "x"))
    red[3, 4] = np.nan
    lazy = coarse_red_nearest(red=red.chunk(chunks), rf=12)
    assert lazy.chunks == red.chunk(chunks).chunks
    np.testing.assert_array_equal(lazy.values, coarse_red_nearest(red=red, rf=12).values)
