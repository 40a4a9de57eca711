"""The snow-cover flow: Let-It-Snow per 100 km EEA cell, solar day and sensor, written as COGs and indexed.

Finds the units that are indexed and not yet produced, fans them out one task per unit (each runs whole on one
dask worker: load, LIS, COGs, index), and reports each unit's outcome: written, already there, skipped with the
reason its input cannot give a product, or failed with its reason while the others go on.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import dask
import numpy as np
import xarray as xr
from datacube.api.query import solar_day
from odc.geo import Geometry, geom
from odc.geo.geobox import GeoBox
from prefect import flow, task, unmapped
from prefect.cache_policies import NONE as NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from flows.pipelines import arguments
from flows.run.cluster import flow_client
from flows.run.fanout import on_cluster
from flows.run.outcomes import Exists, Outcome, Report, Skipped, Written, gather
from flows.run.retry import TRANSIENT_RETRIES
from flows.run.say import log, user_errors_in_one_line
from flows.run.scratch import spill, unit_scratch
from flows.storage import properties as prop
from flows.storage.atomic import sweep_abandoned
from flows.storage.eo3 import dataset_id
from flows.storage.grid import CELL_SIZES_M, EEA_CRS, Cell, aligned_geobox, cells_covering, footprint
from flows.storage.index import connect
from flows.storage.load import lacking, lacks_message, load, reading
from flows.storage.writer import product_folder, unit_claim, write_dataset
from products.errors import MissingDataError
from products.sensors import LANDSAT_C2L2, ROLES, S2_L2A, Sensor, needs
from products.snow import (
    CLOUD,
    LIS_NO_ZS,
    NODATA,
    SNOW,
    SnowParams,
    detect_snow,
    fsc_og,
    fsc_toc,
    masks_from_l2a,
    qc_flags,
)
from products.terrain import relief_shadow

METHOD = "LIS (Let-It-Snow) as implemented by snowland"


METHOD_VERSION = "1.0"


PIXEL_SIZE_M = 20.0


CELL_SIZE_M = 100_000


CELL_AREA_KM2 = (CELL_SIZE_M / 1000) ** 2


X = TypeVar("X", xr.DataArray, xr.Dataset)


SENSORS: Mapping[str, Sensor] = {s.product: s for s in (S2_L2A, LANDSAT_C2L2)}
"""The inputs LIS maps, by product: Sentinel-2 with its Sen2Cor SCL, Landsat with its QA_PIXEL."""


TCD_PRODUCT = "tcd"


CHUNK = 1536  # px: whole blocks of the 240 m dark-cloud test (12 px of 20 m) and whole 512 px COG tiles


IN_MEMORY_PX = 4 * CHUNK**2  # a unit of up to 2 x 2 chunks (a 60 km square at 20 m) is computed whole in memory


FSC_NODATA = 255


SHADOW_RELIEF_M = 3000.0  # the relief whose shadows reach into a unit from beyond its edge: the Alps' valleys


SHADOW_REACH_MAX_M = 10_000.0  # the DEM margin read around a unit for them, at most


UNITS_IN_FLIGHT = 32  # Prefect threads only wait on dask futures: the cluster's workers bound the concurrency


class SnowInputError(MissingDataError):
    """An input that cannot give a snow product (no clear pixel, no DEM, unreadable band): the unit is skipped."""


@dataclass(frozen=True, kw_only=True)
class SnowJob:
    """One processing unit: a sensor's acquisitions of one solar day over one 100 km cell."""

    cell: str
    day: str
    product: str
    area_km2: float = field(default=0.0, compare=False)  # of the cell the day's scenes cover: the unit's cost

    @property
    def key(self) -> str:
        return f"{self.cell}/{self.day}/{SENSORS[self.product].code}"


def _area(cells: Sequence[str] | None, bbox: Sequence[float] | None) -> tuple[Geometry | None, set[str] | None]:
    if cells:
        parsed = [Cell.parse(c) for c in cells]
        return geom.unary_union([c.geometry for c in parsed]), {c.name for c in parsed}
    if bbox:
        return geom.box(*bbox, crs="EPSG:4326"), None
    return None, None


