"""The one table of sensor facts: every band, mask and platform snowland reads, and what each source calls it.

A :class:`Sensor` is one instrument as one input product records it (``theia_l2a`` holds two: MAJA Sentinel-2 and
MAJA Landsat). It says the ODC product and its short code in product keys, the platforms, the STAC collections
indexed as the product, the load grid, and its measurements. A :class:`Measurement` is one entry of the product's
ODC definition (name, aliases, dtype, nodata, units, scale and offset, flags) with the names its sources give it:
STAC asset keys (Earth Search, Planetary Computer, USGS), the Theia file id, the band of a multi-band file. A
spectral measurement carries its :class:`Band` (number, wavelength role, native resolution, centre wavelength);
a mask carries its decoding (:class:`Flag`) and the named sets of values the science tests for (:class:`PixelSet`).

Every other module reads these facts from here; ``tests/test_sensors.py`` checks the product YAMLs against it.
Adding a platform (Sentinel-2C and Landsat-9 are there) is one word in a ``platforms`` tuple; an instrument with
fewer bands is one more :class:`Sensor` of the same product with fewer measurements, as ``theia_l2a``'s Landsat
variant is. Each job says which bands it needs (:func:`needs`) and what a scene lacks for it (:func:`lacks`): items
are indexed with the bands they carry, as users mirror only some.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

from products.errors import BadInputError

Job = Literal["snow", "shaded_snow", "land_cover"]


@dataclass(frozen=True, kw_only=True)
class Band:
    """One spectral band of an instrument, named as snowland measures it."""

    name: str  # measurement name (Earth Search asset key)
    number: str  # as the instrument numbers it: "2", "8A", "11"
    role: str  # what the science reads it as: blue, green, red, nir, swir16 ...
    resolution: float  # native pixel size (m)
    common_name: str  # STAC eo common name
    wavelength: float  # centre (um)
    fwhm: float  # full width at half maximum (um)
    title: str  # as the provider titles it: "Blue (band 2)", "Blue Band (B2)"


@dataclass(frozen=True, kw_only=True)
class Encoding:
    """How a measurement's values are stored: reflectance = DN * scale_factor + add_offset."""

    dtype: str
    nodata: float
    units: str = "1"
    scale_factor: float | None = None
    add_offset: float | None = None


@dataclass(frozen=True, kw_only=True)
class Flag:
    """One entry of a mask's ODC ``flags_definition``: which bits, and what their values mean."""

    name: str
    bits: tuple[int, ...]
    description: str
    values: Mapping[int, str | bool]


@dataclass(frozen=True, kw_only=True)
class PixelSet:
    """A named set of mask values the science tests for, and why it is that set.

    ``members`` are class names of a class-coded mask (SCL) or flag names of a bit-coded one (QA_PIXEL, CLM): a
    pixel is in the set when its class is one of them, or when any of their bits is set.
    """

    name: str
    members: tuple[str, ...]
    why: str


@dataclass(frozen=True, kw_only=True)
class Measurement:
    """One measurement of an input product: its ODC declaration and the names its sources give it."""

    name: str
    aliases: tuple[str, ...]
    encoding: Encoding
    band: Band | None = None  # the spectral band; None for a mask or an elevation
    assets: tuple[str, ...] = ()  # STAC asset keys, tried in this order
    file: str | None = None  # Theia: the id in the file name (FRE_B2, CLM_R2, NUA ...)
    title: str = ""  # what the file is, for messages ("cloud mask")
    stack_index: int = 1  # band of a multi-band file (Theia N2A stack)
    flags: tuple[Flag, ...] = ()
    sets: tuple[PixelSet, ...] = ()

    def __post_init__(self) -> None:
        known = {*(f.name for f in self.flags), *(str(v) for f in self.flags for v in f.values.values())}
        for pixel_set in self.sets:
            unknown = sorted(set(pixel_set.members) - known)
            if unknown:
                raise ValueError(f"{self.name}: set {pixel_set.name!r} names unknown flags or classes {unknown}")

    @property
    def class_coded(self) -> bool:
        """True for a mask whose value is a class (SCL), False for one whose bits are flags (QA_PIXEL, CLM)."""
        return self.encoding.units != "bit_index"

    def flag(self, name: str) -> Flag:
        return _one(self.flags, name, what=f"flag of {self.name}")

    def value(self, class_name: str) -> int:
        """The code of one class of a class-coded mask (SCL ``cloud_shadows`` -> 3)."""
        for flag in self.flags:
            for value, name in flag.values.items():
                if name == class_name:
                    return value
        raise KeyError(f"no class of {self.name} named {class_name!r}")

    def bit(self, flag_name: str) -> int:
        """The bit mask of one flag of a bit-coded mask (QA_PIXEL ``cirrus`` -> 4)."""
        return sum(1 << b for b in self.flag(flag_name).bits)

    def pixel_set(self, name: str) -> PixelSet:
        return _one(self.sets, name, what=f"pixel set of {self.name}")

    def codes(self, set_name: str) -> tuple[int, ...]:
        """The class codes of a named set of a class-coded mask."""
        members = self.pixel_set(set_name).members
        return tuple(sorted(v for f in self.flags for v, n in f.values.items() if n in members))

    def bitmask(self, set_name: str) -> int:
        """The bits of a named set of a bit-coded mask: a pixel is in the set when any of them is set."""
        mask = 0
        for name in self.pixel_set(set_name).members:
            mask |= self.bit(name)
        return mask


