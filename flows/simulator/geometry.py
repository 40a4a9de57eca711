"""Grids and geometry of the simulated world and of the sensors that look at it.

- ``WorldGrid``: the world is defined on the EEA reference grid, EPSG:3035, 20 m pixels.
- ``Grid``: any north-up pixel grid (a sensor's UTM grid, a DEM tile window); ``centres_in`` maps its pixel
  centres into another CRS, exactly at a lattice of pixels and bilinearly in between (sub-millimetre).
- MGRS tiles as Sentinel-2 uses them: 109 800 m squares whose upper-left corner is the MGRS 100 km square's
  west edge rounded down and its north edge rounded up to a multiple of 60 m (e.g. 29RKH at 199980, 2800020;
  31TGL at 699960, 5100000), so the 10, 20 and 60 m grids of a tile share its origin.
- Landsat Collection 2 UTM grids: 30 m pixels whose centres fall on multiples of 30 m (corners at 15 m).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import Polygon, box

from flows.simulator.fields import axis_weights, interp_separable
from products.errors import BadInputError

EEA_EPSG = 3035
WORLD_RESOLUTION = 20.0
DEFAULT_CENTRE = (4_010_000.0, 2_440_000.0)  # ~6.06 E 44.99 N: one 100 km cell (100kmE40N24) that the 6 E meridian (x ~4 005 000) crosses
TILE_SIZE_M = 109_800.0
MGRS_ALIGN_M = 60.0
_MGRS_COLUMNS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_MGRS_ROWS = "ABCDEFGHJKLMNPQRSTUV"
_LATITUDE_BANDS = "CDEFGHJKLMNPQRSTUVWX"


@lru_cache(maxsize=64)
def transformer(src_epsg: int, dst_epsg: int) -> Transformer:
    return Transformer.from_crs(CRS.from_epsg(src_epsg), CRS.from_epsg(dst_epsg), always_xy=True)


def _knots(n: int, step: int) -> np.ndarray:
    knots = np.unique(np.r_[np.arange(0, n, step), n - 1]).astype(np.float64)
    return knots if len(knots) > 1 else np.array([0.0, 1.0])


@dataclass(frozen=True)
class Grid:
    """A north-up pixel grid: ``transform`` is GDAL-ordered (a, b, c, d, e, f) with b = d = 0."""

    epsg: int
    transform: tuple[float, float, float, float, float, float]
    shape: tuple[int, int]  # (rows, cols)

    @property
    def res_x(self) -> float:
        return self.transform[0]

    @property
    def res_y(self) -> float:
        return -self.transform[4]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        a, _, c, _, e, f = self.transform
        return (c, f + e * self.shape[0], c + a * self.shape[1], f)

    @property
    def xs(self) -> np.ndarray:
        return self.transform[2] + (np.arange(self.shape[1]) + 0.5) * self.transform[0]

    @property
    def ys(self) -> np.ndarray:
        return self.transform[5] + (np.arange(self.shape[0]) + 0.5) * self.transform[4]

    @property
    def crs(self) -> str:
        return f"EPSG:{self.epsg}"

    def centres_in(self, dst_epsg: int, *, step: int = 16) -> tuple[np.ndarray, np.ndarray]:
        """x, y (lon, lat for 4326) of every pixel centre in ``dst_epsg``, float64 arrays of ``shape``."""
        ny, nx = self.shape
        a, _, c, _, e, f = self.transform
        if dst_epsg == self.epsg:
            return np.broadcast_to(self.xs[None, :], self.shape).copy(), np.broadcast_to(self.ys[:, None], self.shape).copy()
        r_knots, c_knots = _knots(ny, step), _knots(nx, step)
        gx, gy = np.meshgrid(c + (c_knots + 0.5) * a, f + (r_knots + 0.5) * e)
        tx, ty = transformer(self.epsg, dst_epsg).transform(gx, gy)
        rows = axis_weights(np.arange(ny, dtype=np.float64), r_knots)
        cols = axis_weights(np.arange(nx, dtype=np.float64), c_knots)
        return interp_separable(np.asarray(tx), rows, cols), interp_separable(np.asarray(ty), rows, cols)

    def to_dict(self) -> dict:
        return {"crs": self.crs, "shape": list(self.shape), "transform": [float(v) for v in self.transform]}


@dataclass(frozen=True)
class WorldGrid(Grid):
    """The simulated world: a square on the EEA reference grid (EPSG:3035, 20 m)."""

    @classmethod
    def around(cls, centre: Sequence[float] = DEFAULT_CENTRE, size_km: float = 20.0, resolution: float = WORLD_RESOLUTION) -> WorldGrid:
        if size_km <= 0:
            raise BadInputError(f"size_km must be positive, not {size_km}")
        half = size_km * 500.0
        r = resolution
        x0 = math.floor((centre[0] - half) / r) * r
        y1 = math.ceil((centre[1] + half) / r) * r
        n = max(2, int(round(size_km * 1000.0 / r)))
        return cls(epsg=EEA_EPSG, transform=(r, 0.0, x0, 0.0, -r, y1), shape=(n, n))

    @cached_property
    def polygon(self) -> Polygon:
        return box(*self.bounds)

    def polygon_in(self, epsg: int, *, densify_m: float = 200.0) -> Polygon:
        return reproject_polygon(self.polygon, EEA_EPSG, epsg, densify_m=densify_m)

    @cached_property
    def lonlat(self) -> tuple[np.ndarray, np.ndarray]:
        return self.centres_in(4326)

    def index_of(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Flat index of the world pixel containing each EPSG:3035 point, -1 outside the world."""
        a, _, c, _, e, f = self.transform
        col = np.floor((x - c) / a).astype(np.int64)
        row = np.floor((y - f) / e).astype(np.int64)
        ny, nx = self.shape
        inside = (col >= 0) & (col < nx) & (row >= 0) & (row < ny)
        return np.where(inside, row * nx + col, -1)


