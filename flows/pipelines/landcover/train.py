"""The train-land-cover flow: samples from reference polygons over past years' series, validated over several runs,
a model saved and indexed as a ``land_cover_model`` dataset with lineage to its training images.

Its units are the training years (their samples), and its product is one model: a year that cannot give samples
stops the training with its reason, as a model of fewer years would be another model.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from odc.geo import geom
from odc.geo.geobox import GeoBox
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.pipelines import arguments
from flows.pipelines.landcover.inputs import (
    CELL_SIZE_M,
    METHOD_VERSION,
    YEARLY,
    LandCoverInputError,
    acquisition_window,
    clear_counts,
    file_sha256,
    find_acquisitions,
    ids_until,
    nomenclature_properties,
    requested_area,
    scenes_without_bands,
    simulated_inputs,
    source_for,
    training_series,
    wkt_shape,
    work_dir,
)
from flows.pipelines.landcover.report import write_report
from flows.run import progress
from flows.run.outcomes import Exists, Report, Skipped, Written
from flows.run.retry import TRANSIENT_RETRIES
from flows.run.say import log, user_errors_in_one_line
from flows.storage import properties as prop
from flows.storage.atomic import replacing
from flows.storage.eo3 import dataset_id
from flows.storage.grid import EEA_CRS, aligned_geobox, cells_covering, footprint
from flows.storage.index import connect
from flows.storage.models import model_file, save_model
from flows.storage.reference import (
    POLYGON_ID,
    ReferencePolygons,
    rasterise_polygons,
    read_polygons,
    read_reference,
)
from flows.storage.writer import unit_claim, write_dataset
from odc_config.settings import load_settings
from products.errors import BadInputError
from products.landcover import classify, nrt
from products.landcover.features import DEFAULT_RESOLUTION_M, RESOLUTIONS_M
from products.landcover.nomenclature import available, load_mapping, load_nomenclature, mapping_for_columns
from products.landcover.samples import (
    MAX_SAMPLES_PER_CLASS,
    NoPolygonError,
    Samples,
    TooFewSamplesError,
    cap_per_class,
    extract_samples,
    split_runs,
)
from products.landcover.validation import accuracy, summarise_runs
from products.landcover.validity import NoValidDateError, clear_observations


# ------------------------------------------------------------------------------------------------ training
@dataclass(frozen=True, kw_only=True)
class TrainingOptions:
    """How a model is trained, beside its references, years and area: the train and key-date flows take the same.

    ``mapping`` translates the references' class column (``column``, else the mapping's); without it, the one
    shipped mapping whose column the references have. ``year_column`` gives each polygon's year.
    """

    product: str = "s2_l2a"
    mapping: str | None = None
    column: str | None = None
    year_column: str | None = None
    method: str = classify.DEFAULT_CLASSIFIER
    runs: int = 3
    seed: int = 0
    max_samples_per_class: int = MAX_SAMPLES_PER_CLASS
    drop_rare: bool = False
    report_dir: str | None = None
    resolution_m: float = DEFAULT_RESOLUTION_M  # the samples' grid; the maps take the model's unless told

    def check(self) -> None:
        """The options checked before anything starts."""
        arguments.checked("product", lambda: source_for(self.product))
        arguments.checked("resolution_m", lambda: resolution(self.resolution_m))
        if self.mapping is not None:
            arguments.one_of(self.mapping, available("mapping"), argument="mapping")
        arguments.one_of(self.method, classify.CLASSIFIERS, argument="method")
        arguments.number(self.runs, argument="runs")
        arguments.number(self.max_samples_per_class, argument="max_samples_per_class", strict=True)


@dataclass(frozen=True, kw_only=True)
class TrainingRequest:
    """Everything a model depends on; its hash names the model."""

    reference: tuple[str, ...]
    reference_years: tuple[int, ...]  # the year of each reference file; empty: every file serves every year
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
    resolution_m: float
    reference_sha256: tuple[str, ...] = ()
    season: nrt.Season | None = None  # the key date's (key_dates.yaml) until the flow finds whether its data exist

    @property
    def reference_names(self) -> str:
        return ", ".join(Path(p).name for p in self.reference)

    def key(self) -> str:
        asked = {k: v for k, v in asdict(self).items() if k != "season"}  # as the images, the season follows the index
        doc = json.dumps(asked, sort_keys=True)
        digest = hashlib.sha256(doc.encode()).hexdigest()[:12]
        years = f"{min(self.years)}-{max(self.years)}" if len(self.years) > 1 else str(self.years[0])
        return f"{self.key_date or 'year'}/{years}/{digest}"

    @property
    def nomenclature_level(self) -> str | None:
        return nrt.key_date(self.key_date).nomenclature if self.key_date else None


def training_season(dc, request: TrainingRequest) -> nrt.Season:
    """The key date's season (``key_dates.yaml``); 1 January where it starts in the year before and a training year
    has no acquisition of that autumn over its references (logged): features of an autumn never seen would be its
    first image copied back."""
    source = source_for(request.product)
    when = request.key_date or YEARLY
    season = source.settings().season_of(when)
    if not season.previous_year:
        return season
    january = source.settings(nrt.Season())
    for year in request.years:
        x0, y0, x1, y1 = _reference(request, year).frame.total_bounds
        autumn = (acquisition_window(year, when, source.settings())[0], acquisition_window(year, when, january)[0])
        if not find_acquisitions(dc, source, geom.box(x0, y0, x1, y1, crs=EEA_CRS), autumn):
            log(f"no {source.product} acquisition from {autumn[0]} to {autumn[1]} (the autumn before {year}): the "
                f"{when} model's season starts on 1 January")
            return nrt.Season()
    return season


def _reference(request: TrainingRequest, year: int) -> ReferencePolygons:
    """The polygons of ``year``, in EPSG:3035 whatever the files' CRS, over the area."""
    paths = ([p for p, y in zip(request.reference, request.reference_years) if y == year] if request.reference_years
             else list(request.reference))
    refs = [read_reference(p, mapping=request.mapping, column=request.column, crs="EPSG:3035", on_unmapped="warn")
            for p in paths]
    names = ", ".join(r.source for r in refs)
    frame = pd.concat([r.frame for r in refs], ignore_index=True) if len(refs) > 1 else refs[0].frame
    if request.year_column:
        frame = frame[frame[request.year_column].astype(int) == year]
        if frame.empty:
            raise NoPolygonError(f"{names} has no polygon of year {year} (column {request.year_column!r})")
    if request.area_wkt:
        frame = frame[frame.intersects(wkt_shape(request.area_wkt))]
    if frame.empty:
        raise NoPolygonError(f"no reference polygon of {names} intersects the area")
    frame = frame.reset_index(drop=True).assign(**{POLYGON_ID: np.arange(1, len(frame) + 1, dtype=np.int32)})
    return replace(refs[0], frame=frame, source=names)