@dataclass(frozen=True, kw_only=True)
class Sensor:
    """One instrument as one input product records it."""

    product: str  # ODC product name
    code: str  # short code in product keys ("s2", "l8"; Landsat-9 is "l8" too: one sensor family)
    instrument: str  # STAC ``instruments`` value
    constellation: str
    platforms: tuple[str, ...]
    collections: tuple[str, ...] = ()  # STAC collections indexed as this product
    resolution: float  # the product's load grid (m), as its YAML declares it
    measurements: tuple[Measurement, ...]
    mask: str | None = None  # the L2A mask LIS decodes into all_cloud / shadow / high_cloud / nodata
    validity: tuple[str, ...] = ()  # the masks that invalidate a date for land cover (iota2)

    def measurement(self, name: str) -> Measurement:
        return _one(self.measurements, name, what=f"measurement of {self.product}")

    @property
    def bands(self) -> tuple[Measurement, ...]:
        """The spectral measurements, in the instrument's band order."""
        return tuple(m for m in self.measurements if m.band is not None)

    @property
    def reflectance(self) -> tuple[str, ...]:
        """Names of the spectral measurements."""
        return tuple(m.name for m in self.bands)

    def role(self, role: str) -> Measurement:
        """The measurement that holds a wavelength role (``nir``: B08 on Sentinel-2, B5 on Landsat)."""
        found = [m for m in self.bands if m.band.role == role]  # type: ignore[union-attr]
        if not found:
            raise BadInputError(f"{self.product} ({self.code}) has no {role} band; it has {list(self.reflectance)}")
        return found[0]

    def pixel_size(self, roles: Iterable[str]) -> float:
        """The coarsest native resolution of the bands of ``roles``: the grid LIS resamples them to."""
        return max(self.role(r).band.resolution for r in roles)  # type: ignore[union-attr]


def _one(items: Iterable, name: str, *, what: str):
    for item in items:
        if item.name == name:
            return item
    raise KeyError(f"no {what} named {name!r}")


