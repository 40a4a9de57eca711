"""Land-cover flows: ``train_land_cover``, ``land_cover`` (yearly) and ``land_cover_key_date`` (near real time).

Thin over ``flows.cube`` (load on the EEA grid, write COGs + eo3 + index) and the pure science of
``products.landcover``. Tasks pass dataset ids and file paths, never arrays: samples go through ``.npz``
files, models through ``land_cover_model`` datasets (a saved model file, recorded in the index with
lineage to the reflectance it was trained on), maps through ``land_cover`` / ``land_cover_nrt`` datasets
whose lineage names the reflectance datasets and the model.

Ids are deterministic: a model from its training inputs and parameters, a yearly map from cell, year and
nomenclature, a key-date map from cell, year and key date. A re-run finds them and skips; ``overwrite``
replaces them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import dask
import numpy as np
import pandas as pd
import xarray as xr
from odc.geo import Geometry, geom
from odc.geo.geobox import GeoBox
from prefect import flow, task, unmapped
from prefect.cache_policies import NO_CACHE

from flows.cluster import flow_client
from flows.cube import connect, load, write_dataset
from flows.eo3 import dataset_id
from flows.fanout import on_cluster
from flows.grid import EEA_CRS, Cell, aligned_geobox, cells_covering
from flows.landcover_models import load_model, save_model
from flows.landcover_report import write_report
from flows.reference import ReferencePolygons, rasterise_polygons, read_reference
from flows.retry import TRANSIENT_RETRIES
from odc_config.settings import load_settings
from products.landcover import classify, nrt
from products.landcover.features import LANDSAT8, SENTINEL2, BandRoles
from products.landcover.gapfill import LANDSAT_STEP_DAYS, S2_STEP_DAYS
from products.landcover.nomenclature import NODATA, load_nomenclature
from products.landcover.samples import (
    NoPolygonError,
    Samples,
    TooFewSamplesError,
    cap_per_class,
    extract_samples,
    split_runs,
)
from products.landcover.sieve import min_pixels, sieve
from products.landcover.validation import accuracy, summarise_runs
from products.landcover.validity import NoValidDateError, clear_observations, validity

METHOD = "iota2-oso"
METHOD_VERSION = "1.0"
CELL_SIZE_M = 100_000
YEARLY = "december"  # a yearly map is the series of the whole calendar year, the last key date's grid
MAX_SAMPLES_PER_CLASS = 3000
__all__ = ["train_land_cover", "land_cover", "land_cover_key_date", "LandCoverInputError", "NoPolygonError",
           "TooFewSamplesError", "NoValidDateError"]


class LandCoverInputError(ValueError):
    """Inputs that cannot give a land-cover model or map; the message says why and what to do."""


@dataclass(frozen=True)
class Source:
    """How one reflectance product becomes land-cover features."""

    product: str
    roles: BandRoles
    masks: tuple[str, ...]
    step_days: int
    resolution: float

    @property
    def measurements(self) -> list[str]:
        return [*self.roles.reflectance, *self.masks]

    def settings(self) -> nrt.FeatureSettings:
        return nrt.FeatureSettings(step_days=self.step_days, roles=self.roles, season=nrt.default_season())


SOURCES: Mapping[str, Source] = {
    "s2_l2a": Source("s2_l2a", SENTINEL2, ("scl",), S2_STEP_DAYS, 20.0),
    "landsat_c2l2": Source("landsat_c2l2", LANDSAT8, ("qa_pixel",), LANDSAT_STEP_DAYS, 30.0),
    "theia_l8_n2a": Source("theia_l8_n2a", LANDSAT8, ("cloud", "saturation", "valid"), LANDSAT_STEP_DAYS, 30.0),
}


def _source(product: str) -> Source:
    if product not in SOURCES:
        raise LandCoverInputError(f"no land-cover features for product {product!r}; use one of {sorted(SOURCES)}")
    return SOURCES[product]


# ------------------------------------------------------------------------------------------------ the area
def _area(cells: Sequence[str] | None, bbox: Sequence[float] | None) -> Geometry | None:
    if cells:
        return geom.unary_union([Cell.parse(c).geometry for c in cells])
    if bbox:
        if len(bbox) != 4:
            raise LandCoverInputError(f"bbox needs 4 numbers (west south east north, degrees), not {list(bbox)}")
        return geom.box(*bbox, crs="EPSG:4326").to_crs(EEA_CRS)
    return None


def _window(year: int, when: str, settings: nrt.FeatureSettings) -> tuple[str, str]:
    """Acquisitions a key date may use: from the season start less the margin to the end of its day."""
    first = settings.season.start(year) - pd.Timedelta(days=settings.margin_days)
    last = nrt.key_date(when).end(year)
    return first.strftime("%Y-%m-%d"), last.strftime("%Y-%m-%dT%H:%M:%S")


def _datasets(dc, source: Source, area: Geometry, window: tuple[str, str]) -> list:
    found = dc.find_datasets(product=source.product, geopolygon=area, time=window)
    last = pd.Timestamp(window[1])
    return [d for d in found if pd.Timestamp(d.center_time.replace(tzinfo=None)) <= last]


def _footprint(datasets: Sequence, area: Geometry | None) -> Geometry:
    shape = geom.unary_union([d.extent.to_crs(EEA_CRS) for d in datasets])
    return shape & area if area is not None else shape


# ------------------------------------------------------------------------------------------------ series
def _series(dc, source: Source, gbox: GeoBox, window: tuple[str, str]) -> tuple[xr.Dataset, xr.DataArray, dict[str, str]]:
    """Reflectance series, per-date validity (lazy) and the datasets read (id -> acquisition time), on ``gbox``."""
    found = _datasets(dc, source, gbox.extent, window)
    if not found:
        raise NoValidDateError(f"no {source.product} acquisition between {window[0]} and {window[1][:10]} over the area")
    data = load(source.product, geobox=gbox, time=window, measurements=source.measurements, chunks=512, dc=dc)
    last = np.datetime64(pd.Timestamp(window[1]))
    data = data.isel(time=np.flatnonzero(data.time.values <= last))
    masks = {m: data[m] for m in source.masks}
    if source.product == "s2_l2a":
        valid = validity(scl=masks["scl"])
    elif source.product == "landsat_c2l2":
        valid = validity(qa_pixel=masks["qa_pixel"])
    else:
        valid = validity(flags=[masks["cloud"], masks["saturation"]], valid=masks["valid"] == 1)
    series = data[list(source.roles.reflectance)].drop_vars("platform", errors="ignore")
    valid = (valid & series[source.roles.red].notnull()).drop_vars("platform", errors="ignore")
    return series, valid, {str(d.id): str(d.center_time)[:19] for d in found}


def _training_series(dc, source: Source, gbox: GeoBox, year: int) -> tuple[xr.Dataset, xr.DataArray, dict[str, str]]:
    """A training year's whole series on ``gbox``, read once and kept in the work folder.

    Every key date of the year cuts it (``nrt.series_until``), so the models of a year's key dates read the
    images once. The file is named by the grid and the dataset ids, so new acquisitions make a new one.
    """
    window = _window(year, YEARLY, source.settings())
    found = sorted(str(d.id) for d in _datasets(dc, source, gbox.extent, window))
    digest = hashlib.sha256(json.dumps([source.product, list(gbox.affine)[:6], list(gbox.shape), found]).encode())
    path = _work_dir("series", source.product) / f"{year}-{digest.hexdigest()[:16]}.npz"
    if path.exists():
        with np.load(path, allow_pickle=False) as f:
            coords = {"time": f["time"], "y": f["y"], "x": f["x"]}
            series = xr.Dataset({v: (("time", "y", "x"), f[f"band_{v}"]) for v in source.roles.reflectance}, coords=coords)
            valid = xr.DataArray(f["valid"], dims=("time", "y", "x"), coords=coords)
            return series, valid, dict(zip(f["ids"].tolist(), f["id_times"].tolist()))
    series, valid, ids = _series(dc, source, gbox, window)
    series, valid = dask.compute(series, valid)
    tmp = path.with_name(f".{path.stem}-{uuid.uuid4().hex[:8]}.npz")
    np.savez(tmp, time=series.time.values, y=series.y.values, x=series.x.values, valid=valid.values,
             ids=np.array(list(ids)), id_times=np.array(list(ids.values())),
             **{f"band_{v}": series[v].values for v in source.roles.reflectance})
    os.replace(tmp, path)
    return series, valid, ids


def _until(ids: Mapping[str, str], year: int, when: str) -> list[str]:
    last = nrt.key_date(when).end(year)
    return sorted(i for i, t in ids.items() if pd.Timestamp(t) <= last)


def _clear(n_clear: xr.DataArray, what: str) -> np.ndarray:
    """The computed clear-observation counts, refused when no pixel has one."""
    n_clear = np.asarray(n_clear.values)
    if not n_clear.any():
        raise NoValidDateError(f"no valid date for {what}: every acquisition is cloud, shadow or nodata everywhere")
    return n_clear


# ------------------------------------------------------------------------------------------------ training
@dataclass(frozen=True, kw_only=True)
class TrainingRequest:
    """Everything a model depends on; its hash names the model."""

    reference: str
    mapping: str
    column: str | None
    year_column: str | None
    years: tuple[int, ...]
    area_wkt: str | None
    product: str
    key_date: str | None
    method: str
    seed: int
    runs: int
    max_samples_per_class: int
    drop_rare: bool
    reference_sha256: str = ""

    def key(self) -> str:
        doc = json.dumps(asdict(self), sort_keys=True)
        digest = hashlib.sha256(doc.encode()).hexdigest()[:12]
        years = f"{min(self.years)}-{max(self.years)}" if len(self.years) > 1 else str(self.years[0])
        return f"{self.key_date or 'year'}/{years}/{digest}"

    @property
    def nomenclature_level(self) -> str | None:
        return nrt.key_date(self.key_date).nomenclature if self.key_date else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _reference(request: TrainingRequest, year: int) -> ReferencePolygons:
    ref = read_reference(request.reference, mapping=request.mapping, column=request.column, crs="EPSG:3035",
                         on_unmapped="warn")
    frame = ref.frame
    if request.year_column:
        if request.year_column not in frame.columns:
            raise LandCoverInputError(f"{Path(request.reference).name} has no column {request.year_column!r}")
        frame = frame[frame[request.year_column].astype(int) == year]
        if frame.empty:
            raise NoPolygonError(f"{Path(request.reference).name} has no polygon of year {year} "
                                 f"(column {request.year_column!r})")
    if request.area_wkt:
        frame = frame[frame.intersects(_wkt(request.area_wkt))]
    if frame.empty:
        raise NoPolygonError(f"no reference polygon of {Path(request.reference).name} intersects the area")
    return replace(ref, frame=frame.reset_index(drop=True))


def _wkt(text: str):
    import shapely

    return shapely.from_wkt(text)


def _work_dir(kind: str, key: str) -> Path:
    folder = load_settings().data_dir / "land_cover_work" / kind / key
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@task(**TRANSIENT_RETRIES, cache_policy=NO_CACHE)
def collect_samples(request: TrainingRequest, year: int) -> dict[str, Any]:
    """One training year's samples into an ``.npz`` file: its path, the sources read and the class counts."""
    dc = connect()
    source = _source(request.product)
    settings = source.settings()
    ref = _reference(request, year)
    when = request.key_date or YEARLY
    x0, y0, x1, y1 = ref.frame.total_bounds
    extent = geom.box(x0, y0, x1, y1, crs=EEA_CRS)
    found = _datasets(dc, source, extent, _window(year, YEARLY, settings))
    if not found:
        raise NoValidDateError(f"no {source.product} acquisition of {year} over the reference polygons")
    gbox = aligned_geobox(_footprint(found, extent), resolution=source.resolution)  # where polygons and images meet
    series, valid, read = _training_series(dc, source, gbox, year)
    series, valid = nrt.series_until(series, valid, year=year, when=when, settings=settings)
    ids = _until(read, year, when)
    n_clear = _clear(clear_observations(valid), f"training year {year}")
    feats = nrt.key_date_features(series, valid, year=year, when=when, settings=settings)
    classes = ref.polygon_classes()
    if request.key_date:
        classes = nrt.relabel_for(request.key_date, classes, labels_nomenclature=ref.nomenclature)
    polygon_ids = rasterise_polygons(ref, shape=tuple(gbox.shape), transform=gbox.affine)
    found = extract_samples(feats, polygon_ids, classes, clear_observations=n_clear, min_clear_dates=0)
    labels = np.zeros(polygon_ids.shape, dtype=np.uint8)
    known = np.isin(polygon_ids, list(classes))
    labels[known] = [classes[i] for i in polygon_ids[known].tolist()]
    path = _work_dir("samples", request.key()) / f"{year}.npz"
    tmp = path.with_name(f".{path.stem}-{uuid.uuid4().hex[:8]}.npz")
    np.savez(tmp, features=found.features, labels=found.labels, polygons=found.polygons,
             feature_names=np.array(found.feature_names), reference=labels,
             affine=np.array(tuple(gbox.affine)[:6]), shape=np.array(gbox.shape))
    os.replace(tmp, path)
    return {"path": str(path), "year": year, "sources": ids, "nomenclature": request.nomenclature_level or ref.nomenclature,
            "class_counts": found.class_counts()}