@task(**TRANSIENT_RETRIES, cache_policy=NO_CACHE)
def collect_samples(request: TrainingRequest, year: int) -> dict[str, Any]:
    """One training year's samples into an ``.npz`` file: its path, the sources read and the class counts."""
    dc = connect()
    source = source_for(request.product)
    settings = source.settings(request.season)
    ref = _reference(request, year)
    when = request.key_date or YEARLY
    x0, y0, x1, y1 = ref.frame.total_bounds
    extent = geom.box(x0, y0, x1, y1, crs=EEA_CRS)
    window = acquisition_window(year, YEARLY, settings)
    found = find_acquisitions(dc, source, extent, window)
    left_out = [{"unit": s.unit, "reason": s.reason} for s in scenes_without_bands(dc, source, extent, window)]
    if not found:
        raise NoValidDateError(f"no {source.product} acquisition of {year} over the reference polygons"
                               + (f" with the bands land cover reads ({len(left_out)} without)" if left_out else ""))
    gbox = aligned_geobox(footprint(found, within=extent), resolution=request.resolution_m)  # polygons and images meet
    series, valid, read = training_series(dc, source, gbox, year)
    series, valid = nrt.series_until(series, valid, year=year, when=when, settings=settings)
    ids = ids_until(read, year, when)
    n_clear = clear_counts(clear_observations(valid), f"training year {year}")
    feats = nrt.key_date_features(series, valid, year=year, when=when, settings=settings)
    classes = ref.polygon_classes()
    if request.key_date:
        classes = nrt.relabel_for(request.key_date, classes, labels_nomenclature=ref.nomenclature)
    polygon_ids = rasterise_polygons(ref, shape=tuple(gbox.shape), transform=gbox.affine)
    found = extract_samples(feats, polygon_ids, classes, clear_observations=n_clear, min_clear_dates=0)
    labels = np.zeros(polygon_ids.shape, dtype=np.uint8)
    known = np.isin(polygon_ids, list(classes))
    labels[known] = [classes[i] for i in polygon_ids[known].tolist()]
    path = work_dir("samples", request.key()) / f"{year}.npz"
    with replacing(path) as partial:
        np.savez(partial, features=found.features, labels=found.labels, polygons=found.polygons,
                 feature_names=np.array(found.feature_names), reference=labels,
                 affine=np.array(tuple(gbox.affine)[:6]), shape=np.array(gbox.shape))
    return {"path": str(path), "year": year, "sources": ids, "nomenclature": request.nomenclature_level or ref.nomenclature,
            "class_counts": found.class_counts(), "left_out": left_out}


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
    folder = Path(report_dir) if report_dir else work_dir("reports", request.key())
    title = (f"Land-cover validation: {request.key_date or 'yearly'} model, {request.product}, "
             f"years {', '.join(map(str, request.years))}")
    meta = {"model_key": request.key(), "years": list(request.years), "product": request.product,
            "key_date": request.key_date, "nomenclature": nomenclature, "method": request.method,
            "runs": request.runs, "seed": request.seed, "reference": request.reference_names,
            "mapping": request.mapping, "dropped_classes": {str(k): v for k, v in dropped.items()}}
    stem = f"validation_{request.key_date or 'yearly'}"
    try:
        nom = load_nomenclature(nomenclature)
    except BadInputError:  # a nomenclature snowland does not ship: the report shows codes without names
        nom = None
    files = write_report(summary, folder, nomenclature=nom, title=title, metadata=meta, stem=stem)
    return {"json": str(files.json), "html": str(files.html), "overall_accuracy": summary.overall_accuracy.mean,
            "kappa": summary.kappa.mean, "runs": len(runs), "dropped": {str(k): v for k, v in dropped.items()}}


