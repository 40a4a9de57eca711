"""Reference polygons for land cover: read, map to a nomenclature, reproject, rasterise.

Reads GeoPackage, Shapefile or GeoParquet with geopandas. A source class column (RPG
`code_cultu`, Corine `code_18`, OSO `CODE`, ...) is translated through a class mapping from
`products/landcover/nomenclatures/mappings/` (with its fallback, e.g. RPG crop code then crop
group). Polygons whose code is mapped to nothing on purpose are *excluded*; codes the mapping
does not know are *unmapped*; both are counted per code and reported, and left out.
"""

from __future__ import annotations

import logging
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine
from rasterio.features import rasterize

from products.errors import BadInputError
from products.landcover.nomenclature import (
    ClassMapping,
    UnmappedCodeError,
    load_mapping,
)

log = logging.getLogger(__name__)

POLYGON_ID = "polygon_id"
CLASS_CODE = "class_code"


class ReferenceDataError(BadInputError):
    """The reference file cannot give polygons for the requested mapping."""


@dataclass(frozen=True)
class ReferencePolygons:
    """Mapped polygons (`polygon_id` 1..n, `class_code`, `source_code`, geometry) and what was left out."""

    frame: gpd.GeoDataFrame
    mapping: str
    nomenclature: str
    source: str
    excluded: Mapping[str, int] = field(default_factory=dict)
    unmapped: Mapping[str, int] = field(default_factory=dict)

    def polygon_classes(self) -> dict[int, int]:
        return dict(zip(self.frame[POLYGON_ID].tolist(), self.frame[CLASS_CODE].tolist()))

    def summary(self) -> str:
        kept = self.frame[CLASS_CODE].value_counts().sort_index()
        lines = [f"{len(self.frame)} polygon(s) from {self.source} mapped to {self.nomenclature} by {self.mapping}:"]
        lines += [f"  class {code}: {n}" for code, n in kept.items()]
        if self.excluded:
            lines.append("  excluded on purpose: " + ", ".join(f"{c} ({n})" for c, n in sorted(self.excluded.items())))
        if self.unmapped:
            lines.append("  UNMAPPED (not in the mapping): " + ", ".join(f"{c} ({n})" for c, n in sorted(self.unmapped.items())))
        return "\n".join(lines)


def read_polygons(path: str | Path, *, layer: str | None = None, bbox: tuple[float, float, float, float] | None = None) -> gpd.GeoDataFrame:
    """Polygons from a GeoPackage / Shapefile (`layer`, `bbox` in the file's CRS) or GeoParquet."""
    path = Path(path)
    if not path.exists():
        raise ReferenceDataError(f"reference file {path} does not exist")
    if path.suffix.lower() in (".parquet", ".geoparquet"):
        try:
            frame = gpd.read_parquet(path, bbox=bbox)
        except ImportError as err:
            raise ImportError(f"reading {path.name} needs pyarrow, which is not installed") from err
    else:
        frame = gpd.read_file(path, layer=layer, bbox=bbox)
    if frame.crs is None:
        raise ReferenceDataError(f"reference file {path} has no CRS")
    return frame


def map_classes(
    frame: pd.DataFrame,
    mapping: ClassMapping,
    *,
    column: str | None = None,
) -> tuple[pd.Series, pd.Series, dict[str, int], dict[str, int]]:
    """Per row: target code (NA when excluded or unmapped) and the source code that decided it;
    then the counts of excluded and of unmapped codes.

    Each mapping of the chain reads its own `column` (the first one may be overridden by
    `column`); the first mapping that knows a row's code decides. An unmapped row is reported
    by its first non-empty code.
    """
    chain = mapping.chain()
    result = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    source = pd.Series(pd.NA, index=frame.index, dtype="string")
    first_code = pd.Series(pd.NA, index=frame.index, dtype="string")
    decided = pd.Series(False, index=frame.index)
    for i, step in enumerate(chain):
        col = column if (i == 0 and column) else step.column_in(frame.columns)
        if col is None or col not in frame.columns:
            if i == 0:
                raise ReferenceDataError(f"column {col or step.column!r} for mapping {step.name!r} is not in the data; "
                                         f"columns: {list(frame.columns)}")
            continue
        codes = frame[col].astype("string").str.strip()
        first_code = first_code.fillna(codes)
        known_codes = {c for c in codes.dropna().unique() if step.knows(c)}
        known = ~decided & codes.isin(known_codes).fillna(False).astype(bool)
        result[known] = codes[known].map(lambda c: step.lookup(c)).astype("Int64")
        source[known] = codes[known]
        decided |= known
    excluded = Counter(source[decided & result.isna()].tolist())
    unmapped = Counter(first_code[~decided].fillna("<empty>").tolist())
    return result, source, dict(excluded), dict(unmapped)


