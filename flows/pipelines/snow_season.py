"""The snow-season flow: SCD, SOD, SMOD, NOBS and NSP per hydrological year and 100 km cell, from the snow products.

The unit is a cell's hydrological year (``100kmE40N24/2023-2024``), whatever its outcome.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import xarray as xr
from prefect import flow, task, unmapped
from prefect.cache_policies import NONE as NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from flows.pipelines import arguments
from flows.pipelines.snow_cover import (
    METHOD,
    METHOD_VERSION,
    PIXEL_SIZE_M,
    UNITS_IN_FLIGHT,
    Output,
    SnowInputError,
)
from flows.run.cluster import flow_client
from flows.run.fanout import on_cluster
from flows.run.outcomes import Outcome, Report, Skipped, gather
from flows.run.retry import TRANSIENT_RETRIES
from flows.run.say import log, user_errors_in_one_line
from flows.storage import properties as prop
from flows.storage.grid import Cell, aligned_geobox, footprint
from flows.storage.index import connect
from flows.storage.load import load
from flows.storage.writer import unit_claim, write_dataset
from products.snow import (
    SynthesisParams,
    hydrological_year,
    snow_season_synthesis,
)


def season_cells(*, year: int, cells: Sequence[str] | None = None, dc=None) -> list[str]:
    """Cells that have snow_cover datasets in the hydrological year ``year`` (starting 1 Sept ``year``)."""
    dc = dc or connect()
    start, stop = hydrological_year(year=year)
    found = dc.find_datasets(product="snow_cover", time=(start.isoformat(), stop.isoformat()))
    names = sorted({d.metadata_doc["properties"]["odc:region_code"] for d in found})
    return [c for c in names if not cells or c in cells]


def compute_snow_season(cell: str, *, year: int, params: SynthesisParams, dc=None) -> Output:
    dc = dc or connect()
    start, stop = hydrological_year(year=year)
    margin = dt.timedelta(days=params.margin_days)
    window = ((start - margin).isoformat(), (stop + margin).isoformat())
    sources = [d for d in dc.find_datasets(product="snow_cover", time=window, geopolygon=Cell.parse(cell).geometry)
               if d.metadata_doc["properties"]["odc:region_code"] == cell]
    if not sources:
        raise SnowInputError(f"no snow_cover dataset over {cell} in the hydrological year {year}-{year + 1}")
    gbox = aligned_geobox(footprint(sources, within=Cell.parse(cell).geometry), resolution=PIXEL_SIZE_M)
    data = load("snow_cover", geobox=gbox, time=window, measurements=["snow"], group_by="time", chunks=512, dc=dc)
    priority = [0 if str(p).startswith("sentinel-2") else 1 for p in data.platform.values]
    result = snow_season_synthesis(codes=data.snow.drop_vars("platform"), start=start, stop=stop,
                                   priority=priority, params=params)
    bands = {name: result[name].astype("uint16") for name in ("scd", "sod", "smod", "nobs", "nsp")}
    for band in bands.values():
        band.attrs["nodata"] = 65535
    sensors = sorted({d.metadata_doc["properties"].get(prop.SENSOR, "") for d in sources})
    properties = {
        "dtr:start_datetime": f"{start.isoformat()}T00:00:00Z",
        "dtr:end_datetime": f"{stop.isoformat()}T23:59:59Z",
        prop.HYDROLOGICAL_YEAR: f"{year}-{year + 1}",
        prop.MISSION: "S2L8" if sensors == ["l8", "s2"] else "+".join(sensors).upper(),
        prop.INPUTS: len(sources),
        prop.METHOD: METHOD,
        prop.METHOD_VERSION: METHOD_VERSION,
        prop.PARAMETERS: params.to_dict(),
    }
    if prop.any_simulated(sources):
        properties[prop.SIMULATED] = True
    return Output(bands=xr.Dataset(bands), geobox=gbox, properties=properties,
                  lineage={"snow_cover": [str(d.id) for d in sources]})


def season_key(cell: str, year: int) -> str:
    """The unit of a cell's hydrological year, and its dataset's key: ``100kmE40N24/2023-2024``."""
    return f"{cell}/{year}-{year + 1}"


@task(**TRANSIENT_RETRIES, cache_policy=NO_CACHE)
def snow_season_task(cell: str, *, year: int, overwrite: bool) -> Outcome:
    return on_cluster(snow_season_unit, cell, year=year, overwrite=overwrite)


def snow_season_unit(cell: str, *, year: int, overwrite: bool) -> Outcome:
    """A cell's season under its claim: another run computing it, or having finished it, ends it here."""
    dc = connect()
    key = season_key(cell, year)
    with unit_claim("snow_season", key, overwrite=overwrite, dc=dc) as ended:
        if ended is not None:
            return ended
        try:
            out = compute_snow_season(cell, year=year, params=SynthesisParams(), dc=dc)
        except SnowInputError as err:
            return Skipped(unit=key, reason=str(err))
        return write_dataset(out.bands, geobox=out.geobox, product="snow_season", key=key, region=cell,
                             when=f"{year}-09-01T00:00:00Z", sources=out.lineage, properties=out.properties,
                             overwrite=overwrite, dc=dc)


def last_hydrological_year(today: dt.date | None = None) -> int:
    """The start year of the latest hydrological year (1 Sept - 31 Aug) that has ended by ``today``."""
    today = today or dt.date.today()
    return today.year - 1 if (today.month, today.day) >= (9, 1) else today.year - 2


@flow(name="snow-season", log_prints=True, task_runner=ThreadPoolTaskRunner(max_workers=UNITS_IN_FLIGHT))
@user_errors_in_one_line
def snow_season(*, year: int | None = None, cells: list[str] | None = None, overwrite: bool = False) -> Report:
    """Season syntheses of the hydrological year starting 1 September ``year`` (default: the latest one
    that has ended, so a schedule on 1 September needs no yearly edit), per cell with snow_cover."""
    year = last_hydrological_year() if year is None else arguments.year(year)
    cells = arguments.cells(cells)
    todo = season_cells(year=year, cells=cells)
    log(f"snow_season {year}-{year + 1}: {len(todo)} cell(s)")
    report = Report(flow="snow-season")
    if todo:
        with flow_client():
            futures = snow_season_task.map(todo, year=unmapped(year), overwrite=unmapped(overwrite))
            report.extend(gather(futures, units=[season_key(cell, year) for cell in todo], label="snow_season"))
    log(report.summary())
    return report