@task(cache_policy=NO_CACHE)
def fit_and_record(request: TrainingRequest, collected: list[dict[str, Any]], *, nomenclature: str,
                   validation: Mapping[str, Any] | None, overwrite: bool) -> Written | Exists:
    """Train on every sample, save the model file and index it as a ``land_cover_model`` dataset."""
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
    folder = save_model(model, load_settings().data_dir / "land_cover_models" / model_id)

    with np.load(collected[-1]["path"]) as f:
        reference = f["reference"]
        from affine import Affine

        gbox = GeoBox(tuple(int(v) for v in f["shape"]), Affine(*f["affine"].tolist()), EEA_CRS)
    band = xr.DataArray(reference, dims=("y", "x"), attrs={"nodata": 0})
    properties = {
        prop.MODEL_FOLDER: str(folder),
        prop.MODEL_SHA256: file_sha256(model_file(folder)),
        prop.NOMENCLATURE: nomenclature,
        **nomenclature_properties(nomenclature),
        prop.YEARS: list(request.years),
        prop.KEY_DATE: request.key_date or "yearly",
        prop.SOURCE_PRODUCT: request.product,
        prop.METHOD: request.method,
        prop.METHOD_VERSION: METHOD_VERSION,
        prop.PARAMETERS: {"classifier": dict(model.spec.params), "predict": dict(model.spec.predict_options),
                          "max_samples_per_class": request.max_samples_per_class, "seed": request.seed,
                          "step_days": source_for(request.product).step_days, "drop_rare": request.drop_rare,
                          "resolution_m": request.resolution_m,
                          "season": nrt.FeatureSettings(season=request.season).season_of(request.key_date or YEARLY).record(),
                          "chosen": model.metadata()["chosen_params"]},
        prop.REFERENCE: request.reference_names,
        prop.REFERENCE_SHA256: list(request.reference_sha256),
        prop.MAPPING: request.mapping,
        prop.CLASSES: list(model.classes),
        prop.CLASS_COUNTS: {str(k): int(v) for k, v in model.class_counts.items()},
        prop.DROPPED_CLASSES: {str(k): v for k, v in dropped.items()},
        prop.N_FEATURES: len(model.feature_names),
        prop.LIBRARY_VERSIONS: dict(model.library_versions),
        prop.CELLS: area_cells,
    }
    if validation:
        properties[prop.VALIDATION] = {k: validation[k] for k in ("overall_accuracy", "kappa", "runs", "json")}
    if simulated_inputs(dc, [i for c in collected for i in c["sources"]]):
        properties[prop.SIMULATED] = True
    last = max(request.years)
    return write_dataset(xr.Dataset({"reference": band}), geobox=gbox, product="land_cover_model", key=key,
                         region=area_cells[0], when=f"{last}-12-31T23:59:59Z",
                         sources={request.product: sorted({i for c in collected for i in c["sources"]})},
                         properties=properties, overwrite=overwrite, dc=dc)