def find_snow_jobs(
    *, time: tuple[str, str] | None, cells: Sequence[str] | None = None, bbox: Sequence[float] | None = None,
    products: Sequence[str] = tuple(SENSORS), cell_size_m: int = CELL_SIZE_M, dc=None,
) -> list[SnowJob]:
    """Every unit (cell of ``cell_size_m`` x solar day x sensor) with indexed input in the period and area."""
    dc = dc or connect()
    area, wanted = _area(cells, bbox)
    covered: dict[tuple[str, str, str], list[Geometry]] = {}
    for product in products:
        query: dict[str, Any] = {"product": product}
        if time:
            query["time"] = time
        if area is not None:
            query["geopolygon"] = area
        for ds in dc.find_datasets(**query):
            day = _solar_day(ds)
            extent = ds.extent.to_crs(EEA_CRS)
            if not extent.geom.is_valid:
                extent = extent.buffer(0)
            for cell in cells_covering(extent, size_m=cell_size_m):
                if wanted is None or cell.name in wanted:
                    covered.setdefault((cell.name, day, product), []).append(extent & cell.geometry)
    jobs = [SnowJob(cell=c, day=d, product=p, area_km2=round(geom.unary_union(parts).area / 1e6, 1))
            for (c, d, p), parts in covered.items()]
    return sorted(jobs, key=lambda j: (j.day, j.cell, j.product))


def day_datasets(dc, product: str, cell: Cell, day: str) -> list:
    """The product's datasets over ``cell`` acquired on the solar day ``day``."""
    found = dc.find_datasets(product=product, geopolygon=cell.geometry, time=days_around(day))
    return [d for d in found if _solar_day(d) == day]


@dataclass(frozen=True, kw_only=True)
class Output:
    """A computed unit ready to write: bands on a geobox, properties and lineage."""

    bands: xr.Dataset
    geobox: GeoBox
    properties: dict[str, Any]
    lineage: dict[str, list[str]]
    counted_properties: Callable[[Mapping[str, np.ndarray]], dict[str, Any]] | None = None
    when: str = ""  # a snow_cover unit's acquisition date and time (a season is dated by its year)


