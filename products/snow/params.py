"""Parameters of the LIS snow detection and of the season syntheses, with their published defaults.

Names are the LIS configuration keys. Reflectance thresholds are reflectances in [0, 1]: the LIS
configuration writes them as reflectance x 1000 (``red_pass1: 200``), here that is ``red_pass1=0.20``.
Reading a parameter file is the only I/O of the snow package and lives here.
"""

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self, TypeVar

import yaml

from products.errors import BadInputError
from products.sensors import ROLES, SENSORS
from products.snow.formula import compile_fsc_formula

FSC_TANH = "0.5*tanh(2.65*ndsi-1.42)+0.5"
"""Published FSC_TOC of Gascoin et al. 2020 (Remote Sensing 12:2904)."""

FSC_LINEAR = "1.45*ndsi-0.01"
"""Salomonson & Appel (MODIS); the default of the LIS code, not of the publication."""

RED_DOWNSAMPLED_PIXEL_M = 240.0
"""Pixel size the red band is brought to for the dark-cloud test (rf = 240 m / pixel size)."""

RF_BY_SENSOR: dict[str, int] = {
    name: round(RED_DOWNSAMPLED_PIXEL_M / sensor.pixel_size(ROLES["snow"]))
    for sensor in SENSORS if sensor.bands for name in (sensor.constellation, *sensor.platforms)
}
"""Published rf on each sensor's native product grid (S2 20 m: 12, Landsat 30 m: 8), by constellation or platform:
the grid is the coarsest of the bands LIS reads (the sensor table's native resolutions)."""

_REFLECTANCES = ("red_pass1", "red_pass2", "red_darkcloud", "red_backtocloud")
_FRACTIONS = ("fsnow_lim", "fclear_lim", "fsnow_total_lim")
_NDSI = ("ndsi_pass1", "ndsi_pass2")
_P = TypeVar("_P")


class _Settings:
    """Reading and writing a frozen settings dataclass by its field names."""

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> Self:
        """Settings from a mapping of published keys; unknown keys raise a BadInputError naming them."""
        return _from_mapping(cls, mapping)

    @classmethod
    def from_file(cls, path: str | Path) -> Self:
        """Settings from a YAML (.yaml, .yml) or JSON (.json) file holding one mapping."""
        return cls.from_mapping(_read_mapping(Path(path)))

    def to_dict(self) -> dict[str, Any]:
        """Plain values by published key, for product metadata (``from_mapping`` reads them back)."""
        return _to_dict(self)


@dataclass(frozen=True, kw_only=True)
class SnowParams(_Settings):
    """Thresholds of the LIS snow detection (science.md A.2) and the FSC equation (A.4)."""

    ndsi_pass1: float = 0.40
    red_pass1: float = 0.20
    ndsi_pass2: float = 0.15
    red_pass2: float = 0.04
    dz: float = 100.0
    fsnow_lim: float = 0.10
    fclear_lim: float = 0.10
    fsnow_total_lim: float = 0.001
    rf: int = 12
    red_darkcloud: float = 0.30
    red_backtocloud: float = 0.10
    strict_cloud_mask: bool = False
    fscToc_Eq: str = FSC_TANH  # noqa: N815 - published LIS key
    water_mask_raster_values: tuple[int, ...] = (1,)
    detect_shaded_snow: bool = True
    """LIS 1.10+: snow in relief shadow by ``blue - nir > shaded_snow_pass`` above zs (science.md A.3 step 5)."""
    hillshade_lim: float = 0.2
    """A slope whose hillshade (cosine of the sun's incidence) is below this is in relief shadow."""
    shaded_snow_pass: float = 0.016
    """LIS's 160, in DN of reflectance x 10 000 and never multiplied by ``multi``: 0.016 as a reflectance."""

    def __post_init__(self) -> None:
        for name in (*_REFLECTANCES, *_FRACTIONS, *_NDSI, "dz"):
            _set(self, name, _number(name, getattr(self, name)))
        for name in _REFLECTANCES:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise BadInputError(
                    f"{name}={value} is not a reflectance in [0, 1]; LIS writes reflectance x 1000 "
                    f"(e.g. 200), which is {value / 1000:g} here"
                )
        for name in _FRACTIONS:
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise BadInputError(f"{name}={getattr(self, name)} must be a fraction in [0, 1]")
        for name in _NDSI:
            if not -1.0 <= getattr(self, name) <= 1.0:
                raise BadInputError(f"{name}={getattr(self, name)} must be an NDSI in [-1, 1]")
        if not self.dz > 0:
            raise BadInputError(f"dz={self.dz} must be a positive height in metres")
        _set(self, "rf", _positive_int("rf", self.rf))
        for name in ("strict_cloud_mask", "detect_shaded_snow"):
            if not isinstance(getattr(self, name), bool):
                raise BadInputError(f"{name}={getattr(self, name)!r} must be true or false")
        for name in ("hillshade_lim", "shaded_snow_pass"):
            _set(self, name, _number(name, getattr(self, name)))
        if not -1.0 <= self.hillshade_lim <= 1.0:
            raise BadInputError(f"hillshade_lim={self.hillshade_lim} must be a cosine in [-1, 1]")
        if not 0.0 <= self.shaded_snow_pass <= 1.0:
            raise BadInputError(
                f"shaded_snow_pass={self.shaded_snow_pass} is not a reflectance in [0, 1]; LIS writes it in DN of "
                f"reflectance x 10 000 (160), which is {self.shaded_snow_pass / 10000:g} here"
            )
        if not isinstance(self.fscToc_Eq, str):
            raise BadInputError(f"fscToc_Eq={self.fscToc_Eq!r} must be a formula of ndsi written as text")
        compile_fsc_formula(self.fscToc_Eq)
        values = self.water_mask_raster_values
        values = (values,) if isinstance(values, int) else values
        _set(self, "water_mask_raster_values", tuple(_int("water_mask_raster_values", v) for v in values))

    @classmethod
    def for_sensor(cls, sensor: str, **overrides: Any) -> Self:
        """Defaults with the published rf of a sensor on its native grid (S2 20 m: 12, Landsat 30 m: 8)."""
        key = sensor.lower()
        if key not in RF_BY_SENSOR:
            raise BadInputError(f"unknown sensor {sensor!r}; known: {', '.join(sorted(RF_BY_SENSOR))}")
        return cls.from_mapping({"rf": RF_BY_SENSOR[key], **overrides})

    @classmethod
    def for_pixel_size(cls, pixel_size_m: float, **overrides: Any) -> Self:
        """Defaults with rf chosen so that the red band is down-sampled to 240 m on a grid of this pixel size."""
        rf = round(RED_DOWNSAMPLED_PIXEL_M / pixel_size_m)
        if rf < 1 or not math.isclose(rf * pixel_size_m, RED_DOWNSAMPLED_PIXEL_M, rel_tol=0.05):
            raise BadInputError(f"a pixel size of {pixel_size_m} m gives no whole rf for 240 m")
        return cls.from_mapping({"rf": rf, **overrides})


