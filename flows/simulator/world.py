"""The simulated world and its state on any date.

``build_world(seed, size_km, centre)`` makes the static part (terrain, parcels, textures) once;
``World.state(day)`` gives everything a sensor would see that day on the world grid (EPSG:3035, 20 m):
surface reflectance in the ten Sentinel-2 bands (snow, clouds, cloud shadows, cirrus and a residual
topographic effect and the relief's cast shadows included), the snow truth, the cloud truth, and the Sen2Cor SCL and Landsat QA_PIXEL
that a perfect classifier would write. Sensors only sample this state on their own grids, so every
pixel they record can be traced back to one world pixel.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import ndimage

from flows.simulator import atmosphere, snow
from flows.simulator.fields import clamp, smooth_field
from flows.simulator.geometry import DEFAULT_CENTRE, WORLD_RESOLUTION, WorldGrid, s2_tiles_for
from flows.simulator.landcover import GLACIER, WATER, Parcels, make_parcels
from flows.simulator.spectra import (
    BANDS,
    CAST_SHADOW_LIGHT,
    NIR,
    RED,
    SHADOW_DEPTH,
    SPECTRA,
)
from flows.simulator.sun import solar_position
from flows.simulator.terrain import Terrain, make_terrain, slope_aspect
from products.sensors import QA_PIXEL, SCL
from products.terrain import cast_shadow

MODEL_VERSION = "3"  # 2: CFMask's dilated-cloud ring drawn in Landsat pixels; 3: the relief casts shadows
NOMINAL_TIME = dt.time(10, 30)  # UTC, the world's sun for illumination and shadows
TOPOGRAPHIC_RESIDUAL = 0.35  # share of the slope illumination effect left after the L2A terrain correction
SELF_SHADOW_FACTOR = 0.45  # faces turned away from the sun see diffuse light only
OVERLAP_KM = 3.0  # how far Sentinel-2 tiles reach across the UTM zone edge

# truth codes (LIS SEB convention)
NO_SNOW, SNOW, CLOUD, OUTSIDE = 0, 100, 205, 255

# Sen2Cor scene classification codes
SCL_DARK, SCL_SHADOW, SCL_VEG, SCL_NOT_VEG, SCL_WATER, SCL_UNCLASSIFIED = (
    SCL.value(n) for n in ("dark_area_pixels", "cloud_shadows", "vegetation", "not_vegetated", "water", "unclassified"))
SCL_CLOUD_MEDIUM, SCL_CLOUD_HIGH, SCL_CIRRUS, SCL_SNOW = (
    SCL.value(n) for n in ("cloud_medium_probability", "cloud_high_probability", "thin_cirrus", "snow_ice"))

# Landsat Collection 2 QA_PIXEL bits
QA_FILL, QA_DILATED, QA_CIRRUS, QA_CLOUD, QA_SHADOW, QA_SNOW, QA_CLEAR, QA_WATER = (
    QA_PIXEL.bit(n) for n in ("nodata", "dilated_cloud", "cirrus", "cloud", "cloud_shadow", "snow", "clear", "water"))


@dataclass(frozen=True)
class SceneState:
    """What the world looks like on one date (all arrays on the world grid)."""

    day: dt.date
    sun_zenith: float
    sun_azimuth: float
    snowline_m: float
    reflectance: np.ndarray  # (10, rows, cols) float32, BANDS order
    snow_fraction: np.ndarray  # ground snow cover 0..1
    snow: np.ndarray  # bool, snow truth on the ground
    sky: atmosphere.Sky
    water: np.ndarray  # bool
    illumination: np.ndarray  # factor applied to the ground for the sun-slope geometry (red's, in cast shadow)
    cast_shadow: np.ndarray  # bool: the relief hides the sun

    @cached_property
    def scl(self) -> np.ndarray:
        """uint8 Sen2Cor scene classification a perfect classifier would write."""
        return _scl(self.reflectance, self.snow, self.water, self.illumination, self.sky)

    @cached_property
    def qa_pixel(self) -> np.ndarray:
        """uint16 Landsat C2 QA_PIXEL a perfect classifier would write (fill bit never set here), before CFMask's
        dilated-cloud ring, which is drawn on the Landsat grid (:func:`dilated_cloud_ring`)."""
        return _qa_pixel(self.snow, self.water, self.sky)

    @property
    def truth(self) -> np.ndarray:
        """uint8: 0 no snow, 100 snow, 205 cloud (ground not visible)."""
        out = np.where(self.snow, SNOW, NO_SNOW).astype(np.uint8)
        out[self.sky.obscured] = CLOUD
        return out

    def band(self, name: str) -> np.ndarray:
        return self.reflectance[BANDS.index(name)]

    def stats(self) -> dict:
        n = self.snow.size
        return {
            "date": self.day.isoformat(),
            "snowline_m": round(self.snowline_m, 1),
            "cloud_fraction": round(float(self.sky.obscured.sum()) / n, 4),
            "cloud_target_fraction": round(self.sky.target_fraction, 4),
            "cloud_shadow_fraction": round(float(self.sky.shadow_mask.sum()) / n, 4),
            "cirrus_fraction": round(float(self.sky.cirrus_mask.sum()) / n, 4),
            "snow_fraction": round(float(self.snow.sum()) / n, 4),
            "cast_shadow_fraction": round(float(self.cast_shadow.sum()) / n, 4),
            "cloud_height_m": round(self.sky.height_m, 1),
            "sun_zenith": round(self.sun_zenith, 3),
            "sun_azimuth": round(self.sun_azimuth, 3),
        }


@dataclass(frozen=True)
class World:
    seed: int
    grid: WorldGrid
    terrain: Terrain
    parcels: Parcels
    texture: np.ndarray  # static multiplicative brightness texture
    snow_patches: np.ndarray  # static snowline perturbation, metres

    @cached_property
    def fingerprint(self) -> str:
        doc = {"model": MODEL_VERSION, "seed": self.seed, "grid": self.grid.to_dict(), "overlap_km": OVERLAP_KM}
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]

    @cached_property
    def centre_lonlat(self) -> tuple[float, float]:
        lon, lat = self.grid.lonlat
        ny, nx = self.grid.shape
        return float(lon[ny // 2, nx // 2]), float(lat[ny // 2, nx // 2])

    @cached_property
    def s2_tiles(self):
        return s2_tiles_for(self.grid, overlap_km=OVERLAP_KM)

    @cached_property
    def water(self) -> np.ndarray:
        return self.parcels.fixed_code[self.parcels.labels] == WATER

    @cached_property
    def glacier(self) -> np.ndarray:
        return self.parcels.fixed_code[self.parcels.labels] == GLACIER

    @cached_property
    def median_elevation(self) -> float:
        return float(np.median(self.terrain.elevation))

    @cached_property
    def glacier_index(self) -> np.ndarray:
        return np.flatnonzero(self.glacier)

    @cached_property
    def effective_elevation(self) -> np.ndarray:
        """Elevation the snowline is compared with: sunny faces lose snow first; patchy noise."""
        return (self.terrain.elevation - snow.ASPECT_SHIFT_M * self.terrain.southness + self.snow_patches).astype(np.float32)

    def sun(self, day: dt.date, time: dt.time = NOMINAL_TIME) -> tuple[float, float]:
        lon, lat = self.centre_lonlat
        return solar_position(dt.datetime.combine(day, time, tzinfo=dt.timezone.utc), lon, lat)

    def cast_shadow(self, sun_zenith: float, sun_azimuth: float) -> np.ndarray:
        """Where the relief hides the sun (lakes included: they are as dark there as the land)."""
        return cast_shadow(dem=self.terrain.elevation, pixel_size=self.grid.res_x, sun_azimuth=sun_azimuth,
                           sun_elevation=90.0 - sun_zenith)

    def snowline(self, day: dt.date) -> float:
        return snow.snowline(day, self.seed)

    def ground_snow(self, day: dt.date) -> np.ndarray:
        """The snow on the ground of ``day`` (bool), whatever the sky: the truth under clouds too, which a daily
        gap-filled map is scored against."""
        return self._snow_truth(snow.snow_cover(self.effective_elevation, self.snowline(day)))

    def _snow_truth(self, fsc: np.ndarray) -> np.ndarray:
        return ((fsc >= 0.5) | self.glacier) & ~self.water

    def state(self, day: dt.date) -> SceneState:
        zen, az = self.sun(day)
        line = self.snowline(day)
        labels = self.parcels.labels

        spectra, codes, canopy = self.parcels.reflectance(day)
        fsc = snow.snow_cover(self.effective_elevation, line)
        fsc[self.glacier] = 1.0
        fsc[self.water] = 0.0
        visible_snow = fsc * (1.0 - canopy[labels])
        ground_share = self.texture * (1.0 - visible_snow)  # what of the snow-free spectrum remains
        age = snow.snow_age(day)
        snow_spec = (1.0 - age) * SPECTRA["snow_fresh"] + age * SPECTRA["snow_old"]
        doy = day.timetuple().tm_yday
        ice_share = float(np.clip(1.0 - abs(doy - 235) / 45.0, 0.0, 1.0)) * 0.65
        glacier_spec = ice_share * SPECTRA["ice"] + (1.0 - ice_share) * snow_spec

        cos_i = self.terrain.cos_incidence(zen, az)
        cos_z = max(math.cos(math.radians(zen)), 0.05)
        illum = cos_i * np.float32(TOPOGRAPHIC_RESIDUAL / cos_z)
        illum += np.float32(1.0 - TOPOGRAPHIC_RESIDUAL)
        illum = np.where(cos_i > 0.03, clamp(illum, 0.45, 1.6), np.float32(SELF_SHADOW_FACTOR)).astype(np.float32)
        illum[self.water] = 1.0
        cast = self.cast_shadow(zen, az)
        cast_at = np.flatnonzero(cast)
        illum.flat[cast_at] = 1.0  # the band's diffuse share replaces it below

        sky = atmosphere.make_sky(self.grid, day, self.seed, sun_zenith=zen, sun_azimuth=az, ground_m=self.median_elevation)
        rng = np.random.default_rng([self.seed, 0x0B5, day.toordinal()])
        speckle = rng.standard_normal(self.grid.shape, dtype=np.float32) * np.float32(0.003)

        # band-independent factors: ground x (lit - shaded x depth[band]) + cloud top + cirrus veil
        has_cirrus = bool(sky.cirrus.any())
        has_cloud = bool(sky.opacity.any())
        has_shadow = bool(sky.shadow.any())  # clouds outside the area can shade it
        veil = (1.0 - 0.35 * sky.cirrus) if has_cirrus else np.float32(1.0)
        lit = illum * (1.0 - sky.opacity) * veil if has_cloud or has_cirrus else illum
        shaded = lit * sky.shadow if has_shadow else None
        cloud_top = sky.opacity * sky.brightness * veil if has_cloud else None
        glacier_at = self.glacier_index
        refl = np.empty((len(BANDS), *self.grid.shape), dtype=np.float32)
        for k in range(len(BANDS)):
            out = spectra[:, k][labels]
            out *= ground_share
            out += visible_snow * np.float32(snow_spec[k])
            out.flat[glacier_at] = glacier_spec[k]
            out.flat[cast_at] *= CAST_SHADOW_LIGHT[k]
            out *= lit if shaded is None else lit - shaded * SHADOW_DEPTH[k]
            if cloud_top is not None:
                out += cloud_top * SPECTRA["cloud"][k]
            if has_cirrus:
                out += sky.cirrus * SPECTRA["cirrus"][k]
            out += speckle * np.float32(1.0 + 0.1 * k)
            refl[k] = clamp(out, 0.0, 1.5)

        snow_truth = self._snow_truth(fsc)
        illum.flat[cast_at] = CAST_SHADOW_LIGHT[RED]
        return SceneState(day=day, sun_zenith=zen, sun_azimuth=az, snowline_m=line, reflectance=refl,
                          snow_fraction=fsc, snow=snow_truth, sky=sky, water=self.water, illumination=illum,
                          cast_shadow=cast)


def _scl(refl: np.ndarray, snow_truth: np.ndarray, water: np.ndarray, illum: np.ndarray, sky: atmosphere.Sky) -> np.ndarray:
    nir, red = refl[NIR], refl[RED]
    ndvi = (nir - red) / np.maximum(nir + red, 1e-6)
    scl = np.where(ndvi > 0.4, SCL_VEG, SCL_NOT_VEG).astype(np.uint8)
    scl[(illum < 0.5) & ~snow_truth & ~water] = SCL_DARK
    scl[(sky.opacity >= atmosphere.THIN_CLOUD_MIN) & ~sky.cloud] = SCL_UNCLASSIFIED
    scl[water] = SCL_WATER
    scl[snow_truth] = SCL_SNOW
    scl[sky.shadow_mask] = SCL_SHADOW
    scl[sky.cirrus_mask] = SCL_CIRRUS
    scl[sky.cloud] = SCL_CLOUD_MEDIUM
    scl[sky.opacity >= atmosphere.CLOUD_HIGH_PROBA] = SCL_CLOUD_HIGH
    return scl


CFMASK_DILATION_PX = 3
"""CFMask grows every cloud by 3 Landsat pixels (a 7 x 7 square, as Fmask's ``imdilate(cloud, strel('square', 7))``)
and flags the ring as dilated cloud (QA_PIXEL bit 1), the clear bit off."""


def dilated_cloud_ring(qa: np.ndarray, *, pixels: int = CFMASK_DILATION_PX) -> np.ndarray:
    """``qa`` on its Landsat grid (30 m) with CFMask's ring around every cloud: the dilated-cloud bit set and the
    clear bit cleared within ``pixels`` (a square) of a cloud pixel; the ring is drawn in Landsat pixels, so it
    is added after sampling to that grid."""
    cloud = (qa & QA_CLOUD) > 0
    if not cloud.any():
        return qa
    ring = ndimage.maximum_filter(cloud, size=2 * pixels + 1, mode="constant") & ~cloud & ((qa & QA_FILL) == 0)
    out = qa.copy()
    out[ring] = (out[ring] | np.uint16(QA_DILATED)) & ~np.uint16(QA_CLEAR)
    return out


def _qa_pixel(snow_truth: np.ndarray, water: np.ndarray, sky: atmosphere.Sky) -> np.ndarray:
    """QA_PIXEL on the world grid, without the dilated-cloud ring (:func:`dilated_cloud_ring` draws it in Landsat
    pixels)."""
    cloud = sky.cloud
    cirrus = sky.cirrus >= atmosphere.CIRRUS_MIN
    shadow = sky.shadow_mask
    snow_bit = snow_truth & ~cloud
    u16 = np.uint16

    def bit(mask: np.ndarray, value: int) -> np.ndarray:
        return mask.astype(u16) * u16(value)

    qa = bit(cirrus, QA_CIRRUS) | bit(cloud, QA_CLOUD) | bit(shadow, QA_SHADOW)
    qa |= bit(snow_bit, QA_SNOW) | bit(~cloud, QA_CLEAR) | bit(water & ~cloud, QA_WATER)
    # confidences (2 bits each): high (3) when flagged, else low (1); thin cloud edges medium (2)
    thin = (sky.opacity >= atmosphere.THIN_CLOUD_MIN) & ~cloud
    qa |= (u16(1) + bit(cloud, 2) + bit(thin, 1)) << u16(8)
    qa |= u16(1 << 10) | bit(shadow, 2 << 10)
    qa |= u16(1 << 12) | bit(snow_bit, 2 << 12)
    qa |= u16(1 << 14) | bit(cirrus, 2 << 14)
    return qa


def build_world(seed: int = 42, size_km: float = 20.0, centre: tuple[float, float] = DEFAULT_CENTRE,
                resolution: float = WORLD_RESOLUTION) -> World:
    """The static world for ``seed``, drawn in ``resolution`` m pixels: the same arguments always give the same
    world."""
    grid = WorldGrid.around(centre, size_km, resolution)
    terrain = make_terrain(grid, np.random.default_rng([seed, 0x7E2]))
    parcels = make_parcels(grid, terrain, np.random.default_rng([seed, 0x9A2]))
    # lakes are flat: their surface at the low end of their pixels' elevations
    water = parcels.fixed_code[parcels.labels] == WATER
    if water.any():
        elev = terrain.elevation.copy()
        elev[water] = np.float32(np.percentile(elev[water], 10))
        terrain = Terrain(elevation=elev, **slope_aspect(elev, grid.res_x))
    rng = np.random.default_rng([seed, 0x7E7])
    texture = (1.0 + 0.05 * smooth_field(rng, grid.bounds, 80.0).sample(grid.xs, grid.ys)
               + 0.025 * rng.standard_normal(grid.shape, dtype=np.float32)).astype(np.float32)
    patches = (snow.PATCH_NOISE_M * smooth_field(rng, grid.bounds, 250.0).sample(grid.xs, grid.ys)).astype(np.float32)
    return World(seed=seed, grid=grid, terrain=terrain, parcels=parcels, texture=texture, snow_patches=patches)