def _read_samples(paths: Sequence[str]) -> Samples:
    parts, offset = [], 0
    for path in paths:
        with np.load(path) as f:
            polygons = f["polygons"].astype(np.int64) + offset  # polygons of different years stay apart
            parts.append(Samples(f["features"], f["labels"], polygons, tuple(f["feature_names"].tolist())))
            offset = int(polygons.max()) + 1
    names = parts[0].feature_names
    if any(p.feature_names != names for p in parts):
        raise LandCoverInputError("training years give different features; use one product and one key date")
    return Samples(np.concatenate([p.features for p in parts]), np.concatenate([p.labels for p in parts]),
                   np.concatenate([p.polygons for p in parts]), names)


def _polygon_counts(request: TrainingRequest) -> dict[int, int]:
    """Reference polygons per class over the training years and area, before any image is read."""
    counts: dict[int, int] = {}
    for year in request.years:
        ref = _reference(request, year)
        classes = ref.polygon_classes()
        if request.key_date:
            classes = nrt.relabel_for(request.key_date, classes, labels_nomenclature=ref.nomenclature)
        for code in classes.values():
            counts[code] = counts.get(code, 0) + 1
    return counts


def _rare_classes(counts: Mapping[int, int], *, min_polygons: int, drop_rare: bool) -> dict[int, int]:
    """Classes with fewer than ``min_polygons`` polygons: an error, or returned to be left out with ``drop_rare``."""
    rare = {c: n for c, n in sorted(counts.items()) if n < min_polygons}
    if rare and not drop_rare:
        code, n = next(iter(rare.items()))
        raise TooFewSamplesError(
            f"class {code} has {n} reference polygon(s) in the training years and area; at least {min_polygons} are "
            f"needed to learn and validate it (rare classes: {rare}). Add reference data, widen the area or years, "
            "or leave rare classes out (--drop-rare)", class_code=code, count=n, needed=min_polygons, what="polygons")
    return rare