# ------------------------------------------------------------------------------------------------ instruments
_BAND_ROWS = (  # instrument, name, number, role, resolution (m), common name, centre and FWHM (um), title
    ("MSI", "blue", "2", "blue", 10, "blue", 0.49, 0.098, "Blue (band 2)"),
    ("MSI", "green", "3", "green", 10, "green", 0.56, 0.045, "Green (band 3)"),
    ("MSI", "red", "4", "red", 10, "red", 0.665, 0.038, "Red (band 4)"),
    ("MSI", "rededge1", "5", "rededge1", 20, "rededge", 0.704, 0.019, "Red edge 1 (band 5)"),
    ("MSI", "rededge2", "6", "rededge2", 20, "rededge", 0.74, 0.018, "Red edge 2 (band 6)"),
    ("MSI", "rededge3", "7", "rededge3", 20, "rededge", 0.783, 0.028, "Red edge 3 (band 7)"),
    ("MSI", "nir", "8", "nir", 10, "nir", 0.842, 0.145, "NIR 1 (band 8)"),
    ("MSI", "nir08", "8A", "nir08", 20, "nir08", 0.865, 0.033, "NIR 2 (band 8A)"),
    ("MSI", "swir16", "11", "swir16", 20, "swir16", 1.61, 0.143, "SWIR 1 (band 11)"),
    ("MSI", "swir22", "12", "swir22", 20, "swir22", 2.19, 0.242, "SWIR 2 (band 12)"),
    ("OLI", "coastal", "1", "coastal", 30, "coastal", 0.44, 0.02, "Coastal/Aerosol Band (B1)"),
    ("OLI", "blue", "2", "blue", 30, "blue", 0.48, 0.06, "Blue Band (B2)"),
    ("OLI", "green", "3", "green", 30, "green", 0.56, 0.06, "Green Band (B3)"),
    ("OLI", "red", "4", "red", 30, "red", 0.65, 0.04, "Red Band (B4)"),
    ("OLI", "nir08", "5", "nir", 30, "nir08", 0.86, 0.03, "Near Infrared Band 0.8 (B5)"),
    ("OLI", "swir16", "6", "swir16", 30, "swir16", 1.6, 0.08, "Short-wave Infrared Band 1.6 (B6)"),
    ("OLI", "swir22", "7", "swir22", 30, "swir22", 2.2, 0.2, "Short-wave Infrared Band 2.2 (B7)"),
)


def _bands(instrument: str) -> tuple[Band, ...]:
    fields = ("name", "number", "role", "resolution", "common_name", "wavelength", "fwhm", "title")
    return tuple(Band(**dict(zip(fields, row[1:], strict=True))) for row in _BAND_ROWS if row[0] == instrument)


MSI = _bands("MSI")
"""Sentinel-2 MSI: the ten 10 and 20 m bands (B01 and B09, 60 m atmospheric bands, are not indexed).
NDVI and NDWI read B08 as NIR (iota2, science.md B.2)."""

OLI = _bands("OLI")
"""Landsat-8/9 OLI surface reflectance bands B1-B7; B5 is the NIR the indices read."""

S2_PLATFORMS = ("sentinel-2a", "sentinel-2b", "sentinel-2c")
LANDSAT_PLATFORMS = ("landsat-8", "landsat-9")

LAUNCH_DATES: Mapping[str, dt.date] = {
    "sentinel-2a": dt.date(2015, 6, 23), "sentinel-2b": dt.date(2017, 3, 7), "sentinel-2c": dt.date(2024, 9, 5),
    "landsat-8": dt.date(2013, 2, 11), "landsat-9": dt.date(2021, 9, 27),
}

S2_BOA_ADD_OFFSET_DN = -1000
"""Sen2Cor's BOA_ADD_OFFSET: from processing baseline 04.00 (25 January 2022), reflectance = (DN - 1000) / 10000."""
S2_BOA_FIRST_BASELINE = (4, 0)


# ------------------------------------------------------------------------------------------------ encodings
S2_DN = Encoding(dtype="uint16", nodata=0, scale_factor=0.0001, add_offset=0)
"""Sen2Cor L2A DN; the BOA offset of baselines >= 04.00 is a per-dataset property, not part of the product."""
LANDSAT_DN = Encoding(dtype="uint16", nodata=0, scale_factor=2.75e-05, add_offset=-0.2)
THEIA_DN = Encoding(dtype="int16", nodata=-10000, scale_factor=0.0001, add_offset=0)
"""MAJA FRE: reflectance x 10000, nodata -10000 (science.md A.7)."""
N2A_DN = Encoding(dtype="int16", nodata=-10000, scale_factor=0.001, add_offset=0)
"""MACCS N2A ORTHO_SURF_CORR_PENTE: reflectance x 1000."""
BYTE_FLAGS = Encoding(dtype="uint8", nodata=255, units="bit_index")


def _bit(name: str, bit: int, description: str) -> Flag:
    return Flag(name=name, bits=(bit,), description=description, values={0: False, 1: True})


def _level(name: str, first: int, description: str) -> Flag:
    return Flag(name=name, bits=(first, first + 1), description=description,
                values={0: "none", 1: "low", 2: "medium", 3: "high"})


def _byte(name: str, description: str, values: Mapping[int, str]) -> Flag:
    return Flag(name=name, bits=tuple(range(8)), description=description, values=values)


