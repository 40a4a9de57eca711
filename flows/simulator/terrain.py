"""A mountain range on the world grid: valleys at a few hundred metres, crests near 3000 m.

Elevation = a valley floor, plus a "mountain" indicator (large-scale noise, pushed down along one broad
main valley that crosses the area) times ridged relief (sharp crests from |noise|), plus mid- and
fine-scale roughness. Deterministic for a generator state; plain numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from flows.simulator.fields import smooth_field
from flows.simulator.geometry import WorldGrid

VALLEY_FLOOR_M = 280.0
RELIEF_M = 2850.0
LOWLAND_SHARE = 0.27  # share of the area that is valley floor


@dataclass(frozen=True)
class Terrain:
    elevation: np.ndarray  # metres, float32
    slope: np.ndarray  # degrees
    aspect: np.ndarray  # degrees clockwise from north, the direction the slope faces

    def cos_incidence(self, sun_zenith: float, sun_azimuth: float) -> np.ndarray:
        """Cosine of the sun's incidence angle on the terrain (negative: self-shadowed)."""
        z, a = np.radians(sun_zenith), np.radians(sun_azimuth)
        cos_s, east, north = self._normal
        out = cos_s * np.float32(np.cos(z))
        out += east * np.float32(np.sin(z) * np.sin(a))
        out += north * np.float32(np.sin(z) * np.cos(a))
        return out

    @cached_property
    def _normal(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """cos(slope), sin(slope) sin(aspect), sin(slope) cos(aspect): the surface normal's components."""
        s, asp = np.radians(self.slope), np.radians(self.aspect)
        return (np.cos(s).astype(np.float32), (np.sin(s) * np.sin(asp)).astype(np.float32),
                (np.sin(s) * np.cos(asp)).astype(np.float32))

    @property
    def southness(self) -> np.ndarray:
        """-cos(aspect) weighted by slope: +1 steep south face, -1 steep north face, 0 flat."""
        return (-np.cos(np.radians(self.aspect)) * np.clip(self.slope / 30.0, 0, 1)).astype(np.float32)


def make_terrain(world: WorldGrid, rng: np.random.Generator) -> Terrain:
    xs, ys = world.xs, world.ys
    b = world.bounds
    massif = smooth_field(rng, b, 3500.0).sample(xs, ys, order=3)
    octaves = [smooth_field(rng, b, scale).sample(xs, ys, order=3) for scale in (2400.0, 1200.0, 600.0, 300.0)]
    fine = smooth_field(rng, b, 120.0).sample(xs, ys, order=3)

    # one broad main valley crossing the area near its centre, at a random heading
    theta = rng.uniform(0, np.pi)
    cx, cy = (b[0] + b[2]) / 2 + rng.uniform(-0.15, 0.15) * (b[2] - b[0]), (b[1] + b[3]) / 2
    X, Y = np.meshgrid(xs - cx, ys - cy)
    across = (-np.sin(theta) * X + np.cos(theta) * Y).astype(np.float32)
    wiggle = 1200.0 * np.sin((np.cos(theta) * X + np.sin(theta) * Y) / 4000.0 + rng.uniform(0, 6.28))
    valley = np.exp(-(((across + wiggle) / 1800.0) ** 2)).astype(np.float32)

    # ridged multifractal: crest networks that branch, each octave weighted by the one above
    ridges = np.zeros_like(massif)
    weight = np.ones_like(massif)
    for amplitude, roundness, octave in zip((1.0, 0.5, 0.25, 0.12), (0.45, 0.3, 0.2, 0.1), octaves):
        smooth_abs = np.sqrt(octave * octave + roundness * roundness) - roundness
        signal = np.clip(1.0 - smooth_abs / 2.0, 0.0, 1.0) ** 2 * weight
        ridges += amplitude * signal
        weight = np.clip(signal * 1.6, 0.0, 1.0)
    mountain = 1.0 / (1.0 + np.exp(-(0.8 * massif - 2.2 * valley + 0.8) / 0.45))
    relief = mountain * (0.3 + ridges)
    # rank-based stretch: the same share of flat valley floor and the same summit height for every seed
    low, high = np.quantile(relief, [LOWLAND_SHARE, 0.997])
    s = np.clip((relief - low) / (high - low), 0.0, None)
    elevation = (VALLEY_FLOOR_M + RELIEF_M * s**1.2 + 25.0 * octaves[2] * (1.0 - np.minimum(s, 1.0))
                 + 20.0 * fine * (0.25 + np.minimum(s, 1.0)))
    elevation = elevation.astype(np.float32)
    return Terrain(elevation=elevation, **slope_aspect(elevation, world.res_x))


def slope_aspect(elevation: np.ndarray, res: float) -> dict[str, np.ndarray]:
    dz_drow, dz_dcol = np.gradient(elevation.astype(np.float64), res)
    dz_dx, dz_dy = dz_dcol, -dz_drow  # east, north
    slope = np.degrees(np.arctan(np.hypot(dz_dx, dz_dy)))
    aspect = np.degrees(np.arctan2(-dz_dx, -dz_dy)) % 360.0
    return {"slope": slope.astype(np.float32), "aspect": aspect.astype(np.float32)}