def compute_snow_cover(job: SnowJob, *, params: SnowParams, scratch: Path, resolution: float = PIXEL_SIZE_M,
                       dc=None) -> Output:
    """Load one unit's inputs and run LIS: the bands to write, their properties and their lineage.

    The inputs are read once (:func:`held`), in memory or kept in ``scratch`` (a local folder that must outlive
    the writing of the result) between the ``zs`` pass and the final one.
    """
    dc = dc or connect()
    cell = Cell.parse(job.cell)
    sensor = SENSORS[job.product]
    sources = day_datasets(dc, job.product, cell, job.day)
    if not sources:
        raise SnowInputError(f"no {job.product} dataset over {job.cell} on {job.day}")
    partial = lacking(needs("snow", sensor), sources)
    if partial:
        log(f"{job.key}: scene(s) without the bands snow needs are left out: {lacks_message(partial)}")
        sources = [d for d in sources if all(d is not p for p, _ in partial)]
    if not sources:
        raise SnowInputError(f"no scene carries the bands snow needs: {lacks_message(partial)}")
    gbox = aligned_geobox(footprint(sources, within=cell.geometry), resolution=resolution)
    dems = dc.find_datasets(product="dem_cop30", geopolygon=gbox.extent)
    if not dems:
        raise SnowInputError(f"no DEM (dem_cop30) covers {job.cell}: index one before computing snow")
    sun, no_shaded_snow = shaded_snow_inputs(sources, sensor=sensor, params=params)
    measurements = list(needs("snow", sensor)) + (list(needs("shaded_snow", sensor)) if sun else [])
    with reading([*sources, *dems], unit=job.key):
        data = load(job.product, geobox=gbox, measurements=measurements, datasets=sources, chunks=CHUNK, dc=dc)
        first = min(d.center_time for d in sources)
        data = data.sel(time=[np.datetime64(first.replace(tzinfo=None), "ns")], method="nearest").squeeze(
            "time", drop=False)
        dem = load("dem_cop30", geobox=gbox, datasets=dems, chunks=CHUNK, dc=dc)
        masks = masks_from_l2a(mask=sensor.measurement(sensor.mask), raster=data[sensor.mask])
        bands = [sensor.role(role).name for role in ROLES["snow"] + (ROLES["shaded_snow"] if sun else ())]
        inputs = [x.drop_vars(["time", "platform"], errors="ignore")
                  for x in (data[bands], masks, dem.elevation.isel(time=0))]
        reflectance, masks, elevation = held(inputs, geobox=gbox, scratch=scratch)  # used by both passes
    clear, has_elevation = dask.compute((reflectance.red.notnull() & ~masks.all_cloud).sum(), elevation.notnull().any())
    if int(clear) == 0:
        raise SnowInputError("no clear pixel (every valid pixel is cloud or nodata); nothing to map")
    if not bool(has_elevation):
        raise SnowInputError("the DEM has no valid elevation over the scene")
    shadow = None
    if sun:
        reflectance = reflectance.rename({sensor.role(r).name: r for r in ROLES["shaded_snow"]})
        shadow = relief_shadow_of(gbox, like=elevation, dems=dems, sun=sun, params=params, dc=dc)
    result = detect_snow(reflectance=reflectance, masks=masks, dem=elevation, params=params, relief_shadow=shadow)
    if sun and not result.attrs["shaded_snow_run"]:
        no_shaded_snow = "pass 2 did not run (no snow line), so neither does the shaded-snow test"
    snow = result.snow
    toc = fsc_toc(snow=snow, ndsi=result.ndsi, params=params, shaded_snow=result.shaded_snow).astype("uint8")
    tcd, tcd_ids = tree_cover_density(gbox, dc=dc)
    if tcd is not None and not reflectance.red.chunks:
        tcd = tcd.compute()  # in memory as the unit's bands
    flags = qc_flags(fsc_toc=toc, all_cloud=masks.all_cloud, tcd=tcd, shaded_snow=result.shaded_snow)
    bands = {
        "snow": snow,
        "fsc_toc": toc,
        "ndsi": xr.where(result.ndsi.notnull(), np.round(result.ndsi * 1000), -32768).astype("int16"),
        "snow_bits": xr.where(snow == 255, 255, result.snow_bits).astype("uint8"),
        "fsc_og": xr.full_like(toc, FSC_NODATA) if tcd is None else fsc_og(fsc_toc=toc, tcd=tcd),
        "qc_flags": xr.where(snow == 255, 255, flags).astype("uint8"),
    }
    for name, nodata in (("snow", 255), ("fsc_toc", 255), ("ndsi", -32768), ("snow_bits", 255), ("fsc_og", 255),
                         ("qc_flags", 255)):
        bands[name].attrs["nodata"] = nodata
    zs = result.attrs["zs"]
    platform = str(data.platform.values)
    properties = {
        "eo:platform": platform.split(",")[0],
        prop.PLATFORMS: platform,
        prop.SENSOR: sensor.code,
        prop.ZS: float(LIS_NO_ZS if np.isnan(zs) else zs),
        prop.PASS2_RUN: bool(result.attrs["pass2_run"]),
        prop.METHOD: METHOD,
        prop.METHOD_VERSION: METHOD_VERSION,
        prop.PARAMETERS: params.to_dict(),
        prop.FSC_VALIDATED: job.product == "s2_l2a",
        prop.TCD_USED: tcd is not None,  # without it fsc_og is nodata
        prop.SHADED_SNOW: no_shaded_snow is None,
        **({prop.SUN_AZIMUTH: sun[0], prop.SUN_ELEVATION: sun[1]} if sun else {}),
        **({prop.SHADED_SNOW_REASON: no_shaded_snow} if no_shaded_snow else {}),
    }
    if prop.any_simulated(sources):
        properties[prop.SIMULATED] = True
    lineage = {job.product: [str(d.id) for d in sources], "dem_cop30": [str(d.id) for d in dems], TCD_PRODUCT: tcd_ids}
    return Output(bands=xr.Dataset(bands), geobox=gbox, properties=properties, lineage=lineage,
                  counted_properties=code_percentages, when=f"{job.day}T{first.strftime('%H:%M:%S.%fZ')}")