def _model_cells(request: TrainingRequest, collected: Sequence[Mapping[str, Any]]) -> list[str]:
    with np.load(collected[-1]["path"]) as f:
        from affine import Affine

        gbox = GeoBox(tuple(int(v) for v in f["shape"]), Affine(*f["affine"].tolist()), EEA_CRS)
    return [c.name for c in cells_covering(gbox.extent, size_m=CELL_SIZE_M)]


@dataclass(frozen=True, kw_only=True)
class TrainedModel:
    """A trained model as the index records it: its dataset id, what it was trained on, its validation."""

    model: str
    years: tuple[int, ...]
    key_date: str | None
    nomenclature: str
    overall_accuracy: float | None = None
    kappa: float | None = None
    report_json: str | None = None
    report_html: str | None = None
    dropped: Mapping[str, str] = field(default_factory=dict)

    def details(self) -> dict[str, str]:
        """What a run's report says of the model."""
        out = {"model": self.model, "trained": f"{self.key_date or 'yearly'} model, {self.nomenclature}, "
                                               f"years {', '.join(map(str, self.years))}"}
        if self.overall_accuracy is not None:
            out["validation"] = f"OA {self.overall_accuracy:.3f} kappa {self.kappa:.3f} ({self.report_html})"
        if self.dropped:
            out["dropped classes"] = ", ".join(f"{c} ({why})" for c, why in self.dropped.items())
        return out


def model_dataset(model: str, *, dc=None):
    """The ``land_cover_model`` dataset of id ``model``; refused if the index has none."""
    dc = dc or connect()
    dataset = dc.index.datasets.get(model)
    if dataset is None or dataset.product.name != "land_cover_model":
        raise LandCoverInputError(f"{model} is not a land_cover_model dataset in the index; train one first "
                                  "(`snowland train-land-cover`)")
    return dataset


