"""Validation of snow_cover against the truth of simulated scenes: accuracy, kappa and zs per date."""

from __future__ import annotations

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
from products.snow import SnowParams
from products.snow.snowline import elevation_histogram, snowline_elevation
from products.snow.validation import SnowScore, score_snow


@dataclass(frozen=True, kw_only=True)
class DateScore:
    day: str
    sensor: str
    score: SnowScore
    zs: float
    zs_truth: float
    snowline: float


def _truth_geobox(path: Path) -> GeoBox:
    with rasterio.open(path) as src:
        return GeoBox(src.shape, src.transform, src.crs.to_wkt())


def truth_zs(*, reference: np.ndarray, dem: np.ndarray, params: SnowParams) -> float:
    """zs by the LIS rule applied to the true snow map: what a perfect pass 1 would give."""
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
    the simulated 50 %-snow line (``snowline``), which is reported beside it.
    """
    dc = dc or connect()
    params = SnowParams()
    with rasterio.open(simulation / "truth" / "dem.tif") as src:
        dem = src.read(1).astype("float64")
        dem[dem == src.nodata] = np.nan
    truth = json.loads((simulation / "truth" / "truth.json").read_text())
    snowlines = {d["date"]: d["snowline_m"] for d in truth["dates"]}
    scores = []
    for day, snowline in sorted(snowlines.items()):
        truth_file = simulation / "truth" / "snow" / f"{day}.tif"
        if not truth_file.exists():
            continue
        with rasterio.open(truth_file) as src:
            reference = src.read(1)
        gbox = _truth_geobox(truth_file)
        for sensor in SENSORS.values():
            found = [d for d in dc.find_datasets(product="snow_cover", time=(day, day))
                     if d.metadata_doc["properties"].get(prop.SENSOR) == sensor.code]
            if not found:
                continue
            data = load("snow_cover", geobox=gbox, time=(day, day), measurements=["snow"], group_by="time", dc=dc)
            data = data.isel(time=[p.split(",")[0] in sensor.platforms for p in data.platform.values])
            if not data.sizes["time"]:
                continue
            product = data.snow.isel(time=0).values
            zs = min(float(d.metadata_doc["properties"][prop.ZS]) for d in found)
            scores.append(DateScore(day=day, sensor=sensor.code, score=score_snow(product=product, reference=reference),
                                    zs=zs, zs_truth=truth_zs(reference=reference, dem=dem, params=params),
                                    snowline=float(snowline)))
    return scores


def format_scores(scores: list[DateScore]) -> str:
    """One line per date and sensor, then the totals of each sensor and of all: accuracy and kappa on clear pixels,
    the share of the truth's clear ground called cloud and of its cloud called snow ("snow on cloud")."""
    header = (f"{'date':10s} {'sensor':6s} {'pixels':>8s} {'accuracy':>8s} {'kappa':>6s} {'clr>cld':>7s} "
              f"{'cld>snw':>7s} {'zs':>6s} {'zs_truth':>8s} {'50%-line':>8s}")
    lines = [header]
    for s in scores:
        lines.append(f"{s.day:10s} {s.sensor:6s} {_figures(s.score)} {s.zs:6.0f} {s.zs_truth:8.0f} {s.snowline:8.0f}")
    groups = {sensor: [s.score for s in scores if s.sensor == sensor] for sensor in dict.fromkeys(s.sensor for s in scores)}
    if len(groups) > 1:
        for sensor, of in groups.items():
            lines.append(f"{'all':10s} {sensor:6s} {_figures(sum(of[1:], of[0]))}")
    if scores:
        lines.append(f"{'all':10s} {'':6s} {_figures(sum((s.score for s in scores[1:]), scores[0].score))}")
    return "\n".join(lines)


def _figures(score: SnowScore) -> str:
    return (f"{score.n:8d} {score.accuracy:8.4f} {score.kappa:6.3f} {score.clear_called_cloud_share:7.2%} "
            f"{score.cloud_called_snow_share:7.2%}")
