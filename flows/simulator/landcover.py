"""Land cover of the simulated world: parcels (Voronoi cells), their OSO 23-class codes per year, and
the class-specific seasonal phenology that drives their reflectance.

- Parcels are Voronoi cells of seeds drawn densely on the flat valley floor (fields of ~4 ha) and sparsely
  on the mountains (~25-50 ha). A cell's class follows its mean elevation, slope and exposure: a lake, a
  town (dense then diffuse urban) and an industrial zone, arable fields, meadows, orchards and vineyards in
  the valley; broadleaf then coniferous forest, woody moorland, alpine grassland, mineral surfaces and
  glaciers going up.
- Arable fields follow a crop rotation (straw cereals, rapeseed, maize, sunflower) with a per-parcel phase:
  the code changes from one calendar year to the next; every other class keeps its code.
- Phenology: per class, cover fractions of green leaves, dry matter (straw, senescent leaves, branches) and
  flowers through the year, shifted per parcel by a few days, delayed with altitude for natural vegetation.
  Winter crops sown in the autumn of year Y belong to the crop of year Y+1 (their harvest year).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import shapely
from scipy import ndimage
from scipy.spatial import cKDTree
from shapely.geometry import MultiPoint, box

from flows.simulator.fields import smooth_field
from flows.simulator.geometry import WorldGrid
from flows.simulator.spectra import SPECTRA
from flows.simulator.terrain import Terrain

OSO23_NAMES = {
    1: "dense urban", 2: "diffuse urban", 3: "industrial and commercial", 5: "rapeseed", 6: "straw cereals",
    9: "sunflower", 10: "maize", 13: "meadows", 14: "orchards", 15: "vineyards", 16: "broadleaf forest",
    17: "coniferous forest", 18: "grassland", 19: "woody moorland", 20: "mineral surfaces",
    22: "glaciers and snow", 23: "water",
}
ARABLE = (5, 6, 9, 10)
WINTER_CROPS = (5, 6)
ROTATIONS = ((6, 10, 0, 0), (6, 5, 6, 10), (10, 10, 6, 0), (6, 9, 10, 0), (5, 6, 10, 0))
ROTATION_LENGTHS = np.array([2, 4, 3, 3, 3])
ROTATION_WEIGHTS = np.array([0.32, 0.24, 0.18, 0.14, 0.12])
WATER, GLACIER = 23, 22
LOWLAND_MAX_M, LOWLAND_MAX_SLOPE = 600.0, 8.0
DENSITY_PER_KM2 = {"lowland": 22.0, "hillside": 4.0, "high": 2.0}

# ------------------------------------------------------------------------------------------ phenology
# (day, green, dry, flower). Arable crops: day counted from 1 January of the harvest year, negative in
# the autumn before (sowing of winter crops); the first day is when the field is ploughed for that crop.
_ARABLE_CURVES = {
    6: [(-85, 0, 0, 0), (-72, 0, 0, 0), (-40, .12, 0, 0), (0, .28, 0, 0), (60, .38, 0, 0), (105, .8, 0, 0),
        (140, .95, 0, 0), (165, .6, .35, 0), (185, .08, .85, 0), (191, .05, .88, 0), (192, 0, .45, 0),
        (240, .08, .35, 0), (300, .1, .3, 0), (365, .1, .3, 0)],
    5: [(-140, 0, 0, 0), (-128, 0, 0, 0), (-100, .25, 0, 0), (-60, .6, 0, 0), (0, .5, 0, 0), (60, .6, 0, 0),
        (90, .75, 0, .1), (110, .3, 0, .6), (130, .85, 0, .08), (145, .9, 0, 0), (165, .5, .4, 0),
        (182, .12, .75, 0), (186, 0, .45, 0), (240, .1, .3, 0), (365, .1, .3, 0)],
    10: [(0, 0, .25, 0), (110, 0, .2, 0), (118, 0, 0, 0), (130, 0, 0, 0), (150, .08, 0, 0), (175, .45, 0, 0),
         (200, .85, 0, 0), (225, .95, 0, 0), (250, .8, .1, 0), (268, .4, .5, 0), (284, .25, .65, 0),
         (286, 0, .35, 0), (365, .03, .3, 0)],
    9: [(0, 0, .2, 0), (95, 0, .2, 0), (100, 0, 0, 0), (112, 0, 0, 0), (132, .1, 0, 0), (160, .6, 0, 0),
        (180, .75, 0, .3), (195, .7, 0, .15), (215, .45, .35, 0), (240, .1, .75, 0), (256, .05, .75, 0),
        (258, 0, .35, 0), (365, .05, .3, 0)],
}
# other classes: cyclic over the day of year
_CYCLIC_CURVES = {
    1: [(0, .05, .02, 0), (150, .12, 0, 0), (365, .05, .02, 0)],
    2: [(0, .22, .1, 0), (130, .42, .02, 0), (250, .42, .05, 0), (310, .28, .1, 0), (365, .22, .1, 0)],
    3: [(0, .03, .01, 0), (365, .03, .01, 0)],
    13: [(0, .55, .15, 0), (60, .6, .1, 0), (90, .75, .05, 0), (135, .95, 0, 0), (145, .3, .35, 0),
         (170, .85, 0, 0), (195, .8, .05, 0), (200, .35, .35, 0), (230, .7, .1, 0), (280, .75, .05, 0),
         (335, .6, .12, 0), (365, .55, .15, 0)],
    14: [(0, .3, .25, 0), (90, .35, .2, 0), (105, .45, .1, .25), (120, .7, .05, 0), (200, .8, 0, 0),
         (280, .6, .15, 0), (310, .35, .3, 0), (365, .3, .25, 0)],
    15: [(0, .08, .22, 0), (120, .12, .2, 0), (150, .35, .1, 0), (190, .55, .05, 0), (250, .55, .08, 0),
         (285, .35, .3, 0), (310, .12, .3, 0), (365, .08, .22, 0)],
    16: [(0, .12, .5, 0), (95, .15, .5, 0), (110, .5, .25, 0), (130, .88, .02, 0), (245, .88, .02, 0),
         (285, .6, .25, 0), (305, .25, .45, 0), (320, .12, .5, 0), (365, .12, .5, 0)],
    17: [(0, .85, .05, 0), (120, .88, .03, 0), (200, .92, 0, 0), (300, .88, .03, 0), (365, .85, .05, 0)],
    18: [(0, .05, .6, 0), (140, .05, .6, 0), (160, .3, .45, 0), (190, .75, .1, 0), (215, .8, .05, 0),
         (245, .55, .3, 0), (275, .2, .6, 0), (365, .05, .6, 0)],
    19: [(0, .35, .35, 0), (140, .35, .35, 0), (170, .6, .15, 0), (220, .7, .08, 0), (260, .55, .2, 0),
         (290, .4, .3, 0), (365, .35, .35, 0)],
    20: [(0, 0, 0, 0), (365, 0, 0, 0)],
    22: [(0, 0, 0, 0), (365, 0, 0, 0)],
    23: [(0, 0, 0, 0), (365, 0, 0, 0)],
}
# spectra of background, green, dry and flower components per class
_COMPONENTS = {
    1: ("urban", "leaf", "dry", "flower"), 2: ("urban", "leaf", "dry", "flower"), 3: ("urban", "leaf", "dry", "flower"),
    5: ("soil", "leaf", "dry", "flower"), 6: ("soil", "leaf", "dry", "flower"), 9: ("soil", "leaf", "dry", "flower"),
    10: ("soil", "leaf", "dry", "flower"), 13: ("soil", "leaf", "dry", "flower"), 14: ("soil", "leaf", "dry", "flower"),
    15: ("soil", "leaf", "dry", "flower"), 16: ("litter", "leaf", "dry", "flower"), 17: ("litter", "conifer", "dry", "flower"),
    18: ("soil", "leaf", "dry", "flower"), 19: ("soil", "shrub", "dry", "flower"), 20: ("rock", "leaf", "dry", "flower"),
    22: ("snow_fresh", "leaf", "dry", "flower"), 23: ("water", "leaf", "dry", "flower"),
}
_URBAN_BRIGHTNESS = {1: 1.0, 2: 1.05, 3: 1.35}
# vegetation greens up later with altitude: (reference elevation of the class curve, days per metre above it)
_ALTITUDE_DELAY = {13: (400.0, 0.02), 16: (600.0, 0.02), 17: (1300.0, 0.015), 18: (2100.0, 0.025), 19: (1900.0, 0.025)}


def _curve_arrays(points):
    a = np.asarray(points, dtype=np.float64)
    return a[:, 0], a[:, 1], a[:, 2], a[:, 3]


_ARABLE_ARRAYS = {k: _curve_arrays(v) for k, v in _ARABLE_CURVES.items()}
_CYCLIC_ARRAYS = {k: _curve_arrays(v) for k, v in _CYCLIC_CURVES.items()}
_PREP = np.full(256, 1e9)  # day the field is ploughed for each arable crop (by code)
for _code, _arrays in _ARABLE_ARRAYS.items():
    _PREP[_code] = _arrays[0][0]


@dataclass(frozen=True)
class Parcels:
    """The world's parcels: seeds, per-pixel parcel index, and per-parcel class and parameters."""

    grid: WorldGrid
    seeds: np.ndarray  # (n, 2) map coordinates, EPSG:3035
    labels: np.ndarray  # (rows, cols) int32 parcel index
    fixed_code: np.ndarray  # (n,) int16 class code, 0 for arable parcels (they rotate)
    rotation: np.ndarray  # (n,) int8 rotation index for arable parcels
    phase: np.ndarray  # (n,) int8
    shift_days: np.ndarray  # (n,) float32
    vigour: np.ndarray  # (n,) float32
    brightness: np.ndarray  # (n,) float32, background (soil) brightness factor
    mean_elevation: np.ndarray  # (n,) float32
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    def __len__(self) -> int:
        return len(self.seeds)

    def codes(self, year: int) -> np.ndarray:
        """OSO 23 code of every parcel in calendar ``year``."""
        if year not in self._cache:
            rot = np.asarray(ROTATIONS, dtype=np.int16)[self.rotation]
            length = ROTATION_LENGTHS[self.rotation]
            crop = rot[np.arange(len(self)), (year + self.phase.astype(np.int64)) % length]
            self._cache[year] = np.where(self.fixed_code > 0, self.fixed_code, crop).astype(np.int16)
        return self._cache[year]

    def code_raster(self, year: int) -> np.ndarray:
        return self.codes(year)[self.labels]

    @cached_property
    def polygons(self) -> list[shapely.Polygon]:
        """Voronoi cell of each parcel (EPSG:3035), clipped to the world, in parcel order."""
        frame = box(*self.grid.bounds)
        cells = shapely.voronoi_polygons(MultiPoint(self.seeds), extend_to=frame, ordered=True)
        return [shapely.intersection(c, frame) for c in cells.geoms]

    def canopy(self, codes: np.ndarray, green: np.ndarray) -> np.ndarray:
        """Share of a parcel's view that tree crowns hide from snow on the ground."""
        out = np.zeros(len(codes), dtype=np.float32)
        out[codes == 17] = 0.45
        out[codes == 16] = (0.2 + 0.45 * green[codes == 16]).astype(np.float32)
        out[codes == 14] = 0.15
        out[codes == 15] = 0.05
        out[codes == 2] = 0.2
        out[codes == 1] = 0.3
        return out

    def phenology(self, day: dt.date) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(codes, green, dry, flower) of every parcel on ``day``."""
        year, t = day.year, float(day.timetuple().tm_yday - 1)
        cur, nxt = self.codes(year), self.codes(year + 1)
        n = len(self)
        green, dry, flower = np.zeros(n), np.zeros(n), np.zeros(n)
        shift = self.shift_days.astype(np.float64)
        codes = cur.copy()
        # next year's winter crop already ploughed for / sown this autumn
        t_next = t - 365.0 - shift
        next_started = np.isin(nxt, WINTER_CROPS) & (t_next >= _PREP[nxt])
        for code, (days, g, d, f) in _ARABLE_ARRAYS.items():
            for sel, tt in (((cur == code) & ~next_started, t - shift), ((nxt == code) & next_started, t_next)):
                if sel.any():
                    x = np.clip(tt[sel], days[0], days[-1])
                    green[sel], dry[sel], flower[sel] = np.interp(x, days, g), np.interp(x, days, d), np.interp(x, days, f)
        codes[next_started] = nxt[next_started]
        for code, (days, g, d, f) in _CYCLIC_ARRAYS.items():
            sel = cur == code
            if sel.any():
                ref, per_m = _ALTITUDE_DELAY.get(code, (0.0, 0.0))
                delay = np.clip(per_m * (self.mean_elevation[sel] - ref), -20.0, 40.0)
                x = (t - shift[sel] - delay) % 365.0
                green[sel], dry[sel], flower[sel] = np.interp(x, days, g), np.interp(x, days, d), np.interp(x, days, f)
        green = np.clip(green * self.vigour, 0.0, 1.0)
        total = green + dry + flower
        scale = np.where(total > 1.0, 1.0 / np.maximum(total, 1e-9), 1.0)
        return codes, (green * scale).astype(np.float32), (dry * scale).astype(np.float32), (flower * scale).astype(np.float32)

    def reflectance(self, day: dt.date) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(spectra (n, 10), codes (n,), canopy (n,)) of every parcel on ``day``, snow-free."""
        codes, green, dry, flower = self.phenology(day)
        n = len(self)
        spectra = np.zeros((n, 10), dtype=np.float32)
        for code, (bg, leaf, drym, flw) in _COMPONENTS.items():
            sel = codes == code
            if not sel.any():
                continue
            g, d, f = green[sel, None], dry[sel, None], flower[sel, None]
            b = self.brightness[sel, None] * _URBAN_BRIGHTNESS.get(code, 1.0)
            spectra[sel] = (SPECTRA[bg] * b * (1.0 - g - d - f) + SPECTRA[leaf] * g + SPECTRA[drym] * d
                            + SPECTRA[flw] * f)
        return spectra, codes, self.canopy(codes, green)