def held(inputs: Sequence[X], *, geobox: GeoBox, scratch: Path) -> list[X]:
    """A unit's lazily loaded ``inputs``, read once for both LIS passes: whole in memory (numpy) for a unit of at
    most ``IN_MEMORY_PX`` pixels, else spilled to ``scratch`` block by block (:func:`flows.run.scratch.spill`) so
    that a worker's memory follows the chunk size. In memory a unit's LIS passes run in numpy and its COGs are
    written from memory, without dask's graphs (one per pass), the spilled blocks and an uncompressed copy of each
    band: a fifth to a quarter of a 1-3 Mpx unit's CPU (bench/README.md). Both read the same chunks, so the
    pixels are the same."""
    if geobox.shape[0] * geobox.shape[1] <= IN_MEMORY_PX:
        return list(dask.compute(*inputs))
    return spill(inputs, scratch)


def shaded_snow_inputs(sources: Sequence, *, sensor: Sensor, params: SnowParams
                       ) -> tuple[tuple[float, float] | None, str | None]:
    """The sun's (azimuth, elevation) for the unit's relief shadow, mean of its sources', or None and why the
    shaded-snow test cannot run: switched off, a source without sun angles or without blue and NIR bands."""
    if not params.detect_shaded_snow:
        return None, "switched off (detect_shaded_snow: false)"
    angles = [(d.metadata_doc["properties"].get(prop.SUN_AZIMUTH), d.metadata_doc["properties"].get(prop.SUN_ELEVATION))
              for d in sources]
    lacking = [_label(d) for d, (az, el) in zip(sources, angles, strict=True) if az is None or el is None]
    if lacking:
        return None, f"no sun angles in {', '.join(lacking)}"
    bands = needs("shaded_snow", sensor)
    lacking = [_label(d) for d in sources if not set(bands) <= set(d.measurements)]
    if lacking:
        return None, f"no {' or '.join(bands)} band in {', '.join(lacking)}"
    azimuth = math.degrees(math.atan2(sum(math.sin(math.radians(a)) for a, _ in angles),
                                      sum(math.cos(math.radians(a)) for a, _ in angles))) % 360
    elevation = sum(float(e) for _, e in angles) / len(angles)
    if elevation <= 0:
        return None, f"the sun is below the horizon ({elevation:.1f} degrees)"
    return (round(azimuth, 3), round(elevation, 3)), None


def shadow_margin(gbox: GeoBox, *, sun: tuple[float, float]) -> int:
    """The DEM margin (pixels of ``gbox``) read around a unit for the relief shadow, so that ridges beyond its edge
    cast their shadows into it: as far as ``SHADOW_RELIEF_M`` of relief shades at the sun's elevation, at most
    ``SHADOW_REACH_MAX_M``."""
    reach = min(SHADOW_REACH_MAX_M, SHADOW_RELIEF_M / math.tan(math.radians(sun[1])))
    return math.ceil(reach / abs(gbox.resolution.x))


def relief_shadow_of(gbox: GeoBox, *, like: xr.DataArray, dems: Sequence, sun: tuple[float, float],
                     params: SnowParams, dc) -> xr.DataArray:
    """The unit's relief shadow (:func:`products.terrain.relief_shadow`), from the DEM read with a margin so that
    ridges beyond the unit's edge cast their shadows into it; on ``like``'s grid, chunked like it (numpy if it is)."""
    azimuth, elevation = sun
    pixel = abs(gbox.resolution.x)
    margin = shadow_margin(gbox, sun=sun)
    dem = load("dem_cop30", geobox=gbox.pad(margin), datasets=dems, chunks=CHUNK, dc=dc).elevation.isel(time=0)
    values = dem.values.astype("float32")
    values[values == dem.attrs.get("nodata", np.nan)] = np.nan
    bits = relief_shadow(dem=values, pixel_size=pixel, sun_azimuth=azimuth, sun_elevation=elevation,
                         hillshade_lim=params.hillshade_lim)[margin:margin + gbox.shape.y, margin:margin + gbox.shape.x]
    shadow = xr.DataArray(bits, dims=("y", "x"), coords={"y": like.y, "x": like.x})
    return shadow.chunk(CHUNK) if like.chunks else shadow


def _label(dataset) -> str:
    return dataset.metadata_doc.get("label") or str(dataset.id)


def code_percentages(counts: Mapping[str, np.ndarray]) -> dict[str, float | None]:
    """Snow and cloud percentages of the valid pixels, from the value counts of the written ``snow`` band
    (counted while it is written: no second pass over the unit)."""
    snow = counts["snow"]
    valid = int(snow.sum() - snow[NODATA])
    return {prop.SNOW_PERCENT: round(100 * int(snow[SNOW]) / valid, 3) if valid else None,
            prop.CLOUD_PERCENT: round(100 * int(snow[CLOUD]) / valid, 3) if valid else None}