# ------------------------------------------------------------------------------------------------ masks
SCL = Measurement(
    name="scl", aliases=("SCL", "mask"), encoding=Encoding(dtype="uint8", nodata=0), assets=("scl", "SCL", "SCL_20m"),
    title="scene classification",
    flags=(_byte("scl", "Sen2Cor scene classification", {
        0: "no_data", 1: "saturated_or_defective", 2: "dark_area_pixels", 3: "cloud_shadows", 4: "vegetation",
        5: "not_vegetated", 6: "water", 7: "unclassified", 8: "cloud_medium_probability",
        9: "cloud_high_probability", 10: "thin_cirrus", 11: "snow_ice"}),),
    sets=(
        PixelSet(name="nodata", members=("no_data",), why="Sen2Cor writes 0 outside the image"),
        PixelSet(name="all_cloud",
                 members=("cloud_shadows", "cloud_medium_probability", "cloud_high_probability", "thin_cirrus"),
                 why="LIS all_cloud in Sen2Cor mode (science.md A.3, A.8); nodata is its own mask"),
        PixelSet(name="shadow", members=("cloud_shadows",), why="LIS shadow in Sen2Cor mode"),
        PixelSet(name="high_cloud", members=("thin_cirrus",), why="LIS high_cloud in Sen2Cor mode"),
        PixelSet(name="invalid",
                 members=("no_data", "saturated_or_defective", "cloud_shadows", "cloud_medium_probability",
                          "cloud_high_probability", "thin_cirrus"),
                 why="iota2 drops a date wherever CLM, SAT or EDG is set (science.md B.3): in Sen2Cor terms the "
                     "LIS cloud classes plus saturated/defective and no data. Snow (11) is a land-cover "
                     "observation and stays valid; LIS has no saturation test, so snow keeps class 1"),
    ),
)

QA_PIXEL = Measurement(
    name="qa_pixel", aliases=("QA_PIXEL", "pixel_qa"), encoding=Encoding(dtype="uint16", nodata=0, units="bit_index"),
    assets=("qa_pixel", "QA_PIXEL", "QA_PIXEL.TIF"), title="pixel quality",
    flags=(
        _bit("nodata", 0, "Fill"), _bit("dilated_cloud", 1, "Dilated cloud"),
        _bit("cirrus", 2, "Cirrus (high confidence)"), _bit("cloud", 3, "Cloud"),
        _bit("cloud_shadow", 4, "Cloud shadow"), _bit("snow", 5, "Snow"),
        _bit("clear", 6, "Clear (no cloud, no dilated cloud)"), _bit("water", 7, "Water"),
        _level("cloud_confidence", 8, "Cloud confidence"),
        _level("cloud_shadow_confidence", 10, "Cloud shadow confidence"),
        _level("snow_ice_confidence", 12, "Snow/ice confidence"),
        _level("cirrus_confidence", 14, "Cirrus confidence"),
    ),
    sets=(
        PixelSet(name="nodata", members=("nodata",), why="the fill bit"),
        PixelSet(name="all_cloud", members=("dilated_cloud", "cirrus", "cloud", "cloud_shadow"),
                 why="LIS all_cloud on Landsat C2: every cloud and shadow bit"),
        PixelSet(name="cloud_candidate", members=("dilated_cloud",),
                 why="CFMask's 3-pixel ring around every cloud (bit 1), on pixels with no other cloud or shadow "
                     "bit: left out of pass 1 and the zs histogram as cloud, but not cloud outright: like LIS's "
                     "dark clouds it skips the refined cloud mask, so pass 2 may call it snow and back-to-cloud "
                     "(red > rB) keeps a bright one cloud (bench/README.md, the dilated-cloud ring)"),
        PixelSet(name="shadow", members=("cloud_shadow",), why="LIS shadow"),
        PixelSet(name="high_cloud", members=("cirrus",), why="LIS high_cloud: the cirrus band's detection"),
        PixelSet(name="invalid", members=("nodata", "dilated_cloud", "cirrus", "cloud", "cloud_shadow"),
                 why="iota2 drops a date wherever a cloud, shadow or fill bit is set (science.md B.3)"),
    ),
)

