"""Theia Level-2A product folders on disk to eo3 dataset documents.

Two layouts: MAJA (``SENTINEL2A_20160912-103551-370_L2A_T32TLS_C_V1-0`` with ``*_FRE_B*.tif`` and
``MASKS/*_CLM_R2.tif`` / ``*_MG2_R2.tif``; Landsat-8 with ``_XS`` masks) and the older MACCS Landsat-8 N2A
layout (``LANDSAT8_OLITIRS_XS_20160330_N2A_...`` with a 7-band ``ORTHO_SURF_CORR_PENTE`` stack and ``MASK/``).
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from flows.storage import properties as prop
from flows.storage.eo3 import BadSourceError, carried_bands, eo3_document, read_grid
from products import sensors
from products.sensors import Sensor

MAJA = (sensors.THEIA_L2A, sensors.THEIA_L2A_LANDSAT)
N2A = sensors.THEIA_L8_N2A


def _folder_names(*of: Sensor) -> str:
    """The platforms of ``of`` as Theia spells them in folder names (SENTINEL2A, LANDSAT8), as a regex choice."""
    return "|".join(p.upper().replace("-", "") for s in of for p in s.platforms)


_MAJA = re.compile(
    rf"^(?P<platform>{_folder_names(*MAJA)})[-_A-Z]*_(?P<date>\d{{8}})-(?P<time>\d{{6}})-\d+_L2A_(?P<tile>[A-Z0-9]+)_"
)
_N2A = re.compile(rf"^(?P<platform>{_folder_names(N2A)})_OLITIRS_XS_(?P<date>\d{{8}})_N2A_(?P<tile>.+)$")


def find_theia_products(root: Path) -> list[Path]:
    """Theia product folders at or below ``root``."""
    root = Path(root)
    candidates = [root, *root.rglob("*")] if root.is_dir() else []
    return sorted(p for p in candidates if p.is_dir() and (_MAJA.match(p.name) or _N2A.match(p.name)))


def theia_to_eo3(folder: Path) -> tuple[dict[str, Any], str]:
    """The eo3 document of one Theia product folder and its URI."""
    folder = Path(folder).resolve()
    if match := _N2A.match(folder.name):
        sensor, paths, when = _n2a(folder, match)
    elif match := _MAJA.match(folder.name):
        sensor, paths, when = _maja(folder, match)
    else:
        raise BadSourceError(f"{folder.name} is not a Theia L2A product folder name")
    bands = {m.name: m.stack_index for m in sensor.measurements if m.stack_index != 1}
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    doc = eo3_document(
        product=sensor.product, key=folder.name, label=folder.name,
        grids={name: read_grid(path, band=bands.get(name, 1)) for name, path in paths.items()},
        paths={k: Path(v).as_uri() for k, v in paths.items()}, bands=bands,
        properties={"datetime": stamp, "odc:processing_datetime": stamp, "odc:file_format": "GeoTIFF",
                    "odc:region_code": match["tile"], "eo:platform": sensors.platform(match["platform"]),
                    prop.SOURCE_FOLDER: folder.name, **sun_angles(folder),
                    **carried_bands(sensor, paths, looked={m.name: f"*_{m.file}.*" for m in sensor.measurements})},
    )
    return doc, folder.as_uri() + "/"


def sun_angles(folder: Path) -> dict[str, float]:
    """The mean sun azimuth and elevation of a MAJA product, from ``Geometric_Informations/Mean_Value_List/
    Sun_Angles`` of its ``*_MTD_ALL.xml``; {} when the folder has no such metadata (MACCS N2A folders, copies
    without it or with a cut one): the reflectance is still good, the snow flow then skips shaded snow and says so."""
    found = sorted(folder.glob("*_MTD_ALL.xml"))
    try:
        angles = ET.parse(found[0]).getroot().find(".//Mean_Value_List/Sun_Angles") if found else None
    except ET.ParseError:
        return {}
    zenith, azimuth = (None if angles is None else angles.findtext(tag) for tag in ("ZENITH_ANGLE", "AZIMUTH_ANGLE"))
    if zenith is None or azimuth is None:
        return {}
    return {prop.SUN_AZIMUTH: float(azimuth), prop.SUN_ELEVATION: round(90.0 - float(zenith), 6)}


def _one(folder: Path, pattern: str, what: str) -> str:
    found = sorted(folder.glob(pattern))
    if not found:
        raise BadSourceError(f"{folder.name}: missing {what} (no file matching {pattern})")
    return str(found[0])


def _maja(folder: Path, match: re.Match[str]) -> tuple[Sensor, dict[str, str], dt.datetime]:
    """FRE bands beside the metadata, masks in MASKS/ (R2 for Sentinel-2, XS for Landsat).

    A folder may carry only some FRE bands (a partial download); it is refused when no flow can use it.
    """
    sensor = next(s for s in MAJA if sensors.platform(match["platform"]) in s.platforms)
    paths = {m.name: _one(folder / "MASKS", f"*_{m.file}.tif", f"{m.title} {m.file}")
             for m in sensor.measurements if not m.band}
    paths |= {m.name: str(found[0]) for m in sensor.bands if (found := sorted(folder.glob(f"*_{m.file}.tif")))}
    when = dt.datetime.strptime(match["date"] + match["time"], "%Y%m%d%H%M%S")
    return sensor, paths, when


def _n2a(folder: Path, match: re.Match[str]) -> tuple[Sensor, dict[str, str], dt.datetime]:
    """One slope-corrected reflectance stack (band i = OLI band i), masks in MASK/."""
    stack = _one(folder, "*_ORTHO_SURF_CORR_PENTE_*.TIF", "slope-corrected reflectance stack")
    paths = {m.name: stack if m.band else _one(folder / "MASK", f"*_{m.file}.TIF", f"{m.title} {m.file}")
             for m in N2A.measurements}
    when = dt.datetime.strptime(match["date"], "%Y%m%d").replace(hour=10, minute=30)
    return N2A, paths, when