def _check_classes(samples: Samples, *, min_polygons: int, drop_rare: bool) -> tuple[Samples, dict[int, str]]:
    """Samples of the classes with at least ``min_polygons`` polygons (see ``_rare_classes``)."""
    counts: dict[int, int] = {}
    for code in samples.polygon_classes().values():
        counts[code] = counts.get(code, 0) + 1
    rare = _rare_classes(counts, min_polygons=min_polygons, drop_rare=drop_rare)
    keep = [c for c in counts if c not in rare]
    if len(keep) < 2:
        raise TooFewSamplesError(f"fewer than two classes have {min_polygons} polygons or more: {counts}",
                                 class_code=-1, count=len(keep), needed=2, what="classes")
    mask = np.isin(samples.labels, keep)
    kept = Samples(samples.features[mask], samples.labels[mask], samples.polygons[mask], samples.feature_names)
    return kept, {c: f"{n} polygon(s) < {min_polygons}" for c, n in rare.items()}


@task(cache_policy=NO_CACHE)
def validate_model(request: TrainingRequest, sample_paths: list[str], *, nomenclature: str,
                   report_dir: str | None) -> dict[str, Any]:
    """``runs`` by-polygon splits (seeds seed, seed + 1, ...): the report files and OA / kappa over runs."""
    samples, dropped = _check_classes(_read_samples(sample_paths), min_polygons=2, drop_rare=request.drop_rare)
    runs = []
    for split in split_runs(samples, runs=request.runs, seed=request.seed, rare="drop"):
        model = classify.train(cap_per_class(split.train, request.max_samples_per_class, seed=split.split.seed),
                               nomenclature=nomenclature, spec=request.method, seed=split.split.seed, n_jobs=2)
        predicted, _ = classify.predict_samples(model, split.validation)
        runs.append(accuracy(split.validation.labels, predicted))
    summary = summarise_runs(runs)
    folder = Path(report_dir) if report_dir else _work_dir("reports", request.key())
    title = (f"Land-cover validation: {request.key_date or 'yearly'} model, {request.product}, "
             f"years {', '.join(map(str, request.years))}")
    meta = {"model_key": request.key(), "years": list(request.years), "product": request.product,
            "key_date": request.key_date, "nomenclature": nomenclature, "method": request.method,
            "runs": request.runs, "seed": request.seed, "reference": Path(request.reference).name,
            "mapping": request.mapping, "dropped_classes": {str(k): v for k, v in dropped.items()}}
    stem = f"validation_{request.key_date or 'yearly'}"
    try:
        nom = load_nomenclature(nomenclature)
    except (FileNotFoundError, KeyError, ValueError):
        nom = None
    files = write_report(summary, folder, nomenclature=nom, title=title, metadata=meta, stem=stem)
    return {"json": str(files.json), "html": str(files.html), "overall_accuracy": summary.overall_accuracy.mean,
            "kappa": summary.kappa.mean, "runs": len(runs), "dropped": {str(k): v for k, v in dropped.items()}}


