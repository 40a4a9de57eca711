"""Validation of snow_cover against the truth of simulated scenes: accuracy, kappa and zs per date, and the snow the
relief's cast shadows hide, found with and without LIS's shaded-snow test."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import xarray as xr
from odc.geo.geobox import GeoBox

from flows.pipelines.snow_cover import SENSORS
from flows.storage import properties as prop
from flows.storage.index import connect
from flows.storage.load import load
from products.errors import MissingDataError
from products.snow import NO_SNOW, NODATA, SNOW, SnowBit, SnowParams
from products.snow.codes import NO_OBSERVATION
from products.snow.daily import NONE as DAILY_NONE
from products.snow.snowline import elevation_histogram, snowline_elevation
from products.snow.validation import SnowScore, score_snow
from products.terrain import cast_shadow


@dataclass(frozen=True, kw_only=True)
class DateScore:
    day: str
    sensor: str
    score: SnowScore
    zs: float
    zs_truth: float
    snowline: float
    shaded: SnowScore  # truth-snow pixels in the relief's cast shadow: accuracy there is the share found
    shaded_without: SnowScore  # the same, had the shaded-snow test not run


def without_shaded_snow(*, snow: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """The snow codes the product would have without the shaded-snow test: its snow becomes no snow (it is dark:
    below the back-to-cloud red, so never cloud)."""
    return np.where((bits != 255) & ((bits & SnowBit.SHADED_SNOW) != 0), NO_SNOW, snow)


def _truth_geobox(path: Path) -> GeoBox:
    with rasterio.open(path) as src:
        return GeoBox(src.shape, src.transform, src.crs.to_wkt())


def truth_zs(*, reference: np.ndarray, dem: np.ndarray, params: SnowParams, hidden: np.ndarray | None = None) -> float:
    """zs by the LIS rule applied to the true snow map: what a perfect pass 1 would give. Snow in ``hidden``
    (the relief's cast shadow: too dark for pass 1's red test, whatever the method) counts as clear ground."""
    if hidden is not None:
        reference = np.where(hidden & (reference == SNOW), NO_SNOW, reference)
    def da(a: np.ndarray) -> xr.DataArray:
        return xr.DataArray(a, dims=("y", "x"))

    histogram = elevation_histogram(dem=da(dem), snow=da(reference == 100), cloud=da(reference == 205),
                                    valid=da(reference != 255), dz=params.dz)
    return snowline_elevation(histogram=histogram, dz=params.dz, fclear_lim=params.fclear_lim,
                              fsnow_lim=params.fsnow_lim)


def validate_snow(simulation: Path, *, dc=None) -> list[DateScore]:
    """Scores of every simulated date that has a snow_cover dataset, by sensor.

    zs is compared with the LIS rule applied to the true snow map (``zs_truth``): by design LIS puts zs
    two elevation bands below the first band with more than ``fsnow_lim`` snow, so it sits well below
    the simulated 50 %-snow line (``snowline``), which is reported beside it. Snow in the relief's cast shadow
    (from the truth DEM and the world's sun of the day) is what pass 1 cannot see, so ``zs_truth`` counts it as
    clear ground, and ``shaded`` / ``shaded_without`` score it with and without the shaded-snow test.
    """
    dc = dc or connect()
    params = SnowParams()
    with rasterio.open(simulation / "truth" / "dem.tif") as src:
        dem = src.read(1).astype("float64")
        dem[dem == src.nodata] = np.nan
    truth = json.loads((simulation / "truth" / "truth.json").read_text())
    snowlines = {d["date"]: d["snowline_m"] for d in truth["dates"]}
    suns = {d["date"]: (d["sun_zenith"], d["sun_azimuth"]) for d in truth["dates"]}
    with rasterio.open(simulation / "truth" / "dem.tif") as src:
        pixel = abs(src.transform.a)
    scores = []
    for day, snowline in sorted(snowlines.items()):
        truth_file = simulation / "truth" / "snow" / f"{day}.tif"
        if not truth_file.exists():
            continue
        with rasterio.open(truth_file) as src:
            reference = src.read(1)
        gbox = _truth_geobox(truth_file)
        zenith, azimuth = suns[day]
        shaded = (reference == SNOW) & cast_shadow(dem=dem, pixel_size=pixel, sun_azimuth=azimuth,
                                                   sun_elevation=90.0 - zenith)
        for sensor in SENSORS.values():
            found = [d for d in dc.find_datasets(product="snow_cover", time=(day, day))
                     if d.metadata_doc["properties"].get(prop.SENSOR) == sensor.code]
            if not found:
                continue
            data = load("snow_cover", geobox=gbox, time=(day, day), measurements=["snow", "snow_bits"],
                        group_by="time", dc=dc)
            data = data.isel(time=[p.split(",")[0] in sensor.platforms for p in data.platform.values])
            if not data.sizes["time"]:
                continue
            product = data.snow.isel(time=0).values
            without = without_shaded_snow(snow=product, bits=data.snow_bits.isel(time=0).values)
            zs = min(float(d.metadata_doc["properties"][prop.ZS]) for d in found)
            scores.append(DateScore(day=day, sensor=sensor.code, score=score_snow(product=product, reference=reference),
                                    zs=zs, zs_truth=truth_zs(reference=reference, dem=dem, params=params,
                                                             hidden=shaded),
                                    snowline=float(snowline),
                                    shaded=score_snow(product=product[shaded], reference=reference[shaded]),
                                    shaded_without=score_snow(product=without[shaded], reference=reference[shaded])))
    return scores


def format_scores(scores: list[DateScore]) -> str:
    """One line per date and sensor, then the totals of each sensor and of all: accuracy and kappa on clear pixels,
    the share of the truth's clear ground called cloud and of its cloud called snow ("snow on cloud"), and the
    truth-snow pixels in cast shadow ("shaded snow") with the accuracy on them with and without the shaded-snow test."""
    header = (f"{'date':10s} {'sensor':6s} {'pixels':>8s} {'accuracy':>8s} {'kappa':>6s} {'clr>cld':>7s} "
              f"{'cld>snw':>7s} {'zs':>6s} {'zs_truth':>8s} {'50%-line':>8s} {'shaded snow':>11s} {'with':>6s} "
              f"{'without':>7s}")
    lines = [header]
    for s in scores:
        lines.append(f"{s.day:10s} {s.sensor:6s} {_figures(s.score)} {s.zs:6.0f} {s.zs_truth:8.0f} {s.snowline:8.0f} "
                     f"{_shaded(s.shaded, s.shaded_without)}")
    sensors = dict.fromkeys(s.sensor for s in scores)
    groups = {sensor: [s for s in scores if s.sensor == sensor] for sensor in sensors}
    if len(groups) > 1:
        for sensor, of in groups.items():
            lines.append(f"{'all':10s} {sensor:6s} {_total(of)}")
    if scores:
        lines.append(f"{'all':10s} {'':6s} {_total(scores)}")
    return "\n".join(lines)


def _figures(score: SnowScore) -> str:
    return (f"{score.n:8d} {score.accuracy:8.4f} {score.kappa:6.3f} {score.clear_called_cloud_share:7.2%} "
            f"{score.cloud_called_snow_share:7.2%}")


def _shaded(shaded: SnowScore, without: SnowScore) -> str:
    return f"{shaded.n:11d} {shaded.accuracy:6.3f} {without.accuracy:7.3f}"


def _total(scores: list[DateScore]) -> str:
    """The figures of ``scores`` summed: their pixels pooled, zs columns left blank."""
    total, shaded, without = (summed(scores, k) for k in ("score", "shaded", "shaded_without"))
    return f"{_figures(total)} {'':6s} {'':8s} {'':8s} {_shaded(shaded, without)}"


# --- snow_daily: the gap-filled map against the ground's truth, cloudy or not --------------------------------------

AGE_CLASSES = {"0": (0, 0), "1-3": (1, 3), "4-7": (4, 7)}
"""Observation ages (days) the daily map is scored by."""


@dataclass(frozen=True, kw_only=True)
class DailyValidation:
    """The daily maps of a simulation scored against the ground's snow of their day, by observation age, and how
    many of their pixels have no observation in the window against how cloudy the scene products are."""

    days: int
    by_age: dict[str, SnowScore]
    pixels: int  # the maps' data pixels, all days
    no_observation: int  # of which without a clear observation in the window
    scene_cloud_share: float  # mean cloud share of the snow_cover products over the same area and period

    @property
    def no_observation_share(self) -> float:
        return self.no_observation / self.pixels if self.pixels else float("nan")


def simulated_world(simulation: Path):
    """The simulation's world, rebuilt from its truth.json (seed, size, centre) and checked by its fingerprint."""
    from flows.simulator.geometry import WORLD_RESOLUTION
    from flows.simulator.world import build_world

    world = json.loads((simulation / "truth" / "truth.json").read_text())["world"]
    built = build_world(world["seed"], float(world["size_km"]), (world["centre"]["x"], world["centre"]["y"]),
                        float(world.get("resolution_m", WORLD_RESOLUTION)))
    if built.fingerprint != world["fingerprint"]:
        raise MissingDataError(f"{simulation}: its world ({world['fingerprint']}) is not what this simulator builds "
                               f"({built.fingerprint}); simulate it again")
    return built


def validate_daily(simulation: Path, *, dc=None) -> DailyValidation | None:
    """Every snow_daily map over the simulated world against the true snow on the ground that day (clouds do not
    hide it), by the age of the observation each pixel carries; None when there is no daily map there."""
    dc = dc or connect()
    gbox = _truth_geobox(simulation / "truth" / "dem.tif")
    found = dc.find_datasets(product="snow_daily", geopolygon=gbox.extent)
    if not found:
        return None
    world = simulated_world(simulation)
    by_day: dict[str, list] = {}
    for ds in found:
        by_day.setdefault(str(ds.center_time)[:10], []).append(ds)
    scores = {name: score_snow(product=np.zeros(0), reference=np.zeros(0)) for name in AGE_CLASSES}
    pixels = no_observation = 0
    for day, datasets in sorted(by_day.items()):
        data = load("snow_daily", geobox=gbox, datasets=datasets, measurements=["snow", "age"], scale=False, dc=dc)
        snow, age = (data[name].isel(time=0).values for name in ("snow", "age"))
        reference = np.where(world.ground_snow(dt.date.fromisoformat(day)), SNOW, NO_SNOW)
        for name, (low, high) in AGE_CLASSES.items():
            at = (age >= low) & (age <= high) & (age != DAILY_NONE)
            scores[name] += score_snow(product=snow[at], reference=reference[at])
        pixels += int((snow != NODATA).sum())
        no_observation += int((snow == NO_OBSERVATION).sum())
    period = (min(by_day), (dt.date.fromisoformat(max(by_day)) + dt.timedelta(days=1)).isoformat())
    clouds = [float(d.metadata_doc["properties"][prop.CLOUD_PERCENT]) / 100
              for d in dc.find_datasets(product="snow_cover", time=period, geopolygon=gbox.extent)
              if d.metadata_doc["properties"].get(prop.CLOUD_PERCENT) is not None]
    return DailyValidation(days=len(by_day), by_age=scores, pixels=pixels, no_observation=no_observation,
                           scene_cloud_share=float(np.mean(clouds)) if clouds else float("nan"))


def format_daily(result: DailyValidation) -> str:
    """The daily map's accuracy by observation age, then its pixels without observation against the scenes' cloud."""
    lines = [f"daily map (snow_daily), {result.days} day(s), against the ground's snow under clouds too",
             f"{'age (days)':10s} {'pixels':>8s} {'accuracy':>8s} {'kappa':>6s}"]
    for name, score in result.by_age.items():
        lines.append(f"{name:10s} {score.n:8d} {score.accuracy:8.4f} {score.kappa:6.3f}")
    lines.append(f"without observation in the window: {result.no_observation_share:.2%} of the map's pixels; "
                 f"cloud: {result.scene_cloud_share:.2%} of the scene products' pixels")
    return "\n".join(lines)


def summed(scores: list[DateScore], field: str = "score") -> SnowScore:
    """One of the dates' scores (``score``, ``shaded``, ``shaded_without``) with their pixels pooled."""
    return sum((getattr(s, field) for s in scores[1:]), getattr(scores[0], field))