def reproject_polygon(poly: Polygon, src_epsg: int, dst_epsg: int, *, densify_m: float | None = 200.0) -> Polygon:
    if poly.is_empty:
        return poly
    if densify_m and src_epsg != 4326:
        poly = shapely.segmentize(poly, densify_m)
    elif src_epsg == 4326:
        poly = shapely.segmentize(poly, 0.002)
    return shapely.transform(poly, lambda xy: np.column_stack(transformer(src_epsg, dst_epsg).transform(xy[:, 0], xy[:, 1])))


# --------------------------------------------------------------------------------------------- UTM / MGRS
def utm_zone(lon: float) -> int:
    return int(math.floor((lon + 180.0) / 6.0)) % 60 + 1


def utm_epsg(zone: int, north: bool = True) -> int:
    return (32600 if north else 32700) + zone


def zone_meridians(zone: int) -> tuple[float, float]:
    west = -180.0 + 6.0 * (zone - 1)
    return west, west + 6.0


def latitude_band(lat: float) -> str:
    return _LATITUDE_BANDS[min(19, max(0, int(math.floor((lat + 80.0) / 8.0))))]


@dataclass(frozen=True)
class MgrsTile:
    zone: int
    band: str
    column: int  # easting of the 100 km square's west edge / 100 km
    row: int  # northing of the 100 km square's south edge / 100 km

    @property
    def epsg(self) -> int:
        return utm_epsg(self.zone)

    @property
    def square(self) -> str:
        col = _MGRS_COLUMNS[((self.zone - 1) % 3) * 8 + self.column - 1]
        row = _MGRS_ROWS[(self.row + (5 if self.zone % 2 == 0 else 0)) % 20]
        return col + row

    @property
    def name(self) -> str:
        return f"{self.zone:02d}{self.band}{self.square}"

    @property
    def origin(self) -> tuple[float, float]:
        """Upper-left corner of the tile, shared by its 10, 20 and 60 m grids."""
        x = math.floor(self.column * 100_000 / MGRS_ALIGN_M) * MGRS_ALIGN_M
        y = math.ceil((self.row + 1) * 100_000 / MGRS_ALIGN_M) * MGRS_ALIGN_M
        return float(x), float(y)

    @property
    def polygon(self) -> Polygon:
        x, y = self.origin
        return box(x, y - TILE_SIZE_M, x + TILE_SIZE_M, y)

    def window_grid(self, footprint: Polygon, resolution: float) -> Grid:
        """The part of the tile's grid at ``resolution`` that covers ``footprint``, origin on the 60 m lattice."""
        ox, oy = self.origin
        x_min, y_min, x_max, y_max = footprint.bounds
        a = MGRS_ALIGN_M
        x0 = ox + math.floor((x_min - ox) / a) * a
        x1 = ox + math.ceil((x_max - ox) / a) * a
        y1 = oy - math.floor((oy - y_max) / a) * a
        y0 = oy - math.ceil((oy - y_min) / a) * a
        x0, x1 = max(x0, ox), min(x1, ox + TILE_SIZE_M)
        y0, y1 = max(y0, oy - TILE_SIZE_M), min(y1, oy)
        shape = (int(round((y1 - y0) / resolution)), int(round((x1 - x0) / resolution)))
        return Grid(epsg=self.epsg, transform=(resolution, 0.0, x0, 0.0, -resolution, y1), shape=shape)


