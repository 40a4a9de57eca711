"""The land-cover map flows: ``land_cover`` (yearly) and ``land_cover_key_date`` (near real time), per 100 km cell."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dask
import numpy as np
import xarray as xr
from odc.geo import Geometry
from prefect import flow, task, unmapped
from prefect.cache_policies import NO_CACHE

from flows.pipelines.landcover.inputs import (
    CELL_SIZE_M,
    METHOD,
    METHOD_VERSION,
    YEARLY,
    LandCoverInputError,
    _area,
    _clear,
    _datasets,
    _footprint,
    _series,
    _source,
    _window,
    _wkt_geometry,
)
from flows.pipelines.landcover.train import (
    MAX_SAMPLES_PER_CLASS,
    _simulated,
    train_land_cover,
)
from flows.run.cluster import flow_client
from flows.run.fanout import on_cluster
from flows.run.retry import TRANSIENT_RETRIES
from flows.storage.eo3 import dataset_id
from flows.storage.grid import Cell, aligned_geobox, cells_covering
from flows.storage.index import connect
from flows.storage.models import load_model
from flows.storage.writer import write_dataset
from products.landcover import classify, nrt
from products.landcover.nomenclature import NODATA
from products.landcover.sieve import min_pixels, sieve
from products.landcover.validity import NoValidDateError, clear_observations


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
    model = load_model(props["snowland:model_folder"])
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
