"""A written land-cover map scored against reference polygons (OA, kappa, confusion)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from flows.pipelines.landcover.inputs import LandCoverInputError
from flows.storage import properties as prop
from flows.storage.index import connect
from flows.storage.load import load
from flows.storage.reference import (
    rasterise_polygons,
    read_reference,
)
from products.landcover.nomenclature import ClassMapping, level_mapping, load_nomenclature, members_mapping, remap
from products.landcover.samples import NoPolygonError
from products.landcover.validation import accuracy


# ------------------------------------------------------------------------------------------------ scoring
@dataclass(frozen=True, kw_only=True)
class MapScore:
    """A written map against reference polygons: pixel accuracy figures and the map itself."""

    dataset: str
    accuracy: Any  # products.landcover.validation.Accuracy
    classes: np.ndarray
    extent: tuple[float, float, float, float]
    nomenclature: str


def map_classes_of(props: dict, *, base: str) -> ClassMapping:
    """``base`` code -> the map's class code, from the classes' members the map records (or, for a map written
    before they were recorded, from its shipped nomenclature level)."""
    level = props[prop.NOMENCLATURE]
    members = props.get(prop.CLASS_MEMBERS)
    if members and props.get(prop.BASE_NOMENCLATURE) == base:
        return members_mapping(members, base=base, target=level)
    if load_nomenclature(level).parent == base:
        return level_mapping(level)
    raise LandCoverInputError(f"a reference in {base} cannot be compared with a map in {level}: its classes are not "
                              f"groups of {base} classes")


def score_map(dataset: str, *, reference: str, mapping: str, year_column: str | None = None, column: str | None = None,
              dc=None) -> MapScore:
    """Pixel accuracy of a ``land_cover`` / ``land_cover_nrt`` dataset against reference polygons of its year.

    The reference is relabelled to the map's nomenclature level (key-date maps); pixels outside the polygons
    or unmapped in the map do not count (the share of unmapped reference pixels is the error of a map)."""
    dc = dc or connect()
    record = dc.index.datasets.get(dataset)
    if record is None:
        raise LandCoverInputError(f"no dataset {dataset} in the index")
    props = record.metadata_doc["properties"]
    data = load(record.product.name, geometry=record.extent, measurements=["classification"], group_by="time",
                resolution=props[prop.PARAMETERS]["resolution_m"], scale=False, dc=dc, where={"id": dataset})
    classes = data.classification.isel(time=0).values
    gbox = data.odc.geobox
    ref = read_reference(reference, mapping=mapping, column=column, crs="EPSG:3035", on_unmapped="ignore")
    if year_column:
        ref = replace(ref, frame=ref.frame[ref.frame[year_column].astype(int) == int(props[prop.YEAR])])
    expected = rasterise_polygons(ref, shape=tuple(gbox.shape), transform=gbox.affine, value_column="class_code")
    level = props[prop.NOMENCLATURE]
    if level != ref.nomenclature:
        expected = np.asarray(remap(expected, map_classes_of(props, base=ref.nomenclature)))
    inside = expected > 0
    if not inside.any():
        raise NoPolygonError(f"no reference polygon of {Path(reference).name} covers dataset {dataset}")
    x0, y0, x1, y1 = gbox.extent.boundingbox
    return MapScore(dataset=dataset, accuracy=accuracy(expected[inside], classes[inside]), classes=classes,
                    extent=(x0, x1, y0, y1), nomenclature=level)
