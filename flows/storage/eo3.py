"""eo3 dataset documents: deterministic ids, grids read from raster headers, idempotent indexing.

Shared by every source (STAC items, Theia folders, products written by the flows): one way to build a
document's grids, one way to name a dataset, one way to add it to the index.
"""

from __future__ import annotations

import copy
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import rasterio
from datacube.index.abstract import DatasetTuple
from datacube.index.eo3 import prep_eo3
from datacube.index.hl import Doc2Dataset
from datacube.model import Dataset
from rasterio.errors import RasterioIOError
from shapely.geometry import Polygon
from shapely.geometry.polygon import orient

from flows.storage import properties as prop
from products.errors import RefusedItemError
from products.sensors import Sensor, by_product, usable_by

SNOWLAND_NAMESPACE = uuid.UUID("6f4e2a8c-5d1b-4c3e-9a7f-2b8d0e1c4a55")
EO3_SCHEMA = "https://schemas.opendatacube.org/dataset"


class BadSourceError(RefusedItemError):
    """A source item or file that cannot be indexed; the message says why."""


def dataset_id(product: str, key: str) -> str:
    """The same product and source key always give the same dataset id."""
    return str(uuid.uuid5(SNOWLAND_NAMESPACE, f"{product}/{key}"))


@dataclass(frozen=True, kw_only=True)
class RasterGrid:
    crs: str
    shape: tuple[int, int]
    transform: tuple[float, ...]  # the six GDAL-order affine coefficients a, b, c, d, e, f

    def footprint(self) -> dict[str, Any]:
        """The grid's outline as a GeoJSON polygon in its CRS, wound counter-clockwise as GeoJSON asks.

        Given as the eo3 ``geometry``, it becomes the dataset's extent; without it datacube outlines the
        grid clockwise and its antimeridian check warns once per dataset indexed.
        """
        a, b, c, d, e, f = self.transform
        rows, cols = self.shape
        corners = [(c + a * x + b * y, f + d * x + e * y) for x, y in ((0, 0), (0, rows), (cols, rows), (cols, 0))]
        ring = orient(Polygon(corners), sign=1.0).exterior.coords
        return {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}

    def matches(self, other: RasterGrid, *, tolerance: float = 1e-6) -> bool:
        return (
            self.crs == other.crs
            and self.shape == other.shape
            and all(abs(a - b) <= tolerance * max(1.0, abs(a)) for a, b in zip(self.transform, other.transform))
        )


def read_grid(href: str, *, band: int = 1) -> RasterGrid:
    """The grid of a raster from its header alone (no pixels read)."""
    with open_raster(href) as src:
        return grid_of(src, band=band)


def open_raster(href: str) -> rasterio.io.DatasetReader:
    """``href`` opened with rasterio; a file that cannot be opened is a ``BadSourceError`` naming it."""
    try:
        return rasterio.open(href)
    except RasterioIOError as err:
        raise BadSourceError(f"cannot read {href}: {err}") from err


def grid_of(src: rasterio.io.DatasetReader, *, band: int = 1) -> RasterGrid:
    """The grid of an open raster, from its header."""
    if src.crs is None:
        raise BadSourceError(f"{src.name} has no coordinate reference system")
    if band > src.count:
        raise BadSourceError(f"{src.name} has {src.count} band(s), not band {band}")
    return RasterGrid(crs=_crs_name(src.crs), shape=(src.height, src.width), transform=tuple(src.transform)[:6])


def _crs_name(crs: rasterio.crs.CRS) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.to_wkt()


def grids_section(grids: Mapping[str, RasterGrid]) -> tuple[str, dict[str, Any], dict[str, str]]:
    """eo3 ``crs`` and ``grids`` for measurements on possibly several resolutions of one CRS.

    Returns (crs, grids, grid name per measurement); the most common grid is the ``default``.
    """
    crss = {g.crs for g in grids.values()}
    if len(crss) != 1:
        raise BadSourceError(f"bands are in different coordinate systems: {sorted(crss)}")
    counts = Counter((g.shape, g.transform) for g in grids.values())
    names: dict[tuple, str] = {}
    for i, (key, _) in enumerate(counts.most_common()):
        name = "default" if i == 0 else f"g{abs(key[1][0]):g}m"
        names[key] = name if name not in names.values() else f"{name}_{i}"
    section = {
        name: {"shape": list(shape), "transform": list(transform) + [0.0, 0.0, 1.0]}
        for (shape, transform), name in names.items()
    }
    per_band = {band: names[(g.shape, g.transform)] for band, g in grids.items()}
    return crss.pop(), section, per_band


def eo3_document(
    *,
    product: str,
    key: str,
    label: str,
    grids: Mapping[str, RasterGrid],
    paths: Mapping[str, str],
    properties: Mapping[str, Any],
    bands: Mapping[str, int] | None = None,
    lineage: Mapping[str, list[str]] | None = None,
) -> dict[str, Any]:
    """An eo3 dataset document whose id depends only on ``product`` and ``key``."""
    crs, grid_doc, grid_names = grids_section(grids)
    default = next(grids[band] for band, name in grid_names.items() if name == "default")
    return {
        "$schema": EO3_SCHEMA,
        "id": dataset_id(product, key),
        "label": label,
        "product": {"name": product},
        "crs": crs,
        "grids": grid_doc,
        "geometry": default.footprint(),
        "measurements": measurements_section(paths, grid_names, bands),
        "properties": dict(properties),
        "lineage": dict(lineage or {}),
    }


