"""Relief shadow from a DEM and the sun's position: the input of LIS's shaded-snow test (science.md A.3 step 5).

A pixel is in relief shadow when its own slope gets little direct sun (hillshade below ``hillshade_lim``, LIS's
"classic" mask) or when terrain between it and the sun hides the sun (a cast shadow: a north face beside a ridge
in December, even where its own slope faces the sun). Cast shadows are found by one sweep along the sun's
azimuth: each row carries the highest sun ray any pixel nearer the sun lets through, lowered by the sun's slope
at every step, so the cost is a few vector operations per row whatever the shadows' length.

Inputs are plain arrays on a north-up grid of square pixels (row 0 north, column 0 west); NaN is unknown
elevation, which neither casts nor receives a shadow. Angles in degrees, azimuth clockwise from north.
"""

import math

import numpy as np

LOW_HILLSHADE = 1
"""Bit of :func:`relief_shadow`: the slope's own hillshade is below the limit (self shadow included)."""
CAST = 2
"""Bit of :func:`relief_shadow`: terrain nearer the sun hides it."""

_NO_RAY = np.float32(-1e9)  # below any terrain: beyond the array edge nothing casts a shadow


def relief_shadow(
    *, dem: np.ndarray, pixel_size: float, sun_azimuth: float, sun_elevation: float, hillshade_lim: float = 0.2
) -> np.ndarray:
    """uint8 bits: LOW_HILLSHADE where the hillshade is below ``hillshade_lim``, CAST where terrain hides the sun;
    0 where the pixel is lit (LIS's ``relief_shadow != 0`` is any bit set)."""
    shade = hillshade(dem=dem, pixel_size=pixel_size, sun_azimuth=sun_azimuth, sun_elevation=sun_elevation)
    cast = cast_shadow(dem=dem, pixel_size=pixel_size, sun_azimuth=sun_azimuth, sun_elevation=sun_elevation)
    return ((shade < hillshade_lim) * np.uint8(LOW_HILLSHADE) | cast * np.uint8(CAST)).astype(np.uint8)


def hillshade(*, dem: np.ndarray, pixel_size: float, sun_azimuth: float, sun_elevation: float) -> np.ndarray:
    """Cosine of the sun's incidence on each pixel's slope (float32, negative on faces turned from the sun, NaN
    where the DEM is unknown): LIS's hillshade, the scalar product of the surface normal and the sun vector."""
    z = _checked(dem, pixel_size, sun_azimuth, sun_elevation)
    d_row, d_col = np.gradient(z, pixel_size)
    east, north = -d_col, d_row  # the normal's horizontal components: -dz/dx, -dz/dy (rows run south)
    az, el = math.radians(sun_azimuth), math.radians(sun_elevation)
    dot = east * np.float32(math.sin(az) * math.cos(el)) + north * np.float32(math.cos(az) * math.cos(el))
    dot += np.float32(math.sin(el))
    return (dot / np.sqrt(east * east + north * north + 1)).astype(np.float32)


def cast_shadow(*, dem: np.ndarray, pixel_size: float, sun_azimuth: float, sun_elevation: float) -> np.ndarray:
    """True where terrain between the pixel and the sun rises above the sun ray that would reach it."""
    z = _checked(dem, pixel_size, sun_azimuth, sun_elevation)
    az = math.radians(sun_azimuth)
    to_sun = (-math.cos(az), math.sin(az))  # (rows, columns) towards the sun
    transposed = abs(to_sun[1]) > abs(to_sun[0])
    if transposed:  # sweep along the axis nearest the sun's direction
        z, to_sun = z.T, (to_sun[1], to_sun[0])
    flipped = to_sun[0] > 0
    if flipped:  # the sun lies towards the last row: sweep from it
        z, to_sun = z[::-1], (-to_sun[0], to_sun[1])
    lateral = to_sun[1] / -to_sun[0]  # columns towards the sun per row towards it, in [-1, 1]
    drop = np.float32(pixel_size * math.hypot(1.0, lateral) * math.tan(math.radians(sun_elevation)))
    shadow = np.zeros(z.shape, dtype=bool)
    ray = np.where(np.isnan(z[0]), _NO_RAY, z[0])
    for i in range(1, z.shape[0]):
        arriving = _shifted(ray, lateral) - drop
        row = z[i]
        shadow[i] = arriving > row  # NaN compares False
        ray = np.fmax(arriving, row)
    if flipped:
        shadow = shadow[::-1]
    return np.ascontiguousarray(shadow.T if transposed else shadow)


def _shifted(values: np.ndarray, offset: float) -> np.ndarray:
    """values at column j + offset (linear between neighbours; beyond the edges no ray)."""
    whole = math.floor(offset)
    frac = np.float32(offset - whole)
    pad = 2
    padded = np.full(values.size + 2 * pad, _NO_RAY, dtype=np.float32)
    padded[pad:-pad] = values
    start = pad + whole
    left = padded[start:start + values.size]
    if frac == 0:
        return left
    right = padded[start + 1:start + 1 + values.size]
    return left * (1 - frac) + right * frac


def _checked(dem: np.ndarray, pixel_size: float, sun_azimuth: float, sun_elevation: float) -> np.ndarray:
    z = np.asarray(dem, dtype=np.float32)
    if z.ndim != 2 or min(z.shape) < 2:
        raise ValueError(f"the DEM must be a 2-D array of at least 2 x 2 pixels, got shape {z.shape}")
    if not pixel_size > 0:
        raise ValueError(f"pixel_size={pixel_size} must be a positive length in metres")
    if not 0 < sun_elevation <= 90:
        raise ValueError(f"sun_elevation={sun_elevation} must be in (0, 90] degrees: the sun is below the horizon")
    if not math.isfinite(sun_azimuth):
        raise ValueError(f"sun_azimuth={sun_azimuth} must be a finite angle in degrees")
    return z