def write_snow_cover(job: SnowJob, out: Output, *, overwrite: bool, dc) -> Written | Exists:
    """Write and index one computed unit as ``snow_cover``."""
    return write_dataset(out.bands, geobox=out.geobox, product="snow_cover", key=job.key, region=job.cell,
                         when=out.when, sources=out.lineage, properties=out.properties,
                         counted_properties=out.counted_properties, overwrite=overwrite, dc=dc)


def tree_cover_density(gbox: GeoBox, *, dc) -> tuple[xr.DataArray | None, list[str]]:
    """The latest indexed tree cover density over ``gbox`` (%, NaN where the layer has no value) and the ids
    of its datasets; (None, []) when none covers it."""
    if dc.index.products.get_by_name(TCD_PRODUCT) is None:
        return None, []
    found = dc.find_datasets(product=TCD_PRODUCT, geopolygon=gbox.extent)
    if not found:
        return None, []
    latest = max(d.center_time for d in found)
    found = [d for d in found if d.center_time == latest]
    tcd = load(TCD_PRODUCT, geobox=gbox, measurements=["tree_cover_density"], resampling="nearest",
               datasets=found, chunks=CHUNK, dc=dc)
    return tcd.tree_cover_density.isel(time=-1).drop_vars(["time", "platform"], errors="ignore"), [str(d.id) for d in found]


def _solar_day(dataset) -> str:
    return str(solar_day(dataset))[:10]


def days_around(day: str) -> tuple[str, str]:
    """The days before and after ``day``: a search window that holds every acquisition of its solar day."""
    when = dt.date.fromisoformat(day)
    return ((when - dt.timedelta(days=1)).isoformat(), (when + dt.timedelta(days=1)).isoformat())


@task(**TRANSIENT_RETRIES, cache_policy=NO_CACHE)
def snow_cover_task(job: SnowJob, *, params: dict[str, Any], resolution: float, overwrite: bool) -> Outcome:
    """One unit, written and indexed, on a dask worker; an input that cannot give a product skips it with its reason.

    Larger units start first, so that the last ones to finish are small and no worker idles long at the end;
    a unit never goes ahead of other flows' work (priority 0 at most)."""
    return on_cluster(snow_cover_unit, job, params=params, resolution=resolution, overwrite=overwrite,
                      priority=round(job.area_km2 - CELL_AREA_KM2))


def snow_cover_unit(job: SnowJob, *, params: dict[str, Any], resolution: float, overwrite: bool) -> Outcome:
    """One unit under its claim: another run computing it, or having finished it, ends it here."""
    dc = connect()
    with unit_claim("snow_cover", job.key, overwrite=overwrite, dc=dc) as ended, unit_scratch() as scratch:
        if ended is not None:
            return ended
        try:
            out = compute_snow_cover(job, params=SnowParams.from_mapping(params), scratch=scratch,
                                     resolution=resolution, dc=dc)
        except SnowInputError as err:
            return Skipped(unit=job.key, reason=str(err))
        return write_snow_cover(job, out, overwrite=overwrite, dc=dc)


def snow_params(params_file: str | None, resolution: float, shaded_snow: bool | None = None) -> SnowParams:
    """The LIS parameters of a run: the published defaults for ``resolution``, with ``params_file``'s over them,
    and ``shaded_snow`` (when given) over both."""
    arguments.number(resolution, argument="resolution", strict=True)
    switch = {} if shaded_snow is None else {"detect_shaded_snow": shaded_snow}
    base = arguments.checked("resolution", lambda: SnowParams.for_pixel_size(resolution, **switch))
    if not params_file:
        return base
    path = arguments.existing(params_file, argument="params_file")
    return arguments.checked(f"params_file {path}", lambda: SnowParams.from_mapping(
        {**base.to_dict(), **SnowParams.from_file(path).to_dict(), **switch}))


