"""A written land-cover map scored against a reference in any nomenclature (OA, kappa, per-class F1, confusion; the
same on crop classes alone), and the ``score-land-cover`` report: JSON and the validation page."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from odc.geo.geobox import GeoBox

from flows.pipelines.landcover.inputs import LandCoverInputError
from flows.pipelines.landcover.report import write_report
from flows.storage import properties as prop
from flows.storage.index import connect
from flows.storage.load import load
from flows.storage.reference import CLASS_CODE, rasterise_polygons, read_polygons, read_reference
from products.landcover.nomenclature import (
    ClassMapping,
    available,
    load_mapping,
    load_nomenclature,
    mapping_for_columns,
    members_mapping,
    remap,
)
from products.landcover.samples import NoPolygonError
from products.landcover.validation import Accuracy, accuracy, summarise_runs

CROP_GROUP = 110  # the level-1 group of annual crops (science.md B.6)
RASTER_SUFFIXES = (".tif", ".tiff", ".vrt", ".img", ".jp2")
RASTER_MAPPING = "oso23_codes"  # a raster reference without a mapping: OSO's own map


# ------------------------------------------------------------------------------------------------ scoring
@dataclass(frozen=True, kw_only=True)
class MapScore:
    """A written map against a reference: pixel accuracy over every reference pixel and over the crop pixels alone
    (None when the reference has none), and the map itself."""

    dataset: str
    accuracy: Accuracy
    crops: Accuracy | None
    classes: np.ndarray
    extent: tuple[float, float, float, float]
    nomenclature: str
    reference: str  # the reference file and the mapping its classes went through


def map_classes_of(props: dict, *, base: str) -> ClassMapping:
    """``base`` code -> the map's class code: the members each map class records (a map written before they were
    recorded: its shipped nomenclature's), after a shipped mapping from ``base`` to the map's base when they differ
    (a reference in OSO 17 scored against an OSO 23 map)."""
    level = props[prop.NOMENCLATURE]
    shipped = load_nomenclature(level)
    map_base = props.get(prop.BASE_NOMENCLATURE) or shipped.base
    members = props.get(prop.CLASS_MEMBERS) or {str(c): list(ms) for c, ms in shipped.class_members().items()}
    to_map = members_mapping(members, base=map_base, target=level)
    if base == map_base:
        return to_map
    bridge = next((m for m in map(load_mapping, available("mapping")) if m.source == base and m.target == map_base),
                  None)
    if bridge is None:
        raise LandCoverInputError(f"a reference in {base} cannot be compared with a map in {level}: no shipped "
                                  f"mapping from {base} to {map_base}")
    table = {k: None if v is None else to_map.table.get(str(v)) for k, v in bridge.table.items()}
    return ClassMapping(name=f"{bridge.name}+{to_map.name}", target=level, table=table, source=base)


def reference_on_map(reference: str, *, props: dict, gbox: GeoBox, mapping: str | None, column: str | None,
                     year_column: str | None) -> tuple[np.ndarray, str]:
    """The reference's classes in the map's codes on the map's grid (0 outside it), and what they went through.

    Polygons (any CRS) take ``mapping``, else the one their columns call for; a raster (GeoTIFF, VRT) is read
    with nearest resampling and takes ``mapping``, else OSO 23 codes. A reference class the mapping does not know
    is refused with its code (``UnmappedCodeError``)."""
    name = Path(reference).name
    if Path(reference).suffix.lower() in RASTER_SUFFIXES:
        wanted = load_mapping(mapping or RASTER_MAPPING)
        codes = np.asarray(remap(_raster_on(reference, gbox), wanted))
    else:
        mapping = mapping or mapping_for_columns(read_polygons(reference).columns, what=name)
        ref = read_reference(reference, mapping=mapping, column=column, crs="EPSG:3035", on_unmapped="raise")
        if year_column:
            if year_column not in ref.frame.columns:
                raise LandCoverInputError(f"{name} has no year column {year_column!r}")
            ref = replace(ref, frame=ref.frame[ref.frame[year_column].astype(int) == int(props[prop.YEAR])])
        codes = rasterise_polygons(ref, shape=tuple(gbox.shape), transform=gbox.affine, value_column=CLASS_CODE)
        wanted = load_mapping(ref.mapping)
    translation = map_classes_of(props, base=wanted.target)
    return np.asarray(remap(codes, translation)), f"{name} through {wanted.name} and {translation.name}"


def _raster_on(path: str, gbox: GeoBox) -> np.ndarray:
    """Band 1 of a raster on ``gbox`` (nearest), its nodata and what it does not cover 0."""
    import rasterio
    from rasterio.warp import Resampling, reproject

    out = np.zeros(gbox.shape, dtype=np.int32)
    with rasterio.open(path) as src:
        if src.crs is None:
            raise LandCoverInputError(f"reference raster {Path(path).name} has no CRS")
        reproject(rasterio.band(src, 1), out, dst_transform=gbox.affine, dst_crs=str(gbox.crs), dst_nodata=0,
                  src_nodata=src.nodata, resampling=Resampling.nearest)
    return out


def score_map(dataset: str, *, reference: str, mapping: str | None = None, year_column: str | None = None,
              column: str | None = None, dc=None) -> MapScore:
    """Pixel accuracy of a ``land_cover`` / ``land_cover_nrt`` dataset against a reference of its year.

    The reference is translated to the map's classes (``reference_on_map``); pixels outside it do not count,
    pixels it covers that the map leaves unmapped count as errors. Crop figures: the reference pixels of the
    map's annual-crop classes alone."""
    dc = dc or connect()
    record = dc.index.datasets.get(dataset)
    if record is None or record.product.name not in ("land_cover", "land_cover_nrt"):
        raise LandCoverInputError(f"{dataset} is not a land_cover or land_cover_nrt dataset in the index")
    props = record.metadata_doc["properties"]
    data = load(record.product.name, geometry=record.extent, measurements=["classification"], group_by="time",
                resolution=props[prop.PARAMETERS]["resolution_m"], scale=False, dc=dc, where={"id": dataset})
    classes = data.classification.isel(time=0).values
    gbox = data.odc.geobox
    expected, through = reference_on_map(reference, props=props, gbox=gbox, mapping=mapping, column=column,
                                         year_column=year_column)
    inside = expected > 0
    if not inside.any():
        raise NoPolygonError(f"no reference class of {Path(reference).name} covers dataset {dataset}")
    nomenclature = load_nomenclature(props[prop.NOMENCLATURE])
    crop_codes = [c for c, g in zip(nomenclature.codes, nomenclature.groups) if g == CROP_GROUP]
    crops = inside & np.isin(expected, crop_codes)
    x0, y0, x1, y1 = gbox.extent.boundingbox
    return MapScore(dataset=dataset, accuracy=accuracy(expected[inside], classes[inside]),
                    crops=accuracy(expected[crops], classes[crops]) if crops.any() else None, classes=classes,
                    extent=(x0, x1, y0, y1), nomenclature=nomenclature.name, reference=through)


