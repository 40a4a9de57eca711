"""The masks LIS takes from an L2A product: all_cloud, shadow, high_cloud, and nodata.

Each function decodes one source (Sen2Cor SCL, Landsat Collection 2 QA_PIXEL, Theia/MAJA CLM) into an
``xarray.Dataset`` of boolean variables ``all_cloud``, ``shadow``, ``high_cloud`` and ``nodata``, the
``masks`` argument of :func:`products.snow.detect.detect_snow` (science.md A.3 step 1). Which classes or bits make
each mask are the mask's named pixel sets in the sensor table (:mod:`products.sensors`).
A mask raster loaded as floats with NaN for its nodata is accepted: NaN is read as the source's fill.
"""

from collections.abc import Iterable

import numpy as np
import xarray as xr

from products.sensors import QA_PIXEL, SCL, THEIA_L2A, Measurement

LIS_MASKS = ("all_cloud", "shadow", "high_cloud", "nodata")
CANDIDATE = "cloud_candidate"
CLM = THEIA_L2A.measurement("clm")
MG2 = THEIA_L2A.measurement("mg2")


def masks_from_l2a(*, mask: Measurement, raster: xr.DataArray) -> xr.Dataset:
    """The LIS masks of a class-coded (SCL) or bit-coded (QA_PIXEL) L2A mask: each is the mask's pixel set of
    that name (a class among the set's, or any of its bits set).

    A bit-coded mask with a ``cloud_candidate`` set (QA_PIXEL's dilated-cloud ring) adds ``cloud_candidate``: its
    pixels that no other all_cloud bit flags, which :func:`~products.snow.detect.detect_snow` keeps out of the
    refined cloud mask."""
    if mask.class_coded:
        codes = _as_int(raster, fill=mask.codes("nodata")[0])
        return _masks(**{name: codes.isin(mask.codes(name)) for name in LIS_MASKS})
    bits = _as_int(raster, fill=mask.bitmask("nodata"))
    masks = {name: _any_bit(bits, mask.bitmask(name)) for name in LIS_MASKS}
    if any(s.name == CANDIDATE for s in mask.sets):
        core = mask.bitmask("all_cloud") & ~mask.bitmask(CANDIDATE)
        masks[CANDIDATE] = _any_bit(bits, mask.bitmask(CANDIDATE)) & ~_any_bit(bits, core)
    return _masks(**masks)


def masks_from_scl(*, scl: xr.DataArray) -> xr.Dataset:
    """Sen2Cor SCL: all_cloud = {3, 8, 9, 10}, shadow = 3, high_cloud = 10, nodata = 0."""
    return masks_from_l2a(mask=SCL, raster=scl)


def masks_from_qa_pixel(*, qa_pixel: xr.DataArray) -> xr.Dataset:
    """Landsat C2 QA_PIXEL: all_cloud = dilated cloud | cirrus | cloud | shadow (bits 1-4),
    shadow = bit 4, high_cloud = cirrus (bit 2), nodata = fill (bit 0); cloud_candidate = the dilated ring alone."""
    return masks_from_l2a(mask=QA_PIXEL, raster=qa_pixel)


def masks_from_theia_clm(
    *, clm: xr.DataArray, swir16: xr.DataArray, mg2: xr.DataArray | None = None
) -> xr.Dataset:
    """Theia/MAJA CLM: all_cloud = CLM > 0, shadow = bit value 32 or 64, high_cloud = 128.

    ``swir16`` is the SWIR band as stored (int16, nodata -10000, or NaN once masked): LIS takes nodata
    from it. With the MG2 mask, ``sun_too_low`` (bit value 64), ``sun_tangent`` (128) and their union
    ``bad_slope`` (LIS's slope flag, MG2 >= 64) are added.
    """
    bits = _as_int(clm, fill=0)
    masks = _masks(
        **{name: _any_bit(bits, CLM.bitmask(name)) for name in LIS_MASKS if name != "nodata"},
        nodata=nodata_from_values(band=swir16, values=[THEIA_L2A.measurement("swir16").encoding.nodata]),
    )
    if mg2 is not None:
        slope_bits = _as_int(mg2, fill=0)
        masks["sun_too_low"] = _any_bit(slope_bits, MG2.bit("sun_too_low"))
        masks["sun_tangent"] = _any_bit(slope_bits, MG2.bit("sun_tangent"))
        masks["bad_slope"] = _any_bit(slope_bits, MG2.bitmask("bad_slope"))
    return masks


def nodata_from_values(*, band: xr.DataArray, values: Iterable[float]) -> xr.DataArray:
    """Pixels of a band equal to one of its nodata values, or NaN."""
    return band.isin(list(values)) | band.isnull()


def _any_bit(bits: xr.DataArray, mask: int) -> xr.DataArray:
    """Flagged when any bit of ``mask`` is set; for one bit that is LIS's ``(value & mask) == mask``."""
    return (bits & mask) != 0


def _as_int(raster: xr.DataArray, *, fill: int) -> xr.DataArray:
    if np.issubdtype(raster.dtype, np.integer):
        return raster
    return raster.fillna(fill).astype(np.int64)


def _masks(**masks: xr.DataArray) -> xr.Dataset:
    return xr.Dataset({name: mask.astype(bool) for name, mask in masks.items()})
