"""SIMULATED Sentinel-2 L2A and Landsat-8 C2 L2 scenes, with STAC items in the real Earth Search layout and truth.

``simulate_scenes(out_dir)`` builds a world (``flows.simulator``: a mountain range on the EEA 20 m grid
straddling the UTM 31N/32N boundary at 6 E, snow that follows elevation and date, clouds and shadows, land-cover
parcels with seasonal reflectance), then images it:

- Sentinel-2 L2A (``sentinel-2-l2a``, Earth Search v1 layout): per UTM zone, the MGRS tile(s) that cover the
  zone's part of the area plus a few km across the boundary, on the tile's own 10/20 m grid; DN =
  reflectance x 10000 + 1000 (baseline >= 04.00), SCL with Sen2Cor codes.
- Landsat-8 C2 L2 (``landsat-c2-l2``): one WRS-2 scene over the whole area, UTM 30 m, QA_PIXEL bits.
- Copernicus DEM GLO-30 (``cop-dem-glo-30``): the world's elevation on the real 1 arc-second tile grid.

Items carry ``view:sun_azimuth`` / ``view:sun_elevation`` of the sun that lit the world that day (10:30 UTC at its
centre), not of their own acquisition minute: the relief's shadows in their pixels follow those angles.

Layout under ``out_dir`` (item JSON asset hrefs are relative to the item file; ``items.json`` ItemCollections
carry absolute paths and a self link per item)::

    catalog.json                                   static STAC catalog, one child collection per source
    README.txt                                     SIMULATED data: what, how, from which seed
    <collection>/collection.json
    <collection>/items.json                        ItemCollection of every item of the collection
    <collection>/<item_id>/<item_id>.json           the STAC item
    <collection>/<item_id>/<asset files>.tif       COGs (deflate, 512 px tiles, overviews)
    truth/truth.json                               seed, area, grid, snowline / clouds per date, items
    truth/dem.tif                                  the world's elevation, EPSG:3035 20 m
    truth/landcover.gpkg                           parcels: parcel_id, year, code (OSO 23), name
    truth/snow/<YYYY-MM-DD>.tif (+ .json)          0 no snow, 100 snow, 205 cloud, 255 not imaged that day
    tcd/TCD_2018_020m_03035_SIMULATED.tif          tree cover density (HRL TCD layout, EPSG:3035 20 m, %)

Every file is written to a hidden name and renamed (``flows.storage.atomic``), every COG by the one writer
(``flows.storage.writer``). A folder holds one world (seed, size, centre): running again with the same world skips
what is complete and adds what is missing (so periods accumulate, nothing is duplicated); a different world in the
same folder is refused.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from affine import Affine
from odc.geo.geobox import GeoBox
from scipy import ndimage
from shapely.geometry import box

from flows.simulator import sensors
from flows.simulator.geometry import (
    DEFAULT_CENTRE,
    WORLD_RESOLUTION,
    Grid,
    TileCoverage,
    landsat_grid,
    reproject_polygon,
    utm_epsg,
    utm_zone,
    wrs2_path_row,
)
from flows.simulator.landcover import OSO23_NAMES
from flows.simulator.sensors import DEM_COLLECTION, LANDSAT_COLLECTION, S2_COLLECTION
from flows.simulator.sun import earth_sun_distance_factor
from flows.simulator.world import (
    MODEL_VERSION,
    OUTSIDE,
    QA_CIRRUS,
    QA_CLOUD,
    QA_FILL,
    SceneState,
    World,
    build_world,
    dilated_cloud_ring,
)
from flows.storage import properties as prop
from flows.storage.atomic import replacing, sweep_folder, write_text
from flows.storage.writer import write_cog
from products.errors import BadInputError
from products.landcover.nrt import first_observation_day

STAC_VERSION = "1.0.0"
COG_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"
SIMULATED_NOTE = ("SIMULATED data made by snowland from a synthetic world (not an observation); "
                  "the layout follows the real product.")
DEFAULT_S2_EVERY_DAYS = 20
DEFAULT_L8_EVERY_DAYS = 16
DEM_NODATA = -32767.0
TCD_FILE = "tcd/TCD_2018_020m_03035_SIMULATED.tif"  # Copernicus HRL Tree Cover Density naming, reference year 2018
TCD_NODATA = 255  # HRL: 255 outside the area
EXT = {
    "eo": "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
    "proj": "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
    "raster": "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
    "view": "https://stac-extensions.github.io/view/v1.0.0/schema.json",
    "mgrs": "https://stac-extensions.github.io/mgrs/v1.0.0/schema.json",
    "grid": "https://stac-extensions.github.io/grid/v1.0.0/schema.json",
    "processing": "https://stac-extensions.github.io/processing/v1.1.0/schema.json",
    "landsat": "https://landsat.usgs.gov/stac/landsat-extension/v1.1.1/schema.json",
    "classification": "https://stac-extensions.github.io/classification/v1.1.0/schema.json",
}
COLLECTIONS = (S2_COLLECTION, LANDSAT_COLLECTION, DEM_COLLECTION)


class SimulationConflict(BadInputError):
    """``out_dir`` already holds scenes of another simulated world."""


@dataclass(frozen=True)
class SimulationSummary:
    """What a run produced. ``items``: per collection, items in the catalog after the run (this run and earlier
    runs of the same world); ``written`` / ``skipped``: items this run wrote / found complete."""

    out_dir: Path
    catalog: Path
    truth: Path
    items: Mapping[str, int]
    written: Mapping[str, int]
    skipped: Mapping[str, int]
    dates: int
    seed: int
    size_km: float
    elapsed_s: float

    def __str__(self) -> str:
        per = ", ".join(f"{c}: {n} ({self.written.get(c, 0)} written, {self.skipped.get(c, 0)} already there)"
                        for c, n in self.items.items())
        return (f"SIMULATED scenes in {self.out_dir} (seed {self.seed}, {self.size_km:g} km): {per}; "
                f"{self.dates} acquisition date(s) this run; catalog {self.catalog}; truth {self.truth}; "
                f"{self.elapsed_s:.1f} s")


# ------------------------------------------------------------------------------------------------ public API
def simulate_scenes(
    out_dir: Path,
    *,
    seed: int = 42,
    size_km: float = 20,
    start: str = "2023-09-01",
    end: str = "2024-08-31",
    s2_every_days: int = DEFAULT_S2_EVERY_DAYS,
    l8_every_days: int = DEFAULT_L8_EVERY_DAYS,
    progress: Callable[[str], None] | None = None,
    centre: tuple[float, float] | None = None,
    workers: int | None = None,
    resolution: float = WORLD_RESOLUTION,
) -> SimulationSummary:
    """Write SIMULATED Sentinel-2 L2A, Landsat-8 C2 L2 and Copernicus DEM scenes (COGs + STAC) and their truth.

    ``size_km``: side of the square area (EEA grid, EPSG:3035, ``resolution`` m pixels, 20 by default) centred on ``centre`` (EPSG:3035 x, y;
    default 4 010 000, 2 440 000, about 6.06 E 44.99 N: one 100 km cell crossed by the 6 E UTM boundary).
    ``start``/``end``: ISO dates, inclusive. ``s2_every_days``: Sentinel-2 cadence, a multiple of its 5-day
    revisit; ``l8_every_days``: Landsat-8 cadence, a multiple of 16. Deterministic for ``seed``.
    """
    started = time.perf_counter()
    say = progress or (lambda _msg: None)
    first, last = _parse_day(start, "start"), _parse_day(end, "end")
    if last < first:
        raise BadInputError(f"end {end} is before start {start}")
    s2_days = sensors.s2_calendar(first, last, s2_every_days)
    l8_days = sensors.landsat_calendar(first, last, l8_every_days)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    world = build_world(seed, float(size_km), tuple(centre) if centre else DEFAULT_CENTRE, resolution)
    sim = _Simulation(world=world, out=out)
    existing = sim.scan_existing()
    say(f"world {world.fingerprint}: {world.grid.shape[1]} x {world.grid.shape[0]} px of {world.grid.res_x:g} m on EPSG:3035 "
        f"{tuple(int(v) for v in world.grid.bounds)}, {len(world.parcels)} parcels, elevation "
        f"{world.terrain.elevation.min():.0f}-{world.terrain.elevation.max():.0f} m, S2 tiles "
        f"{', '.join(t.tile.name for t in world.s2_tiles)}, Landsat {sim.wrs[0]:03d}/{sim.wrs[1]:03d} "
        f"({time.perf_counter() - started:.1f} s)")

    written = {c: 0 for c in COLLECTIONS}
    skipped = {c: 0 for c in COLLECTIONS}
    with ThreadPoolExecutor(max_workers=workers or max(1, min(4, os.cpu_count() or 1))) as pool:
        for outcome in sim.write_dem(pool, existing):
            (written if outcome[1] else skipped)[DEM_COLLECTION] += 1
        s2_by_day: dict[dt.date, str] = dict(s2_days)
        days = sorted(set(s2_by_day) | set(l8_days))
        l8_set = set(l8_days)
        pending: deque[list[_PendingItem]] = deque()
        for i, day in enumerate(days):
            scenes = sim.scenes_of_day(day, s2_by_day.get(day), day in l8_set)
            todo = [s for s in scenes if not sim.is_complete(s, existing)]
            for s in scenes:
                if s not in todo:
                    skipped[s.collection] += 1
            truth_ids = sorted({s.item_id for s in scenes} | existing.ids_on(day))
            if not todo and sim.truth_is_current(day, truth_ids):
                say(f"{day}: {len(scenes)} scene(s) already there")
                continue
            state = world.state(day)
            for key in sim.footprint_keys(truth_ids, existing):
                sim.world_footprint(key)  # cached here, in one thread, before the pool uses it
            batch = [sim.submit_scene(pool, s, state) for s in todo]
            batch.append(_PendingItem(scene=None, futures=[pool.submit(sim.write_truth_day, state, truth_ids, existing)],
                                      write_item=lambda: None))
            pending.append(batch)
            while len(pending) > 1:
                _finish(pending.popleft(), written)
            st = state.stats()
            say(f"{day}: {', '.join(s.item_id for s in todo) or 'truth only'} (snowline {st['snowline_m']:.0f} m, "
                f"cloud {st['cloud_fraction']:.0%}, snow {st['snow_fraction']:.0%}) [{i + 1}/{len(days)}]")
        while pending:
            _finish(pending.popleft(), written)
        pool.submit(sim.write_static_truth, existing).result()
    counts = sim.write_catalog()
    truth = sim.write_truth_index(seed=seed, size_km=float(size_km))
    sim.write_readme(seed=seed, size_km=float(size_km))
    summary = SimulationSummary(out_dir=out, catalog=out / "catalog.json", truth=truth, items=counts, written=written,
                                skipped=skipped, dates=len(days), seed=seed, size_km=float(size_km),
                                elapsed_s=time.perf_counter() - started)
    return summary


# ------------------------------------------------------------------------------------------------ land cover
LANDCOVER_CENTRE = (4_120_000.0, 2_440_000.0)  # in MGRS 32TLQ alone: no pixel and no item id shared with the snow world (32TKQ)


def simulate_landcover_years(
    out_dir: Path,
    *,
    years: Iterable[int] = (2022, 2023, 2024),
    seed: int = 11,
    size_km: float = 5,
    s2_every_days: int = 10,
    centre: tuple[float, float] = LANDCOVER_CENTRE,
    progress: Callable[[str], None] | None = None,
    resolution: float = WORLD_RESOLUTION,
) -> SimulationSummary:
    """SIMULATED calendar ``years`` for land cover: the past years to train on and the current one to map.

    A small world imaged by Sentinel-2 every ``s2_every_days`` (a 10-day grid as iota2's) and Landsat-8 only
    once, so that three years stay quick to write and index; truth/landcover.gpkg holds each year's parcels.
    The images start in the autumn before the first year, where the first year's March series starts.
    """
    years = sorted(int(y) for y in years)
    start = first_observation_day(years[0]).date()
    return simulate_scenes(out_dir, seed=seed, size_km=size_km, centre=centre, start=start.isoformat(),
                           end=f"{years[-1]}-12-31", s2_every_days=s2_every_days, l8_every_days=16 * 64,
                           progress=progress, resolution=resolution)


# ------------------------------------------------------------------------------------------------ internals
def _parse_day(text: str | dt.date, what: str) -> dt.date:
    if isinstance(text, dt.date):
        return text
    try:
        return dt.date.fromisoformat(str(text)[:10])
    except ValueError as err:
        raise BadInputError(f"{what} must be an ISO date like 2023-09-01, not {text!r}") from err


@dataclass(frozen=True)
class Scene:
    collection: str
    item_id: str
    day: dt.date
    key: str  # MGRS tile name or "landsat"
    platform: str


@dataclass
class _PendingItem:
    scene: Scene | None  # None: the day's truth
    futures: list[Future]
    write_item: Callable[[], None]


def _finish(batch: list[_PendingItem], written: dict[str, int]) -> None:
    """Wait for a day's files, then write its item JSONs (an item JSON only ever describes complete files)."""
    for item in batch:
        for f in item.futures:
            f.result()
        item.write_item()
        if item.scene is not None:
            written[item.scene.collection] += 1


@dataclass
class _Existing:
    """Items already in the folder (of this world): id -> (collection, day, key)."""

    items: dict[str, tuple[str, dt.date, str]] = field(default_factory=dict)

    def ids_on(self, day: dt.date) -> set[str]:
        return {i for i, (_, d, _) in self.items.items() if d == day}


class _Sampler:
    """Nearest-neighbour lookup from the world grid to a sensor grid (precomputed once per grid)."""

    def __init__(self, world: World, grid: Grid, lon_band: tuple[float, float] | None):
        x, y = grid.centres_in(world.grid.epsg)
        idx = world.grid.index_of(x, y)
        valid = idx >= 0
        if lon_band is not None:
            lon, _ = grid.centres_in(4326)
            valid &= (lon >= lon_band[0]) & (lon < lon_band[1])
        self.grid = grid
        self.valid = valid
        self.index = np.where(valid, idx, 0).astype(np.int32).ravel()
        self.invalid = np.flatnonzero(~valid.ravel())

    def sample(self, world_array: np.ndarray, fill: int | float) -> np.ndarray:
        out = world_array.ravel().take(self.index)
        out[self.invalid] = fill
        return out.reshape(self.grid.shape)


class _Simulation:
    def __init__(self, *, world: World, out: Path):
        self.world = world
        self.out = out
        lon, lat = world.centre_lonlat
        self.wrs = wrs2_path_row(lon, lat)
        self.landsat_epsg = utm_epsg(utm_zone(lon))
        self.tiles: dict[str, TileCoverage] = {t.tile.name: t for t in world.s2_tiles}

    # ---------------------------------------------------------------- grids
    @cached_property
    def s2_grids(self) -> dict[str, dict[int, _Sampler]]:
        out = {}
        for name, cov in self.tiles.items():
            out[name] = {res: _Sampler(self.world, cov.tile.window_grid(cov.footprint, res), cov.lon_band) for res in (10, 20)}
        return out

    @cached_property
    def landsat_sampler(self) -> _Sampler:
        return _Sampler(self.world, landsat_grid(self.world.grid, self.landsat_epsg), None)

    def world_footprint(self, key: str) -> np.ndarray:
        """World pixels imaged by the scene family ``key`` (an S2 tile name, or "landsat")."""
        cache = self.__dict__.setdefault("_footprints", {})
        if key not in cache:
            if key == "landsat":
                cache[key] = np.ones(self.world.grid.shape, dtype=bool)
            else:
                cov = self.tiles[key]
                g = self.s2_grids[key][20].grid
                x, y = self.world.grid.centres_in(g.epsg)
                b = g.bounds
                inside = (x >= b[0]) & (x < b[2]) & (y >= b[1]) & (y < b[3])
                lon = self.world.grid.lonlat[0]
                cache[key] = inside & (lon >= cov.lon_band[0]) & (lon < cov.lon_band[1])
        return cache[key]

    # ---------------------------------------------------------------- scenes
    def scenes_of_day(self, day: dt.date, s2_platform: str | None, landsat: bool) -> list[Scene]:
        scenes = []
        if s2_platform:
            for name in self.tiles:
                scenes.append(Scene(S2_COLLECTION, sensors.s2_item_id(s2_platform, name, day), day, name, s2_platform))
        if landsat:
            scenes.append(Scene(LANDSAT_COLLECTION, sensors.landsat_item_id(*self.wrs, day), day, "landsat", "landsat-8"))
        return scenes

    def item_dir(self, collection: str, item_id: str) -> Path:
        return self.out / collection / item_id

    def scan_existing(self) -> _Existing:
        """Items already in the folder; refuse a folder that holds another world."""
        existing = _Existing()
        truth = self.out / "truth" / "truth.json"
        if truth.exists():
            fp = json.loads(truth.read_text()).get("world", {}).get("fingerprint")
            if fp and fp != self.world.fingerprint:
                raise SimulationConflict(
                    f"{self.out} holds a simulated world {fp} made with other parameters (see {truth}); "
                    "write into another folder or delete this one")
        for collection in COLLECTIONS:
            for path in sorted((self.out / collection).glob("*/*.json")):
                if path.stem != path.parent.name:
                    continue
                doc = json.loads(path.read_text())
                props = doc.get("properties", {})
                if props.get(prop.WORLD) != self.world.fingerprint:
                    raise SimulationConflict(
                        f"{path} is not an item of this simulated world ({self.world.fingerprint}); "
                        "write into another folder or delete this one")
                day = dt.date.fromisoformat(props["datetime"][:10])
                key = props.get("grid:code", "").removeprefix("MGRS-") or ("landsat" if collection == LANDSAT_COLLECTION else "dem")
                existing.items[doc["id"]] = (collection, day, key)
        folders = [self.out, self.out / "truth", self.out / "truth" / "snow", (self.out / TCD_FILE).parent]
        for collection in COLLECTIONS:
            folders += [self.out / collection, *(p for p in (self.out / collection).glob("*") if p.is_dir())]
        for folder in folders:
            sweep_folder(folder)  # hidden files of an interrupted run
        return existing

    def is_complete(self, scene: Scene, existing: _Existing) -> bool:
        if scene.item_id not in existing.items:
            return False
        folder = self.item_dir(scene.collection, scene.item_id)
        doc = json.loads((folder / f"{scene.item_id}.json").read_text())
        return all((folder / a["href"]).exists() for a in doc["assets"].values())

    # ---------------------------------------------------------------- writing scenes
    def submit_scene(self, pool: ThreadPoolExecutor, scene: Scene, state: SceneState) -> _PendingItem:
        folder = self.item_dir(scene.collection, scene.item_id)
        folder.mkdir(parents=True, exist_ok=True)
        tags = {"SIMULATED": "YES", "SNOWLAND_WORLD": self.world.fingerprint, "TIFFTAG_IMAGEDESCRIPTION": SIMULATED_NOTE}
        futures = []
        if scene.collection == S2_COLLECTION:
            baseline = sensors.s2_processing_baseline(scene.day)
            samplers = self.s2_grids[scene.key]
            for k, band in enumerate(sensors.S2_BANDS):
                dn = sensors.encode_s2(state.reflectance[k], baseline)
                futures.append(pool.submit(_write_sampled, folder / band.file, samplers[band.resolution], dn, 0,
                                           {**tags, "BAND": band.band}))
            futures.append(pool.submit(_write_sampled, folder / "SCL.tif", samplers[20], state.scl, 0,
                                       {**tags, "BAND": "SCL"}))
            scl = samplers[20].sample(state.scl, 0)

            def write_item() -> None:
                _write_json(folder / f"{scene.item_id}.json", self.s2_item(scene, state, baseline, scl))
        else:
            sampler = self.landsat_sampler
            product = sensors.landsat_product_id(*self.wrs, scene.day)
            for band in sensors.LANDSAT_BANDS:
                dn = sensors.encode_landsat(sensors.landsat_reflectance(state.reflectance, band.key))
                futures.append(pool.submit(_write_sampled, folder / f"{product}_{band.band}.TIF", sampler, dn, 0,
                                           {**tags, "BAND": band.band}))
            qa = dilated_cloud_ring(sampler.sample(state.qa_pixel, QA_FILL))
            futures.append(pool.submit(write_cog, folder / f"{product}_QA_PIXEL.TIF", qa, geobox=_geobox(sampler.grid),
                                       nodata=QA_FILL, tags={**tags, "BAND": "QA_PIXEL"}))

            def write_item() -> None:
                _write_json(folder / f"{scene.item_id}.json", self.landsat_item(scene, state, product, qa))
        return _PendingItem(scene=scene, futures=futures, write_item=write_item)

    # ---------------------------------------------------------------- STAC documents
    def _links(self) -> list[dict]:
        return [
            {"rel": "root", "href": "../../catalog.json", "type": "application/json", "title": "snowland SIMULATED scenes"},
            {"rel": "parent", "href": "../collection.json", "type": "application/json"},
            {"rel": "collection", "href": "../collection.json", "type": "application/json"},
        ]

    def _common_properties(self, scene: Scene, when: dt.datetime) -> dict[str, Any]:
        created = when + dt.timedelta(hours=2, minutes=13)
        return {
            "created": _iso(created),
            "updated": _iso(created),
            prop.SIMULATED: True,
            prop.WORLD: self.world.fingerprint,
            prop.SEED: self.world.seed,
        }

    def _geometry(self, footprint_utm, epsg: int) -> tuple[dict, list[float]]:
        poly = reproject_polygon(footprint_utm, epsg, 4326, densify_m=1000.0)
        poly = poly.simplify(0.00002)
        coords = [[round(x, 7), round(y, 7)] for x, y in poly.exterior.coords]
        xs, ys = [c[0] for c in coords], [c[1] for c in coords]
        return {"type": "Polygon", "coordinates": [coords]}, [min(xs), min(ys), max(xs), max(ys)]

    def s2_item(self, scene: Scene, state: SceneState, baseline: str, scl: np.ndarray) -> dict:
        cov = self.tiles[scene.key]
        tile = cov.tile
        zone_shift = 0 if tile.zone == min(t.tile.zone for t in self.tiles.values()) else 2
        when = dt.datetime.combine(scene.day, sensors.S2_TIME, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=zone_shift)
        zen, az = state.sun_zenith, state.sun_azimuth  # the sun that lit the world: its relief's shadows follow it
        sat = f"S2{scene.platform[-1].upper()}"
        orbit = sensors.s2_absolute_orbit(scene.platform, scene.day)
        stamp = when.strftime("%Y%m%dT%H%M%S")
        generated = when.replace(hour=12, minute=29, second=51, microsecond=0) + dt.timedelta(minutes=tile.column)
        gen = generated.strftime("%Y%m%dT%H%M%S")
        nbase = "N" + baseline.replace(".", "")
        pct = _scl_percentages(scl)
        offset = round(-sensors.s2_boa_offset_dn(baseline) * sensors.S2_SCALE, 6) + 0.0  # no "-0.0"
        geometry, bbox = self._geometry(self._s2_data_footprint(scene.key), tile.epsg)
        props = {
            "datetime": _iso(when),
            "platform": scene.platform,
            "constellation": "sentinel-2",
            "instruments": ["msi"],
            "eo:cloud_cover": pct["cloud"],
            "proj:epsg": tile.epsg,
            "proj:code": f"EPSG:{tile.epsg}",
            "mgrs:utm_zone": tile.zone,
            "mgrs:latitude_band": tile.band,
            "mgrs:grid_square": tile.square,
            "grid:code": f"MGRS-{tile.name}",
            "view:sun_azimuth": round(az, 6),
            "view:sun_elevation": round(90.0 - zen, 6),
            "s2:degraded_msi_data_percentage": 0,
            "s2:nodata_pixel_percentage": pct["nodata"],
            "s2:saturated_defective_pixel_percentage": 0,
            "s2:dark_features_percentage": pct[2],
            "s2:cloud_shadow_percentage": pct[3],
            "s2:vegetation_percentage": pct[4],
            "s2:not_vegetated_percentage": pct[5],
            "s2:water_percentage": pct[6],
            "s2:unclassified_percentage": pct[7],
            "s2:medium_proba_clouds_percentage": pct[8],
            "s2:high_proba_clouds_percentage": pct[9],
            "s2:thin_cirrus_percentage": pct[10],
            "s2:snow_ice_percentage": pct[11],
            "s2:product_type": "S2MSI2A",
            "s2:processing_baseline": baseline,
            "s2:product_uri": f"{sat}_MSIL2A_{stamp}_{nbase}_R{sensors.S2_RELATIVE_ORBIT:03d}_T{tile.name}_{gen}.SAFE",
            "s2:generation_time": _iso(generated),
            "s2:datatake_id": f"G{sat}_{stamp}_{orbit:06d}_{nbase[0]}{baseline}",
            "s2:datatake_type": "INS-NOBS",
            "s2:datastrip_id": f"{sat}_OPER_MSI_L2A_DS_2BPS_{gen}_S{stamp}_{nbase}",
            "s2:granule_id": f"{sat}_OPER_MSI_L2A_TL_2BPS_{gen}_A{orbit:06d}_T{tile.name}_{nbase}",
            "s2:reflectance_conversion_factor": round(earth_sun_distance_factor(scene.day), 12),
            "s2:sequence": "0",
            "earthsearch:boa_offset_applied": False,
            "processing:software": {"snowland-simulate": "1.0"},
            "title": f"SIMULATED Sentinel-2 L2A {tile.name} {scene.day}",
            "description": f"{SIMULATED_NOTE} Earth Search v1 sentinel-2-l2a layout; DN = reflectance x 10000 "
                           f"+ {sensors.s2_boa_offset_dn(baseline)} (processing baseline {baseline}).",
            **self._common_properties(scene, when),
        }
        assets = {}
        for band in sensors.S2_BANDS:
            g = self.s2_grids[scene.key][band.resolution].grid
            assets[band.key] = {
                "href": f"./{band.file}",
                "type": COG_TYPE,
                "title": band.title,
                "eo:bands": [{"name": band.key, "common_name": band.common_name, "description": band.description,
                              "center_wavelength": band.center_wavelength, "full_width_half_max": band.full_width_half_max}],
                "gsd": band.resolution,
                "proj:shape": list(g.shape),
                "proj:transform": _transform(g),
                "raster:bands": [{"nodata": 0, "data_type": "uint16", "bits_per_sample": 15,
                                  "spatial_resolution": band.resolution, "scale": sensors.S2_SCALE, "offset": offset}],
                "roles": ["data", "reflectance"],
            }
        g20 = self.s2_grids[scene.key][20].grid
        assets["scl"] = {
            "href": "./SCL.tif", "type": COG_TYPE, "title": "Scene classification map (SCL)",
            "proj:shape": list(g20.shape), "proj:transform": _transform(g20),
            "raster:bands": [{"nodata": 0, "data_type": "uint8", "spatial_resolution": 20}],
            "classification:classes": [{"value": v, "name": n} for v, n in sensors.SCL_CLASSES.items()],
            "roles": ["data", "reflectance"],
        }
        return {
            "type": "Feature", "stac_version": STAC_VERSION,
            "stac_extensions": [EXT[k] for k in ("mgrs", "view", "raster", "eo", "grid", "processing", "proj", "classification")],
            "id": scene.item_id, "collection": S2_COLLECTION, "bbox": bbox, "geometry": geometry,
            "properties": props, "links": self._links(), "assets": assets,
        }

    def _s2_data_footprint(self, key: str):
        return self.tiles[key].footprint.intersection(box(*self.s2_grids[key][20].grid.bounds))

    def landsat_item(self, scene: Scene, state: SceneState, product: str, qa: np.ndarray) -> dict:
        when = dt.datetime.combine(scene.day, sensors.LANDSAT_TIME, tzinfo=dt.timezone.utc)
        g = self.landsat_sampler.grid
        zen, az = state.sun_zenith, state.sun_azimuth
        valid = qa != QA_FILL
        cloudy = (qa & (QA_CLOUD | QA_CIRRUS)) > 0
        cloud_cover = round(100.0 * float((cloudy & valid).sum()) / max(int(valid.sum()), 1), 2)
        footprint = self.world.grid.polygon_in(g.epsg)
        geometry, bbox = self._geometry(footprint, g.epsg)
        path, row = self.wrs
        props = {
            "datetime": _iso(when),
            "platform": "landsat-8",
            "instruments": ["oli", "tirs"],
            "eo:cloud_cover": cloud_cover,
            "view:off_nadir": 0,
            "view:sun_azimuth": round(az, 6),
            "view:sun_elevation": round(90.0 - zen, 6),
            "landsat:cloud_cover_land": cloud_cover,
            "landsat:wrs_type": "2",
            "landsat:wrs_path": f"{path:03d}",
            "landsat:wrs_row": f"{row:03d}",
            "landsat:scene_id": sensors.landsat_scene_id(path, row, scene.day),
            "landsat:collection_category": "T1",
            "landsat:collection_number": "02",
            "landsat:correction": "L2SP",
            "landsat:product_id": product,
            "proj:epsg": g.epsg,
            "proj:code": f"EPSG:{g.epsg}",
            "proj:shape": list(g.shape),
            "proj:transform": _transform(g),
            "title": f"SIMULATED Landsat-8 C2 L2 {path:03d}/{row:03d} {scene.day}",
            "description": f"{SIMULATED_NOTE} Earth Search landsat-c2-l2 layout; reflectance = DN x 0.0000275 - 0.2.",
            **self._common_properties(scene, when),
        }
        assets = {}
        for band in sensors.LANDSAT_BANDS:
            assets[band.key] = {
                "href": f"./{product}_{band.band}.TIF", "type": COG_TYPE, "title": band.title, "description": band.description,
                "eo:bands": [{"name": band.band, "common_name": band.key, "center_wavelength": band.center_wavelength,
                              "full_width_half_max": band.full_width_half_max}],
                "gsd": 30, "proj:shape": list(g.shape), "proj:transform": _transform(g),
                "raster:bands": [{"nodata": 0, "data_type": "uint16", "spatial_resolution": 30, "unit": "1",
                                  "scale": sensors.LANDSAT_SCALE, "offset": sensors.LANDSAT_OFFSET}],
                "roles": ["data", "reflectance"],
            }
        assets["qa_pixel"] = {
            "href": f"./{product}_QA_PIXEL.TIF", "type": COG_TYPE, "title": "Pixel Quality Assessment Band",
            "description": "Collection 2 Level-1 Pixel Quality Assessment Band (QA_PIXEL)",
            "gsd": 30, "proj:shape": list(g.shape), "proj:transform": _transform(g),
            "raster:bands": [{"nodata": 1, "data_type": "uint16", "spatial_resolution": 30, "unit": "bit index"}],
            "classification:bitfields": [{"name": n, "offset": o, "length": ln, "description": d}
                                         for n, o, ln, d in sensors.QA_PIXEL_BITFIELDS],
            "roles": ["cloud", "cloud-shadow", "snow-ice", "water-mask"],
        }
        return {
            "type": "Feature", "stac_version": STAC_VERSION,
            "stac_extensions": [EXT[k] for k in ("eo", "raster", "proj", "view", "landsat", "classification")],
            "id": scene.item_id, "collection": LANDSAT_COLLECTION, "bbox": bbox, "geometry": geometry,
            "properties": props, "links": self._links(), "assets": assets,
        }

    # ---------------------------------------------------------------- DEM
    def dem_tiles(self) -> list[tuple[int, int, Grid]]:
        lon, lat = self.world.grid.lonlat
        out = []
        for lat0 in range(math.floor(lat.min()), math.floor(lat.max()) + 1):
            step_lon = _glo30_lon_step(lat0)
            step = 1.0 / 3600.0
            for lon0 in range(math.floor(lon.min()), math.floor(lon.max()) + 1):
                # the tile's grid: pixel centres on whole arc-seconds, origin half a pixel off the corner
                ox, oy = lon0 - step_lon / 2.0, lat0 + 1 + step / 2.0
                west = max(float(lon.min()), lon0)
                east = min(float(lon.max()), lon0 + 1)
                south = max(float(lat.min()), lat0)
                north = min(float(lat.max()), lat0 + 1)
                if east <= west or north <= south:
                    continue
                c0 = max(0, math.floor((west - ox) / step_lon) - 1)
                c1 = min(int(round(1 / step_lon)) + 1, math.ceil((east - ox) / step_lon) + 1)
                r0 = max(0, math.floor((oy - north) / step) - 1)
                r1 = min(3601, math.ceil((oy - south) / step) + 1)
                transform = (step_lon, 0.0, ox + c0 * step_lon, 0.0, -step, oy - r0 * step)
                out.append((lon0, lat0, Grid(epsg=4326, transform=transform, shape=(r1 - r0, c1 - c0))))
        return out

    def write_dem(self, pool: ThreadPoolExecutor, existing: _Existing) -> Iterable[tuple[str, bool]]:
        results = []
        for lon0, lat0, grid in self.dem_tiles():
            item_id = sensors.dem_item_id(lon0, lat0)
            folder = self.item_dir(DEM_COLLECTION, item_id)
            scene = Scene(DEM_COLLECTION, item_id, dt.date(2021, 4, 22), "dem", "tandem-x")
            if self.is_complete(scene, existing):
                results.append((item_id, False))
                continue
            folder.mkdir(parents=True, exist_ok=True)
            x, y = grid.centres_in(self.world.grid.epsg)
            a, _, c, _, e, f = self.world.grid.transform
            cols, rows = (x - c) / a - 0.5, (y - f) / e - 0.5
            ny, nx = self.world.grid.shape
            inside = (cols >= -0.5) & (cols <= nx - 0.5) & (rows >= -0.5) & (rows <= ny - 0.5)
            values = ndimage.map_coordinates(self.world.terrain.elevation, [rows, cols], order=1, mode="nearest")
            dem = np.where(inside, values, DEM_NODATA).astype(np.float32)
            tags = {"SIMULATED": "YES", "SNOWLAND_WORLD": self.world.fingerprint, "TIFFTAG_IMAGEDESCRIPTION": SIMULATED_NOTE}
            pool.submit(write_cog, folder / f"{item_id}.tif", dem, geobox=_geobox(grid), nodata=DEM_NODATA,
                        tags=tags).result()
            _write_json(folder / f"{item_id}.json", self.dem_item(item_id, lon0, lat0, grid, inside))
            results.append((item_id, True))
        return results

    def dem_item(self, item_id: str, lon0: int, lat0: int, grid: Grid, inside: np.ndarray) -> dict:
        w, s, e, n = grid.bounds
        data = self.world.grid.polygon_in(4326).intersection(box(w, s, e, n))
        coords = [[round(x, 7), round(y, 7)] for x, y in data.exterior.coords]
        xs, ys = [c[0] for c in coords], [c[1] for c in coords]
        tag = item_id.removeprefix("Copernicus_DSM_COG_10_").removesuffix("_DEM")
        return {
            "type": "Feature", "stac_version": STAC_VERSION, "stac_extensions": [EXT["proj"], EXT["raster"]],
            "id": item_id, "collection": DEM_COLLECTION, "bbox": [min(xs), min(ys), max(xs), max(ys)],
            "geometry": {"type": "Polygon", "coordinates": [coords]},
            "properties": {
                "datetime": "2021-04-22T00:00:00Z", "platform": "tandem-x", "gsd": 30,
                "proj:epsg": 4326, "proj:code": "EPSG:4326", "proj:shape": list(grid.shape), "proj:transform": _transform(grid),
                "title": f"SIMULATED Copernicus DEM GLO-30 {tag}",
                "description": f"{SIMULATED_NOTE} Elevation of the simulated world on the GLO-30 tile grid "
                               "(1 arc-second, pixel centres on whole arc-seconds); -32767 outside the simulated area.",
                "created": "2021-04-22T00:00:00Z", "updated": "2021-04-22T00:00:00Z",
                prop.SIMULATED: True, prop.WORLD: self.world.fingerprint, prop.SEED: self.world.seed,
            },
            "links": self._links(),
            "assets": {"data": {
                "href": f"./{item_id}.tif", "type": COG_TYPE, "title": tag, "roles": ["data"],
                "proj:shape": list(grid.shape), "proj:transform": _transform(grid),
                "raster:bands": [{"data_type": "float32", "nodata": DEM_NODATA, "unit": "metre", "spatial_resolution": 30}],
            }},
        }

    # ---------------------------------------------------------------- truth
    def truth_dir(self) -> Path:
        return self.out / "truth"

    def truth_is_current(self, day: dt.date, ids: list[str]) -> bool:
        side = self.truth_dir() / "snow" / f"{day}.json"
        if not side.exists() or not (self.truth_dir() / "snow" / f"{day}.tif").exists():
            return False
        return json.loads(side.read_text()).get("items") == ids

    def footprint_keys(self, ids: list[str], existing: _Existing) -> list[str]:
        """The scene families (S2 tile names, "landsat") of items ``ids``."""
        keys = set()
        for item_id in ids:
            if item_id.startswith("LC08"):
                keys.add("landsat")
            elif item_id in existing.items:
                keys.add(existing.items[item_id][2])
            else:
                keys.add(item_id.split("_")[1])
        return sorted(k for k in keys if k == "landsat" or k in self.tiles)

    def write_truth_day(self, state: SceneState, ids: list[str], existing: _Existing) -> None:
        seen = np.zeros(self.world.grid.shape, dtype=bool)
        for key in self.footprint_keys(ids, existing):
            seen |= self.world_footprint(key)
        truth = state.truth
        truth[~seen] = OUTSIDE
        folder = self.truth_dir() / "snow"
        folder.mkdir(parents=True, exist_ok=True)
        write_cog(folder / f"{state.day}.tif", truth, geobox=_geobox(self.world.grid), nodata=OUTSIDE,
                  tags={"SIMULATED": "YES", "SNOWLAND_WORLD": self.world.fingerprint, "SNOWLINE_M": f"{state.snowline_m:.1f}",
                        "CODES": "0 no snow, 100 snow, 205 cloud, 255 not imaged", "TIFFTAG_IMAGEDESCRIPTION": SIMULATED_NOTE})
        doc = {**state.stats(), "imaged_fraction": round(float(seen.mean()), 4), "items": ids}
        _write_json(folder / f"{state.day}.json", doc)

    def write_static_truth(self, existing: _Existing) -> None:
        folder = self.truth_dir()
        folder.mkdir(parents=True, exist_ok=True)
        tags = {"SIMULATED": "YES", "SNOWLAND_WORLD": self.world.fingerprint, "TIFFTAG_IMAGEDESCRIPTION": SIMULATED_NOTE}
        dem = folder / "dem.tif"
        if not dem.exists() or _tag(dem, "SNOWLAND_WORLD") != self.world.fingerprint:
            write_cog(dem, self.world.terrain.elevation, geobox=_geobox(self.world.grid), nodata=DEM_NODATA, tags=tags)
        years = self.truth_years()
        gpkg = folder / "landcover.gpkg"
        marker = folder / "landcover.json"
        want = {"world": self.world.fingerprint, "years": years}
        if not gpkg.exists() or not marker.exists() or json.loads(marker.read_text()) != want:
            write_landcover(gpkg, self.world, years)
            _write_json(marker, want)
        self.write_tcd()

    # ---------------------------------------------------------------- tree cover density (input of FSC on ground)
    def write_tcd(self) -> Path:
        """SIMULATED HRL Tree Cover Density: the leaf-on (15 July 2018) share of each parcel that tree crowns
        hide from the ground, in %, the same canopy that hides the world's snow from the sensors."""
        path = self.out / TCD_FILE
        if path.exists() and _tag(path, "SNOWLAND_WORLD") == self.world.fingerprint:
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        *_, canopy = self.world.parcels.reflectance(dt.date(2018, 7, 15))
        tcd = np.rint(100 * canopy[self.world.parcels.labels]).astype(np.uint8)
        return write_cog(path, tcd, geobox=_geobox(self.world.grid), nodata=TCD_NODATA,
                         tags={"SIMULATED": "YES", "SNOWLAND_WORLD": self.world.fingerprint,
                               "TIFFTAG_IMAGEDESCRIPTION": SIMULATED_NOTE, "UNITS": "percent tree cover density"})

    def truth_days(self) -> list[dict]:
        return [json.loads(p.read_text()) for p in sorted((self.truth_dir() / "snow").glob("*.json"))]

    def truth_years(self) -> list[int]:
        return sorted({int(d["date"][:4]) for d in self.truth_days()})

    def write_truth_index(self, *, seed: int, size_km: float) -> Path:
        w = self.world
        lon, lat = w.centre_lonlat
        days = self.truth_days()
        items = {c: sorted(i["id"] for i in self._items_of(c)) for c in COLLECTIONS}
        doc = {
            "simulated": True,
            "note": SIMULATED_NOTE,
            "world": {
                "fingerprint": w.fingerprint, "model_version": MODEL_VERSION, "seed": seed, "size_km": size_km,
                "resolution_m": w.grid.res_x,
                "centre": {"x": (w.grid.bounds[0] + w.grid.bounds[2]) / 2, "y": (w.grid.bounds[1] + w.grid.bounds[3]) / 2,
                           "lon": round(lon, 6), "lat": round(lat, 6)},
                "grid": w.grid.to_dict(), "bounds": list(w.grid.bounds),
                "elevation_m": {"min": round(float(w.terrain.elevation.min()), 1), "max": round(float(w.terrain.elevation.max()), 1),
                                "mean": round(float(w.terrain.elevation.mean()), 1)},
                "parcels": len(w.parcels),
                "sentinel2_tiles": [{"tile": t.tile.name, "epsg": t.tile.epsg, "lon_band": [round(v, 6) for v in t.lon_band],
                                     "grid_10m": self.s2_grids[t.tile.name][10].grid.to_dict(),
                                     "grid_20m": self.s2_grids[t.tile.name][20].grid.to_dict()} for t in w.s2_tiles],
                "landsat": {"wrs_path": self.wrs[0], "wrs_row": self.wrs[1], "grid_30m": self.landsat_sampler.grid.to_dict()},
            },
            "snow_model": {
                "truth": "snow where the ground snow fraction >= 0.5, glaciers always, open water never",
                "effective_elevation": "elevation - aspect_shift_m * southness + static patch noise",
                "aspect_shift_m": 150.0, "transition_m": 70.0, "patch_noise_m": 45.0,
                "cloud": "205 where cloud opacity >= 0.35 or cirrus >= 0.06 (= SCL 8, 9, 10 = QA_PIXEL cloud or cirrus)",
                "cloud_shadow": "shadowed ground keeps its snow truth (SCL 3 / QA_PIXEL shadow)",
            },
            "codes": {"0": "no snow", "100": "snow", "205": "cloud", "255": "not imaged that day"},
            "dates": days,
            "items": items,
            "landcover": {"file": "landcover.gpkg", "layer": "landcover", "crs": "EPSG:3035",
                          "years": self.truth_years(), "classes": {str(k): v for k, v in OSO23_NAMES.items()},
                          "nomenclature": "oso23"},
            "files": {"dem": "dem.tif", "snow": "snow/<YYYY-MM-DD>.tif"},
        }
        path = self.truth_dir() / "truth.json"
        _write_json(path, doc)
        return path

    # ---------------------------------------------------------------- catalog
    def _items_of(self, collection: str) -> list[dict]:
        docs = []
        for path in sorted((self.out / collection).glob("*/*.json")):
            if path.stem == path.parent.name:
                doc = json.loads(path.read_text())
                if doc.get("properties", {}).get(prop.WORLD) == self.world.fingerprint:
                    docs.append((path, doc))
        docs.sort(key=lambda pd: (pd[1]["properties"]["datetime"], pd[1]["id"]))
        for path, doc in docs:
            doc["_path"] = path
        return [d for _, d in docs]

    def write_catalog(self) -> dict[str, int]:
        counts = {}
        children = []
        titles = {S2_COLLECTION: "Sentinel-2 Level-2A (SIMULATED)", LANDSAT_COLLECTION: "Landsat Collection 2 Level-2 (SIMULATED)",
                  DEM_COLLECTION: "Copernicus DEM GLO-30 (SIMULATED)"}
        for collection in COLLECTIONS:
            docs = self._items_of(collection)
            counts[collection] = len(docs)
            if not docs:
                continue
            folder = self.out / collection
            features = []
            for doc in docs:
                path: Path = doc.pop("_path")
                absolute = json.loads(json.dumps(doc))
                for asset in absolute["assets"].values():
                    asset["href"] = str((path.parent / asset["href"]).resolve())
                absolute["links"] = [{"rel": "self", "href": str(path.resolve()), "type": "application/geo+json"},
                                     {"rel": "collection", "href": str((folder / "collection.json").resolve()), "type": "application/json"}]
                features.append(absolute)
            _write_json(folder / "items.json", {"type": "FeatureCollection", "features": features})
            bboxes = np.array([d["bbox"] for d in docs])
            times = [d["properties"]["datetime"] for d in docs]
            summaries: dict[str, Any] = {"platform": sorted({d["properties"]["platform"] for d in docs}), prop.SIMULATED: [True]}
            if collection == S2_COLLECTION:
                summaries.update({"constellation": ["sentinel-2"], "instruments": ["msi"],
                                  "grid:code": sorted({d["properties"]["grid:code"] for d in docs})})
            elif collection == LANDSAT_COLLECTION:
                summaries["instruments"] = [["oli", "tirs"]]
            coll = {
                "type": "Collection", "stac_version": STAC_VERSION, "stac_extensions": [],
                "id": collection, "title": titles[collection],
                "description": f"{SIMULATED_NOTE} Items follow the layout of the real '{collection}' collection "
                               f"(Earth Search / Planetary Computer). World {self.world.fingerprint}, seed {self.world.seed}.",
                "keywords": ["SIMULATED", "snowland", "synthetic"],
                "license": "CC0-1.0",
                "providers": [{"name": "snowland (simulated data)", "roles": ["producer", "processor", "host"]}],
                "extent": {"spatial": {"bbox": [[float(bboxes[:, 0].min()), float(bboxes[:, 1].min()),
                                                 float(bboxes[:, 2].max()), float(bboxes[:, 3].max())]]},
                           "temporal": {"interval": [[min(times), max(times)]]}},
                "summaries": summaries,
                "links": [{"rel": "root", "href": "../catalog.json", "type": "application/json"},
                          {"rel": "parent", "href": "../catalog.json", "type": "application/json"}]
                         + [{"rel": "item", "href": f"./{d['id']}/{d['id']}.json", "type": "application/geo+json"} for d in docs],
            }
            _write_json(folder / "collection.json", coll)
            children.append({"rel": "child", "href": f"./{collection}/collection.json", "type": "application/json",
                             "title": titles[collection]})
        catalog = {
            "type": "Catalog", "stac_version": STAC_VERSION, "id": "snowland-simulated",
            "title": "snowland SIMULATED scenes",
            "description": f"{SIMULATED_NOTE} Sentinel-2 L2A, Landsat-8 C2 L2 and Copernicus DEM items of simulated "
                           f"world {self.world.fingerprint} (seed {self.world.seed}); truth in ./truth/.",
            prop.SIMULATED: True,
            "links": [{"rel": "root", "href": "./catalog.json", "type": "application/json"}] + children,
        }
        _write_json(self.out / "catalog.json", catalog)
        return counts

    def write_readme(self, *, seed: int, size_km: float) -> None:
        w = self.world
        b = w.grid.bounds
        text = f"""SIMULATED DATA -- NOT REAL OBSERVATIONS
=======================================

Everything in this folder was made by snowland (`snowland simulate`, flows/simulator/scenes.py) from a synthetic
world. The files follow the layout of real products so that the whole chain (indexing, cube loading, snow and
land-cover methods) can run on them offline, and the truth beside them says what the answer should be.

World {w.fingerprint}: seed {seed}, {size_km:g} km square on the EEA reference grid (EPSG:3035, {w.grid.res_x:g} m),
x {b[0]:.0f}-{b[2]:.0f}, y {b[1]:.0f}-{b[3]:.0f} (about {w.centre_lonlat[0]:.3f} E {w.centre_lonlat[1]:.3f} N), across the
UTM 31N / 32N boundary at 6 E.

How it is made (flows/simulator/):
- terrain: ridged multi-scale noise with a main valley, {w.terrain.elevation.min():.0f}-{w.terrain.elevation.max():.0f} m;
- land cover: {len(w.parcels)} Voronoi parcels with OSO 23-class codes (crops rotate between years), each class
  with a seasonal cover of green leaves / dry matter / flowers that drives its 10-band reflectance;
- snow: a snowline that follows the season and each year's weather (truth/truth.json gives it per date); snow
  where elevation, corrected for sun exposure and patchy noise, is above it; glaciers always snow;
- clouds: per-date cloud fraction, soft-edged clouds bright in all bands (low NDSI), shadows cast away from
  the sun, occasional cirrus;
- sensors sample the world with nearest neighbour on their own grids: Sentinel-2 L2A tiles {', '.join(self.tiles)}
  (10/20 m, DN = reflectance x 10000 + 1000 from processing baseline 04.00, SCL), Landsat-8 C2 L2 WRS-2
  {self.wrs[0]:03d}/{self.wrs[1]:03d} (30 m, DN = (reflectance + 0.2) / 0.0000275, QA_PIXEL), Copernicus DEM GLO-30 tiles.

Layout: catalog.json (static STAC catalog) -> <collection>/collection.json -> <collection>/<id>/<id>.json with
relative asset hrefs; <collection>/items.json is an ItemCollection with absolute paths. truth/: truth.json,
dem.tif, landcover.gpkg (parcel_id, year, code, name), snow/<date>.tif (0 no snow, 100 snow, 205 cloud,
255 not imaged that day) with a .json of that day's snowline and cloud figures.

Same seed and parameters give the same world, pixel for pixel.
"""
        write_text(self.out / "README.txt", text)


# ------------------------------------------------------------------------------------------------ file helpers
def _glo30_lon_step(lat0: int) -> float:
    """Copernicus GLO-30 longitude spacing by latitude zone (arc-seconds widen towards the poles)."""
    a = abs(lat0 + 0.5)
    factor = 1 if a < 50 else 1.5 if a < 60 else 2 if a < 70 else 3 if a < 80 else 5 if a < 85 else 10
    return factor / 3600.0


def _scl_percentages(scl: np.ndarray) -> dict:
    counts = np.bincount(scl.ravel(), minlength=12).astype(np.float64)
    valid = counts[1:].sum()
    pct = {k: round(100.0 * counts[k] / valid, 6) if valid else 0.0 for k in range(1, 12)}
    pct["nodata"] = round(100.0 * counts[0] / max(scl.size, 1), 6)
    pct["cloud"] = round(pct[8] + pct[9] + pct[10], 6)
    return pct


def _transform(g: Grid) -> list[float]:
    return [float(v) for v in g.transform]


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _tag(path: Path, name: str) -> str | None:
    with rasterio.open(path) as src:
        return src.tags().get(name)


def _write_json(path: Path, doc: Any) -> None:
    write_text(path, json.dumps(doc, indent=1, sort_keys=False, ensure_ascii=False) + "\n")


def _geobox(grid: Grid) -> GeoBox:
    return GeoBox(grid.shape, Affine(*grid.transform), grid.crs)


def _write_sampled(path: Path, sampler: _Sampler, world_array: np.ndarray, fill: int, tags: Mapping[str, str]) -> Path:
    return write_cog(path, sampler.sample(world_array, fill), geobox=_geobox(sampler.grid), nodata=fill, tags=tags)


def write_landcover(path: Path, world: World, years: list[int]) -> Path:
    """The parcels as polygons, one row per parcel and calendar year (EPSG:3035), as a GeoPackage."""
    import geopandas as gpd
    import pyogrio

    polygons = world.parcels.polygons
    n = len(polygons)
    rows = {"parcel_id": [], "year": [], "code": [], "name": [], "geometry": []}
    for year in years or []:
        codes = world.parcels.codes(year)
        rows["parcel_id"].extend(range(1, n + 1))
        rows["year"].extend([year] * n)
        rows["code"].extend(int(c) for c in codes)
        rows["name"].extend(OSO23_NAMES[int(c)] for c in codes)
        rows["geometry"].extend(polygons)
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:3035")
    frame["parcel_id"] = frame["parcel_id"].astype("int32")
    frame["year"] = frame["year"].astype("int16")
    frame["code"] = frame["code"].astype("int16")
    # a fixed timestamp keeps the GeoPackage byte-identical from run to run
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2000-01-01T00:00:00.000Z"})
    with replacing(path) as partial:
        frame.to_file(partial, layer="landcover", driver="GPKG", engine="pyogrio")
    return path
