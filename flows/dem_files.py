"""DEM GeoTIFFs on disk (e.g. Copernicus DEM tiles, a national DEM) to eo3 documents of ``dem_cop30``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flows.eo3 import eo3_document, read_grid

DEM_PRODUCT = "dem_cop30"
DEM_DATETIME = "2015-01-01T00:00:00.000000Z"  # GLO-30 is a single epoch (2011-2015 acquisitions)


def find_dem_files(root: Path) -> list[Path]:
    root = Path(root)
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in (".tif", ".tiff") and p.is_file())


def dem_to_eo3(path: Path) -> tuple[dict[str, Any], str]:
    """The eo3 document of one single-band elevation GeoTIFF (metres), read from its header."""
    path = Path(path).resolve()
    doc = eo3_document(
        product=DEM_PRODUCT, key=path.name, label=path.stem,
        grids={"elevation": read_grid(str(path))}, paths={"elevation": path.name},
        properties={"datetime": DEM_DATETIME, "odc:processing_datetime": DEM_DATETIME,
                    "odc:file_format": "GeoTIFF", "snowland:source_file": path.name},
    )
    return doc, path.parent.as_uri() + "/"
