"""Fractional snow cover: FSC_TOC formulas, FSC_OG with tree cover density, and the NDSI layer."""

import dask
import numpy as np
import pytest
import xarray as xr

from products.snow.codes import CLOUD, NO_SNOW, NODATA, SNOW
from products.snow.fsc import fsc_og, fsc_toc, ndsi_percent
from products.snow.params import FSC_LINEAR, SnowParams


def row(values, dtype="f4"):
    return xr.DataArray(np.array([values], dtype=dtype), dims=("y", "x"))


def test_published_tanh_fsc_on_snow_pixels():
    ndsi = row([0.2, 0.5, 0.7, 1.0])
    assert fsc_toc(snow=row([SNOW] * 4, "u1"), ndsi=ndsi).values[0].tolist() == [14, 45, 70, 92]


def test_linear_fsc_formula_is_capped_at_100():
    ndsi = row([0.2, 0.4, 0.6, 0.7])
    params = SnowParams(fscToc_Eq=FSC_LINEAR)
    assert fsc_toc(snow=row([SNOW] * 4, "u1"), ndsi=ndsi, params=params).values[0].tolist() == [28, 57, 86, 100]


def test_other_codes_pass_through_and_a_snow_pixel_is_never_0():
    snow = row([NO_SNOW, CLOUD, NODATA, SNOW], "u1")
    ndsi = row([0.9, 0.9, np.nan, 0.16])
    params = SnowParams(fscToc_Eq="0.001*ndsi")
    result = fsc_toc(snow=snow, ndsi=ndsi, params=params)
    assert result.dtype == np.uint8
    assert result.values[0].tolist() == [NO_SNOW, CLOUD, NODATA, 1]


def test_ndsi_layer_is_100_times_ndsi_on_snow_pixels_only():
    snow = row([SNOW, NO_SNOW, CLOUD, SNOW], "u1")
    assert ndsi_percent(snow=snow, ndsi=row([0.42, 0.3, 0.5, 1.0])).values[0].tolist() == [42, NO_SNOW, CLOUD, 100]


@pytest.mark.parametrize(
    ("toc", "tcd", "expected"),
    [
        (40, 50, 80),
        (60, 50, 100),
        (33, 10, 37),
        (40, 0, 40),
        (40, 100, 100),
        (40, 255, 40),
        (40, np.nan, 40),
        (NO_SNOW, 50, NO_SNOW),
        (CLOUD, 50, CLOUD),
        (NODATA, 0, NODATA),
    ],
)
def test_fsc_on_ground_corrects_for_tree_cover_density(toc, tcd, expected):
    assert fsc_og(fsc_toc=row([toc], "u1"), tcd=row([tcd])).values[0, 0] == expected


def test_fsc_is_lazy_and_identical_on_dask():
    snow = row([SNOW, SNOW, CLOUD, NO_SNOW, SNOW], "u1")
    ndsi = row([0.3, 0.8, 0.5, 0.1, 0.45])
    tcd = row([20, 255, 0, 0, 95], "u1")
    eager = fsc_og(fsc_toc=fsc_toc(snow=snow, ndsi=ndsi), tcd=tcd)
    with dask.config.set(scheduler=_refuse_to_compute):  # building the layers must not compute anything
        lazy = fsc_og(fsc_toc=fsc_toc(snow=snow.chunk(2), ndsi=ndsi.chunk(3)), tcd=tcd.chunk(2))
    assert lazy.chunks is not None
    xr.testing.assert_identical(eager, lazy.compute())


def _refuse_to_compute(*args, **kwargs):
    raise AssertionError("an FSC layer was computed while it was being built")