_CLM_BITS = (
    _bit("cloud_or_shadow", 0, "All clouds except the thinnest, and all shadows"),
    _bit("cloud", 1, "All clouds except the thinnest"), _bit("cloud_mono_temporal", 2, "Clouds from mono-temporal tests"),
    _bit("cloud_multi_temporal", 3, "Clouds from multi-temporal tests"), _bit("thin_cloud", 4, "Thinnest clouds"),
    _bit("cloud_shadow", 5, "Shadows of detected clouds"),
    _bit("cloud_shadow_outside", 6, "Shadows of clouds outside the image"),
    _bit("high_cloud", 7, "High clouds (1.38 um)"),
)


def _clm(file: str) -> Measurement:
    every_bit = tuple(f.name for f in _CLM_BITS)
    return Measurement(
        name="clm", aliases=("CLM",), encoding=BYTE_FLAGS, file=file, title="cloud mask",
        flags=(_byte("clm", "MAJA cloud mask (CLM): any bit set = cloud or shadow", {0: "clear"}), *_CLM_BITS),
        sets=(
            PixelSet(name="all_cloud", members=every_bit, why="LIS all_cloud on MAJA: CLM > 0, thin cloud included"),
            PixelSet(name="shadow", members=("cloud_shadow", "cloud_shadow_outside"),
                     why="LIS shadow: shadows of clouds inside (32) or outside (64) the image"),
            PixelSet(name="high_cloud", members=("high_cloud",), why="LIS high_cloud: the 1.38 um test (128)"),
            PixelSet(name="invalid", members=every_bit, why="iota2: CLM != 0 invalidates a date (science.md B.3)"),
        ),
    )


def _mg2(file: str) -> Measurement:
    return Measurement(
        name="mg2", aliases=("MG2",), encoding=BYTE_FLAGS, file=file, title="geophysical mask",
        flags=(
            _bit("water", 0, "Water"), _bit("cloud", 1, "Cloud"), _bit("snow", 2, "Snow"),
            _bit("cloud_shadow", 3, "Cloud shadow"), _bit("topographic_shadow", 4, "Topographic shadow"),
            _bit("hidden_by_terrain", 5, "Hidden by terrain"),
            _bit("sun_too_low", 6, "Sun too low for slope correction"), _bit("sun_tangent", 7, "Sun tangent to slope"),
        ),
        sets=(PixelSet(name="bad_slope", members=("sun_too_low", "sun_tangent"),
                       why="LIS's slope flag: MG2 >= 64, the slope correction cannot be trusted"),),
    )


N2A_MASKS = (
    Measurement(name="cloud", aliases=("NUA",), encoding=BYTE_FLAGS, file="NUA", title="cloud mask",
                flags=(_byte("cloud", "MACCS cloud mask (NUA): non-zero = cloud or shadow", {0: "clear"}),)),
    Measurement(name="saturation", aliases=("SAT",), encoding=BYTE_FLAGS, file="SAT", title="saturation mask",
                flags=(_byte("saturated", "Saturation per band (bit per band)", {0: "none"}),)),
    Measurement(name="div", aliases=("DIV",), encoding=BYTE_FLAGS, file="DIV", title="geophysical mask",
                flags=(_bit("water", 0, "Water"), _bit("snow", 2, "Snow"),
                       _bit("sun_too_low", 6, "Sun too low for slope correction"), _bit("sun_tangent", 7, "Sun tangent"))),
    Measurement(name="valid", aliases=("NODATA",), encoding=Encoding(dtype="uint8", nodata=0), file="NODATA",
                title="data mask", flags=(_bit("valid", 0, "1 where the pixel has data"),)),
)


# ------------------------------------------------------------------------------------------------ products
def _spectral(bands: Iterable[Band], encoding: Encoding, *, aliases: Callable[[Band], tuple[str, ...]],
              assets: Callable[[Band], tuple[str, ...]] = lambda b: (), file: Callable[[Band], str | None] = lambda b: None,
              stacked: bool = False) -> tuple[Measurement, ...]:
    """One measurement per band, named by the naming rules of one product; a band whose role is not its name is
    also aliased by its role (Landsat's ``nir08`` loads as ``nir``)."""
    return tuple(
        Measurement(name=b.name, aliases=aliases(b) + ((b.role,) if b.role != b.name else ()), encoding=encoding,
                    band=b, assets=assets(b), file=file(b), stack_index=int(b.number) if stacked else 1)
        for b in bands
    )


def _s2_id(b: Band) -> str:
    return f"B{b.number:0>2}"  # B02, B8A, B11


