"""The EEA reference grid in ETRS89-LAEA (EPSG:3035): cells, their names and their geoboxes.

Cell names follow the EEA convention: size, then the easting and northing of the lower-left corner
in units of the cell size, e.g. ``100kmE38N22`` (x 3 800 000, y 2 200 000) or ``10kmE385N227``.
Outside the grid's European domain indices can be negative (``100kmE-39N11``, a scene in Amazonia):
LAEA is defined there too, only strongly distorted.
Every pixel grid snowland produces is aligned to this grid, so products of any cell mosaic exactly.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from odc.geo import CRS, Geometry, geom
from odc.geo.geobox import GeoBox

from products.errors import BadInputError

EEA_CRS = CRS("EPSG:3035")
CELL_SIZES_M = (1_000, 10_000, 100_000)
_NAME = re.compile(r"^(?P<size>1|10|100)kmE(?P<e>-?\d+)N(?P<n>-?\d+)$")


@dataclass(frozen=True, order=True)
class Cell:
    """One square cell of the EEA reference grid."""

    size_m: int
    e: int
    n: int

    @classmethod
    def parse(cls, name: str) -> Cell:
        match = _NAME.match(name.strip())
        if not match:
            raise BadInputError(f"not an EEA grid cell name: {name!r} (expected e.g. '100kmE38N22' or '10kmE385N227')")
        return cls(int(match["size"]) * 1000, int(match["e"]), int(match["n"]))

    @classmethod
    def containing(cls, x: float, y: float, *, size_m: int = 100_000) -> Cell:
        """The cell of ``size_m`` that contains the EPSG:3035 point (x, y)."""
        if size_m not in CELL_SIZES_M:
            raise BadInputError(f"cell size must be one of {CELL_SIZES_M} m, not {size_m}")
        return cls(size_m, math.floor(x / size_m), math.floor(y / size_m))

    @property
    def name(self) -> str:
        return f"{self.size_m // 1000}kmE{self.e}N{self.n}"

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        x0, y0 = self.e * self.size_m, self.n * self.size_m
        return (x0, y0, x0 + self.size_m, y0 + self.size_m)

    @property
    def geometry(self) -> Geometry:
        return geom.box(*self.bounds, crs=EEA_CRS)

    def geobox(self, resolution: float) -> GeoBox:
        return GeoBox.from_bbox(self.bounds, crs=EEA_CRS, resolution=resolution)

    def __str__(self) -> str:
        return self.name


def cells_covering(geometry: Geometry, *, size_m: int = 100_000) -> list[Cell]:
    """Cells of ``size_m`` that share some area with ``geometry`` (any CRS), in name order: a cell that only
    touches it along an edge or at a corner holds none of it."""
    area = geometry.to_crs(EEA_CRS)
    x0, y0, x1, y1 = area.boundingbox
    cells = [
        Cell(size_m, e, n)
        for e in range(math.floor(x0 / size_m), math.ceil(x1 / size_m))
        for n in range(math.floor(y0 / size_m), math.ceil(y1 / size_m))
    ]
    return sorted(c for c in cells if c.geometry.intersects(area) and not c.geometry.touches(area))


def aligned_geobox(geometry: Geometry, *, resolution: float) -> GeoBox:
    """The smallest grid-aligned EPSG:3035 geobox at ``resolution`` that covers ``geometry``."""
    x0, y0, x1, y1 = geometry.to_crs(EEA_CRS).boundingbox
    r = resolution
    snapped = (math.floor(x0 / r) * r, math.floor(y0 / r) * r, math.ceil(x1 / r) * r, math.ceil(y1 / r) * r)
    return GeoBox.from_bbox(snapped, crs=EEA_CRS, resolution=r)


def footprint(datasets: Sequence[Any], *, within: Geometry | None = None) -> Geometry:
    """Where the datasets (anything with an ``extent``, e.g. datacube ``Dataset``) lie, in EPSG:3035, cut to
    ``within``: with ``aligned_geobox``, a cell's grid cropped to its data (the pixels stay on the grid)."""
    shape = geom.unary_union([d.extent.to_crs(EEA_CRS) for d in datasets])
    return shape & within.to_crs(EEA_CRS) if within is not None else shape