def voronoi_labels(seeds: np.ndarray, shape: tuple[int, int], *, pixel: float = 1.0, offset: float = 0.5) -> np.ndarray:
    """The index of the nearest seed at every pixel of a (rows, cols) grid: the Voronoi cell (parcel) it falls in.

    ``seeds`` are (n, 2) x, y from the grid's top-left corner, pixels are sampled at (index + ``offset``) x ``pixel``
    in the same units.
    """
    ny, nx = shape
    px = (np.arange(nx) + offset) * pixel
    py = (np.arange(ny) + offset) * pixel
    grid_pts = np.column_stack([np.tile(px, ny), np.repeat(py, nx)])
    _, labels = cKDTree(seeds).query(grid_pts, workers=-1)
    return labels.reshape(ny, nx).astype(np.int32)


def make_parcels(world: WorldGrid, terrain: Terrain, rng: np.random.Generator) -> Parcels:
    elev, slope = terrain.elevation, terrain.slope
    ny, nx = world.shape
    x0, _, _, y1 = world.bounds
    res = world.res_x
    lowland = (elev < LOWLAND_MAX_M) & (slope < LOWLAND_MAX_SLOPE)
    density = np.where(lowland, DENSITY_PER_KM2["lowland"], np.where(elev < 1200, DENSITY_PER_KM2["hillside"], DENSITY_PER_KM2["high"]))
    area_km2 = (ny * nx * res * res) / 1e6
    top = DENSITY_PER_KM2["lowland"]
    n_candidates = max(16, int(rng.poisson(top * area_km2)))
    cand = np.column_stack([rng.uniform(0, nx * res, n_candidates), rng.uniform(0, ny * res, n_candidates)])
    col = np.minimum((cand[:, 0] / res).astype(int), nx - 1)
    row = np.minimum((cand[:, 1] / res).astype(int), ny - 1)
    keep = rng.uniform(0, top, n_candidates) < density[row, col]
    local = cand[keep]
    if len(local) < 4:
        local = cand[:4]
    seeds = np.column_stack([x0 + local[:, 0], y1 - local[:, 1]])

    labels = voronoi_labels(local, (ny, nx), pixel=res)

    n = len(seeds)
    counts = np.maximum(np.bincount(labels.ravel(), minlength=n), 1)

    def mean(a: np.ndarray) -> np.ndarray:
        return (np.bincount(labels.ravel(), weights=a.ravel().astype(np.float64), minlength=n) / counts).astype(np.float32)

    m_elev, m_slope, m_south = mean(elev), mean(slope), mean(terrain.southness)
    low_cell = mean(lowland.astype(np.float32)) > 0.5
    u = rng.uniform(0, 1, n)
    code = np.zeros(n, dtype=np.int16)

    # lake, town, industrial zone: around chosen lowland cells
    b = world.bounds
    lake_score = _score(rng, b, seeds)
    town_score = _score(rng, b, seeds)
    ind_score = _score(rng, b, seeds)
    side = world.res_x * nx
    dist = lambda i: np.hypot(seeds[:, 0] - seeds[i, 0], seeds[:, 1] - seeds[i, 1])  # noqa: E731
    if low_cell.any():
        lake = int(np.argmax(np.where(low_cell, lake_score, -np.inf)))
        r_lake = min(1500.0, np.sqrt(0.012 * side * side / np.pi))
        code[low_cell & (dist(lake) <= r_lake)] = WATER
        free = low_cell & (code == 0)
        if free.any():
            town = int(np.argmax(np.where(free, town_score, -np.inf)))
            d_town = dist(town)
            code[free & (d_town <= 0.03 * side)] = 1
            code[free & (code == 0) & (d_town <= 0.075 * side) & (u < 0.75)] = 2
            far = low_cell & (code == 0) & (d_town > 0.1 * side)
            if far.any():
                ind = int(np.argmax(np.where(far, ind_score, -np.inf)))
                code[far & (dist(ind) <= 0.02 * side)] = 3
    rest_low = low_cell & (code == 0)
    v = rng.uniform(0, 1, n)
    code[rest_low & (v < 0.03)] = 2  # villages
    rest_low &= code == 0
    arable = rest_low & (u < 0.58)
    code[rest_low & (u >= 0.58) & (u < 0.78)] = 13
    code[rest_low & (u >= 0.78) & (u < 0.86)] = 14
    code[rest_low & (u >= 0.86) & (u < 0.93)] = np.where(m_south[rest_low & (u >= 0.86) & (u < 0.93)] >= -0.05, 15, 13)
    code[rest_low & (u >= 0.93)] = 16

    hill = ~low_cell
    E, S, A = m_elev, m_slope, m_south
    rules = [  # (condition, [(code, cumulative probability) ...]) applied in order to still-unset hill cells
        (hill & (E > 2750) & (S < 32), [(GLACIER, 0.7), (20, 1.0)]),
        (hill & (S > 40) & (E > 1400), [(20, 1.0)]),
        (hill & (E > 2450), [(20, 0.65), (18, 1.0)]),
        (hill & (E > 2100), [(18, 0.55), (19, 0.75), (20, 1.0)]),
        (hill & (E > 1750), [(17, 0.4), (19, 0.65), (18, 1.0)]),
        (hill & (E > 1100), [(17, 0.7), (16, 0.8), (13, 1.0)]),
        (hill & (E <= 900) & (A > 0.3) & (S < 25), [(15, 0.35), (16, 0.8), (13, 1.0)]),
        (hill, [(16, 0.6), (17, 0.75), (13, 0.92), (14, 1.0)]),
    ]
    w = rng.uniform(0, 1, n)
    for cond, choices in rules:
        sel = cond & (code == 0) & ~arable
        lo = 0.0
        for c, hi in choices:
            code[sel & (w >= lo) & (w < hi)] = c
            lo = hi
    rotation = rng.choice(len(ROTATIONS), size=n, p=ROTATION_WEIGHTS).astype(np.int8)
    phase = rng.integers(0, 12, n).astype(np.int8)
    code[arable] = 0
    return Parcels(
        grid=world,
        seeds=seeds,
        labels=labels,
        fixed_code=code,
        rotation=rotation,
        phase=phase,
        shift_days=rng.normal(0.0, 7.0, n).astype(np.float32),
        vigour=rng.uniform(0.85, 1.1, n).astype(np.float32),
        brightness=rng.uniform(0.8, 1.25, n).astype(np.float32),
        mean_elevation=m_elev,
    )


def _score(rng: np.random.Generator, bounds, seeds: np.ndarray) -> np.ndarray:
    """A smooth random score at each seed (to place the lake, the town, the industrial zone)."""
    f = smooth_field(rng, bounds, 2000.0)
    cols = (seeds[:, 0] - f.x0) / f.step
    rows = (f.y0 - seeds[:, 1]) / f.step
    return ndimage.map_coordinates(f.values, [rows, cols], order=1)