def trained_model(model: str, *, dc=None) -> TrainedModel:
    """The trained model ``model`` as the index records it; refused if it is not a ``land_cover_model`` dataset."""
    dataset = model_dataset(model, dc=dc)
    props = dataset.metadata_doc["properties"]
    validation = props.get(prop.VALIDATION) or {}
    key_date = props.get(prop.KEY_DATE)
    return TrainedModel(model=str(dataset.id), years=tuple(int(y) for y in props[prop.YEARS]),
                        key_date=None if key_date in (None, "yearly") else key_date,
                        nomenclature=props[prop.NOMENCLATURE], overall_accuracy=validation.get("overall_accuracy"),
                        kappa=validation.get("kappa"), report_json=validation.get("json"),
                        report_html=validation["json"].replace(".json", ".html") if validation.get("json") else None,
                        dropped=props.get(prop.DROPPED_CLASSES) or {})


@flow(name="train-land-cover", log_prints=True)
@user_errors_in_one_line
def train_land_cover(
    *,
    reference: str | list[str],
    years: list[int],
    cells: list[str] | None = None,
    bbox: list[float] | None = None,
    key_date: str | None = None,
    options: TrainingOptions | None = None,
    overwrite: bool = False,
) -> Report:
    """Train a land-cover model on reference polygons and the images of ``years`` over an area.

    ``reference``: GeoPackage / Shapefile / GeoParquet files in any CRS: one serving every year, or one per year
    (in the order of ``years``), or any with a year column (``options.year_column``). The area is ``cells`` or
    ``bbox`` (lon/lat), else the references' extent. ``key_date`` (march, july, december) trains a near-real-time
    model on series cut at that date and labels at that date's level; without it, or where it is the same
    training (december), a yearly model. ``options.runs`` by-polygon splits give the validation report (JSON +
    HTML page); the recorded model is then trained on every sample and indexed as a ``land_cover_model`` dataset:
    the report's one outcome, with the model's id and validation figures in its details.
    """
    options = options or TrainingOptions()
    request = training_request(reference=reference, years=years, cells=cells, bbox=bbox, key_date=key_date,
                               options=options)
    dc = connect()
    request = replace(request, season=training_season(dc, request))
    report = Report(flow="train-land-cover")
    with unit_claim("land_cover_model", request.key(), overwrite=overwrite, dc=dc) as ended:  # one trainer a model
        if ended is not None:
            report.add(ended)
        else:
            _rare_classes(_polygon_counts(request), min_polygons=2, drop_rare=request.drop_rare)  # before any image
            collected = []
            with progress.units("training years", total=len(request.years)) as done:
                for year in request.years:
                    collected.append(collect_samples(request, year))
                    done()
            report.extend(Skipped(**scene) for c in collected for scene in c["left_out"])
            nomenclature = collected[0]["nomenclature"]
            validation = validate_model(request, [c["path"] for c in collected], nomenclature=nomenclature,
                                        report_dir=options.report_dir) if request.runs > 0 else None
            report.add(fit_and_record(request, collected, nomenclature=nomenclature, validation=validation,
                                      overwrite=overwrite))
    if not report.elsewhere:
        report.details.update(trained_model(dataset_id("land_cover_model", request.key()), dc=dc).details())
    log(report.summary())
    return report