S2_L2A = Sensor(
    product="s2_l2a", code="s2", instrument="msi", constellation="sentinel-2", platforms=S2_PLATFORMS,
    collections=("sentinel-2-l2a", "sentinel-2-c1-l2a", "sentinel-s2-l2a-cogs"), resolution=20.0,
    measurements=(
        *_spectral(MSI, S2_DN, aliases=lambda b: (_s2_id(b), f"band_{b.number.lower():0>2}"),
                   # Earth Search v1 and c1 / Planetary Computer and Earth Search v0 / resolution-suffixed copies
                   assets=lambda b: (b.name, _s2_id(b), f"{_s2_id(b)}_10m", f"{_s2_id(b)}_20m")),
        SCL,
    ),
    mask="scl", validity=("scl",),
)
"""Sentinel-2 L2A (Sen2Cor) COGs as Earth Search serves them."""

LANDSAT_C2L2 = Sensor(
    product="landsat_c2l2", code="l8", instrument="oli", constellation="landsat", platforms=LANDSAT_PLATFORMS,
    collections=("landsat-c2-l2", "landsat-c2l2-sr"), resolution=30.0,
    measurements=(
        *_spectral(OLI, LANDSAT_DN, aliases=lambda b: (f"SR_B{b.number}", f"B{b.number}"),
                   # Earth Search and Planetary Computer / USGS landsat-c2l2-sr (STAC 0.7 asset keys are file names)
                   assets=lambda b: (b.name, f"SR_B{b.number}", f"SR_B{b.number}.TIF")),
        QA_PIXEL,
    ),
    mask="qa_pixel", validity=("qa_pixel",),
)
"""Landsat-8/9 Collection 2 Level-2 surface reflectance."""

THEIA_L2A = Sensor(
    product="theia_l2a", code="s2", instrument="msi", constellation="sentinel-2", platforms=S2_PLATFORMS,
    resolution=20.0,
    measurements=(
        *_spectral(MSI, THEIA_DN, aliases=lambda b: (f"B{b.number}", f"FRE_B{b.number}"),
                   file=lambda b: f"FRE_B{b.number}"),
        _clm("CLM_R2"), _mg2("MG2_R2"),
    ),
    mask="clm", validity=("clm",),
)
"""Theia/MAJA Sentinel-2 L2A folders: FRE bands, 20 m (R2) masks."""

THEIA_L2A_LANDSAT = Sensor(
    product="theia_l2a", code="l8", instrument="oli", constellation="landsat", platforms=LANDSAT_PLATFORMS,
    resolution=THEIA_L2A.resolution,
    measurements=(
        # the product's declaration (aliases included) is the Sentinel-2 one; Landsat fills the bands both have
        *(replace(THEIA_L2A.measurement(b.name), band=b, file=f"FRE_B{b.number}")
          for b in OLI if b.name in THEIA_L2A.reflectance),
        _clm("CLM_XS"), _mg2("MG2_XS"),
    ),
    mask="clm", validity=("clm",),
)
"""Theia/MAJA Landsat L2A folders, indexed as ``theia_l2a``: FRE B2-B7, masks at XS."""

THEIA_L8_N2A = Sensor(
    product="theia_l8_n2a", code="l8", instrument="oli", constellation="landsat", platforms=("landsat-8",),
    resolution=30.0,
    measurements=(*_spectral(OLI, N2A_DN, aliases=lambda b: (f"B{b.number}",), stacked=True), *N2A_MASKS),
    mask="cloud", validity=("cloud", "saturation", "valid"),
)
"""Theia/MACCS Landsat-8 N2A folders: a 7-band ORTHO_SURF_CORR_PENTE stack and MASK/ files."""

COP_DEM = Sensor(
    product="dem_cop30", code="dem", instrument="", constellation="copernicus-dem", platforms=(),
    collections=("cop-dem-glo-30", "cop-dem-glo-90"), resolution=20.0,
    measurements=(Measurement(name="elevation", aliases=("data", "dem"),
                              encoding=Encoding(dtype="float32", nodata=-32767.0, units="metre"),
                              assets=("data", "elevation", "dem")),),
)
"""Copernicus DEM GLO-30/90 tiles: a mosaic product, not one platform's acquisitions."""

