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
from products.errors import BadInputError

S2_COLLECTION = "sentinel-2-l2a"
LANDSAT_COLLECTION = "landsat-c2-l2"
DEM_COLLECTION = "cop-dem-glo-30"

S2_SCALE, S2_OFFSET_DN = 0.0001, 1000
LANDSAT_SCALE, LANDSAT_OFFSET = 0.0000275, -0.2
S2_REVISIT_DAYS = 5
S2_ANCHOR = (dt.date(2024, 1, 15), "sentinel-2b")  # a day of relative orbit R108 over 6 E 45 N
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


S2_BANDS = (
    S2Band("blue", "B02", 10, "Blue (band 2) - 10m", "blue", "Blue (band 2)", 0.49, 0.098),
    S2Band("green", "B03", 10, "Green (band 3) - 10m", "green", "Green (band 3)", 0.56, 0.045),
    S2Band("red", "B04", 10, "Red (band 4) - 10m", "red", "Red (band 4)", 0.665, 0.038),
    S2Band("rededge1", "B05", 20, "Red edge 1 (band 5) - 20m", "rededge", "Red edge 1 (band 5)", 0.704, 0.019),
    S2Band("rededge2", "B06", 20, "Red edge 2 (band 6) - 20m", "rededge", "Red edge 2 (band 6)", 0.74, 0.018),
    S2Band("rededge3", "B07", 20, "Red edge 3 (band 7) - 20m", "rededge", "Red edge 3 (band 7)", 0.783, 0.028),
    S2Band("nir", "B08", 10, "NIR 1 (band 8) - 10m", "nir", "NIR 1 (band 8)", 0.842, 0.145),
    S2Band("nir08", "B8A", 20, "NIR 2 (band 8A) - 20m", "nir08", "NIR 2 (band 8A)", 0.865, 0.033),
    S2Band("swir16", "B11", 20, "SWIR 1 (band 11) - 20m", "swir16", "SWIR 1 (band 11)", 1.61, 0.143),
    S2Band("swir22", "B12", 20, "SWIR 2 (band 12) - 20m", "swir22", "SWIR 2 (band 12)", 2.19, 0.242),
)
assert tuple(b.band for b in S2_BANDS) == BANDS


@dataclass(frozen=True)
class OliBand:
    key: str
    band: str  # SR_Bn
    title: str
    description: str
    center_wavelength: float
    full_width_half_max: float


LANDSAT_BANDS = (
    OliBand("coastal", "SR_B1", "Coastal/Aerosol Band (B1)", "Collection 2 Level-2 Coastal/Aerosol Band (B1) Surface Reflectance", 0.44, 0.02),
    OliBand("blue", "SR_B2", "Blue Band (B2)", "Collection 2 Level-2 Blue Band (B2) Surface Reflectance", 0.48, 0.06),
    OliBand("green", "SR_B3", "Green Band (B3)", "Collection 2 Level-2 Green Band (B3) Surface Reflectance", 0.56, 0.06),
    OliBand("red", "SR_B4", "Red Band (B4)", "Collection 2 Level-2 Red Band (B4) Surface Reflectance", 0.65, 0.04),
    OliBand("nir08", "SR_B5", "Near Infrared Band 0.8 (B5)", "Collection 2 Level-2 Near Infrared Band 0.8 (B5) Surface Reflectance", 0.86, 0.03),
    OliBand("swir16", "SR_B6", "Short-wave Infrared Band 1.6 (B6)", "Collection 2 Level-2 Short-wave Infrared Band 1.6 (B6) Surface Reflectance", 1.6, 0.08),
    OliBand("swir22", "SR_B7", "Short-wave Infrared Band 2.2 (B7)", "Collection 2 Level-2 Short-wave Infrared Band 2.2 (B7) Surface Reflectance", 2.2, 0.2),
)

SCL_CLASSES = {0: "no_data", 1: "saturated_or_defective", 2: "dark_area_pixels", 3: "cloud_shadows", 4: "vegetation",
               5: "not_vegetated", 6: "water", 7: "unclassified", 8: "cloud_medium_probability",
               9: "cloud_high_probability", 10: "thin_cirrus", 11: "snow"}
QA_PIXEL_BITFIELDS = (
    ("fill", 0, 1, "Image or fill data"), ("dilated_cloud", 1, 1, "Dilated cloud"), ("cirrus", 2, 1, "Cirrus mask"),
    ("cloud", 3, 1, "Cloud mask"), ("cloud_shadow", 4, 1, "Cloud shadow mask"), ("snow", 5, 1, "Snow/Ice mask"),
    ("clear", 6, 1, "Cloud or dilated cloud bits are not set"), ("water", 7, 1, "Water mask"),
    ("cloud_confidence", 8, 2, "Cloud confidence levels"), ("cloud_shadow_confidence", 10, 2, "Cloud shadow confidence levels"),
    ("snow_confidence", 12, 2, "Snow/Ice confidence levels"), ("cirrus_confidence", 14, 2, "Cirrus confidence levels"),
)


def s2_processing_baseline(day: dt.date) -> str:
    baseline = _BASELINES[0][1]
    for start, value in _BASELINES:
        if day >= start:
            baseline = value
    return baseline


def s2_boa_offset_dn(baseline: str) -> int:
    """BOA_ADD_OFFSET magnitude in the pixels: 1000 from baseline 04.00 on, else 0."""
    major, minor = (int(v) for v in baseline.split("."))
    return S2_OFFSET_DN if (major, minor) >= (4, 0) else 0


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
    other = "sentinel-2a" if S2_ANCHOR[1] == "sentinel-2b" else "sentinel-2b"
    platform = S2_ANCHOR[1] if k % 2 == 0 else other
    if platform == "sentinel-2a" and day >= S2C_REPLACES_2A:
        platform = "sentinel-2c"
    return platform


def s2_calendar(start: dt.date, end: dt.date, every_days: int) -> list[tuple[dt.date, str]]:
    """Sentinel-2 acquisition days in [start, end] every ``every_days`` (a multiple of 5), with platforms."""
    if every_days <= 0 or every_days % S2_REVISIT_DAYS:
        raise BadInputError(f"s2_every_days must be a positive multiple of {S2_REVISIT_DAYS} (the Sentinel-2 revisit), not {every_days}")
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
        raise BadInputError(f"l8_every_days must be a positive multiple of {LANDSAT_REVISIT_DAYS} (the Landsat-8 revisit), not {every_days}")
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
    launch = {"sentinel-2a": dt.date(2015, 6, 23), "sentinel-2b": dt.date(2017, 3, 7), "sentinel-2c": dt.date(2024, 9, 5)}[platform]
    return 1 + int(round((day - launch).days * 14.3))


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
