"""Single-band GeoTIFFs on disk that are whole products (a DEM, a tree cover density layer) to eo3 documents.

Each kind is a :class:`RasterFileProduct`: which product and band the file is, and the dataset time (a
fixed epoch, or a reference year read from the file name). The document's grid comes from the header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flows.storage import properties as prop
from flows.storage.eo3 import eo3_document, read_grid


@dataclass(frozen=True, kw_only=True)
class RasterFileProduct:
    """How a GeoTIFF file becomes a dataset of ``product``: its one band is ``measurement``.

    The time is ``YEAR-01-01`` with YEAR the first group of ``year_pattern`` in the file name, else ``datetime``.
    """

    product: str
    measurement: str
    datetime: str
    year_pattern: str | None = None

    def time_of(self, path: Path) -> str:
        found = re.search(self.year_pattern, path.name) if self.year_pattern else None
        return f"{found.group(1)}-01-01T00:00:00.000000Z" if found else self.datetime

    def to_eo3(self, path: Path) -> tuple[dict[str, Any], str]:
        """The eo3 document of the file (id from the product and the file name) and its folder's URI."""
        path = Path(path).resolve()
        when = self.time_of(path)
        doc = eo3_document(
            product=self.product, key=path.name, label=path.stem,
            grids={self.measurement: read_grid(str(path))}, paths={self.measurement: path.name},
            properties={"datetime": when, "odc:processing_datetime": when, "odc:file_format": "GeoTIFF",
                        prop.SOURCE_FILE: path.name},
        )
        return doc, path.parent.as_uri() + "/"


DEM = RasterFileProduct(product="dem_cop30", measurement="elevation",
                        datetime="2015-01-01T00:00:00.000000Z")  # GLO-30 is one epoch (2011-2015 acquisitions)
TCD = RasterFileProduct(product="tcd", measurement="tree_cover_density", datetime="2018-01-01T00:00:00.000000Z",
                        year_pattern=r"TCD_((?:19|20)\d\d)")  # HRL names start TCD_<reference year>_
RASTER_FILE_PRODUCTS = {"dem": DEM, "tcd": TCD}


def find_raster_files(root: Path) -> list[Path]:
    """``root`` if it is a file, else every GeoTIFF under it."""
    root = Path(root)
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in (".tif", ".tiff") and p.is_file())
