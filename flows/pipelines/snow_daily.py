"""The snow-daily flow: a gap-free snow map per 100 km cell and day, from the snow_cover products of a window.

The unit is a cell's run of days (``100kmE40N24``): day D is made from day D-1's map (kept in memory, or read back
when indexed) and day D's snow_cover products, so the daily schedule reads one day of inputs; a missing D-1 map is
rebuilt from the whole window. Every day is written, with or without a new scene, each as its own dataset
(``100kmE40N24/2024-01-15``) whose id follows from its key: a re-run adds nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import xarray as xr
from odc.geo.geobox import GeoBox
from prefect import flow, task, unmapped
from prefect.cache_policies import NONE as NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from flows.pipelines import arguments
from flows.pipelines.snow_cover import CHUNK, PIXEL_SIZE_M, UNITS_IN_FLIGHT, _solar_day
from flows.run.cluster import flow_client
from flows.run.fanout import on_cluster
from flows.run.claims import claim
from flows.run.outcomes import Elsewhere, Exists, Outcome, Report, Skipped, Written, failed
from flows.run.retry import TRANSIENT_RETRIES
from flows.run.say import log, user_errors_in_one_line
from flows.storage import properties as prop
from flows.storage.eo3 import dataset_id
from flows.storage.grid import EEA_CRS, Cell, aligned_geobox, footprint
from flows.storage.index import connect
from flows.storage.load import load
from flows.storage.writer import value_counts, write_dataset
from products.errors import BadInputError
from products.snow.codes import NO_OBSERVATION, NODATA, SNOW
from products.snow.daily import NONE, WINDOW_DAYS, Scene, check_window, from_window, next_day, platform_of

PRODUCT = "snow_daily"
METHOD = "latest clear snow_cover observation in a window of days (as Copernicus HR-S&I GFSC)"
METHOD_VERSION = "1.0"
SENSOR_ORDER = ("s2", "l8")  # a day's Sentinel-2 pixel before its Landsat one, as the season's densification


def daily_key(cell: str, day: dt.date) -> str:
    """The dataset key of a cell's day: ``100kmE40N24/2024-01-15``."""
    return f"{cell}/{day.isoformat()}"


def daily_cells(*, start: dt.date, end: dt.date, window_days: int, cells: Sequence[str] | None, dc) -> list[str]:
    """The given cells, or every cell with a snow_cover dataset in the period or the window before it."""
    if cells:
        return list(cells)
    found = dc.find_datasets(product="snow_cover", time=_window_time(start, end, window_days))
    return sorted({d.metadata_doc["properties"]["odc:region_code"] for d in found})


def _window_time(start: dt.date, end: dt.date, window_days: int) -> tuple[str, str]:
    return ((start - dt.timedelta(days=window_days)).isoformat(), (end + dt.timedelta(days=1)).isoformat())


def grid_refusal(dataset, *, resolution: float) -> str | None:
    """Why a snow_cover dataset cannot enter a cell's map (its grid is not the cell's EEA grid), or None."""
    grid = dataset.metadata_doc["grids"]["default"]
    a, _, c, _, e, f = grid["transform"][:6]
    crs = dataset.metadata_doc.get("crs", "")
    on_grid = (crs.upper() == str(EEA_CRS).upper() and a == resolution and e == -resolution
               and c % resolution == 0 and f % resolution == 0)
    return None if on_grid else (f"snow_cover {dataset.id}: its grid ({crs}, {a:g} m from {c:g}, {f:g}) is not "
                                 f"the cell's EEA grid at {resolution:g} m")


