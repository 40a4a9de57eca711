"""The land-cover map flows: ``land_cover`` (yearly) and ``land_cover_key_date`` (near real time), per 100 km cell.

The unit is a cell's map (``100kmE40N24/2024/oso23``, ``100kmE40N24/2024/july``): written, already there, skipped
when no valid acquisition covers the cell, or failed with its reason while the other cells go on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from odc.geo import Geometry, geom
from prefect import flow, task, unmapped
from prefect.cache_policies import NO_CACHE

from flows.pipelines import arguments
from flows.pipelines.landcover.inputs import (
    CELL_SIZE_M,
    METHOD,
    METHOD_VERSION,
    YEARLY,
    LandCoverInputError,
    acquisition_window,
    find_acquisitions,
    model_season,
    no_valid_date,
    nomenclature_properties,
    reflectance_series,
    requested_area,
    scenes_without_bands,
    simulated_inputs,
    source_for,
    wkt_geometry,
)
from flows.pipelines.landcover.train import (
    TrainingOptions,
    model_dataset,
    resolution,
    serves_key_date,
    train_land_cover,
    trained_model,
)
from flows.run.cluster import flow_client
from flows.run.fanout import on_cluster
from flows.run.outcomes import Outcome, Report, Skipped, gather
from flows.run.retry import TRANSIENT_RETRIES
from flows.run.scratch import spill, unit_scratch
from flows.run.say import log, user_errors_in_one_line
from flows.storage import properties as prop
from flows.storage.grid import Cell, aligned_geobox, cells_covering, footprint
from flows.storage.index import connect
from flows.storage.load import reading
from flows.storage.models import load_model
from flows.storage.writer import unit_claim, write_dataset
from products.landcover import classify, nrt
from products.landcover.nomenclature import NODATA
from products.landcover.sieve import min_pixels, sieve_blocks
from products.landcover.validity import NoValidDateError, clear_observations


# ------------------------------------------------------------------------------------------------ maps
@dataclass(frozen=True, kw_only=True)
class MapJob:
    """One map to make: a cell and year, at a key date or for the whole year, in the model's nomenclature."""

    cell: str
    year: int
    key_date: str | None
    model: str
    nomenclature: str
    resolution_m: float

    @property
    def product(self) -> str:
        return "land_cover_nrt" if self.key_date else "land_cover"

    @property
    def key(self) -> str:
        """The unit, and its dataset's key."""
        return f"{self.cell}/{self.year}/{self.key_date or self.nomenclature}"


@task(**TRANSIENT_RETRIES, cache_policy=NO_CACHE)
def map_cell(job: MapJob, *, area_wkt: str | None, min_mapping_unit_m2: float, overwrite: bool) -> Outcome:
    """Classify one cell and year (at a key date or for the year), write it and index it, on a dask worker."""
    return on_cluster(map_cell_unit, job, area_wkt=area_wkt, min_mapping_unit_m2=min_mapping_unit_m2,
                      overwrite=overwrite)


def map_cell_unit(job: MapJob, *, area_wkt: str | None, min_mapping_unit_m2: float, overwrite: bool) -> Outcome:
    """One cell's map under its claim, written and indexed; skipped with its reason when no valid acquisition covers
    it."""
    dc = connect()
    with unit_claim(job.product, job.key, overwrite=overwrite, dc=dc) as ended:
        if ended is not None:
            return ended  # another run is on it, or has made it
        try:
            return _map_cell(dc, job, area_wkt=area_wkt, min_mapping_unit_m2=min_mapping_unit_m2,
                             overwrite=overwrite)
        except NoValidDateError as err:
            return Skipped(unit=job.key, reason=str(err))


