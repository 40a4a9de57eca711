"""Decoding of the L2A cloud masks into all_cloud / shadow / high_cloud / nodata."""

import numpy as np
import xarray as xr

from products.snow.cloud_masks import (
    masks_from_qa_pixel,
    masks_from_scl,
    masks_from_theia_clm,
    nodata_from_values,
)
from products.snow.water import water_mask


def _row(values, dtype):
    return xr.DataArray(np.array([values], dtype=dtype), dims=("y", "x"))


def _flags(masks, name):
    return masks[name].values[0].tolist()


def test_scl_classes():
    masks = masks_from_scl(scl=_row(list(range(12)), "u1"))
    assert np.flatnonzero(masks.all_cloud.values[0]).tolist() == [3, 8, 9, 10]
    assert np.flatnonzero(masks.shadow.values[0]).tolist() == [3]
    assert np.flatnonzero(masks.high_cloud.values[0]).tolist() == [10]
    assert np.flatnonzero(masks.nodata.values[0]).tolist() == [0]


def test_scl_loaded_as_float_with_nan_reads_nan_as_nodata():
    masks = masks_from_scl(scl=_row([np.nan, 9.0, 4.0], "f4"))
    assert _flags(masks, "nodata") == [True, False, False]
    assert _flags(masks, "all_cloud") == [False, True, False]


def test_landsat_qa_pixel_bits():
    fill, dilated, cirrus, cloud, shadow, snow, clear, water = (1 << bit for bit in range(8))
    bits = [fill, dilated, cirrus, cloud, shadow, snow, clear, water, cloud | shadow]
    masks = masks_from_qa_pixel(qa_pixel=_row(bits, "u2"))
    assert _flags(masks, "all_cloud") == [False, True, True, True, True, False, False, False, True]
    assert _flags(masks, "shadow") == [False, False, False, False, True, False, False, False, True]
    assert _flags(masks, "high_cloud") == [False, False, True, False, False, False, False, False, False]
    assert _flags(masks, "nodata") == [True, False, False, False, False, False, False, False, False]


def test_landsat_dilated_ring_alone_is_a_cloud_candidate_not_when_another_cloud_bit_is_set():
    fill, dilated, cirrus, cloud, shadow, snow = (1 << bit for bit in range(6))
    bits = [fill, dilated, dilated | cloud, dilated | shadow, dilated | cirrus, dilated | snow, cloud, 0]
    masks = masks_from_qa_pixel(qa_pixel=_row(bits, "u2"))
    assert _flags(masks, "cloud_candidate") == [False, True, False, False, False, True, False, False]
    assert _flags(masks, "all_cloud") == [False, True, True, True, True, True, True, False]
    assert "cloud_candidate" not in masks_from_scl(scl=_row([8, 4], "u1")), "Sen2Cor has no ring"


def test_theia_clm_bits_and_nodata_from_swir():
    clm = _row([0, 1, 2, 16, 32, 64, 96, 128, 2 | 128], "u1")
    swir16 = _row([-10000, 500, 500, 500, 500, 500, 500, 500, 500], "i2")
    masks = masks_from_theia_clm(clm=clm, swir16=swir16)
    assert _flags(masks, "all_cloud") == [False] + [True] * 8
    assert _flags(masks, "shadow") == [False, False, False, False, True, True, True, False, False]
    assert _flags(masks, "high_cloud") == [False] * 7 + [True, True]
    assert _flags(masks, "nodata") == [True] + [False] * 8
    assert "bad_slope" not in masks


def test_theia_mg2_gives_the_slope_flags():
    mg2 = _row([0, 63, 64, 128, 192, 1 | 64], "u1")
    masks = masks_from_theia_clm(clm=_row([0] * 6, "u1"), swir16=_row([1.0] * 6, "f4"), mg2=mg2)
    assert _flags(masks, "sun_too_low") == [False, False, True, False, True, True]
    assert _flags(masks, "sun_tangent") == [False, False, False, True, True, False]
    assert _flags(masks, "bad_slope") == [False, False, True, True, True, True]


def test_water_mask_raster_values():
    raster = _row([0, 1, 2, np.nan], "f4")
    assert water_mask(raster=raster).values[0].tolist() == [False, True, False, False]
    assert water_mask(raster=raster, values=(1, 2)).values[0].tolist() == [False, True, True, False]


def test_nodata_from_declared_values_and_nan():
    band = _row([-10000.0, 0.0, np.nan, 0.3], "f4")
    assert nodata_from_values(band=band, values=[-10000, 0]).values[0].tolist() == [True, True, True, False]