def training_request(*, reference: str | Sequence[str], years: Sequence[int], cells: Sequence[str] | None,
                     bbox: Sequence[float] | None, key_date: str | None,
                     options: TrainingOptions) -> TrainingRequest:
    """The training arguments checked, the reference files read once (columns, geometries) before any image, and
    the mapping found from their columns when not given: what names the model."""
    years = arguments.years(years)
    arguments.cells(cells)
    arguments.bbox(bbox)
    if key_date is not None:
        arguments.checked("key_date", lambda: nrt.key_date(key_date))
    options.check()
    paths = arguments.existing_all(reference, argument="reference")
    if len(paths) > 1 and not options.year_column and len(paths) != len(years):
        raise LandCoverInputError(f"{len(paths)} reference files for {len(years)} training year(s): give one file per "
                                  "year, in the order of the years, or files with a year column")
    mapping = check_references(paths, mapping=options.mapping, column=options.column,
                               year_column=options.year_column)
    if same_as_yearly(key_date, mapping):
        key_date = None  # the same series and labels: the yearly model, trained once
    area = requested_area(cells, bbox)
    per_year = len(paths) > 1 and not options.year_column
    return TrainingRequest(
        reference=tuple(str(p.resolve()) for p in paths),
        reference_years=tuple(int(y) for y in years) if per_year else (), mapping=mapping, column=options.column,
        year_column=options.year_column, years=tuple(sorted(int(y) for y in years)),
        area_wkt=area.wkt if area is not None else None, product=options.product, key_date=key_date,
        method=options.method, seed=options.seed, runs=options.runs,
        max_samples_per_class=options.max_samples_per_class, drop_rare=options.drop_rare,
        resolution_m=float(options.resolution_m), reference_sha256=tuple(file_sha256(p) for p in paths),
    )


def check_references(paths: Sequence[Path], *, mapping: str | None, column: str | None,
                     year_column: str | None) -> str:
    """The mapping the reference files take (given, else found from their columns), once each file is known to
    have its class column, its year column and no empty geometry; refused naming the file and what is wrong."""
    frames = {path: read_polygons(path) for path in paths}
    if mapping is None:
        if column:
            raise LandCoverInputError(f"a class column ({column!r}) needs its mapping: give the mapping too")
        found = {mapping_for_columns(frame.columns, what=path.name) for path, frame in frames.items()}
        if len(found) > 1:
            raise LandCoverInputError(f"the reference files call for different mappings ({', '.join(sorted(found))}); "
                                      "give one mapping")
        mapping = found.pop()
    wanted = load_mapping(mapping)
    for path, frame in frames.items():
        name = column if column in frame.columns else wanted.column_in(frame.columns)
        if name is None:
            raise LandCoverInputError(f"{path.name} has no class column {column or wanted.column!r} for mapping "
                                      f"{mapping!r}; its columns: {', '.join(map(str, frame.columns))}")
        if year_column and year_column not in frame.columns:
            raise LandCoverInputError(f"{path.name} has no year column {year_column!r}; its columns: "
                                      f"{', '.join(map(str, frame.columns))}")
        empty = np.flatnonzero((frame.geometry.isna() | frame.geometry.is_empty).to_numpy())
        if empty.size:
            raise LandCoverInputError(f"{path.name}: {empty.size} polygon(s) with an empty geometry (rows "
                                      f"{', '.join(map(str, empty[:5].tolist()))}{' ...' * (empty.size > 5)}); "
                                      "remove or repair them")
    return mapping


def resolution(value: float) -> float:
    """A land-cover grid's pixel size (m), one of ``RESOLUTIONS_M``."""
    if float(value) not in RESOLUTIONS_M:
        raise ValueError(f"{value} m is not a land-cover resolution; use one of {', '.join(f'{r:g}' for r in RESOLUTIONS_M)}")
    return float(value)


def same_as_yearly(key_date: str | None, mapping: str) -> bool:
    """Whether a model of ``key_date`` is the yearly one: the whole year's series (the last key date) and labels left
    in the nomenclature the mapping gives, as that key date's level is that nomenclature."""
    return key_date == YEARLY and load_mapping(mapping).target == nrt.key_date(key_date).nomenclature


def serves_key_date(props: Mapping[str, Any], key_date: str) -> bool:
    """Whether the model of these ``land_cover_model`` properties maps ``key_date``: trained for it, or the yearly
    model where that is the same training."""
    trained_for = props.get(prop.KEY_DATE)
    return trained_for == key_date or (trained_for == "yearly" and key_date == YEARLY
                                       and props[prop.NOMENCLATURE] == nrt.key_date(key_date).nomenclature)
