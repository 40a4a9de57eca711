"""LIS snow detection (the SEB product): the passes of science.md A.3, in order.

Inputs are (y, x) DataArrays on one grid:

- ``reflectance``: Dataset with ``green``, ``red`` and ``swir16`` as surface reflectance in [0, 1]
  (floats; NaN is nodata).
- ``masks``: Dataset with boolean ``all_cloud``, ``shadow``, ``high_cloud`` and optionally ``nodata``,
  ``bad_slope`` and ``cloud_candidate`` (cloud for pass 1 and zs, kept out of the refined cloud mask, as
  Landsat's dilated-cloud ring), as made by :mod:`products.snow.cloud_masks`.
- ``dem``: elevation in metres; NaN, or the value of its ``nodata`` attr, where unknown. Such pixels
  are kept but take no part in the snowline histogram and cannot be pass-2 snow.
- ``water``: optional boolean mask; water becomes nodata, as in LIS.
- ``relief_shadow``: optional, non-zero where the terrain shades the pixel (:func:`products.terrain.relief_shadow`);
  with ``blue`` and ``nir`` in ``reflectance`` it turns on LIS's shaded-snow test (``params.detect_shaded_snow``).

Only two small reductions are computed here (the DEM range, then the elevation histogram together
with the pass-1 snow count), because zs and the pass-2 switch are single numbers over the whole
processing unit. Everything else stays lazy on dask.
"""

import math

import dask
import numpy as np
import xarray as xr

from products.snow.codes import CLOUD, NO_SNOW, NODATA, SNOW, SnowBit
from products.snow.downsample import coarse_red_nearest
from products.snow.params import SnowParams
from products.sensors import ROLES
from products.snow.snowline import elevation_histogram, snowline_elevation

BANDS = ROLES["snow"]
SHADED_SNOW_BANDS = ROLES["shaded_snow"]
REQUIRED_MASKS = ("all_cloud", "shadow", "high_cloud")
SPATIAL_DIMS = ("y", "x")


