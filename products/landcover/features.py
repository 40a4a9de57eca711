"""Per-pixel classification features from a gap-filled series (science.md B.2).

Per grid date: every reflectance band, NDVI = (NIR - R)/(NIR + R), NDWI = (SWIR - NIR)/(SWIR + NIR)
(Gao's index with iota2's sign) and brightness = sqrt(sum of the squared reflectances of all the
bands). Values stay float reflectances and unscaled indices (iota2 stores indices x1000 in int16
for disk; tree models do not care). Features are named `<variable>_d<days>`, days counted from
the grid's first date (or `origin`), so that series of different years on grids starting on the
same calendar day give the same names (near real time trains on past years).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from products.errors import MissingDataError
from products.landcover.gapfill import days_since
from products.sensors import LANDSAT_C2L2, ROLES, S2_L2A, Sensor

INDICES = ("ndvi", "ndwi", "brightness")
RESOLUTIONS_M = (10.0, 20.0)  # OSO maps at 10 m, Sentinel-2's visible and NIR bands (the others resampled); 20 m
DEFAULT_RESOLUTION_M = 10.0


@dataclass(frozen=True)
class BandRoles:
    """Which variables are red, NIR and SWIR, and which reflectance bands make features."""

    red: str
    nir: str
    swir: str
    reflectance: tuple[str, ...]

    @classmethod
    def of(cls, sensor: Sensor) -> BandRoles:
        """A sensor's roles from the sensor table: every reflectance band, and the bands NDVI and NDWI read."""
        red, nir, swir = (sensor.role(r).name for r in ROLES["land_cover"])
        return cls(red=red, nir=nir, swir=swir, reflectance=sensor.reflectance)


SENTINEL2 = BandRoles.of(S2_L2A)
"""Sentinel-2 L2A (Earth Search names): B2-B8, B8A, B11, B12 at 10 m; NDWI from B11 and B8."""

LANDSAT8 = BandRoles.of(LANDSAT_C2L2)
"""Landsat-8 Collection-2 L2 (B1-B7)."""


def normalized_difference(a: xr.DataArray, b: xr.DataArray) -> xr.DataArray:
    """(a - b) / (a + b); 0 where a + b = 0, NaN where an input is NaN."""
    total = a + b
    return xr.where(total == 0, 0.0, (a - b) / total.where(total != 0)).astype(np.float32)


def ndvi(red: xr.DataArray, nir: xr.DataArray) -> xr.DataArray:
    return normalized_difference(nir, red).rename("ndvi")


def ndwi(nir: xr.DataArray, swir: xr.DataArray) -> xr.DataArray:
    return normalized_difference(swir, nir).rename("ndwi")


def brightness(bands: Sequence[xr.DataArray]) -> xr.DataArray:
    return np.sqrt(sum(b.astype(np.float32) ** 2 for b in bands)).rename("brightness")


def spectral_indices(series: xr.Dataset, *, roles: BandRoles = SENTINEL2, indices: Sequence[str] = INDICES) -> xr.Dataset:
    """`series` with the requested indices added as variables."""
    unknown = set(indices) - set(INDICES)
    if unknown:
        raise ValueError(f"unknown indices {sorted(unknown)}; known: {INDICES}")
    needed = {"ndvi": (roles.red, roles.nir), "ndwi": (roles.nir, roles.swir), "brightness": roles.reflectance}
    missing = sorted({b for i in indices for b in needed[i]} - set(series.data_vars))
    if missing:
        raise MissingDataError(f"bands {missing} are missing for indices {list(indices)}; series has {sorted(series.data_vars)}")
    out = series.copy()
    if "ndvi" in indices:
        out["ndvi"] = ndvi(series[roles.red], series[roles.nir])
    if "ndwi" in indices:
        out["ndwi"] = ndwi(series[roles.nir], series[roles.swir])
    if "brightness" in indices:
        out["brightness"] = brightness([series[b] for b in roles.reflectance])
    return out


def feature_names(variables: Sequence[str], dates: Sequence[object], *, origin: object | None = None) -> tuple[str, ...]:
    """`<variable>_d<days since origin>` for every variable and date, variable-major."""
    dates = pd.DatetimeIndex(dates)
    offsets = np.rint(days_since(dates, dates[0] if origin is None else origin)).astype(int)
    return tuple(f"{v}_d{o:03d}" for v in variables for o in offsets)


def stack_features(
    series: xr.Dataset,
    *,
    variables: Sequence[str] | None = None,
    origin: object | None = None,
    dim: str = "time",
) -> xr.DataArray:
    """(y, x, feature) float32 DataArray of `variables` at every date of a gap-filled `series`."""
    variables = list(series.data_vars) if variables is None else list(variables)
    dates = pd.DatetimeIndex(series[dim].values)
    names = feature_names(variables, dates, origin=origin)
    parts = [series[v].astype(np.float32) for v in variables]
    spatial = [d for d in parts[0].dims if d != dim]
    stacked = xr.concat(
        [p.transpose(*spatial, dim).rename({dim: "feature"}).drop_vars("feature", errors="ignore") for p in parts],
        dim="feature",
        coords="minimal",
        compat="override",
        join="override",
    )
    return stacked.assign_coords(feature=list(names)).rename("features")


def features(
    series: xr.Dataset,
    *,
    roles: BandRoles | None = SENTINEL2,
    indices: Sequence[str] = INDICES,
    origin: object | None = None,
    dim: str = "time",
) -> xr.DataArray:
    """iota2 features of a gap-filled series: reflectance bands then indices, per date.

    With `roles=None` the series' own variables are the features (e.g. an NDVI-only series).
    """
    if roles is None:
        return stack_features(series, origin=origin, dim=dim)
    with_indices = spectral_indices(series, roles=roles, indices=indices)
    return stack_features(with_indices, variables=[*roles.reflectance, *indices], origin=origin, dim=dim)


def to_samples(features: xr.DataArray, mask: np.ndarray | xr.DataArray) -> np.ndarray:
    """(n, feature) array of the pixels where `mask` (y, x) is True, in row-major order."""
    flat_mask = np.asarray(mask, dtype=bool).ravel()
    spatial = [d for d in features.dims if d != "feature"]
    flat = features.transpose(*spatial, "feature").data.reshape(-1, features.sizes["feature"])
    picked = flat[np.flatnonzero(flat_mask)]
    return np.asarray(picked.compute() if hasattr(picked, "compute") else picked, dtype=np.float32)
