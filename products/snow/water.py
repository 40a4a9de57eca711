"""The permanent-water mask, which LIS turns into nodata before any test (LIS >= 1.7)."""

from collections.abc import Iterable

import xarray as xr


def water_mask(*, raster: xr.DataArray, values: Iterable[int] = (1,)) -> xr.DataArray:
    """Water where the raster (e.g. EU-Hydro at 20 m) holds one of ``values``
    (``SnowParams.water_mask_raster_values``); NaN is not water."""
    return raster.isin(list(values))
