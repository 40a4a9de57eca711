"""Simulated Sentinel-2-like yearly series over parcels whose OSO 23 class is known.

For tests and the model benchmark, not science: each class has a vegetation-cover profile over
the year (sums of double logistics: green-up, senescence; harvests and cuts) mixed with a
background spectrum (soil, urban, water, snow, sand, rock), both from the world's table
(``flows.simulator.spectra``). Parcels are Voronoi cells (``flows.simulator.landcover.voronoi_labels``);
each parcel jitters its class's dates and amplitude, each pixel adds noise. Clouds are smooth random
blobs with bright reflectance, flagged invalid. Annual crops can rotate between years.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from scipy import ndimage

from flows.simulator.landcover import voronoi_labels
from flows.simulator.spectra import SPECTRA
from products.landcover.features import SENTINEL2

BANDS = SENTINEL2.reflectance  # the world's ten bands B02 ... B12, in its order


@dataclass(frozen=True)
class ClassProfile:
    """Background, base vegetation cover, and (green-up day, senescence day, amplitude) cycles;
    days are counted from 1 January of the crop year and may be negative (autumn sowing)."""

    background: str
    base: float
    cycles: tuple[tuple[float, float, float], ...] = ()
    vegetation: str = "leaf"


PROFILES: Mapping[int, ClassProfile] = {
    1: ClassProfile("urban", 0.05),
    2: ClassProfile("urban", 0.25, ((100, 290, 0.25),)),
    3: ClassProfile("urban", 0.02),
    4: ClassProfile("asphalt", 0.12, ((110, 280, 0.1),)),
    5: ClassProfile("soil", 0.05, ((-80, 175, 0.85),)),
    6: ClassProfile("soil", 0.05, ((40, 180, 0.85),)),
    7: ClassProfile("soil", 0.05, ((60, 165, 0.75),)),
    8: ClassProfile("soil", 0.05, ((160, 255, 0.85),)),
    9: ClassProfile("soil", 0.05, ((130, 235, 0.7),)),
    10: ClassProfile("soil", 0.05, ((150, 270, 0.9),)),
    11: ClassProfile("water", 0.05, ((180, 265, 0.85),)),
    12: ClassProfile("soil", 0.05, ((120, 225, 0.75),)),
    13: ClassProfile("soil", 0.55, ((60, 140, 0.35), (160, 200, 0.25), (220, 300, 0.3))),
    14: ClassProfile("soil", 0.35, ((95, 300, 0.4),)),
    15: ClassProfile("soil", 0.1, ((130, 280, 0.4),)),
    16: ClassProfile("soil", 0.3, ((105, 300, 0.65),)),
    17: ClassProfile("soil", 0.8, (), vegetation="conifer"),
    18: ClassProfile("soil", 0.35, ((50, 180, 0.35),)),
    19: ClassProfile("soil", 0.5, ((90, 280, 0.2),), vegetation="conifer"),
    20: ClassProfile("rock", 0.02),
    21: ClassProfile("sand", 0.02),
    22: ClassProfile("snow_fresh", 0.0, ((170, 260, 0.6),), vegetation="rock"),
    23: ClassProfile("water", 0.0),
}
ANNUAL_CROPS = (5, 6, 7, 8, 9, 10, 11, 12)


@dataclass(frozen=True)
class SimulatedScene:
    """Reflectance series (time, y, x) per band, validity, parcel ids (y, x) and classes per year."""

    series: xr.Dataset
    valid: xr.DataArray
    polygon_ids: np.ndarray
    classes_by_year: Mapping[int, Mapping[int, int]]

    def labels(self, year: int) -> np.ndarray:
        lookup = np.zeros(self.polygon_ids.max() + 1, dtype=np.int32)
        for pid, code in self.classes_by_year[year].items():
            lookup[pid] = code
        return lookup[self.polygon_ids]


def double_logistic(day: np.ndarray, up: np.ndarray, down: np.ndarray, *, steepness: float = 8.0) -> np.ndarray:
    return 1 / (1 + np.exp(-(day - up) / steepness)) - 1 / (1 + np.exp(-(day - down) / steepness))


def simulate_scene(
    *,
    years: Sequence[int] = (2021,),
    shape: tuple[int, int] = (100, 100),
    n_parcels: int = 120,
    classes: Sequence[int] = tuple(PROFILES),
    revisit_days: int = 5,
    cloud_cover: float = 0.35,
    date_jitter: float = 12.0,
    noise: float = 0.015,
    rotate_crops: bool = True,
    seed: int = 0,
) -> SimulatedScene:
    """A scene of `n_parcels` Voronoi parcels over `years`, one acquisition every `revisit_days`."""
    rng = np.random.default_rng(seed)
    years = sorted(years)
    ids = _voronoi(shape, n_parcels, rng)
    n = int(ids.max())
    first = {pid: int(rng.choice(classes)) for pid in range(1, n + 1)}
    classes_by_year: dict[int, dict[int, int]] = {}
    for i, year in enumerate(years):
        this = dict(first)
        if rotate_crops and i > 0:
            crops = [c for c in classes if c in ANNUAL_CROPS]
            for pid, code in first.items():
                if code in ANNUAL_CROPS and crops:
                    this[pid] = int(rng.choice(crops))
        classes_by_year[year] = this
    dates = pd.date_range(f"{years[0]}-01-01", f"{years[-1]}-12-31", freq=f"{revisit_days}D") + pd.Timedelta(hours=10, minutes=30)
    jitter = rng.normal(0, date_jitter, size=(n + 1, len(years)))
    scale = rng.uniform(0.8, 1.1, size=n + 1)
    cube = np.empty((len(dates), *shape, len(BANDS)), dtype=np.float32)
    for t, date in enumerate(dates):
        cover = np.zeros(n + 1, dtype=np.float32)
        veg = np.zeros((n + 1, len(BANDS)), dtype=np.float32)
        bg = np.zeros((n + 1, len(BANDS)), dtype=np.float32)
        for pid in range(1, n + 1):
            for k, year in enumerate(years):
                if abs(year - date.year) > 1:
                    continue
                prof = PROFILES[classes_by_year[year][pid]]
                day = (date - pd.Timestamp(f"{year}-01-01")).days
                if year == date.year:
                    cover[pid] += prof.base
                    veg[pid], bg[pid] = SPECTRA[prof.vegetation], SPECTRA[prof.background]
                for up, down, amp in prof.cycles:
                    cover[pid] += scale[pid] * amp * double_logistic(np.float32(day), up + jitter[pid, k], down + jitter[pid, k])
        cover = np.clip(cover, 0, 1)[:, None]
        pixel = cover * veg + (1 - cover) * bg
        cube[t] = pixel[ids] + rng.normal(0, noise, size=(*shape, len(BANDS))).astype(np.float32)
    cloudy = _clouds(len(dates), shape, cloud_cover, rng)
    cube[cloudy] = SPECTRA["cloud"] + rng.normal(0, 0.03, size=(int(cloudy.sum()), len(BANDS))).astype(np.float32)
    coords = {"time": dates, "y": np.arange(shape[0]) * -10.0, "x": np.arange(shape[1]) * 10.0}
    series = xr.Dataset({b: (("time", "y", "x"), np.clip(cube[..., i], 0, 1)) for i, b in enumerate(BANDS)}, coords=coords)
    valid = xr.DataArray(~cloudy, dims=("time", "y", "x"), coords=coords, name="valid")
    return SimulatedScene(series=series, valid=valid, polygon_ids=ids, classes_by_year=classes_by_year)


def _voronoi(shape: tuple[int, int], n: int, rng: np.random.Generator) -> np.ndarray:
    """Parcel ids 1 ... k (k <= n: a seed may win no pixel) of ``n`` random seeds, sampled at whole pixel indices."""
    seeds = rng.uniform(0, 1, size=(n, 2)) * np.asarray(shape)  # (row, col)
    nearest = voronoi_labels(seeds[:, ::-1], shape, offset=0.0)
    used = np.unique(nearest)
    relabel = np.zeros(n, dtype=np.int32)
    relabel[used] = np.arange(1, len(used) + 1)
    return relabel[nearest]


def _clouds(n_dates: int, shape: tuple[int, int], cover: float, rng: np.random.Generator) -> np.ndarray:
    out = np.zeros((n_dates, *shape), dtype=bool)
    for t in range(n_dates):
        fraction = float(np.clip(rng.beta(0.6, 0.6 * (1 - cover) / max(cover, 1e-3)), 0, 1))
        if fraction < 0.02:
            continue
        field = ndimage.gaussian_filter(rng.normal(size=shape), sigma=max(shape) / 10)
        out[t] = field > np.quantile(field, 1 - fraction)
    return out
