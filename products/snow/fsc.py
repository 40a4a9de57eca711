"""Fractional snow cover from the NDSI of snow pixels (science.md A.4; LIS >= 1.7, Sentinel-2).

All layers are uint8 in the codes of the SEB product: 0 no snow, 205 cloud, 255 nodata pass through
from ``snow`` (the ``snow`` variable of :func:`products.snow.detect.detect_snow`); snow pixels get a
value in 1..100. Values are rounded to the nearest percent (half to even) from the unquantised NDSI,
and a snow pixel never gets 0, so that 0 keeps meaning "no snow".
"""

import numpy as np
import xarray as xr

from products.snow.codes import SNOW
from products.snow.formula import compile_fsc_formula
from products.snow.params import SnowParams

TCD_UNDEFINED_ABOVE = 100
"""Tree cover density above 100 % (e.g. the HRL's 255) is undefined: FSC_OG then equals FSC_TOC."""


def ndsi_percent(*, snow: xr.DataArray, ndsi: xr.DataArray) -> xr.DataArray:
    """The NDSI layer as written by LIS: 100 x NDSI on snow pixels, the ``snow`` code elsewhere."""
    return _on_snow(snow, 100 * ndsi)


def fsc_toc(*, snow: xr.DataArray, ndsi: xr.DataArray, params: SnowParams = SnowParams(),
            shaded_snow: xr.DataArray | None = None) -> xr.DataArray:
    """FSC top of canopy = 100 x min(f(NDSI), 1) on snow pixels, f = ``params.fscToc_Eq``; 100 on ``shaded_snow``
    (snow only the shaded-snow test found: its NDSI, read in the dark, is not calibrated, so LIS sets it to 100)."""
    fraction = compile_fsc_formula(params.fscToc_Eq)(ndsi)
    percent = 100 * np.minimum(fraction, 1.0)
    if shaded_snow is not None:
        percent = xr.where(shaded_snow, 100.0, percent)
    return _on_snow(snow, percent)


def fsc_og(*, fsc_toc: xr.DataArray, tcd: xr.DataArray) -> xr.DataArray:
    """FSC on ground = 100 x min(FSC_TOC / (1 - TCD), 1) on snow pixels, TCD the tree cover density in %.

    Where TCD is undefined (> 100 or NaN) FSC_OG is FSC_TOC; where TCD is 100 % it is 100.
    """
    tcd = tcd.astype(np.float64)
    defined = tcd <= TCD_UNDEFINED_ABOVE
    open_fraction = (100 - tcd).where(defined & (tcd < 100))
    ground = (100 * fsc_toc.astype(np.float64) / open_fraction).fillna(100)
    ground = xr.where(defined, np.minimum(ground, 100), fsc_toc)
    return _on_snow(fsc_toc, ground, snow_values=_is_fraction(fsc_toc))


def _on_snow(codes: xr.DataArray, percent: xr.DataArray, *, snow_values: xr.DataArray | None = None) -> xr.DataArray:
    is_snow = codes == SNOW if snow_values is None else snow_values
    value = np.rint(percent).clip(1, 100)  # np.clip would compute a dask-backed array into memory
    return xr.where(is_snow, value, codes).astype(np.uint8)


def _is_fraction(fsc: xr.DataArray) -> xr.DataArray:
    return (fsc >= 1) & (fsc <= 100)