@dataclass(frozen=True, kw_only=True)
class ScoreReport:
    """What ``score_land_cover`` wrote and its figures."""

    score: MapScore
    json: Path
    html: Path
    crops_json: Path | None
    crops_html: Path | None

    def summary(self) -> str:
        acc, crops = self.score.accuracy, self.score.crops
        lines = [f"{self.score.dataset} ({self.score.nomenclature}) against {self.score.reference}:",
                 f"  all classes: OA {acc.overall_accuracy:.3f} kappa {acc.kappa:.3f} over {acc.n} pixels ({self.html})"]
        if crops is not None:
            lines.append(f"  crop classes: OA {crops.overall_accuracy:.3f} kappa {crops.kappa:.3f} over {crops.n} "
                         f"pixels ({self.crops_html})")
        return "\n".join(lines)


def score_land_cover(dataset: str, *, reference: str, out: str | Path, mapping: str | None = None,
                     column: str | None = None, year_column: str | None = None, dc=None) -> ScoreReport:
    """Score a map (``score_map``) and write the validation page and its JSON into ``out``, all classes and crop
    classes alone; nothing is written when the map or the reference is refused."""
    score = score_map(dataset, reference=reference, mapping=mapping, column=column, year_column=year_column, dc=dc)
    nomenclature = load_nomenclature(score.nomenclature)
    meta = {"dataset": dataset, "nomenclature": score.nomenclature, "reference": score.reference}
    files = {}
    for stem, acc, what in (("score", score.accuracy, "every reference pixel"), ("score_crops", score.crops,
                                                                                    "crop reference pixels")):
        if acc is not None:
            files[stem] = write_report(summarise_runs([acc]), out, nomenclature=nomenclature, stem=stem,
                                       title=f"Land-cover map {dataset}, {what}", metadata={**meta, "pixels": what})
    crops = files.get("score_crops")
    return ScoreReport(score=score, json=files["score"].json, html=files["score"].html,
                       crops_json=crops.json if crops else None, crops_html=crops.html if crops else None)