def measurements_section(
    paths: Mapping[str, str], grid_names: Mapping[str, str], bands: Mapping[str, int] | None = None
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, path in paths.items():
        entry: dict[str, Any] = {"path": path}
        if grid_names[name] != "default":
            entry["grid"] = grid_names[name]
        if bands and bands.get(name, 1) != 1:
            entry["band"] = bands[name]
        out[name] = entry
    return out


def carried_bands(sensor: Sensor, present: Iterable[str], *, looked: Mapping[str, object]) -> dict[str, Any]:
    """The properties that record which of its product's measurements an item lacks (none: ``{}``), once it is
    known that some job can use it.

    Items are indexed with the bands they carry (users mirror only what they need); one is refused when it lacks
    its mask, or when every job lacks a band it needs (:func:`products.sensors.usable_by`). ``looked`` says, per
    measurement, where it was looked for.
    """
    have = set(present)
    missing = [m.name for m in sensor.measurements if m.name not in have]
    if sensor.mask and sensor.mask not in have:
        raise BadSourceError(f"missing its mask {sensor.mask!r} (looked for {looked[sensor.mask]})")
    if not sensor.bands and missing:  # not a scene (a DEM): no job reads part of it
        raise BadSourceError(f"missing {missing} (looked for {[looked[m] for m in missing]})")
    lacking = usable_by(sensor, have) if sensor.bands else {}
    if lacking and all(lacking.values()):
        every = [m for m in missing if any(m in lack for lack in lacking.values())]
        per_job = "; ".join(f"{job} lacks {list(lack)}" for job, lack in lacking.items())
        raise BadSourceError(f"missing band(s) {every}: no flow can run on it ({per_job}; looked for "
                             f"{[looked[m] for m in every]})")
    absent = [m.name for m in by_product(sensor.product).measurements if m.name not in have]
    return {prop.ABSENT_MEASUREMENTS: absent} if absent else {}


def add_dataset(index: Any, doc: Mapping[str, Any], *, uri: str | None) -> bool:
    """Add an eo3 document to the index; False if a dataset with its id is already there.

    Lineage (``lineage: {classifier: [source ids]}``) is recorded; the sources must be indexed already.
    A source that carries only some of its product's measurements (checked by :func:`carried_bands`) is indexed
    as it is: datacube's ``Doc2Dataset`` refuses any dataset lacking a product measurement, so such a document
    is prepared as ``Doc2Dataset`` does (``prep_eo3``) and added with its measurements as they are; ``load``
    says which datasets lack a band asked for, where datacube would fail on the first with "No such band".
    """
    if index.datasets.has(doc["id"]):
        return False
    has_lineage = bool(doc.get("lineage"))
    index.datasets.add(_as_dataset(index, doc, uri=uri, resolvers={}), with_lineage=has_lineage)
    return True


def add_datasets(index: Any, docs: Sequence[tuple[Mapping[str, Any], str | None]]) -> list[bool | BadSourceError]:
    """Add eo3 documents without lineage (sources) as :func:`add_dataset` does, in one transaction: per document
    True (added), False (already there, or earlier in ``docs``) or the ``BadSourceError`` saying why it was refused.

    One query finds those already indexed and one insert per table adds the others (datacube's batch add), where
    adding them one by one costs about twenty statements each. Hold :func:`flows.storage.index.adding` around it
    when other processes may add the same documents, so that "already there" is exact.
    """
    if any(doc.get("lineage") for doc, _ in docs):
        raise ValueError("add_datasets adds sources; add documents with lineage with add_dataset")
    present = index.datasets.bulk_has([doc["id"] for doc, _ in docs])
    out: list[bool | BadSourceError] = []
    new: dict[str, DatasetTuple] = {}
    resolvers: dict[str, Doc2Dataset] = {}
    for (doc, uri), there in zip(docs, present, strict=True):
        if there or doc["id"] in new:
            out.append(False)
            continue
        try:
            dataset = _as_dataset(index, doc, uri=uri, resolvers=resolvers)
        except BadSourceError as err:
            out.append(err)
            continue
        new[doc["id"]] = DatasetTuple(dataset.product, dataset.metadata_doc, uri)  # no lineage to strip
        out.append(True)
    if new:
        index.datasets._add_batch(list(new.values()), index.datasets._init_bulk_add_cache())
    return out


def _as_dataset(index: Any, doc: Mapping[str, Any], *, uri: str | None, resolvers: dict[str, Doc2Dataset]) -> Dataset:
    """``doc`` as a datacube ``Dataset`` of its product, checked against it (``resolvers``: one per product, reused).

    A document without lineage is prepared as ``Doc2Dataset`` prepares it (``prep_eo3``) without its checks, which
    cannot fail on it (its product is the one it names; the measurements it lacks are checked by
    :func:`carried_bands`) and cost half of adding it (datacube evaluates every search field several times).
    """
    name = doc["product"]["name"]
    has_lineage = bool(doc.get("lineage"))
    product = index.products.get_by_name(name)
    if product is not None and not has_lineage:
        try:
            return Dataset(product, prep_eo3(copy.deepcopy(dict(doc)), remap_lineage=False), uri=uri)
        except (KeyError, TypeError, ValueError) as err:
            raise BadSourceError(f"not a valid {name} dataset: {err}") from err
    if name not in resolvers:
        resolvers[name] = Doc2Dataset(index, products=[name], skip_lineage=not has_lineage, verify_lineage=False)
    dataset, err = resolvers[name](dict(doc), uri)
    if dataset is None:
        raise BadSourceError(f"not a valid {name} dataset: {err}")
    return dataset