@task(cache_policy=NO_CACHE)
def fit_and_record(request: TrainingRequest, collected: list[dict[str, Any]], *, nomenclature: str,
                   validation: Mapping[str, Any] | None, overwrite: bool) -> str:
    """Train on every sample, save the model file and index it as a ``land_cover_model`` dataset; its id."""
    dc = connect()
    key = request.key()
    model_id = dataset_id("land_cover_model", key)
    samples, dropped = _check_classes(_read_samples([c["path"] for c in collected]), min_polygons=2,
                                      drop_rare=request.drop_rare)
    area_cells = _model_cells(request, collected)
    model = classify.train(cap_per_class(samples, request.max_samples_per_class, seed=request.seed), nomenclature=nomenclature,
                           spec=request.method, seed=request.seed, years=request.years, area="+".join(area_cells),
                           key_date=request.key_date, n_jobs=2)
    model = replace(model, model_id=model_id)
    folder = load_settings().data_dir / "land_cover_models"
    final = folder / f"{model_id}.joblib"
    tmp = save_model(model, folder / f".{model_id}-{uuid.uuid4().hex[:8]}.joblib")
    os.replace(tmp.with_suffix(".json"), final.with_suffix(".json"))
    os.replace(tmp, final)

    with np.load(collected[-1]["path"]) as f:
        reference = f["reference"]
        from affine import Affine

        gbox = GeoBox(tuple(int(v) for v in f["shape"]), Affine(*f["affine"].tolist()), EEA_CRS)
    band = xr.DataArray(reference, dims=("y", "x"), attrs={"nodata": 0})
    properties = {
        "snowland:model_file": str(final),
        "snowland:model_sha256": _sha256(final),
        "snowland:nomenclature": nomenclature,
        "snowland:years": list(request.years),
        "snowland:key_date": request.key_date or "yearly",
        "snowland:source_product": request.product,
        "snowland:method": request.method,
        "snowland:method_version": METHOD_VERSION,
        "snowland:parameters": {"classifier": dict(model.spec.params), "predict": dict(model.spec.predict_options),
                                "max_samples_per_class": request.max_samples_per_class, "seed": request.seed,
                                "step_days": _source(request.product).step_days, "drop_rare": request.drop_rare},
        "snowland:reference": Path(request.reference).name,
        "snowland:reference_sha256": request.reference_sha256,
        "snowland:mapping": request.mapping,
        "snowland:classes": list(model.classes),
        "snowland:class_counts": {str(k): int(v) for k, v in model.class_counts.items()},
        "snowland:dropped_classes": {str(k): v for k, v in dropped.items()},
        "snowland:n_features": len(model.feature_names),
        "snowland:library_versions": dict(model.library_versions),
        "snowland:cells": area_cells,
    }
    if validation:
        properties["snowland:validation"] = {k: validation[k] for k in ("overall_accuracy", "kappa", "runs", "json")}
    if _simulated(dc, [i for c in collected for i in c["sources"]]):
        properties["snowland:simulated"] = True
    last = max(request.years)
    written = write_dataset(xr.Dataset({"reference": band}), geobox=gbox, product="land_cover_model", key=key,
                            region=area_cells[0], when=f"{last}-12-31T23:59:59Z",
                            sources={request.product: sorted({i for c in collected for i in c["sources"]})},
                            properties=properties, overwrite=overwrite, dc=dc)
    return written.id


