"""How Sentinel-2 L2A (Earth Search ``sentinel-2-l2a``) and Landsat-8 C2 L2 (``landsat-c2-l2``) record the world.

Band tables, pixel encodings, acquisition calendars, processing baselines and identifiers, as in the real
products:

- Sentinel-2 L2A: uint16 DN, nodata 0. From processing baseline 04.00 (25 January 2022) Sen2Cor adds
  BOA_ADD_OFFSET = 1000: DN = reflectance * 10000 + 1000, and Earth Search declares scale 0.0001,
  offset -0.1 in ``raster:bands``; before 04.00, DN = reflectance * 10000 and offset 0.
- Landsat C2 L2 surface reflectance: DN = (reflectance + 0.2) / 0.0000275, uint16, nodata 0.
- Calendars: Sentinel-2A and 2B each revisit every 10 days, 5 days apart (2C replaces 2A from
  21 January 2025); Landsat-8 every 16 days on its WRS-2 path.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from flows.simulator.fields import clamp
from flows.simulator.spectra import BANDS, OLI_FROM_MSI
from products.sensors import (
    COP_DEM,
    LANDSAT_C2L2,
    LANDSAT_DN,
    LAUNCH_DATES,
    MSI,
    OLI,
    QA_PIXEL,
    S2_BOA_ADD_OFFSET_DN,
    S2_BOA_FIRST_BASELINE,
    S2_DN,
    S2_L2A,
    SCL,
)

S2_COLLECTION = S2_L2A.collections[0]
LANDSAT_COLLECTION = LANDSAT_C2L2.collections[0]
DEM_COLLECTION = COP_DEM.collections[0]

S2_SCALE, S2_OFFSET_DN = S2_DN.scale_factor, -S2_BOA_ADD_OFFSET_DN
LANDSAT_SCALE, LANDSAT_OFFSET = LANDSAT_DN.scale_factor, LANDSAT_DN.add_offset
S2A, S2B, S2C = S2_L2A.platforms
S2_REVISIT_DAYS = 5
S2_ANCHOR = (dt.date(2024, 1, 15), S2B)  # a day of relative orbit R108 over 6 E 45 N
S2_RELATIVE_ORBIT = 108
S2C_REPLACES_2A = dt.date(2025, 1, 21)
LANDSAT_ANCHOR = dt.date(2024, 1, 12)  # a Landsat-8 day on WRS-2 path 196
LANDSAT_REVISIT_DAYS = 16
S2_TIME = dt.time(10, 37, 41, 24000)
LANDSAT_TIME = dt.time(10, 22, 14, 512000)

# Sen2Cor processing baselines by first day of use (sensing dates), as Earth Search's items report them
_BASELINES = ((dt.date(2015, 6, 23), "02.14"), (dt.date(2021, 3, 30), "03.00"), (dt.date(2021, 6, 30), "03.01"),
              (dt.date(2022, 1, 25), "04.00"), (dt.date(2022, 12, 6), "05.09"), (dt.date(2023, 12, 13), "05.10"),
              (dt.date(2024, 7, 23), "05.11"))


@dataclass(frozen=True)
class S2Band:
    key: str  # Earth Search asset key
    band: str  # MSI band
    resolution: int
    title: str
    common_name: str
    description: str
    center_wavelength: float
    full_width_half_max: float

    @property
    def file(self) -> str:
        return f"{self.band}.tif"


S2_BANDS = tuple(
    S2Band(b.name, S2_L2A.measurement(b.name).aliases[0], b.resolution, f"{b.title} - {b.resolution}m", b.common_name,
           b.title, b.wavelength, b.fwhm)
    for b in MSI
)
"""The sensor table's MSI bands as Earth Search v1 titles them, in the world's band order."""


@dataclass(frozen=True)
class OliBand:
    key: str
    band: str  # SR_Bn
    title: str
    description: str
    center_wavelength: float
    full_width_half_max: float


LANDSAT_BANDS = tuple(
    OliBand(b.name, LANDSAT_C2L2.measurement(b.name).aliases[0], b.title,
            f"Collection 2 Level-2 {b.title} Surface Reflectance", b.wavelength, b.fwhm)
    for b in OLI
)

SCL_CLASSES = dict(SCL.flag("scl").values)
QA_PIXEL_BITFIELDS = tuple((f.name, f.bits[0], len(f.bits), f.description) for f in QA_PIXEL.flags)


def s2_processing_baseline(day: dt.date) -> str:
    baseline = _BASELINES[0][1]
    for start, value in _BASELINES:
        if day >= start:
            baseline = value
    return baseline


def s2_boa_offset_dn(baseline: str) -> int:
    """BOA_ADD_OFFSET magnitude in the pixels: 1000 from baseline 04.00 on, else 0."""
    major, minor = (int(v) for v in baseline.split("."))
    return S2_OFFSET_DN if (major, minor) >= S2_BOA_FIRST_BASELINE else 0


def encode_s2(reflectance: np.ndarray, baseline: str) -> np.ndarray:
    """Sentinel-2 L2A DN (uint16, 0 reserved for nodata) from reflectance."""
    dn = np.rint(reflectance * np.float32(10000.0) + np.float32(s2_boa_offset_dn(baseline)))
    return clamp(dn, 1, 65535).astype(np.uint16)


def encode_landsat(reflectance: np.ndarray) -> np.ndarray:
    """Landsat C2 L2 SR DN (uint16, 0 reserved for nodata) from reflectance."""
    dn = np.rint((reflectance.astype(np.float64) - LANDSAT_OFFSET) / LANDSAT_SCALE)
    return clamp(dn, 1, 65535).astype(np.uint16)


def landsat_reflectance(world_reflectance: np.ndarray, key: str) -> np.ndarray:
    """OLI band ``key`` from the world's MSI bands (10, rows, cols)."""
    src, gain, offset = OLI_FROM_MSI[key]
    band = world_reflectance[BANDS.index(src)]
    return band if (gain, offset) == (1.0, 0.0) else band * gain + offset


