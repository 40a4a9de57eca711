"""Clouds, their shadows and cirrus on one date.

Each date draws a cloud situation from the seed and the date: about a third of the dates near clear, most
partly cloudy, some mostly cloudy, a few fully overcast (more clouds in winter). The cloud opacity is a
thresholded multi-scale noise with soft, thin edges; cloud tops are bright in every band including the
SWIR (low NDSI) and some cloud parts are dark (low brightness), as LIS's "dark clouds". Shadows are the same
opacity field displaced away from the sun by (cloud height - ground) x tan(sun zenith), so clouds outside
the area can cast shadows inside it. Cirrus is an occasional thin, streaky veil.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from flows.simulator.fields import SmoothField, clamp, smooth_field
from flows.simulator.geometry import WorldGrid

CLOUD_OPACITY_MIN = 0.35  # opacity from which a pixel is cloud (SCL 8/9, QA_PIXEL cloud, truth 205)
CLOUD_HIGH_PROBA = 0.65  # opacity from which Sen2Cor says "high probability"
THIN_CLOUD_MIN = 0.12  # thinner veils are not flagged; between this and CLOUD_OPACITY_MIN: SCL 7
CIRRUS_MIN = 0.06
SHADOW_MIN = 0.4
_EDGE_WIDTH = 0.45  # opacity ramp width, in standard deviations of the cloud noise


@dataclass(frozen=True)
class Sky:
    target_fraction: float
    height_m: float
    shadow_offset_m: tuple[float, float]  # (dx, dy) from a cloud to its shadow, map metres
    opacity: np.ndarray  # 0..1
    brightness: np.ndarray  # multiplies the cloud-top spectrum
    shadow: np.ndarray  # 0..1, opacity of the cloud that shades the pixel
    cirrus: np.ndarray  # 0..~0.3

    @property
    def cloud(self) -> np.ndarray:
        return self.opacity >= CLOUD_OPACITY_MIN

    @property
    def cirrus_mask(self) -> np.ndarray:
        return (self.cirrus >= CIRRUS_MIN) & ~self.cloud

    @property
    def shadow_mask(self) -> np.ndarray:
        return (self.shadow >= SHADOW_MIN) & ~self.cloud

    @property
    def obscured(self) -> np.ndarray:
        """Pixels where the ground cannot be seen: cloud or cirrus (truth code 205)."""
        return self.cloud | (self.cirrus >= CIRRUS_MIN)


def draw_cloud_fraction(rng: np.random.Generator, day: dt.date) -> float:
    winter = day.month in (11, 12, 1, 2)
    u = rng.uniform()
    p_overcast, p_clear = (0.08, 0.28) if winter else (0.04, 0.36)
    if u < p_overcast:
        return 1.0
    if u < p_overcast + p_clear:
        return float(rng.uniform(0.0, 0.03))
    if u < 0.78:
        return float(rng.uniform(0.05, 0.5))
    return float(rng.uniform(0.5, 0.92))


def make_sky(world: WorldGrid, day: dt.date, seed: int, *, sun_zenith: float, sun_azimuth: float,
             ground_m: float) -> Sky:
    rng = np.random.default_rng([seed, 0xC10D, day.toordinal()])
    fraction = draw_cloud_fraction(rng, day)
    height = float(rng.uniform(1800.0, 5500.0))
    distance = max(height - ground_m, 300.0) * math.tan(math.radians(min(sun_zenith, 80.0)))
    az = math.radians(sun_azimuth)
    dx, dy = -distance * math.sin(az), -distance * math.cos(az)
    xs, ys = world.xs, world.ys
    b = world.bounds
    with_cirrus = rng.uniform() < 0.22
    streak_scale = (3000.0, 500.0) if rng.uniform() < 0.5 else (500.0, 3000.0)

    if 0.001 < fraction < 0.999:
        # three scales summed on the finest lattice, then sampled here and where the shadow casters are
        margin = distance + 1000.0
        fine = smooth_field(rng, b, 180.0, margin_m=margin)
        mid = smooth_field(rng, b, 700.0, margin_m=margin)
        big = smooth_field(rng, b, 2500.0, margin_m=margin)
        ny, nx = fine.values.shape
        lx = fine.x0 + np.arange(nx) * fine.step
        ly = fine.y0 - np.arange(ny) * fine.step
        merged = 0.2 * fine.values + 0.45 * mid.sample(lx, ly) + 0.75 * big.sample(lx, ly)
        field = SmoothField(x0=fine.x0, y0=fine.y0, step=fine.step, values=merged.astype(np.float32))
        n_here = field.sample(xs, ys)
        threshold = np.float32(np.quantile(n_here[::4, ::4], 1.0 - fraction))
        scale = np.float32(1.0 / _EDGE_WIDTH)

        def opacity(n: np.ndarray) -> np.ndarray:
            n -= threshold
            n *= scale
            return clamp(n, 0.0, 1.0) ** np.float32(0.8)

        cover = opacity(n_here)
        shadow = opacity(field.sample(xs - dx, ys - dy))
        brightness = clamp(0.85 + 0.3 * smooth_field(rng, b, 1500.0).sample(xs, ys), 0.35, 1.25)
    else:
        value = np.float32(1.0 if fraction >= 0.999 else 0.0)
        cover = np.full(world.shape, value, dtype=np.float32)
        shadow = cover
        brightness = np.full(world.shape, 0.85, dtype=np.float32)
    cirrus = np.zeros(world.shape, dtype=np.float32)
    if with_cirrus:
        streaks = smooth_field(rng, b, streak_scale).sample(xs, ys)
        cirrus = clamp(0.12 * (streaks - 0.3), 0.0, 0.3)
    return Sky(target_fraction=fraction, height_m=height, shadow_offset_m=(dx, dy), opacity=cover,
               brightness=brightness, shadow=shadow, cirrus=cirrus)