class CellDays:
    """A cell's geobox, nodata and snow_cover datasets by solar day over a run of days and the window before it."""

    def __init__(self, cell: str, *, start: dt.date, end: dt.date, window_days: int, resolution: float, dc):
        self.cell, self.window_days, self.dc = cell, window_days, dc
        area = Cell.parse(cell).geometry
        dems = dc.find_datasets(product="dem_cop30", geopolygon=area)
        self.geobox = aligned_geobox(footprint(dems, within=area) if dems else area, resolution=resolution)
        self.dems = dems
        self.refused: dict[str, str] = {}
        self.by_day: dict[str, list] = {}
        for ds in dc.find_datasets(product="snow_cover", geopolygon=area,
                                   time=_window_time(start, end, window_days)):
            if ds.metadata_doc["properties"]["odc:region_code"] != cell:
                continue
            reason = grid_refusal(ds, resolution=resolution)
            if reason:
                self.refused[str(ds.id)] = reason
                continue
            self.by_day.setdefault(_solar_day(ds), []).append(ds)
        for found in self.by_day.values():
            found.sort(key=lambda d: (SENSOR_ORDER.index(d.metadata_doc["properties"][prop.SENSOR]), str(d.id)))

    def datasets(self, day: dt.date) -> list:
        return self.by_day.get(day.isoformat(), [])

    def scenes(self, day: dt.date, *, chunks: int | None = CHUNK) -> list[Scene]:
        """The day's snow_cover products on the map's grid, Sentinel-2 first; read at once with ``chunks=None``."""
        return [self._scene(ds, chunks=chunks) for ds in self.datasets(day)]

    def _scene(self, ds, *, chunks: int | None) -> Scene:
        data = load("snow_cover", geobox=self.geobox, measurements=["snow", "fsc_toc"], datasets=[ds],
                    group_by="time", scale=False, chunks=chunks, dc=self.dc)
        data = data.isel(time=0).drop_vars(["time", "platform"])
        return Scene(snow=data.snow, fsc=data.fsc_toc, platform=ds.metadata_doc["properties"]["eo:platform"])

    def in_window(self, day: dt.date) -> list:
        """The snow_cover datasets of the window that ends on ``day``."""
        return [d for k in range(self.window_days) for d in self.datasets(day - dt.timedelta(days=k))]

    def window(self, day: dt.date) -> list[list[Scene]]:
        return [self.scenes(day - dt.timedelta(days=k)) for k in range(self.window_days)]

    def outside(self) -> xr.DataArray | None:
        """True where no DEM has elevation: outside the land the snow flow maps (None without a DEM)."""
        if not self.dems:
            return None
        dem = load("dem_cop30", geobox=self.geobox, datasets=self.dems, chunks=CHUNK, dc=self.dc)
        return dem.elevation.isel(time=0).drop_vars(["time", "platform"]).isnull()

    def lineage(self, day: dt.date, daily: xr.Dataset) -> list[str]:
        """The snow_cover datasets whose pixels the map holds: one of each (age, platform) pair it shows."""
        pairs = np.flatnonzero(value_counts(daily.age.values.astype("uint16") * 256 + daily.sensor.values,
                                            minlength=256 * 256))
        ids = []
        for pair in pairs[pairs // 256 != NONE]:
            platform = platform_of(int(pair % 256))
            ids += [str(d.id) for d in self.datasets(day - dt.timedelta(days=int(pair // 256)))
                    if d.metadata_doc["properties"]["eo:platform"] == platform]
        return ids


def compute_day(days: CellDays, day: dt.date, *, previous: xr.Dataset | None) -> xr.Dataset:
    """Day ``day``'s map (numpy-backed): from ``previous`` (day D-1's) and the day's scenes, read at once (one
    day's few bands: a graph costs more than it saves), else the window, read by chunks."""
    if previous is None:
        like = xr.zeros_like(_template(days.geobox), dtype="uint8")
        daily = from_window(days=days.window(day), like=like, window_days=days.window_days, outside=days.outside())
    else:
        daily = next_day(previous=previous, scenes=days.scenes(day, chunks=None), window_days=days.window_days)
    return daily.compute()


def _template(geobox: GeoBox) -> xr.DataArray:
    from odc.geo.xr import xr_zeros

    return xr_zeros(geobox, dtype="uint8").drop_vars("spatial_ref", errors="ignore")


def read_day(days: CellDays, ds) -> xr.Dataset:
    """An indexed day's map, as D-1 of the next."""
    data = load(PRODUCT, geobox=days.geobox, datasets=[ds], scale=False, group_by="time", chunks=None, dc=days.dc)
    return data.isel(time=0).drop_vars(["time", "platform"])


def usable_previous(days: CellDays, day: dt.date, ds) -> xr.Dataset | None:
    """An indexed day's map as D-1 of the next, or None (rebuild from the window) when its window now holds
    snow_cover it did not see: a scene indexed late, after the map was made."""
    seen = ds.metadata_doc["properties"].get(prop.INPUTS)
    now = len(days.in_window(day))
    if seen != now:
        log(f"{daily_key(days.cell, day)} saw {seen} snow_cover product(s) of its window, which now holds {now}: "
            "the next day is rebuilt from its window")
        return None
    return read_day(days, ds)


def observed_percentages(counts: Mapping[str, np.ndarray]) -> dict[str, float | None]:
    """Snow and observed shares of the data pixels, from the written ``snow`` band's value counts."""
    snow = counts["snow"]
    valid = int(snow.sum() - snow[NODATA])
    return {prop.SNOW_PERCENT: round(100 * int(snow[SNOW]) / valid, 3) if valid else None,
            prop.OBSERVED_PERCENT: round(100 * (valid - int(snow[NO_OBSERVATION])) / valid, 3) if valid else None}


def snow_daily_unit(cell: str, *, start: str, end: str, window_days: int, resolution: float,
                    overwrite: bool) -> list[Outcome]:
    """A cell's days from ``start`` to ``end``, in order, each written and indexed (or already there), under the
    cell's claim: a day is made from the day before, so a cell's chain has one maker at a time, and a run that
    finds it held reports the cell ``in progress elsewhere``."""
    with claim(f"{PRODUCT}/{cell}") as mine:
        if not mine:
            return [Elsewhere(unit=cell)]
        return _cell_days(cell, start=start, end=end, window_days=window_days, resolution=resolution,
                          overwrite=overwrite)


def _cell_days(cell: str, *, start: str, end: str, window_days: int, resolution: float,
               overwrite: bool) -> list[Outcome]:
    dc = connect()
    first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    days = CellDays(cell, start=first, end=last, window_days=window_days, resolution=resolution, dc=dc)
    for reason in days.refused.values():
        log(f"{cell}: refused {reason}")
    outcomes: list[Outcome] = []
    previous: xr.Dataset | None = None
    day = first
    while day <= last:
        key, before = daily_key(cell, day), daily_key(cell, day - dt.timedelta(days=1))
        if not overwrite and dc.index.datasets.has(dataset_id(PRODUCT, key)):
            outcomes.append(Exists(unit=key, id=dataset_id(PRODUCT, key)))
            previous, day = None, day + dt.timedelta(days=1)
            continue
        if previous is None and (found := dc.index.datasets.get(dataset_id(PRODUCT, before))) is not None:
            previous = usable_previous(days, day - dt.timedelta(days=1), found)
        daily = compute_day(days, day, previous=previous)
        outcomes.append(write_day(days, day, daily, overwrite=overwrite))
        previous, day = daily, day + dt.timedelta(days=1)
    return outcomes


def write_day(days: CellDays, day: dt.date, daily: xr.Dataset, *, overwrite: bool) -> Outcome:
    window = days.in_window(day)
    properties: dict[str, Any] = {
        prop.WINDOW_DAYS: days.window_days,
        prop.INPUTS: len(window),
        prop.METHOD: METHOD,
        prop.METHOD_VERSION: METHOD_VERSION,
        prop.PARAMETERS: {"window_days": days.window_days},
    }
    if not window:
        properties[prop.NO_SCENE_REASON] = (f"no snow_cover over {days.cell} from "
                                            f"{day - dt.timedelta(days=days.window_days - 1)} to {day}")
    if days.refused:
        properties[prop.REFUSED] = dict(days.refused)
    if prop.any_simulated(window):
        properties[prop.SIMULATED] = True
    written = write_dataset(daily, geobox=days.geobox, product=PRODUCT, key=daily_key(days.cell, day),
                            region=days.cell, when=f"{day.isoformat()}T00:00:00Z",
                            sources={"snow_cover": days.lineage(day, daily)}, properties=properties,
                            counted_properties=observed_percentages, overwrite=overwrite, dc=days.dc)
    if not window and isinstance(written, Written):
        return replace(written, note=properties[prop.NO_SCENE_REASON])
    return written


@task(**TRANSIENT_RETRIES, cache_policy=NO_CACHE)
def snow_daily_task(cell: str, **kwargs: Any) -> list[Outcome]:
    return on_cluster(snow_daily_unit, cell, **kwargs)


@flow(name="snow-daily", log_prints=True, task_runner=ThreadPoolTaskRunner(max_workers=UNITS_IN_FLIGHT))
@user_errors_in_one_line
def snow_daily(*, start: str | None = None, end: str | None = None, cells: list[str] | None = None,
               window_days: int = WINDOW_DAYS, resolution: float = PIXEL_SIZE_M, overwrite: bool = False) -> Report:
    """The daily snow map of every day from ``start`` to ``end`` (default: today, UTC; ``start`` defaults to
    ``end``) for each cell given, else each cell with snow_cover in the period or the window before it."""
    today = dt.datetime.now(dt.UTC).date()
    last = _date(end, "end") or today
    first = _date(start, "start") or last
    if first > last:
        raise BadInputError(f"start {first} is after end {last}")
    check_window(window_days)
    arguments.number(resolution, argument="resolution", strict=True)
    dc = connect()
    todo = daily_cells(start=first, end=last, window_days=window_days, cells=arguments.cells(cells), dc=dc)
    log(f"snow_daily {first} to {last}: {len(todo)} cell(s) x {(last - first).days + 1} day(s)")
    report = Report(flow="snow-daily")
    if todo:
        with flow_client():
            futures = snow_daily_task.map(todo, start=unmapped(first.isoformat()), end=unmapped(last.isoformat()),
                                          window_days=unmapped(window_days), resolution=unmapped(resolution),
                                          overwrite=unmapped(overwrite))
            for cell, future in zip(todo, futures, strict=True):
                report.extend(_cell_outcomes(cell, future))
    else:
        report.add(Skipped(unit=f"{first}/{last}", reason="no cell given and no snow_cover in the period"))
    empty = [o for o in report.outcomes if isinstance(o, Written) and o.note]
    if empty:
        report.details["no scene in the window"] = (f"{len(empty)} day(s) mapped as 'no observation': "
                                                    f"{', '.join(o.unit for o in empty[:3])}{' ...' if len(empty) > 3 else ''}")
    log(report.summary())
    return report


def _cell_outcomes(cell: str, future) -> list[Outcome]:
    """A cell's days, or the cell failed with its reason while the other cells go on."""
    try:
        return future.result()
    except Exception as err:  # noqa: BLE001 - recorded with its reason; a re-run computes what is missing
        return [failed(cell, err)]


def _date(text: str | None, argument: str) -> dt.date | None:
    if text is None:
        return None
    given = arguments.instant(text, argument=argument)
    return arguments.checked(argument, lambda: dt.date.fromisoformat(str(given)[:10]))
