"""The daily gap-free snow map (``snow_daily``): each pixel's latest clear observation within a window of days.

Inputs are the ``snow_cover`` products of each day as :class:`Scene` (``snow`` codes 0 / 100 / 205 / 255 and
``fsc`` 0-100 / 205 / 255 on one (y, x) grid, and the platform that acquired them). A map has four uint8 bands:

- ``snow``: 0 no snow, 100 snow, 205 no clear observation in the window, 255 nodata (outside the data);
- ``fsc``: the observation's FSC (0-100), 205 / 255 as ``snow``;
- ``age``: days since the observation (0 = that day), 255 without one;
- ``sensor``: the observing platform, :func:`sensor_code` (1 + its place in :data:`products.sensors.PLATFORMS`),
  255 without one.

Day D is computed from day D-1's map and day D's scenes (:func:`next_day`), so a daily schedule reads one day of
inputs; :func:`from_window` gives the same map from the whole window, for a first day or a missing D-1 map. Nodata
is static: carried from D-1, or given as ``outside`` to :func:`from_window`.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr

from products.errors import BadInputError
from products.sensors import PLATFORMS
from products.snow.codes import NO_OBSERVATION, NO_SNOW, NODATA, SNOW

WINDOW_DAYS = 7
NONE = 255
"""``age`` and ``sensor`` of a pixel without an observation."""
BANDS = ("snow", "fsc", "age", "sensor")


@dataclass(frozen=True, kw_only=True)
class Scene:
    """One snow_cover product of a day on the map's grid: its ``snow`` codes, its ``fsc`` and its platform."""

    snow: xr.DataArray
    fsc: xr.DataArray
    platform: str

    def __post_init__(self) -> None:
        sensor_code(self.platform)
        xr.align(self.snow, self.fsc, join="exact")


def sensor_code(platform: str) -> int:
    """The ``sensor`` band's value of a platform (``sentinel-2a`` -> 1)."""
    try:
        return 1 + PLATFORMS.index(platform.lower())
    except ValueError:
        raise BadInputError(f"unknown platform {platform!r}; snow_daily knows {list(PLATFORMS)}") from None


def platform_of(code: int) -> str | None:
    """The platform of a ``sensor`` band value, None for 255 (no observation)."""
    return None if code == NONE else PLATFORMS[code - 1]


def next_day(*, previous: xr.Dataset, scenes: Sequence[Scene], window_days: int = WINDOW_DAYS) -> xr.Dataset:
    """Day D's map from day D-1's and day D's scenes: a clear scene pixel (the first in ``scenes`` order) is
    the new observation, aged 0; elsewhere D-1's observation ages by a day and lapses past the window."""
    check_window(window_days)
    nodata = previous.snow == NODATA
    older = previous.age.astype("int16") + 1
    kept = (previous.age != NONE) & (older < window_days) & ~nodata
    aged = xr.Dataset({
        "snow": previous.snow.where(kept, NO_OBSERVATION),
        "fsc": previous.fsc.where(kept, NO_OBSERVATION),
        "age": older.where(kept, NONE),
        "sensor": previous.sensor.where(kept, NONE),
    })
    today = _day_layer(scenes, like=previous.snow)
    if today is not None:
        aged = xr.where(today.clear & ~nodata, today.drop_vars("clear"), aged)
    return _finish(aged, nodata=nodata)


def from_window(*, days: Sequence[Sequence[Scene]], like: xr.DataArray, window_days: int = WINDOW_DAYS,
                outside: xr.DataArray | None = None) -> xr.Dataset:
    """Day D's map from the scenes of the window: ``days[k]`` are day D-k's (k = 0 .. window_days - 1).

    Each pixel takes the clear observation of the most recent day that has one. ``like`` gives the grid;
    ``outside`` (True where there is no data) the nodata pixels. With no scene in the window every pixel inside
    is 205, no observation."""
    check_window(window_days)
    if len(days) > window_days:
        raise BadInputError(f"{len(days)} days of scenes given for a window of {window_days} days")
    nodata = xr.zeros_like(like, dtype=bool) if outside is None else outside.astype(bool)
    xr.align(like, nodata, join="exact")
    found = xr.Dataset({
        "snow": xr.full_like(like, NO_OBSERVATION, dtype="uint8"),
        "fsc": xr.full_like(like, NO_OBSERVATION, dtype="uint8"),
        "age": xr.full_like(like, NONE, dtype="uint8"),
        "sensor": xr.full_like(like, NONE, dtype="uint8"),
    })
    have = xr.zeros_like(like, dtype=bool)
    for age, scenes in enumerate(days):
        layer = _day_layer(scenes, like=like)
        if layer is None:
            continue
        take = layer.clear & ~have
        found = xr.where(take, layer.drop_vars("clear").assign(age=xr.full_like(like, age, dtype="uint8")), found)
        have = have | layer.clear
    return _finish(found, nodata=nodata)


def _day_layer(scenes: Sequence[Scene], *, like: xr.DataArray) -> xr.Dataset | None:
    """A day's scenes as one layer: the first clear value of each pixel, with ``clear`` saying where."""
    if not scenes:
        return None
    layer = xr.Dataset({
        "snow": xr.full_like(like, NO_OBSERVATION, dtype="uint8"),
        "fsc": xr.full_like(like, NO_OBSERVATION, dtype="uint8"),
        "age": xr.full_like(like, 0, dtype="uint8"),
        "sensor": xr.full_like(like, NONE, dtype="uint8"),
        "clear": xr.zeros_like(like, dtype=bool),
    })
    for scene in scenes:
        snow, fsc = xr.align(scene.snow, scene.fsc, like, join="exact")[:2]
        clear = ((snow == NO_SNOW) | (snow == SNOW)) & ~layer.clear
        layer = xr.where(clear, xr.Dataset({
            "snow": snow.astype("uint8"), "fsc": fsc.astype("uint8"), "age": layer.age,
            "sensor": xr.full_like(like, sensor_code(scene.platform), dtype="uint8"), "clear": True,
        }), layer)
    return layer


def _finish(found: xr.Dataset, *, nodata: xr.DataArray) -> xr.Dataset:
    out = xr.Dataset({name: found[name].where(~nodata, NODATA if name in ("snow", "fsc") else NONE).astype("uint8")
                      for name in BANDS})
    for band in out.values():
        band.attrs["nodata"] = NODATA
    return out


def check_window(window_days: int) -> None:
    """A window of 1 to 254 days (255 is the ``age`` of no observation), or a BadInputError."""
    if isinstance(window_days, bool) or not isinstance(window_days, int | np.integer) or not 1 <= window_days < NONE:
        raise BadInputError(f"window_days must be a whole number of days from 1 to 254, got {window_days!r}")
