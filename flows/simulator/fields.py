"""Smooth random fields on regular grids, cheap at any size.

A field is white noise on a coarse lattice (spacing a third of its correlation length), smoothed with a
Gaussian, normalised to unit standard deviation, and sampled at any regular grid of map coordinates by
separable (tensor-product) interpolation. The lattice covers the requested extent plus a margin, so a
field can also be sampled at shifted coordinates (cloud shadows) and has no wrap-around.
Everything is plain numpy/scipy and deterministic for a given ``numpy.random.Generator`` state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage


def clamp(a: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """``a`` limited to [lo, hi] in place (np.clip is several times slower on large float32 arrays)."""
    np.maximum(a, lo, out=a)
    np.minimum(a, hi, out=a)
    return a


def axis_weights(positions: np.ndarray, knots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the left knot and linear weight of the right knot, for each position (knots ascending)."""
    knots = np.asarray(knots, dtype=np.float64)
    i = np.clip(np.searchsorted(knots, positions, side="right") - 1, 0, len(knots) - 2)
    w = (positions - knots[i]) / (knots[i + 1] - knots[i])
    return i, w


def interp_separable(values: np.ndarray, rows: tuple[np.ndarray, np.ndarray], cols: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Bilinear interpolation of a 2-D array to a regular grid given per-axis (index, weight) pairs."""
    ci, cw = cols
    along_x = values[:, ci] * (1.0 - cw) + values[:, ci + 1] * cw
    ri, rw = rows
    out = along_x[ri]
    out *= (1.0 - rw)[:, None]
    upper = along_x[ri + 1]
    upper *= rw[:, None]
    out += upper
    return out


def _cubic_taps(t: np.ndarray) -> np.ndarray:
    """Keys cubic-convolution weights (a = -0.5) of the 4 taps around a fractional position t in [0, 1)."""
    a = -0.5
    d = np.stack([1 + t, t, 1 - t, 2 - t])
    w = np.where(d <= 1, (a + 2) * d**3 - (a + 3) * d**2 + 1, a * d**3 - 5 * a * d**2 + 8 * a * d - 4 * a)
    return w


def _cubic_axis(values: np.ndarray, pos: np.ndarray, axis: int) -> np.ndarray:
    n = values.shape[axis]
    i0 = np.floor(pos).astype(np.int64)
    taps = _cubic_taps(pos - i0)
    out = None
    for k, off in enumerate((-1, 0, 1, 2)):
        idx = np.clip(i0 + off, 0, n - 1)
        part = np.take(values, idx, axis=axis)
        w = taps[k][None, :] if axis == 1 else taps[k][:, None]
        out = part * w if out is None else out + part * w
    return out


@dataclass(frozen=True)
class SmoothField:
    """Unit-variance Gaussian-correlated noise on a coarse lattice, in map coordinates (metres)."""

    x0: float  # map x of lattice column 0
    y0: float  # map y of lattice row 0 (rows go south)
    step: float  # lattice spacing, metres
    values: np.ndarray  # (rows, cols) float64

    def sample(self, xs: np.ndarray, ys: np.ndarray, *, order: int = 1) -> np.ndarray:
        """Field values at the grid of x centres ``xs`` (columns) and y centres ``ys`` (rows), float32."""
        cols = (np.asarray(xs, dtype=np.float64) - self.x0) / self.step
        rows = (self.y0 - np.asarray(ys, dtype=np.float64)) / self.step
        if order == 3:
            out = _cubic_axis(_cubic_axis(self.values, cols, axis=1), rows, axis=0)
        else:
            ny, nx = self.values.shape
            ri, rw = axis_weights(rows, np.arange(ny, dtype=np.float64))
            ci, cw = axis_weights(cols, np.arange(nx, dtype=np.float64))
            out = interp_separable(self.values.astype(np.float32), (ri, rw.astype(np.float32)), (ci, cw.astype(np.float32)))
        return out.astype(np.float32, copy=False)


def smooth_field(
    rng: np.random.Generator,
    bounds: tuple[float, float, float, float],
    scale_m: float | tuple[float, float],
    *,
    margin_m: float = 0.0,
) -> SmoothField:
    """A field with correlation length ``scale_m`` (or (along y, along x)) over ``bounds`` plus ``margin_m``."""
    sy, sx = (scale_m, scale_m) if np.isscalar(scale_m) else scale_m
    step = min(sy, sx) / 3.0
    pad = 4.0 * max(sy, sx) + margin_m
    x_min, y_min, x_max, y_max = bounds
    x0, y0 = x_min - pad, y_max + pad
    nx = int(np.ceil((x_max + pad - x0) / step)) + 2
    ny = int(np.ceil((y0 - (y_min - pad)) / step)) + 2
    white = rng.standard_normal((ny, nx))
    smooth = ndimage.gaussian_filter(white, sigma=(sy / step, sx / step), mode="nearest", truncate=3.0)
    smooth = (smooth - smooth.mean()) / smooth.std()
    return SmoothField(x0=x0, y0=y0, step=step, values=smooth)