def _platform(day: dt.date) -> str:
    k = (day - S2_ANCHOR[0]).days // S2_REVISIT_DAYS
    other = S2A if S2_ANCHOR[1] == S2B else S2B
    platform = S2_ANCHOR[1] if k % 2 == 0 else other
    if platform == S2A and day >= S2C_REPLACES_2A:
        platform = S2C
    return platform


def s2_calendar(start: dt.date, end: dt.date, every_days: int) -> list[tuple[dt.date, str]]:
    """Sentinel-2 acquisition days in [start, end] every ``every_days`` (a multiple of 5), with platforms."""
    if every_days <= 0 or every_days % S2_REVISIT_DAYS:
        raise ValueError(f"s2_every_days must be a positive multiple of {S2_REVISIT_DAYS} (the Sentinel-2 revisit), not {every_days}")
    first = S2_ANCHOR[0] - dt.timedelta(days=((S2_ANCHOR[0] - start).days // every_days) * every_days)
    days = []
    d = first
    while d <= end:
        if d >= start:
            days.append((d, _platform(d)))
        d += dt.timedelta(days=every_days)
    return days


def landsat_calendar(start: dt.date, end: dt.date, every_days: int = LANDSAT_REVISIT_DAYS) -> list[dt.date]:
    """Landsat-8 acquisition days in [start, end] every ``every_days`` (a multiple of 16)."""
    if every_days <= 0 or every_days % LANDSAT_REVISIT_DAYS:
        raise ValueError(f"l8_every_days must be a positive multiple of {LANDSAT_REVISIT_DAYS} (the Landsat-8 revisit), not {every_days}")
    first = LANDSAT_ANCHOR - dt.timedelta(days=((LANDSAT_ANCHOR - start).days // every_days) * every_days)
    out, d = [], first
    while d <= end:
        if d >= start:
            out.append(d)
        d += dt.timedelta(days=every_days)
    return out


def s2_item_id(platform: str, tile: str, day: dt.date) -> str:
    return f"S2{platform[-1].upper()}_{tile}_{day:%Y%m%d}_0_L2A"


def s2_absolute_orbit(platform: str, day: dt.date) -> int:
    return 1 + int(round((day - LAUNCH_DATES[platform]).days * 14.3))


def landsat_item_id(path: int, row: int, day: dt.date) -> str:
    """Earth Search ``landsat-c2-l2`` id (the USGS product id without its processing date)."""
    return f"LC08_L2SP_{path:03d}{row:03d}_{day:%Y%m%d}_02_T1"


def landsat_product_id(path: int, row: int, day: dt.date) -> str:
    processed = day + dt.timedelta(days=9)
    return f"LC08_L2SP_{path:03d}{row:03d}_{day:%Y%m%d}_{processed:%Y%m%d}_02_T1"


def landsat_scene_id(path: int, row: int, day: dt.date) -> str:
    return f"LC8{path:03d}{row:03d}{day:%Y}{day.timetuple().tm_yday:03d}LGN00"


def dem_item_id(lon0: int, lat0: int) -> str:
    """Copernicus DEM GLO-30 tile id of the 1 degree cell whose south-west corner is (lon0, lat0)."""
    ns = "N" if lat0 >= 0 else "S"
    ew = "E" if lon0 >= 0 else "W"
    return f"Copernicus_DSM_COG_10_{ns}{abs(lat0):02d}_00_{ew}{abs(lon0):03d}_00_DEM"
