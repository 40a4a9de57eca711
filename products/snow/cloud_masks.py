"""The masks LIS takes from an L2A product: all_cloud, shadow, high_cloud, and nodata.

Each function decodes one source (Sen2Cor SCL, Landsat Collection 2 QA_PIXEL, Theia/MAJA CLM) into an
``xarray.Dataset`` of boolean variables ``all_cloud``, ``shadow``, ``high_cloud`` and ``nodata``, the
``masks`` argument of :func:`products.snow.detect.detect_snow` (science.md A.3 step 1).
A mask raster loaded as floats with NaN for its nodata is accepted: NaN is read as the source's fill.
"""

from collections.abc import Iterable

import numpy as np
import xarray as xr

SCL_NODATA = 0
SCL_CLOUD_SHADOW = 3
SCL_CLOUD_MEDIUM = 8
SCL_CLOUD_HIGH = 9
SCL_THIN_CIRRUS = 10
SCL_ALL_CLOUD = (SCL_CLOUD_SHADOW, SCL_CLOUD_MEDIUM, SCL_CLOUD_HIGH, SCL_THIN_CIRRUS)

QA_FILL = 1 << 0
QA_DILATED_CLOUD = 1 << 1
QA_CIRRUS = 1 << 2
QA_CLOUD = 1 << 3
QA_CLOUD_SHADOW = 1 << 4
QA_ALL_CLOUD = QA_DILATED_CLOUD | QA_CIRRUS | QA_CLOUD | QA_CLOUD_SHADOW

CLM_SHADOW_INSIDE = 32
CLM_SHADOW_OUTSIDE = 64
CLM_HIGH_CLOUD = 128
MG2_SUN_TOO_LOW = 64
MG2_SUN_TANGENT = 128
THEIA_NODATA = -10000


def masks_from_scl(*, scl: xr.DataArray) -> xr.Dataset:
    """Sen2Cor SCL: all_cloud = {3, 8, 9, 10}, shadow = 3, high_cloud = 10, nodata = 0."""
    codes = _as_int(scl, fill=SCL_NODATA)
    return _masks(
        all_cloud=codes.isin(SCL_ALL_CLOUD),
        shadow=codes == SCL_CLOUD_SHADOW,
        high_cloud=codes == SCL_THIN_CIRRUS,
        nodata=codes == SCL_NODATA,
    )


def masks_from_qa_pixel(*, qa_pixel: xr.DataArray) -> xr.Dataset:
    """Landsat C2 QA_PIXEL: all_cloud = dilated cloud | cirrus | cloud | shadow (bits 1-4),
    shadow = bit 4, high_cloud = cirrus (bit 2), nodata = fill (bit 0)."""
    bits = _as_int(qa_pixel, fill=QA_FILL)
    return _masks(
        all_cloud=_any_bit(bits, QA_ALL_CLOUD),
        shadow=_all_bits(bits, QA_CLOUD_SHADOW),
        high_cloud=_all_bits(bits, QA_CIRRUS),
        nodata=_all_bits(bits, QA_FILL),
    )


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
        all_cloud=bits > 0,
        shadow=_all_bits(bits, CLM_SHADOW_INSIDE) | _all_bits(bits, CLM_SHADOW_OUTSIDE),
        high_cloud=_all_bits(bits, CLM_HIGH_CLOUD),
        nodata=(swir16 == THEIA_NODATA) | swir16.isnull(),
    )
    if mg2 is not None:
        slope_bits = _as_int(mg2, fill=0)
        masks["sun_too_low"] = _all_bits(slope_bits, MG2_SUN_TOO_LOW)
        masks["sun_tangent"] = _all_bits(slope_bits, MG2_SUN_TANGENT)
        masks["bad_slope"] = masks["sun_too_low"] | masks["sun_tangent"]
    return masks


def nodata_from_values(*, band: xr.DataArray, values: Iterable[float]) -> xr.DataArray:
    """Pixels of a band equal to one of its nodata values, or NaN."""
    return band.isin(list(values)) | band.isnull()


def _all_bits(bits: xr.DataArray, mask: int) -> xr.DataArray:
    """LIS's bit test: flagged when ``(value & mask) == mask``."""
    return (bits & mask) == mask


def _any_bit(bits: xr.DataArray, mask: int) -> xr.DataArray:
    return (bits & mask) != 0


def _as_int(raster: xr.DataArray, *, fill: int) -> xr.DataArray:
    if np.issubdtype(raster.dtype, np.integer):
        return raster
    return raster.fillna(fill).astype(np.int64)


def _masks(**masks: xr.DataArray) -> xr.Dataset:
    return xr.Dataset({name: mask.astype(bool) for name, mask in masks.items()})
