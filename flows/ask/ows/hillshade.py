"""Shaded relief of an elevation band, for datacube-ows' index functions (the map's base layer)."""

from __future__ import annotations

import numpy as np
import xarray as xr

METRES_PER_DEGREE = 111_320.0


def shade(elevation: np.ndarray, *, dx: float, dy: float, azimuth: float = 315.0, altitude: float = 45.0) -> np.ndarray:
    """Lambertian shading in [0, 1] of a grid with pixel sizes ``dx``, ``dy`` in the elevation's unit."""
    gy, gx = np.gradient(elevation, dy, dx, axis=(-2, -1))
    slope = np.arctan(np.hypot(gx, gy))
    aspect = np.arctan2(-gx, gy)
    az, alt = np.radians(360.0 - azimuth + 90.0), np.radians(altitude)
    lit = np.sin(alt) * np.cos(slope) + np.cos(alt) * np.sin(slope) * np.cos(az - aspect)
    return np.clip(lit, 0.0, 1.0)


def hillshade(data: xr.Dataset, band: str, band_mapper=None) -> xr.DataArray:
    """datacube-ows index function: the shaded relief of ``band`` on the request's grid (metres or degrees)."""
    name = band_mapper(band) if band_mapper else band
    elevation = data[name]
    xs, ys = elevation[elevation.dims[-1]].values, elevation[elevation.dims[-2]].values
    dx = float(abs(xs[1] - xs[0])) if xs.size > 1 else 1.0
    dy = float(ys[1] - ys[0]) if ys.size > 1 else -1.0
    crs = getattr(elevation.odc, "crs", None)
    if crs is not None and crs.geographic:
        lat = np.radians(float(np.mean(ys)))
        dx, dy = dx * METRES_PER_DEGREE * np.cos(lat), dy * METRES_PER_DEGREE
    values = elevation.values.astype("float64")
    shaded = shade(np.nan_to_num(values, nan=0.0), dx=dx, dy=-dy)
    return elevation.copy(data=np.where(np.isfinite(values), shaded, np.nan))