@dataclass(frozen=True)
class TileCoverage:
    """One Sentinel-2 tile as simulated: its MGRS tile, the data footprint (UTM) and the lon band it keeps."""

    tile: MgrsTile
    footprint: Polygon  # in the tile's UTM CRS
    lon_band: tuple[float, float]  # data only where lon_band[0] <= lon < lon_band[1] (zone +- overlap)


def zone_band(zone: int, overlap_km: float, lat: float) -> tuple[float, float]:
    west, east = zone_meridians(zone)
    delta = overlap_km / (111.32 * math.cos(math.radians(lat)))
    return west - delta, east + delta


def s2_tiles_for(world: WorldGrid, *, overlap_km: float = 3.0) -> list[TileCoverage]:
    """The Sentinel-2 tiles that image the world: per UTM zone, the fewest MGRS tiles covering the zone's
    part of the world widened by ``overlap_km`` across the zone edges (real tiles overlap their neighbours)."""
    lon, lat = world.lonlat
    lat_c = float(lat.mean())
    delta = zone_band(1, overlap_km, lat_c)[1] - zone_meridians(1)[1]
    zones = list(range(utm_zone(float(lon.min()) - delta), utm_zone(float(lon.max()) + delta) + 1))
    out: list[TileCoverage] = []
    for zone in zones:
        band = zone_band(zone, overlap_km, lat_c)
        epsg = utm_epsg(zone)
        strip = reproject_polygon(box(band[0], float(lat.min()) - 0.1, band[1], float(lat.max()) + 0.1), 4326, epsg)
        part = world.polygon_in(epsg).intersection(strip)
        if part.is_empty or part.area < 1e-6 * world.polygon.area:
            continue
        x_min, y_min, x_max, y_max = part.bounds
        candidates = []
        for col in range(max(1, int((x_min - TILE_SIZE_M) // 100_000)), int(x_max // 100_000) + 1):
            if not 1 <= col <= 8:
                continue
            for row in range(int((y_min - TILE_SIZE_M) // 100_000), int(y_max // 100_000) + 2):
                probe = MgrsTile(zone, "C", col, row)
                inter = probe.polygon.intersection(part)
                if not inter.is_empty and inter.area > 0:
                    c_lat = transformer(epsg, 4326).transform(*inter.centroid.coords[0])[1]
                    candidates.append(MgrsTile(zone, latitude_band(c_lat), col, row))
        remaining = part
        while candidates and remaining.area > 1e-4 * part.area:
            best = max(candidates, key=lambda t: (t.polygon.intersection(remaining).area, t.name))
            gain = best.polygon.intersection(remaining)
            if gain.area <= 0:
                break
            candidates.remove(best)
            out.append(TileCoverage(tile=best, footprint=best.polygon.intersection(part), lon_band=band))
            remaining = remaining.difference(best.polygon)
    return out


def landsat_grid(world: WorldGrid, epsg: int, resolution: float = 30.0) -> Grid:
    """A Landsat C2 UTM grid window over the world: pixel centres on multiples of 30 m."""
    x_min, y_min, x_max, y_max = world.polygon_in(epsg).bounds
    r, h = resolution, resolution / 2.0
    x0 = math.floor((x_min - h) / r) * r + h
    x1 = math.ceil((x_max - h) / r) * r + h
    y0 = math.floor((y_min - h) / r) * r + h
    y1 = math.ceil((y_max - h) / r) * r + h
    shape = (int(round((y1 - y0) / r)), int(round((x1 - x0) / r)))
    return Grid(epsg=epsg, transform=(r, 0.0, x0, 0.0, -r, y1), shape=shape)


def wrs2_path_row(lon: float, lat: float) -> tuple[int, int]:
    """Nominal WRS-2 path/row near (lon, lat), calibrated on scene 196/029 (~6.1 E, 44.6 N).

    Adjacent paths are 360/233 degrees of longitude apart and move west as numbers grow; rows are
    ~1.4 degrees of latitude apart at mid-latitudes. Good enough for names, not for geolocation.
    """
    lon_ref = 6.1 - 0.2 * (lat - 44.6)  # descending tracks lean west going north
    path = 196 + int(round((lon_ref - lon) / (360.0 / 233.0)))
    row = 29 + int(round((44.6 - lat) / 1.42))
    return (path - 1) % 233 + 1, row