def _map_cell(dc, job: MapJob, *, area_wkt: str | None, min_mapping_unit_m2: float, overwrite: bool) -> Outcome:
    props = model_dataset(job.model, dc=dc).metadata_doc["properties"]
    source = source_for(props[prop.SOURCE_PRODUCT])
    settings = source.settings(model_season(props))
    when = job.key_date or YEARLY
    window = acquisition_window(job.year, when, settings)
    cell = Cell.parse(job.cell)
    area = cell.geometry & wkt_geometry(area_wkt) if area_wkt else cell.geometry
    found = find_acquisitions(dc, source, area, window)
    if not found:
        raise NoValidDateError(f"no {source.product} acquisition over {job.cell} between {window[0]} and {window[1][:10]}")
    gbox = aligned_geobox(footprint(found, within=area), resolution=job.resolution_m)
    series, valid, read = reflectance_series(dc, source, gbox, window)
    ids = sorted(read)
    model = load_model(props[prop.MODEL_FOLDER])
    if classify.class_dtype(model) != np.uint8:
        raise LandCoverInputError(f"model {job.model}: class codes {sorted(model.classes)} do not fit the uint8 "
                                  "classification")
    feats = nrt.key_date_features(series, valid, year=job.year, when=when, settings=settings)
    bands = map_bands(classify.predict_map(model, feats), clear_observations(valid))  # lazy: one read, by blocks
    what = f"{job.cell} {job.year}" + (f" at key date {job.key_date}" if job.key_date else "")
    properties = {
        prop.NOMENCLATURE: job.nomenclature,
        **nomenclature_properties(job.nomenclature),
        prop.YEAR: job.year,
        prop.MODEL_ID: job.model,
        prop.MODEL_YEARS: props[prop.YEARS],
        prop.METHOD: METHOD,
        prop.METHOD_VERSION: METHOD_VERSION,
        prop.CLASSIFIER: props[prop.METHOD],
        prop.PARAMETERS: {**props[prop.PARAMETERS], "min_mapping_unit_m2": min_mapping_unit_m2,
                          "resolution_m": job.resolution_m},
        prop.SOURCE_PRODUCT: source.product,
        prop.ACQUISITIONS: len(ids),
        "dtr:start_datetime": f"{window[0]}T00:00:00Z",
        "dtr:end_datetime": f"{window[1][:10]}T23:59:59Z",
    }
    if job.key_date:
        properties[prop.KEY_DATE] = job.key_date
        properties[prop.LEVEL] = job.nomenclature
    if props.get(prop.SIMULATED) or simulated_inputs(dc, ids):
        properties[prop.SIMULATED] = True
    when_iso = f"{window[1][:10]}T23:59:59Z" if job.key_date else f"{job.year}-07-01T00:00:00Z"

    def write(bands: xr.Dataset) -> Outcome:
        return write_dataset(bands, geobox=gbox, product=job.product, key=job.key, region=job.cell, when=when_iso,
                             sources={source.product: ids, "land_cover_model": [job.model]}, properties=properties,
                             counted_properties=lambda counts: mapped_percent(counts, what=what),
                             overwrite=overwrite, dc=dc)

    with reading(found, unit=job.key):
        min_size = min_pixels(min_mapping_unit_m2, job.resolution_m) if min_mapping_unit_m2 > 0 else 0
        if min_size <= 1:
            return write(bands)
        with unit_scratch() as scratch:  # the forest runs once, the sieve then reads each block's neighbours
            [computed] = spill([bands], scratch)
            return write(computed.assign(classification=sieve_blocks(computed.classification, min_size=min_size)))


def map_bands(maps: xr.Dataset, n_clear: xr.DataArray) -> xr.Dataset:
    """The written bands of a map, lazily: classes (uint8, nodata where no clear date), confidence (255 there) and
    the clear-observation count."""
    nodata = (n_clear == 0) | (maps.classification == NODATA)
    return xr.Dataset({
        "classification": maps.classification.where(~nodata, NODATA).astype(np.uint8).assign_attrs(nodata=NODATA),
        "confidence": maps.confidence.where(~nodata, 255).astype(np.uint8).assign_attrs(nodata=255),
        "n_clear": n_clear.astype(np.uint16).assign_attrs(nodata=65535),
    })


def mapped_percent(counts: Mapping[str, np.ndarray], *, what: str) -> dict[str, float]:
    """The share of classified pixels, from the written classification's value counts; refused (nothing indexed)
    when no pixel has a clear observation."""
    classes = counts["classification"]
    mapped = int(classes.sum() - classes[NODATA])
    if not mapped:
        raise no_valid_date(what)
    return {prop.MAPPED_PERCENT: round(100.0 * mapped / int(classes.sum()), 3)}


def _map_jobs(model_props: Mapping[str, Any], *, model: str, year: int, key_date: str | None,
              area: Geometry | None, resolution_m: float | None) -> list[MapJob]:
    """A job per cell of ``area``, else per cell the model was trained over; at ``resolution_m``, else the
    model's (20 m for a model trained before it was recorded)."""
    cells = ([c.name for c in cells_covering(area, size_m=CELL_SIZE_M)] if area is not None
             else list(model_props.get(prop.CELLS) or []))
    if resolution_m is None:
        resolution_m = model_props[prop.PARAMETERS].get("resolution_m", 20.0)
    resolution_m = arguments.checked("resolution_m", lambda: resolution(resolution_m))
    return [MapJob(cell=c, year=year, key_date=key_date, model=model, nomenclature=model_props[prop.NOMENCLATURE],
                   resolution_m=resolution_m) for c in cells]


def _run_maps(jobs: Sequence[MapJob], *, flow_name: str, model: str, area: Geometry | None,
              min_mapping_unit_m2: float, overwrite: bool) -> Report:
    report = Report(flow=flow_name, details=trained_model(model).details())  # the model's id and validation
    if jobs:
        report.extend(_scenes_left_out(jobs, area=area))
        with flow_client():
            futures = map_cell.map(jobs, area_wkt=unmapped(area.wkt if area is not None else None),
                                   min_mapping_unit_m2=unmapped(min_mapping_unit_m2), overwrite=unmapped(overwrite))
            report.extend(gather(futures, units=[job.key for job in jobs], label=flow_name))
    log(report.summary())
    return report