SENSORS: tuple[Sensor, ...] = (S2_L2A, LANDSAT_C2L2, THEIA_L2A, THEIA_L2A_LANDSAT, THEIA_L8_N2A, COP_DEM)
PLATFORMS: tuple[str, ...] = tuple(dict.fromkeys(p for s in SENSORS for p in s.platforms))

# ------------------------------------------------------------------------------------------------ jobs
ROLES: Mapping[Job, tuple[str, ...]] = {
    "snow": ("green", "red", "swir16"),
    "shaded_snow": ("blue", "nir"),
    "land_cover": ("red", "nir", "swir16"),
}
"""Wavelength roles each job reads. Snow: LIS's green, red and 1.6 um SWIR (science.md A.1); shaded snow (LIS
1.10+, optional): blue minus NIR in relief shadow (A.3 step 5). Land cover: NDVI and NDWI from red, NIR and SWIR,
beside every reflectance band of the sensor (iota2 keeps them all, B.2)."""


FLOW_JOBS: tuple[Job, ...] = ("snow", "land_cover")
"""The jobs a scene is indexed for; shaded snow is an optional part of snow, used where a scene has its bands."""


def needs(job: Job, sensor: Sensor) -> tuple[str, ...]:
    """The measurements ``job`` loads from ``sensor``'s product: its bands, then its masks.

    A sensor that lacks a band the job needs raises a :class:`BadInputError` naming it.
    """
    roles = [sensor.role(r).name for r in ROLES[job]]
    if job == "shaded_snow":  # an addition to snow's bands, used where a dataset has them
        return tuple(roles)
    if job == "snow":
        return (*roles, *((sensor.mask,) if sensor.mask else ()))
    return (*sensor.reflectance, *sensor.validity)


def lacks(job: Job, sensor: Sensor, present: Iterable[str]) -> tuple[str, ...]:
    """The measurements ``job`` needs from ``sensor`` that a scene carrying only ``present`` lacks (none: it can run).

    Items are indexed with the bands they carry (users mirror only what they need), so each job asks this per scene.
    """
    have = set(present)
    return tuple(m for m in needs(job, sensor) if m not in have)


def usable_by(sensor: Sensor, present: Iterable[str]) -> dict[Job, tuple[str, ...]]:
    """Per job, what a scene carrying only ``present`` lacks for it (an empty tuple: the job can run on it)."""
    have = set(present)
    return {job: lacks(job, sensor, have) for job in FLOW_JOBS}


# ------------------------------------------------------------------------------------------------ lookups
def by_product(product: str) -> Sensor:
    """The sensor of an input product (for ``theia_l2a``, its Sentinel-2 declaration)."""
    for sensor in SENSORS:
        if sensor.product == product:
            return sensor
    known = ", ".join(dict.fromkeys(s.product for s in SENSORS))
    raise BadInputError(f"{product!r} is not an input product; known: {known}")


def variants(product: str) -> tuple[Sensor, ...]:
    """Every sensor recorded as ``product`` (two for ``theia_l2a``)."""
    return tuple(s for s in SENSORS if s.product == product) or (by_product(product),)


def by_collection(collection: str) -> Sensor:
    """The sensor a STAC collection is indexed as."""
    for sensor in SENSORS:
        if collection in sensor.collections:
            return sensor
    known = sorted(c for s in SENSORS for c in s.collections)
    raise BadInputError(f"collection {collection!r} is not one snowland indexes (known: {known})")


def by_platform(name: str) -> tuple[Sensor, ...]:
    """The sensors that record a platform, in any spelling ("SENTINEL2A", "LANDSAT_8", "sentinel-2b")."""
    wanted = platform(name)
    return tuple(s for s in SENSORS if wanted in s.platforms)


def platform(name: str) -> str:
    """The platform a spelling names: "SENTINEL2A", "Sentinel-2A", "LANDSAT_8" -> "sentinel-2a", "landsat-8"."""
    key = _squash(name)
    for known in PLATFORMS:
        if _squash(known) == key:
            return known
    raise BadInputError(f"unknown platform {name!r}; known: {', '.join(PLATFORMS)}")


def products(prefix: str = "") -> tuple[str, ...]:
    """Reflectance products, in table order, of the sensors with a platform starting with ``prefix``
    ("sentinel-2", "landsat-9", "landsat")."""
    return tuple(dict.fromkeys(
        s.product for s in SENSORS if s.bands and any(p.startswith(prefix) for p in s.platforms)
    ))


def _squash(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())