def _model_cells(request: TrainingRequest, collected: Sequence[Mapping[str, Any]]) -> list[str]:
    with np.load(collected[-1]["path"]) as f:
        from affine import Affine

        gbox = GeoBox(tuple(int(v) for v in f["shape"]), Affine(*f["affine"].tolist()), EEA_CRS)
    return [c.name for c in cells_covering(gbox.extent, size_m=CELL_SIZE_M)]


def _simulated(dc, ids: Sequence[str]) -> bool:
    for i in ids[:5]:
        d = dc.index.datasets.get(i)
        if d is not None and d.metadata_doc["properties"].get("snowland:simulated"):
            return True
    return False


@dataclass(frozen=True, kw_only=True)
class TrainingResult:
    """A trained model's dataset id, its validation figures and report files."""

    model: str
    status: str
    years: tuple[int, ...]
    key_date: str | None
    nomenclature: str
    overall_accuracy: float | None = None
    kappa: float | None = None
    report_json: str | None = None
    report_html: str | None = None
    dropped: Mapping[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        figures = (f", validation OA {self.overall_accuracy:.3f} kappa {self.kappa:.3f} ({self.report_html})"
                   if self.overall_accuracy is not None else "")
        return (f"land_cover_model {self.model} ({self.status}): {self.key_date or 'yearly'} model, {self.nomenclature}, "
                f"years {', '.join(map(str, self.years))}{figures}")


@flow(name="train-land-cover", log_prints=True)
def train_land_cover(
    *,
    reference: str,
    years: list[int],
    cells: list[str] | None = None,
    bbox: list[float] | None = None,
    product: str = "s2_l2a",
    mapping: str = "rpg_code_cultu_to_oso23",
    column: str | None = None,
    year_column: str | None = None,
    key_date: str | None = None,
    method: str = classify.DEFAULT_CLASSIFIER,
    runs: int = 3,
    seed: int = 0,
    max_samples_per_class: int = MAX_SAMPLES_PER_CLASS,
    drop_rare: bool = False,
    report_dir: str | None = None,
    overwrite: bool = False,
) -> TrainingResult:
    """Train a land-cover model on reference polygons and the images of ``years`` over an area.

    ``reference``: GeoPackage / Shapefile / GeoParquet; ``mapping`` turns its class column (``column`` or the
    mapping's) into a nomenclature; with ``year_column`` each year takes its own rows. The area is ``cells`` or
    ``bbox`` (lon/lat), else the reference's extent. ``key_date`` (march, july, december) trains a near-real-time
    model on series cut at that date and labels at that date's level; without it, a yearly model.
    ``runs`` by-polygon splits give the validation report (JSON + HTML page); the recorded model is then
    trained on every sample and indexed as a ``land_cover_model`` dataset. Returns its id and the figures.
    """
    if not years:
        raise LandCoverInputError("give at least one training year")
    if key_date is not None:
        nrt.key_date(key_date)
    _source(product)
    if method not in classify.CLASSIFIERS:
        raise LandCoverInputError(f"unknown method {method!r}; known: {sorted(classify.CLASSIFIERS)}")
    path = Path(reference)
    if not path.exists():
        raise LandCoverInputError(f"reference file {reference} does not exist")
    area = _area(cells, bbox)
    request = TrainingRequest(
        reference=str(path.resolve()), mapping=mapping, column=column, year_column=year_column,
        years=tuple(sorted(int(y) for y in years)), area_wkt=area.wkt if area is not None else None, product=product,
        key_date=key_date, method=method, seed=seed, runs=runs, max_samples_per_class=max_samples_per_class,
        drop_rare=drop_rare, reference_sha256=_sha256(path),
    )
    dc = connect()
    model_id = dataset_id("land_cover_model", request.key())
    level = request.nomenclature_level
    if not overwrite and dc.index.datasets.has(model_id):
        props = dc.index.datasets.get(model_id).metadata_doc["properties"]
        val = props.get("snowland:validation") or {}
        result = TrainingResult(model=model_id, status="exists", years=request.years, key_date=key_date,
                                nomenclature=props["snowland:nomenclature"], overall_accuracy=val.get("overall_accuracy"),
                                kappa=val.get("kappa"), report_json=val.get("json"),
                                report_html=val.get("json", "").replace(".json", ".html") or None)
        print(result.summary())
        return result
    _rare_classes(_polygon_counts(request), min_polygons=2, drop_rare=drop_rare)  # fail before reading images
    collected = [collect_samples(request, y) for y in request.years]
    nomenclature = collected[0]["nomenclature"]
    validation = validate_model(request, [c["path"] for c in collected], nomenclature=nomenclature,
                                report_dir=report_dir) if runs > 0 else None
    existed = dc.index.datasets.has(model_id)
    model = fit_and_record(request, collected, nomenclature=nomenclature, validation=validation, overwrite=overwrite)
    result = TrainingResult(
        model=model, status="replaced" if existed else "written", years=request.years, key_date=key_date,
        nomenclature=nomenclature, overall_accuracy=validation and validation["overall_accuracy"],
        kappa=validation and validation["kappa"], report_json=validation and validation["json"],
        report_html=validation and validation["html"], dropped=(validation or {}).get("dropped", {}),
    )
    print(result.summary())
    return result


# ------------------------------------------------------------------------------------------------ maps
@dataclass(frozen=True, kw_only=True)
class MapJob:
    """One map to make: a cell and year, at a key date or for the whole year."""

    cell: str
    year: int
    key_date: str | None
    model: str

    @property
    def product(self) -> str:
        return "land_cover_nrt" if self.key_date else "land_cover"

    def key(self, nomenclature: str) -> str:
        return f"{self.cell}/{self.year}/{self.key_date}" if self.key_date else f"{self.cell}/{self.year}/{nomenclature}"


@dataclass
class MapReport:
    """What a map flow did, per cell."""

    product: str
    written: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    exists: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    model: str = ""

    def summary(self) -> str:
        return (f"{self.product}: {len(self.written)} written, {len(self.replaced)} replaced, "
                f"{len(self.exists)} already there (model {self.model})")


def _model_record(dc, model: str) -> tuple[Any, dict[str, Any]]:
    dataset = dc.index.datasets.get(model)
    if dataset is None or dataset.product.name != "land_cover_model":
        raise LandCoverInputError(f"{model} is not a land_cover_model dataset in the index; train one first "
                                  "(`snowland train-land-cover`)")
    return dataset, dataset.metadata_doc["properties"]


@task(**TRANSIENT_RETRIES, cache_policy=NO_CACHE)
def map_cell(job: MapJob, *, area_wkt: str | None, min_mapping_unit_m2: float, overwrite: bool) -> dict[str, str]:
    """Classify one cell and year (at a key date or for the year), write it and index it, on a dask worker."""
    return on_cluster(map_cell_unit, job, area_wkt=area_wkt, min_mapping_unit_m2=min_mapping_unit_m2,
                      overwrite=overwrite)


def map_cell_unit(job: MapJob, *, area_wkt: str | None, min_mapping_unit_m2: float, overwrite: bool) -> dict[str, str]:
    """One cell's map, written and indexed: its id and status."""
    dc = connect()
    _, props = _model_record(dc, job.model)
    nomenclature = props["snowland:nomenclature"]
    key = job.key(nomenclature)
    out_id = dataset_id(job.product, key)
    if not overwrite and dc.index.datasets.has(out_id):
        return {"id": out_id, "status": "exists", "key": key}
    source = _source(props["snowland:source_product"])
    settings = source.settings()
    when = job.key_date or YEARLY
    window = _window(job.year, when, settings)
    cell = Cell.parse(job.cell)
    area = cell.geometry & _wkt_geometry(area_wkt) if area_wkt else cell.geometry
    found = _datasets(dc, source, area, window)
    if not found:
        raise NoValidDateError(f"no {source.product} acquisition over {job.cell} between {window[0]} and {window[1][:10]}")
    gbox = aligned_geobox(_footprint(found, area), resolution=source.resolution)
    series, valid, read = _series(dc, source, gbox, window)
    ids = sorted(read)
    model = load_model(props["snowland:model_file"])
    feats = nrt.key_date_features(series, valid, year=job.year, when=when, settings=settings)
    maps, n_clear = dask.compute(classify.predict_map(model, feats), clear_observations(valid))  # one read
    n_clear = _clear(n_clear, f"{job.cell} {job.year}" + (f" at key date {job.key_date}" if job.key_date else ""))
    classes = maps["classification"].values.astype(np.int32)
    confidence = maps["confidence"].values.astype(np.uint8)
    nodata = (n_clear == 0) | (classes == NODATA)
    classes[nodata] = NODATA
    if min_mapping_unit_m2 > 0:
        classes = sieve(classes, min_size=min_pixels(min_mapping_unit_m2, source.resolution), nodata=NODATA)
    if classes.max() > 255:
        raise LandCoverInputError(f"class codes above 255 ({classes.max()}) do not fit the uint8 classification")
    confidence[nodata] = 255
    bands = xr.Dataset({
        "classification": xr.DataArray(classes.astype(np.uint8), dims=("y", "x"), attrs={"nodata": 0}),
        "confidence": xr.DataArray(confidence, dims=("y", "x"), attrs={"nodata": 255}),
        "n_clear": xr.DataArray(n_clear.astype(np.uint16), dims=("y", "x"), attrs={"nodata": 65535}),
    })
    properties = {
        "snowland:nomenclature": nomenclature,
        "snowland:year": job.year,
        "snowland:model_id": job.model,
        "snowland:model_years": props["snowland:years"],
        "snowland:method": METHOD,
        "snowland:method_version": METHOD_VERSION,
        "snowland:classifier": props["snowland:method"],
        "snowland:parameters": {**props["snowland:parameters"], "min_mapping_unit_m2": min_mapping_unit_m2,
                                "resolution_m": source.resolution},
        "snowland:source_product": source.product,
        "snowland:acquisitions": len(ids),
        "snowland:mapped_percent": round(100.0 * float((classes != NODATA).mean()), 3),
        "dtr:start_datetime": f"{window[0]}T00:00:00Z",
        "dtr:end_datetime": f"{window[1][:10]}T23:59:59Z",
    }
    if job.key_date:
        properties["snowland:key_date"] = job.key_date
        properties["snowland:level"] = nomenclature
    if props.get("snowland:simulated") or _simulated(dc, ids):
        properties["snowland:simulated"] = True
    when_iso = f"{window[1][:10]}T23:59:59Z" if job.key_date else f"{job.year}-07-01T00:00:00Z"
    written = write_dataset(bands, geobox=gbox, product=job.product, key=key, region=job.cell, when=when_iso,
                            sources={source.product: ids, "land_cover_model": [job.model]}, properties=properties,
                            overwrite=overwrite, dc=dc)
    return {"id": written.id, "status": written.status, "key": key}


def _wkt_geometry(text: str) -> Geometry:
    return Geometry(_wkt(text), crs=EEA_CRS)


def _map_cells(dc, model_props: Mapping[str, Any], area: Geometry | None) -> list[str]:
    if area is not None:
        return [c.name for c in cells_covering(area, size_m=CELL_SIZE_M)]
    return list(model_props.get("snowland:cells") or [])


def _run_maps(jobs: Sequence[MapJob], *, product: str, model: str, area: Geometry | None,
              min_mapping_unit_m2: float, overwrite: bool) -> MapReport:
    report = MapReport(product=product, model=model)
    with flow_client():
        futures = map_cell.map(jobs, area_wkt=unmapped(area.wkt if area is not None else None),
                               min_mapping_unit_m2=unmapped(min_mapping_unit_m2), overwrite=unmapped(overwrite))
        for future in futures:
            outcome = future.result()
            getattr(report, outcome["status"]).append(outcome["key"])
            report.ids.append(outcome["id"])
    print(report.summary())
    return report


@flow(name="land-cover", log_prints=True)
def land_cover(
    *,
    year: int | None = None,
    model: str,
    cells: list[str] | None = None,
    bbox: list[float] | None = None,
    min_mapping_unit_m2: float = 0.0,
    overwrite: bool = False,
) -> MapReport:
    """Yearly land cover of ``year`` per 100 km cell with a trained model (a ``land_cover_model`` id).

    Every acquisition of the calendar year (and ``margin_days`` before) is gap filled on the model's grid;
    outputs are the class map, its confidence and the clear-observation count, optionally sieved to a minimum
    mapping unit (``min_mapping_unit_m2``, e.g. 1000 for 0.1 ha). Cells: ``cells`` or ``bbox``, else the
    model's training cells. ``year`` defaults to the last calendar year, as the yearly schedule runs in January.
    """
    year = dt.date.today().year - 1 if year is None else year
    dc = connect()
    _, props = _model_record(dc, model)
    if props.get("snowland:key_date", "yearly") not in ("yearly", YEARLY):
        raise LandCoverInputError(f"model {model} is a {props['snowland:key_date']} key-date model; "
                                  "a yearly map needs a yearly model")
    area = _area(cells, bbox)
    jobs = [MapJob(cell=c, year=year, key_date=None, model=model) for c in _map_cells(dc, props, area)]
    return _run_maps(jobs, product="land_cover", model=model, area=area, min_mapping_unit_m2=min_mapping_unit_m2,
                     overwrite=overwrite)


@flow(name="land-cover-key-date", log_prints=True)
def land_cover_key_date(
    *,
    year: int | None = None,
    key_date: str,
    model: str | None = None,
    reference: str | None = None,
    train_years: list[int] | None = None,
    cells: list[str] | None = None,
    bbox: list[float] | None = None,
    product: str = "s2_l2a",
    mapping: str = "rpg_code_cultu_to_oso23",
    column: str | None = None,
    year_column: str | None = None,
    method: str = classify.DEFAULT_CLASSIFIER,
    runs: int = 3,
    max_samples_per_class: int = MAX_SAMPLES_PER_CLASS,
    drop_rare: bool = False,
    report_dir: str | None = None,
    overwrite: bool = False,
) -> MapReport:
    """Near-real-time land cover of ``year`` at ``key_date`` (march, july, december) in that date's level.

    Uses only acquisitions up to the end of the key date. The model is ``model`` (a key-date
    ``land_cover_model``), or one trained here on ``reference`` and ``train_years`` (default: the two years
    before), which must all precede ``year``: no field data of the mapped year is used. ``year`` defaults to
    the current one, as the key-date schedules run on the key dates themselves.
    """
    year = dt.date.today().year if year is None else year
    kd = nrt.key_date(key_date).name
    dc = connect()
    area = _area(cells, bbox)
    if model is None:
        if reference is None:
            raise LandCoverInputError("give a key-date model id, or a reference file and training years to train one")
        train_years = list(train_years or [year - 2, year - 1])
        if max(train_years) >= year:
            raise LandCoverInputError(f"training years {train_years} must all precede {year}: a near-real-time map "
                                      "uses no field data of its own year")
        training = train_land_cover(reference=reference, years=train_years, cells=cells, bbox=bbox, product=product,
                                    mapping=mapping, column=column, year_column=year_column, key_date=kd,
                                    method=method, runs=runs, max_samples_per_class=max_samples_per_class,
                                    drop_rare=drop_rare, report_dir=report_dir, overwrite=overwrite)
        model = training.model
    _, props = _model_record(dc, model)
    if props.get("snowland:key_date") != kd:
        raise LandCoverInputError(f"model {model} was trained for {props.get('snowland:key_date')!r}, not key date {kd!r}")
    late = [y for y in props["snowland:years"] if int(y) >= year]
    if late:
        raise LandCoverInputError(f"model {model} was trained on year(s) {late}; a near-real-time map of {year} "
                                  "must use a model of previous years only")
    jobs = [MapJob(cell=c, year=year, key_date=kd, model=model) for c in _map_cells(dc, props, area)]
    return _run_maps(jobs, product="land_cover_nrt", model=model, area=area, min_mapping_unit_m2=0.0,
                     overwrite=overwrite)


# ------------------------------------------------------------------------------------------------ scoring
@dataclass(frozen=True, kw_only=True)
class MapScore:
    """A written map against reference polygons: pixel accuracy figures and the map itself."""

    dataset: str
    accuracy: Any  # products.landcover.validation.Accuracy
    classes: np.ndarray
    extent: tuple[float, float, float, float]
    nomenclature: str


def score_map(dataset: str, *, reference: str, mapping: str, year_column: str | None = None, column: str | None = None,
              dc=None) -> MapScore:
    """Pixel accuracy of a ``land_cover`` / ``land_cover_nrt`` dataset against reference polygons of its year.

    The reference is relabelled to the map's nomenclature level (key-date maps); pixels outside the polygons
    or unmapped in the map do not count (the share of unmapped reference pixels is the error of a map)."""
    from products.landcover.nomenclature import to_level

    dc = dc or connect()
    record = dc.index.datasets.get(dataset)
    if record is None:
        raise LandCoverInputError(f"no dataset {dataset} in the index")
    props = record.metadata_doc["properties"]
    data = load(record.product.name, geometry=record.extent, measurements=["classification"], group_by="time",
                resolution=props["snowland:parameters"]["resolution_m"], scale=False, dc=dc, where={"id": dataset})
    classes = data.classification.isel(time=0).values
    gbox = data.odc.geobox
    ref = read_reference(reference, mapping=mapping, column=column, crs="EPSG:3035", on_unmapped="ignore")
    if year_column:
        ref = replace(ref, frame=ref.frame[ref.frame[year_column].astype(int) == int(props["snowland:year"])])
    expected = rasterise_polygons(ref, shape=tuple(gbox.shape), transform=gbox.affine, value_column="class_code")
    level = props["snowland:nomenclature"]
    if level != ref.nomenclature:
        expected = np.asarray(to_level(expected, level))
    inside = expected > 0
    if not inside.any():
        raise NoPolygonError(f"no reference polygon of {Path(reference).name} covers dataset {dataset}")
    x0, y0, x1, y1 = gbox.extent.boundingbox
    return MapScore(dataset=dataset, accuracy=accuracy(expected[inside], classes[inside]), classes=classes,
                    extent=(x0, x1, y0, y1), nomenclature=level)