@flow(name="snow-cover", log_prints=True, task_runner=ThreadPoolTaskRunner(max_workers=UNITS_IN_FLIGHT))
@user_errors_in_one_line
def snow_cover(
    *,
    start: str | None = None,
    end: str | None = None,
    since_days: float | None = None,
    cells: list[str] | None = None,
    bbox: list[float] | None = None,
    products: list[str] = list(SENSORS),
    overwrite: bool = False,
    params_file: str | None = None,
    resolution: float = PIXEL_SIZE_M,
    shaded_snow: bool | None = None,
    cell_km: int = CELL_SIZE_M // 1000,
) -> Report:
    """Snow cover for every indexed acquisition in the period and area that has none yet.

    ``since_days`` takes the acquisitions of the last days (when no ``start`` is given): what a schedule after
    each indexing needs, so that a run looks at the recent scenes, not at the whole archive. ``resolution`` is the
    product's pixel size on the EEA grid: 20 m as Let-It-Snow's Sentinel-2 product; coarser (e.g. 240 m) only
    for decimated samples. Parameters come from ``params_file`` (YAML/JSON) over the published defaults;
    ``shaded_snow`` switches LIS's shaded-snow test (on by default, as ``detect_shaded_snow``) over both.
    ``cell_km``: the side of a unit's EEA cell, 100 km as the products are made; 1 or 10 km make many small units
    (tests and benches of the orchestration).
    """
    params = snow_params(params_file, resolution, shaded_snow)
    cell_size_m = int(arguments.one_of(str(cell_km), [str(s // 1000) for s in CELL_SIZES_M], argument="cell_km")) * 1000
    cells = arguments.cells(cells)
    bbox = arguments.bbox(bbox)
    for product in products:
        arguments.one_of(product, SENSORS, argument="products")
    start, end = arguments.instant(start, argument="start"), arguments.instant(end, argument="end")
    if since_days is not None and start is None:
        start = arguments.days_ago(arguments.number(since_days, argument="since_days"))
    time = (start or "1970-01-01", end or "2100-01-01")
    dc = connect()
    report = Report(flow="snow-cover")
    found = find_snow_jobs(time=time, cells=cells, bbox=bbox, products=products, cell_size_m=cell_size_m, dc=dc)
    ids = [dataset_id("snow_cover", job.key) for job in found]
    done = dc.index.datasets.bulk_has(ids) if ids and not overwrite else [False] * len(ids)
    for job in found:  # e.g. a killed worker's half-written folder, on whichever host it ran
        sweep_abandoned(product_folder("snow_cover", job.key))
    jobs = []
    for job, id_, exists in zip(found, ids, done, strict=True):
        if exists:
            report.add(Exists(unit=job.key, id=id_, path=product_folder("snow_cover", job.key)))
        else:
            jobs.append(job)
    log(f"snow_cover: {len(jobs)} unit(s) to compute (cell x day x sensor), {len(report.exists)} already there")
    jobs.sort(key=lambda j: -j.area_km2)
    if jobs:
        with flow_client():
            futures = snow_cover_task.map(jobs, params=unmapped(params.to_dict()), resolution=unmapped(resolution),
                                           overwrite=unmapped(overwrite))
            report.extend(gather(futures, units=[job.key for job in jobs], label="snow_cover"))
    log(report.summary())
    return report


def snow_cover_table(*, time: tuple[str, str] | None = None, cells: Sequence[str] | None = None, dc=None):
    """One row per snow_cover dataset: date, cell, sensor, zs, snow and cloud percentages (from the index)."""
    import pandas as pd

    dc = dc or connect()
    query: dict[str, Any] = {"product": "snow_cover"}
    if time:
        query["time"] = time
    rows = []
    for d in dc.find_datasets(**query):
        p = d.metadata_doc["properties"]
        if cells and p["odc:region_code"] not in cells:
            continue
        rows.append({"date": pd.Timestamp(str(d.center_time)[:10]), "cell": p["odc:region_code"],
                     "sensor": p.get(prop.SENSOR), "platform": p.get("eo:platform"), "zs": p.get(prop.ZS),
                     "snow_percent": p.get(prop.SNOW_PERCENT), "cloud_percent": p.get(prop.CLOUD_PERCENT),
                     "id": str(d.id)})
    columns = ["date", "cell", "sensor", "platform", "zs", "snow_percent", "cloud_percent", "id"]
    return pd.DataFrame(rows, columns=columns).sort_values(["date", "cell", "sensor"]).reset_index(drop=True)