def read_reference(
    path: str | Path,
    *,
    mapping: str | ClassMapping,
    column: str | None = None,
    crs: object | None = None,
    layer: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    on_unmapped: str = "warn",
) -> ReferencePolygons:
    """Reference polygons mapped to a nomenclature, optionally reprojected to `crs`.

    `on_unmapped`: "warn" (log and warn, leave them out), "raise" (`UnmappedCodeError`) or "ignore".
    """
    if on_unmapped not in ("warn", "raise", "ignore"):
        raise ValueError("on_unmapped must be 'warn', 'raise' or 'ignore'")
    mapping = load_mapping(mapping) if isinstance(mapping, str) else mapping
    frame = read_polygons(path, layer=layer, bbox=bbox)
    if frame.empty:
        raise ReferenceDataError(f"reference file {Path(path).name} has no polygon" + (" in the bounding box" if bbox else ""))
    codes, source_codes, excluded, unmapped = map_classes(frame, mapping, column=column)
    if unmapped:
        listed = ", ".join(f"{c} ({n} polygon{'s' * (n > 1)})" for c, n in sorted(unmapped.items()))
        message = f"{Path(path).name}: {sum(unmapped.values())} polygon(s) have codes unknown to mapping {mapping.name!r}: {listed}"
        if on_unmapped == "raise":
            raise UnmappedCodeError(mapping.name, unmapped)
        if on_unmapped == "warn":
            log.warning(message)
            warnings.warn(message, stacklevel=2)
    kept = frame.loc[codes.notna()].copy()
    kept[CLASS_CODE] = codes[codes.notna()].astype(np.int32).to_numpy()
    kept["source_code"] = source_codes[codes.notna()].astype(str).to_numpy()
    kept = kept[~kept.geometry.is_empty & kept.geometry.notna()]
    kept.insert(0, POLYGON_ID, np.arange(1, len(kept) + 1, dtype=np.int32))
    if crs is not None:
        kept = kept.to_crs(crs)
    return ReferencePolygons(
        frame=kept.reset_index(drop=True),
        mapping=mapping.name,
        nomenclature=mapping.target,
        source=Path(path).name,
        excluded=dict(excluded),
        unmapped=dict(unmapped),
    )


def rasterise_polygons(
    polygons: gpd.GeoDataFrame | ReferencePolygons,
    *,
    shape: tuple[int, int],
    transform: Affine | Sequence[float],
    crs: object | None = None,
    value_column: str = POLYGON_ID,
    all_touched: bool = False,
) -> np.ndarray:
    """(rows, cols) int32 raster of `value_column` (polygon ids by default; 0 outside polygons).

    Polygons are reprojected to `crs` first when given. Where polygons overlap, the later one wins.
    """
    frame = polygons.frame if isinstance(polygons, ReferencePolygons) else polygons
    if crs is not None and frame.crs is not None and frame.crs != crs:
        frame = frame.to_crs(crs)
    transform = transform if isinstance(transform, Affine) else Affine(*transform[:6])
    shapes = [(geom, int(v)) for geom, v in zip(frame.geometry, frame[value_column]) if geom is not None and not geom.is_empty]
    if not shapes:
        return np.zeros(shape, dtype=np.int32)
    return rasterize(shapes, out_shape=shape, transform=transform, fill=0, dtype="int32", all_touched=all_touched)
