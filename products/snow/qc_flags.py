"""The FSC quality layers: QCFLAGS bits, and the QCTOC / QCOG scores (science.md A.4).

QCFLAGS bit n has the value 2**n (:class:`~products.snow.codes.QcFlag`). QCTOC and QCOG go from 0
(best) to 3 (worst); the cloud and nodata codes of the FSC layer (205, 254, 255) pass through.
"""

import numpy as np
import xarray as xr

from products.snow.codes import CLOUD, NODATA, NODATA_LEGACY, QcFlag
from products.snow.fsc import TCD_UNDEFINED_ABOVE

TCD_DENSE_ABOVE = 90
_PASS_THROUGH = (CLOUD, NODATA_LEGACY, NODATA)


def qc_flags(
    *,
    fsc_toc: xr.DataArray,
    all_cloud: xr.DataArray,
    water: xr.DataArray | None = None,
    tcd: xr.DataArray | None = None,
    sun_too_low: xr.DataArray | None = None,
    sun_tangent: xr.DataArray | None = None,
    shaded_snow: xr.DataArray | None = None,
) -> xr.DataArray:
    """QCFLAGS (uint8); a flag whose input is not given stays 0.

    bit 0 sun too low for slope correction (MG2 bit 6), bit 1 sun tangent (MG2 bit 7), bit 2 water,
    bit 3 TCD > 90 % (and defined), bit 4 snow under thin cloud (all_cloud and FSC_TOC in 1..100),
    bit 5 TCD undefined (> 100 % or NaN), bit 6 FSC set to 100 by shaded-snow detection.
    """
    flags = {
        QcFlag.SUN_TOO_LOW: sun_too_low,
        QcFlag.SUN_TANGENT: sun_tangent,
        QcFlag.WATER: water,
        QcFlag.SNOW_UNDER_THIN_CLOUD: all_cloud.astype(bool) & (fsc_toc >= 1) & (fsc_toc <= 100),
        QcFlag.SHADED_SNOW: shaded_snow,
    }
    if tcd is not None:
        defined = tcd <= TCD_UNDEFINED_ABOVE
        flags[QcFlag.TCD_ABOVE_90] = defined & (tcd > TCD_DENSE_ABOVE)
        flags[QcFlag.TCD_UNDEFINED] = ~defined
    layer = xr.zeros_like(fsc_toc, dtype=np.uint8)
    for flag, mask in flags.items():
        if mask is not None:
            layer = layer | (mask.astype(np.uint8) * np.uint8(flag))
    return layer.astype(np.uint8)


def qc_toc(*, fsc_toc: xr.DataArray, flags: xr.DataArray) -> xr.DataArray:
    """QCTOC = min(3, 4 - max(0, (100 - 100 b6 - 30 b1 - 50 b0 - 25 b4 - 25 b2) / 25)), floored to an integer."""
    penalty = 100 * _bit(flags, QcFlag.SHADED_SNOW) + _common_penalty(flags)
    return _score(fsc_toc, penalty)


def qc_og(*, fsc_og: xr.DataArray, flags: xr.DataArray, tcd: xr.DataArray) -> xr.DataArray:
    """QCOG: QCTOC's formula with 80 x TCD (as a fraction) in place of the shaded-snow term;
    an undefined TCD (> 100 % or NaN) counts as 0 there, bit 5 of QCFLAGS records it."""
    tcd = tcd.astype(np.float64)
    tree_fraction = (tcd / 100).where(tcd <= TCD_UNDEFINED_ABOVE, 0.0)
    penalty = 80 * tree_fraction + _common_penalty(flags)
    return _score(fsc_og, penalty)


def _common_penalty(flags: xr.DataArray) -> xr.DataArray:
    return (
        30 * _bit(flags, QcFlag.SUN_TANGENT)
        + 50 * _bit(flags, QcFlag.SUN_TOO_LOW)
        + 25 * _bit(flags, QcFlag.SNOW_UNDER_THIN_CLOUD)
        + 25 * _bit(flags, QcFlag.WATER)
    )


def _bit(flags: xr.DataArray, flag: QcFlag) -> xr.DataArray:
    return ((flags & np.uint8(flag)) != 0).astype(np.int16)


def _score(fsc: xr.DataArray, penalty: xr.DataArray) -> xr.DataArray:
    score = np.minimum(3, np.floor(4 - np.maximum(0, (100 - penalty) / 25)))
    return xr.where(fsc.isin(_PASS_THROUGH), fsc, score).astype(np.uint8)
