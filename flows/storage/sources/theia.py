"""Theia Level-2A product folders on disk to eo3 dataset documents.

Two layouts: MAJA (``SENTINEL2A_20160912-103551-370_L2A_T32TLS_C_V1-0`` with ``*_FRE_B*.tif`` and
``MASKS/*_CLM_R2.tif`` / ``*_MG2_R2.tif``; Landsat-8 with ``_XS`` masks) and the older MACCS Landsat-8 N2A
layout (``LANDSAT8_OLITIRS_XS_20160330_N2A_...`` with a 7-band ``ORTHO_SURF_CORR_PENTE`` stack and ``MASK/``).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from flows.storage import properties as prop
from flows.storage.eo3 import BadSourceError, eo3_document, read_grid

_MAJA = re.compile(
    r"^(?P<platform>SENTINEL2[ABC]|LANDSAT8|LANDSAT9)[-_A-Z]*_(?P<date>\d{8})-(?P<time>\d{6})-\d+_L2A_(?P<tile>[A-Z0-9]+)_"
)
_N2A = re.compile(r"^(?P<platform>LANDSAT8)_OLITIRS_XS_(?P<date>\d{8})_N2A_(?P<tile>.+)$")
MAJA_BANDS = {
    "blue": "B2", "green": "B3", "red": "B4", "rededge1": "B5", "rededge2": "B6", "rededge3": "B7",
    "nir": "B8", "nir08": "B8A", "swir16": "B11", "swir22": "B12",
}
MAJA_LANDSAT_BANDS = {"blue": "B2", "green": "B3", "red": "B4", "nir08": "B5", "swir16": "B6", "swir22": "B7"}
N2A_BANDS = {"coastal": 1, "blue": 2, "green": 3, "red": 4, "nir08": 5, "swir16": 6, "swir22": 7}
N2A_MASKS = {"cloud": "NUA", "saturation": "SAT", "div": "DIV", "valid": "NODATA"}


def find_theia_products(root: Path) -> list[Path]:
    """Theia product folders at or below ``root``."""
    root = Path(root)
    candidates = [root, *root.rglob("*")] if root.is_dir() else []
    return sorted(p for p in candidates if p.is_dir() and (_MAJA.match(p.name) or _N2A.match(p.name)))


def theia_to_eo3(folder: Path) -> tuple[dict[str, Any], str]:
    """The eo3 document of one Theia product folder and its URI."""
    folder = Path(folder).resolve()
    if match := _N2A.match(folder.name):
        product, paths, bands, platform, when = _n2a(folder, match)
    elif match := _MAJA.match(folder.name):
        product, paths, bands, platform, when = _maja(folder, match)
    else:
        raise BadSourceError(f"{folder.name} is not a Theia L2A product folder name")
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    doc = eo3_document(
        product=product, key=folder.name, label=folder.name,
        grids={name: read_grid(path, band=bands.get(name, 1)) for name, path in paths.items()},
        paths={k: Path(v).as_uri() for k, v in paths.items()}, bands=bands,
        properties={"datetime": stamp, "odc:processing_datetime": stamp, "odc:file_format": "GeoTIFF",
                    "odc:region_code": match["tile"], "eo:platform": platform, prop.SOURCE_FOLDER: folder.name},
    )
    return doc, folder.as_uri() + "/"


def _one(folder: Path, pattern: str, what: str) -> str:
    found = sorted(folder.glob(pattern))
    if not found:
        raise BadSourceError(f"{folder.name}: missing {what} (no file matching {pattern})")
    return str(found[0])


def _platform(name: str) -> str:
    return {"SENTINEL2A": "sentinel-2a", "SENTINEL2B": "sentinel-2b", "SENTINEL2C": "sentinel-2c",
            "LANDSAT8": "landsat-8", "LANDSAT9": "landsat-9"}[name]


def _maja(folder: Path, match: re.Match[str]) -> tuple[str, dict[str, str], dict[str, int], str, dt.datetime]:
    landsat = match["platform"].startswith("LANDSAT")
    bands = MAJA_LANDSAT_BANDS if landsat else MAJA_BANDS
    suffix = "XS" if landsat else "R2"
    paths = {name: _one(folder, f"*_FRE_{band}.tif", f"flat reflectance band {band}") for name, band in bands.items()}
    paths["clm"] = _one(folder / "MASKS", f"*_CLM_{suffix}.tif", f"cloud mask CLM_{suffix}")
    paths["mg2"] = _one(folder / "MASKS", f"*_MG2_{suffix}.tif", f"geophysical mask MG2_{suffix}")
    when = dt.datetime.strptime(match["date"] + match["time"], "%Y%m%d%H%M%S")
    return "theia_l2a", paths, {}, _platform(match["platform"]), when


def _n2a(folder: Path, match: re.Match[str]) -> tuple[str, dict[str, str], dict[str, int], str, dt.datetime]:
    stack = _one(folder, "*_ORTHO_SURF_CORR_PENTE_*.TIF", "slope-corrected reflectance stack")
    paths = {name: stack for name in N2A_BANDS}
    for name, key in N2A_MASKS.items():
        paths[name] = _one(folder / "MASK", f"*_{key}.TIF", f"mask {key}")
    when = dt.datetime.strptime(match["date"], "%Y%m%d").replace(hour=10, minute=30)
    return "theia_l8_n2a", paths, dict(N2A_BANDS), _platform(match["platform"]), when
