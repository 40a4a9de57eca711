"""The snowline elevation zs, from the pass-1 snow and cloud counts per elevation band (science.md A.3 step 4)."""

import math

import dask
import dask.array
import numpy as np
import xarray as xr

BAND_DIM = "elevation_band"
_CLOUD, _CLEAR, _SNOW = 0, 1, 2


def elevation_histogram(
    *, dem: xr.DataArray, snow: xr.DataArray, cloud: xr.DataArray, valid: xr.DataArray, dz: float
) -> xr.Dataset:
    """Counts of pixels, clear pixels and snow pixels per elevation band.

    Bands are ``dz`` high, from the minimum up to the maximum of the whole DEM (nodata pixels
    included, as the bands belong to the terrain); the coordinate ``elevation_band``
    is each band's lower edge in metres. Pixels that are not ``valid`` (nodata, water) or have no
    elevation are not counted. Clear means not ``cloud``.

    The DEM range is computed here, because it fixes the bands; on dask the counts stay lazy (one
    ``np.bincount`` per chunk, summed), so that a caller can compute them with other reductions.
    """
    low, high = (float(value) for value in dask.compute(dem.min(), dem.max()))
    bands = 0 if math.isnan(low) else int(math.floor((high - low) / dz)) + 1
    dem, snow, cloud, valid = xr.unify_chunks(dem, snow, cloud, valid)
    arrays = (dem.data, snow.data, cloud.data, valid.data)
    options = {"origin": low, "dz": dz, "bands": bands}
    if dask.is_dask_collection(dem.data):
        blocks = dask.array.map_blocks(
            _block_counts,
            *arrays,
            **options,
            new_axis=[2, 3],
            chunks=tuple((1,) * len(chunks) for chunks in dem.data.chunks) + ((bands,), (3,)),
            dtype=np.int64,
        )
        counts = blocks.sum(axis=(0, 1))
    else:
        counts = _block_counts(*arrays, **options)[0, 0]
    edges = low + dz * np.arange(bands, dtype=np.float64)
    return xr.Dataset(
        {
            "pixels": (BAND_DIM, counts.sum(axis=1)),
            "clear": (BAND_DIM, counts[:, _CLEAR] + counts[:, _SNOW]),
            "snow": (BAND_DIM, counts[:, _SNOW]),
        },
        coords={BAND_DIM: edges},
    )


def snowline_elevation(
    *, histogram: xr.Dataset, dz: float, fclear_lim: float, fsnow_lim: float
) -> float:
    """zs, or NaN when no band qualifies.

    Bands are scanned from the lowest upward; the first band where clear/pixels > ``fclear_lim`` and
    snow/clear > ``fsnow_lim`` defines zs as the lower edge of the band two below it, floored to the
    metre (LIS: floor(centre of band i-2 - dz/2)). zs may lie below the DEM minimum.
    """
    edges = histogram[BAND_DIM].values
    pixels, clear, snow = (np.asarray(histogram[name]) for name in ("pixels", "clear", "snow"))
    for edge, band_pixels, band_clear, band_snow in zip(edges, pixels, clear, snow, strict=True):
        if band_clear == 0:
            continue
        if band_clear / band_pixels > fclear_lim and band_snow / band_clear > fsnow_lim:
            return float(math.floor(edge - 2 * dz))
    return math.nan


def _block_counts(
    dem: np.ndarray,
    snow: np.ndarray,
    cloud: np.ndarray,
    valid: np.ndarray,
    *,
    origin: float,
    dz: float,
    bands: int,
) -> np.ndarray:
    counted = valid & np.isfinite(dem)
    band = np.floor((dem[counted] - origin) / dz).astype(np.int64)
    np.clip(band, 0, max(bands - 1, 0), out=band)
    state = np.where(cloud[counted], _CLOUD, np.where(snow[counted], _SNOW, _CLEAR))
    counts = np.bincount(band * 3 + state, minlength=3 * bands).reshape(bands, 3)
    return counts[np.newaxis, np.newaxis]