@dataclass(frozen=True, kw_only=True)
class SynthesisParams(_Settings):
    """Settings of the season syntheses (science.md A.5)."""

    min_snow_days: int = 10
    """SOD and SMOD are computed only where SCD is larger than this; elsewhere they are 0."""
    margin_days: int = 15
    """Inputs are taken in [start - margin, stop + margin], so that gap filling has support at the ends."""

    def __post_init__(self) -> None:
        for name in ("min_snow_days", "margin_days"):
            value = _int(name, getattr(self, name))
            if value < 0:
                raise BadInputError(f"{name}={value} must not be negative")
            _set(self, name, value)


def _from_mapping(cls: type[_P], mapping: Mapping[str, Any]) -> _P:
    if not isinstance(mapping, Mapping):
        raise BadInputError(f"{cls.__name__} needs a mapping of parameters, got {type(mapping).__name__}")
    known = {field.name for field in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(mapping) - known)
    if unknown:
        raise BadInputError(
            f"unknown {cls.__name__} key(s): {', '.join(map(str, unknown))}; known: {', '.join(sorted(known))}"
        )
    return cls(**mapping)


def _to_dict(params: Any) -> dict[str, Any]:
    return {
        field.name: list(value) if isinstance(value := getattr(params, field.name), tuple) else value
        for field in dataclasses.fields(params)
    }


def _read_mapping(path: Path) -> Any:
    suffix = path.suffix.lower()
    text = path.read_text(encoding="utf-8")
    try:
        if suffix in (".yaml", ".yml"):
            return yaml.safe_load(text) or {}
        if suffix == ".json":
            return json.loads(text)
    except (yaml.YAMLError, json.JSONDecodeError) as err:
        raise BadInputError(f"{path}: not a readable {suffix[1:].upper()} file: {err}") from None
    raise BadInputError(f"{path}: parameter files must be .yaml, .yml or .json")


def _set(params: Any, name: str, value: Any) -> None:
    object.__setattr__(params, name, value)


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise BadInputError(f"{name}={value!r} must be a number") from None
    number = float(value)
    if not math.isfinite(number):
        raise BadInputError(f"{name}={value!r} must be finite")
    return number


def _int(name: str, value: Any) -> int:
    number = _number(name, value)
    if not number.is_integer():
        raise BadInputError(f"{name}={value!r} must be a whole number")
    return int(number)


def _positive_int(name: str, value: Any) -> int:
    number = _int(name, value)
    if number < 1:
        raise BadInputError(f"{name}={value!r} must be at least 1")
    return number