def _scenes_left_out(jobs: Sequence[MapJob], *, area: Geometry | None) -> list[Skipped]:
    """The scenes the maps of ``jobs`` (one model, year and key date) leave out for lacking bands, as outcomes."""
    dc = connect()
    props = model_dataset(jobs[0].model, dc=dc).metadata_doc["properties"]
    source = source_for(props[prop.SOURCE_PRODUCT])
    window = acquisition_window(jobs[0].year, jobs[0].key_date or YEARLY, source.settings(model_season(props)))
    cells = geom.unary_union([Cell.parse(job.cell).geometry for job in jobs])
    return scenes_without_bands(dc, source, cells if area is None else cells & area, window)


@flow(name="land-cover", log_prints=True)
@user_errors_in_one_line
def land_cover(
    *,
    year: int | None = None,
    model: str,
    cells: list[str] | None = None,
    bbox: list[float] | None = None,
    min_mapping_unit_m2: float = 0.0,
    resolution_m: float | None = None,
    overwrite: bool = False,
) -> Report:
    """Yearly land cover of ``year`` per 100 km cell with a trained model (a ``land_cover_model`` id).

    Every acquisition of the calendar year (and ``margin_days`` before) is gap filled on the model's grid;
    outputs are the class map, its confidence and the clear-observation count, optionally sieved to a minimum
    mapping unit (``min_mapping_unit_m2``, e.g. 1000 for 0.1 ha), at ``resolution_m`` (10 or 20), else the
    model's (10 m by default: 10 m bands at 10 m, the others resampled). Cells: ``cells`` or ``bbox``, else the
    model's training cells. ``year`` defaults to the last calendar year, as the yearly schedule runs in January.
    """
    year = dt.date.today().year - 1 if year is None else arguments.year(year)
    cells, bbox = arguments.cells(cells), arguments.bbox(bbox)
    arguments.number(min_mapping_unit_m2, argument="min_mapping_unit_m2")
    props = model_dataset(model).metadata_doc["properties"]
    if props.get(prop.KEY_DATE, "yearly") not in ("yearly", YEARLY):
        raise LandCoverInputError(f"model {model} is a {props[prop.KEY_DATE]} key-date model; "
                                  "a yearly map needs a yearly model")
    area = requested_area(cells, bbox)
    jobs = _map_jobs(props, model=model, year=year, key_date=None, area=area, resolution_m=resolution_m)
    return _run_maps(jobs, flow_name="land-cover", model=model, area=area, min_mapping_unit_m2=min_mapping_unit_m2,
                     overwrite=overwrite)


@flow(name="land-cover-key-date", log_prints=True)
@user_errors_in_one_line
def land_cover_key_date(
    *,
    year: int | None = None,
    key_date: str,
    model: str | None = None,
    reference: str | list[str] | None = None,
    train_years: list[int] | None = None,
    cells: list[str] | None = None,
    bbox: list[float] | None = None,
    options: TrainingOptions | None = None,
    resolution_m: float | None = None,
    overwrite: bool = False,
) -> Report:
    """Near-real-time land cover of ``year`` at ``key_date`` (march, july, december) in that date's level.

    Uses only acquisitions up to the end of the key date. The model is ``model`` (a model of that key date, or
    the yearly model where it is the same training), or one trained here as ``train_land_cover`` trains it on
    ``reference`` and ``train_years`` (default: the two years before), which must all precede ``year``: no field
    data of the mapped year is used. ``resolution_m``: as ``land_cover``. ``year`` defaults to the current one, as the key-date schedules run on the
    key dates themselves.
    """
    year = dt.date.today().year if year is None else arguments.year(year)
    kd = arguments.checked("key_date", lambda: nrt.key_date(key_date)).name
    cells, bbox = arguments.cells(cells), arguments.bbox(bbox)
    if model is None:
        if reference is None:
            raise LandCoverInputError("give a key-date model id, or a reference file and training years to train one")
        train_years = list(train_years or [year - 2, year - 1])
        if max(train_years) >= year:
            raise LandCoverInputError(f"training years {train_years} must all precede {year}: a near-real-time map "
                                      "uses no field data of its own year")
        trained = train_land_cover(reference=reference, years=train_years, cells=cells, bbox=bbox, key_date=kd,
                                   options=options, overwrite=overwrite)
        if trained.elsewhere:  # another run is training its model: the maps wait for the next run
            log(trained.summary())
            return Report(flow="land-cover-key-date", outcomes=list(trained.elsewhere))
        model = trained.ids[0]
    props = model_dataset(model).metadata_doc["properties"]
    if not serves_key_date(props, kd):
        raise LandCoverInputError(f"model {model} was trained for {props.get(prop.KEY_DATE)!r}, not key date {kd!r}")
    late = [y for y in props[prop.YEARS] if int(y) >= year]
    if late:
        raise LandCoverInputError(f"model {model} was trained on year(s) {late}; a near-real-time map of {year} "
                                  "must use a model of previous years only")
    area = requested_area(cells, bbox)
    jobs = _map_jobs(props, model=model, year=year, key_date=kd, area=area, resolution_m=resolution_m)
    return _run_maps(jobs, flow_name="land-cover-key-date", model=model, area=area, min_mapping_unit_m2=0.0,
                     overwrite=overwrite)