def detect_snow(
    *,
    reflectance: xr.Dataset,
    masks: xr.Dataset,
    dem: xr.DataArray,
    params: SnowParams = SnowParams(),
    water: xr.DataArray | None = None,
    relief_shadow: xr.DataArray | None = None,
) -> xr.Dataset:
    """Snow / cloud / no-snow codes of one processing unit, with the LIS bit layer, NDSI and zs.

    Returns a Dataset with

    - ``snow`` (y, x) uint8: 0 no snow, 100 snow, 205 cloud, 255 nodata (water included);
    - ``snow_bits`` (y, x) uint8: the LIS_SNOW_ALL bits, values of :class:`~products.snow.codes.SnowBit`
      (1 pass-1 snow, 2 pass-2 snow, 4 cloud pass 1, 8 cloud refine, 16 initial all_cloud, 32 bad
      slope, 64 snow found by the shaded-snow test alone); 0 on nodata pixels;
    - ``shaded_snow`` (y, x) bool: the snow the shaded-snow test alone found (LIS's uncalibrated shaded snow,
      whose FSC is set to 100);
    - ``ndsi`` (y, x) float32, NaN on nodata;
    - ``snow_percent`` and ``cloud_percent``: 0-d, percent of the valid (not nodata) pixels, NaN if none;
    - ``histogram_pixels``, ``histogram_clear``, ``histogram_snow`` on dim ``elevation_band`` (lower
      band edge in m): the counts zs was found from;
    - attrs ``zs`` (m, NaN when none was found; LIS writes -1000), ``pass2_run`` (bool) and
      ``snow_pass1_fraction`` (pass-1 snow pixels / all pixels, nodata included), ``shaded_snow_run`` (bool: the
      test ran, which needs the switch on, a relief shadow, blue and NIR, and pass 2).
    """
    green, red, swir16 = (_spatial(reflectance[name], name) for name in _require(reflectance, BANDS))
    for name, band in zip(BANDS, (green, red, swir16), strict=True):
        if not np.issubdtype(band.dtype, np.floating):
            raise TypeError(f"{name} must be a float reflectance in [0, 1], got dtype {band.dtype}")
    all_cloud, shadow, high_cloud = (
        _spatial(masks[name], name).astype(bool) for name in _require(masks, REQUIRED_MASKS)
    )
    nodata = _optional_mask(masks, "nodata", like=red)
    bad_slope = _optional_mask(masks, "bad_slope", like=red)
    dem = _elevation(_spatial(dem, "dem"))
    water = xr.zeros_like(red, dtype=bool) if water is None else _spatial(water, "water").astype(bool)
    xr.align(green, red, swir16, all_cloud, shadow, high_cloud, nodata, bad_slope, dem, water, join="exact")

    nodata = nodata | water | green.isnull() | red.isnull() | swir16.isnull()
    valid = ~nodata
    ndsi = normalized_difference_snow_index(green=green, swir16=swir16)

    snow_pass1 = valid & ~all_cloud & (ndsi > params.ndsi_pass1) & (red > params.red_pass1)
    cloud_pass1 = all_cloud
    red_nn = coarse_red_nearest(red=red.where(valid), rf=params.rf)
    candidate = _optional_mask(masks, "cloud_candidate", like=red)  # Landsat's dilated ring: tested like dark clouds
    cloud_refine = (all_cloud & ~candidate & (red_nn > params.red_darkcloud)) | shadow | high_cloud
    back_to_cloud = all_cloud & (red > params.red_backtocloud)

    histogram = elevation_histogram(dem=dem, snow=snow_pass1, cloud=cloud_pass1, valid=valid, dz=params.dz)
    histogram, pass1_count = dask.compute(histogram, snow_pass1.sum())
    zs = snowline_elevation(histogram=histogram, dz=params.dz, fclear_lim=params.fclear_lim, fsnow_lim=params.fsnow_lim)
    pass1_fraction = float(pass1_count) / red.size
    pass2_run = pass1_fraction > params.fsnow_total_lim and not math.isnan(zs)

    if pass2_run:
        snow_pass2 = valid & ~cloud_refine & (dem > zs) & (ndsi > params.ndsi_pass2) & (red > params.red_pass2)
    else:
        snow_pass2 = xr.zeros_like(snow_pass1)
    shaded_run = pass2_run and params.detect_shaded_snow and relief_shadow is not None and all(
        name in reflectance for name in SHADED_SNOW_BANDS)
    if shaded_run:
        blue, nir = (_spatial(reflectance[name], name) for name in SHADED_SNOW_BANDS)
        in_shadow = _spatial(relief_shadow, "relief_shadow") != 0
        xr.align(red, blue, nir, in_shadow, join="exact")
        shaded = valid & ~cloud_refine & (dem >= zs) & in_shadow & ((blue - nir) > params.shaded_snow_pass)
        shaded_only = shaded & ~snow_pass1 & ~snow_pass2
    else:
        shaded = shaded_only = xr.zeros_like(snow_pass1)
    snow = snow_pass1 | snow_pass2 | shaded
    if params.strict_cloud_mask:
        snow = snow & ~back_to_cloud

    codes = xr.where(snow, SNOW, xr.where(cloud_refine | back_to_cloud, CLOUD, NO_SNOW))
    codes = codes.where(valid, NODATA).astype(np.uint8)
    bits = _bit_layer(
        {
            SnowBit.PASS1_SNOW: snow_pass1,
            SnowBit.PASS2_SNOW: snow_pass2,
            SnowBit.CLOUD_PASS1: cloud_pass1,
            SnowBit.CLOUD_REFINE: cloud_refine,
            SnowBit.ALL_CLOUD: all_cloud,
            SnowBit.BAD_SLOPE: bad_slope,
            SnowBit.SHADED_SNOW: shaded_only,
        }
    ).where(valid, 0).astype(np.uint8)

    valid_count = valid.sum()
    valid_count = valid_count.where(valid_count > 0)
    result = xr.Dataset(
        {
            "snow": codes,
            "snow_bits": bits,
            "ndsi": ndsi.where(valid).astype(np.float32),
            "shaded_snow": shaded_only & (codes == SNOW),
            "snow_percent": 100 * (codes == SNOW).sum() / valid_count,
            "cloud_percent": 100 * (codes == CLOUD).sum() / valid_count,
            **{f"histogram_{name}": histogram[name] for name in histogram.data_vars},
        },
        attrs={"zs": zs, "pass2_run": pass2_run, "snow_pass1_fraction": pass1_fraction, "shaded_snow_run": shaded_run},
    )
    result["snow"].attrs.update(
        flag_values=[NO_SNOW, SNOW, CLOUD, NODATA], flag_meanings="no_snow snow cloud nodata", nodata=NODATA
    )
    return result


def normalized_difference_snow_index(*, green: xr.DataArray, swir16: xr.DataArray) -> xr.DataArray:
    """NDSI = (green - SWIR) / (green + SWIR); NaN where the sum is 0 or a band is NaN."""
    total = green + swir16
    return (green - swir16) / total.where(total != 0)


def _bit_layer(layers: dict[SnowBit, xr.DataArray]) -> xr.DataArray:
    return sum(layer.astype(np.uint8) * np.uint8(bit) for bit, layer in layers.items())  # type: ignore[return-value]


def _require(dataset: xr.Dataset, names: tuple[str, ...]) -> tuple[str, ...]:
    missing = [name for name in names if name not in dataset]
    if missing:
        raise KeyError(f"missing variable(s) {', '.join(missing)}; have {', '.join(map(str, dataset.data_vars))}")
    return names


def _spatial(array: xr.DataArray, name: str) -> xr.DataArray:
    if set(array.dims) != set(SPATIAL_DIMS):
        raise ValueError(f"{name} must have dims {SPATIAL_DIMS}, got {array.dims}")
    return array.transpose(*SPATIAL_DIMS)


def _elevation(dem: xr.DataArray) -> xr.DataArray:
    """The DEM as floats with NaN where it has no value, including its declared ``nodata`` (ODC sets that attr)."""
    nodata = dem.attrs.get("nodata")
    dem = dem.astype(np.float32) if not np.issubdtype(dem.dtype, np.floating) else dem
    return dem if nodata is None else dem.where(dem != nodata)


def _optional_mask(masks: xr.Dataset, name: str, *, like: xr.DataArray) -> xr.DataArray:
    if name in masks:
        return _spatial(masks[name], name).astype(bool)
    return xr.zeros_like(like, dtype=bool)
