"""Which true-cloud pixels LIS calls snow ("snow on cloud"), per sensor, on the same SIMULATED dates, with shaded snow on.

The tests' world (seed 7, 12 km, across 6 E) on its Landsat-8 dates: Landsat-8 on its 30 m grid (QA_PIXEL with
CFMask's ring), Landsat-8 brought to the EEA 20 m grid as the snow flow loads it (bilinear reflectance, nearest
QA_PIXEL), and Sentinel-2 (SCL) on the world's 20 m grid, all on the same dates, each with the relief shadow of its
own DEM grid and the day's sun. For each, the share of the true cloud called snow, split by how LIS called it
(pass 1, pass 2, the shaded-snow test alone), where it lies (relief shadow, the simulator's cast shadow, the
dilated ring) and what is under it (true ground snow; cloud opacity and brightness), and per date. No database.

    .venv/bin/python bench/bench_snow_on_cloud.py [--seed 7] [--size-km 12] [--s2-dates]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np
import xarray as xr
from rasterio.crs import CRS
from rasterio.transform import Affine
from rasterio.warp import Resampling, reproject

from flows.simulator import sensors as sim_sensors
from flows.simulator.atmosphere import CIRRUS_MIN
from flows.simulator.geometry import landsat_grid, utm_epsg, utm_zone
from flows.simulator.scenes import _Sampler
from flows.simulator.world import QA_FILL, build_world, dilated_cloud_ring
from products.sensors import LANDSAT_C2L2, S2_L2A
from products.snow import SnowBit, SnowParams, detect_snow
from products.snow.cloud_masks import CANDIDATE, masks_from_qa_pixel, masks_from_scl
from products.snow.codes import CLOUD, NODATA, SNOW
from products.terrain import relief_shadow

TESTS_CENTRE = (4_006_000.0, 2_440_000.0)  # tests/conftest.py SIM_CENTRE
WINTER = (dt.date(2023, 12, 1), dt.date(2024, 3, 31))
ROLES = ("green", "red", "swir16", "blue", "nir")


def _da(a: np.ndarray) -> xr.DataArray:
    return xr.DataArray(a, dims=("y", "x"))


def _to_grid(a: np.ndarray, src, dst, how: Resampling, fill) -> np.ndarray:
    out = np.full(dst.shape, fill, dtype=a.dtype)
    reproject(a, out, src_transform=Affine(*src.transform), src_crs=CRS.from_epsg(src.epsg), src_nodata=fill,
              dst_transform=Affine(*dst.transform), dst_crs=CRS.from_epsg(dst.epsg), dst_nodata=fill, resampling=how)
    return out


def cases(world, sampler: _Sampler, day: dt.date) -> dict[str, tuple]:
    """Per sensor: reflectance, masks, DEM, pixel size, truth, ground snow, cloud opacity x brightness, cast shadow."""
    state = world.state(day)
    refl30 = {r: sampler.sample(sim_sensors.landsat_reflectance(state.reflectance, LANDSAT_C2L2.role(r).name),
                                np.nan).astype("float32") for r in ROLES}
    qa30 = dilated_cloud_ring(sampler.sample(state.qa_pixel, QA_FILL))
    lg, wg = sampler.grid, world.grid
    ground = world.ground_snow(day)
    cloud_top = state.sky.opacity * state.sky.brightness
    on_world = (world.terrain.elevation.astype("float32"), 20, state.truth, ground, cloud_top, state.cast_shadow)
    return {
        "l8 30 m": (xr.Dataset({r: _da(v) for r, v in refl30.items()}), masks_from_qa_pixel(qa_pixel=_da(qa30)),
                    sampler.sample(world.terrain.elevation, np.nan).astype("float32"), 30,
                    sampler.sample(state.truth, NODATA), sampler.sample(ground, False),
                    sampler.sample(cloud_top, 0.0), sampler.sample(state.cast_shadow, False)),
        "l8 on EEA 20 m": (xr.Dataset({r: _da(_to_grid(v, lg, wg, Resampling.bilinear, np.float32(np.nan)))
                                       for r, v in refl30.items()}),
                           masks_from_qa_pixel(qa_pixel=_da(_to_grid(qa30, lg, wg, Resampling.nearest,
                                                                     np.uint16(QA_FILL)))), *on_world),
        "s2 20 m": (xr.Dataset({r: _da(state.band(S2_L2A.measurement(r).aliases[0])) for r in ROLES}),
                    masks_from_scl(scl=_da(state.scl)), *on_world),
    }, state


def tally(totals: dict, key: str, *, masks: xr.Dataset, out: xr.Dataset, truth, ground, cloud_top, cast,
          shadow) -> tuple[int, int]:
    snow, bits = out.snow.values == SNOW, out.snow_bits.values
    cloud = truth == CLOUD
    bad = cloud & snow
    ring = masks[CANDIDATE].values if CANDIDATE in masks else np.zeros_like(bad)
    parts = {
        "true cloud": cloud, "called snow": bad,
        "  by pass 1": bad & ((bits & SnowBit.PASS1_SNOW) > 0),
        "  by pass 2": bad & ((bits & SnowBit.PASS2_SNOW) > 0),
        "  by the shaded-snow test alone": bad & ((bits & SnowBit.SHADED_SNOW) > 0),
        "  in all_cloud, out of the refined mask": bad & masks.all_cloud.values & ((bits & SnowBit.CLOUD_REFINE) == 0),
        "  out of the L2A cloud mask": bad & ~masks.all_cloud.values,
        "  in the dilated ring": bad & ring,
        "  in relief shadow (any bit)": bad & (shadow != 0),
        "  in the simulator's cast shadow": bad & cast,
        "  over true ground snow": bad & ground,
        "  opacity x brightness < 0.3": bad & (cloud_top < 0.3),
    }
    row = totals.setdefault(key, {})
    for name, mask in parts.items():
        row[name] = row.get(name, 0) + int(mask.sum())
    return int(cloud.sum()), int(bad.sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--size-km", type=float, default=12.0)
    parser.add_argument("--s2-dates", action="store_true", help="the Sentinel-2 calendar (every 20 days) instead")
    args = parser.parse_args()
    started = time.perf_counter()
    world = build_world(seed=args.seed, size_km=args.size_km, centre=TESTS_CENTRE)
    lon, _ = world.centre_lonlat
    sampler = _Sampler(world, landsat_grid(world.grid, utm_epsg(utm_zone(lon))), None)
    days = ([d for d, _ in sim_sensors.s2_calendar(*WINTER, 20)] if args.s2_dates
            else sim_sensors.landsat_calendar(*WINTER, 16))
    totals: dict[str, dict[str, int]] = {}
    print(f"{'date':10s} {'sun el':>6s} " + " ".join(f"{k:>24s}" for k in ("l8 30 m", "l8 on EEA 20 m", "s2 20 m")))
    for day in days:
        by_sensor, state = cases(world, sampler, day)
        line = f"{day.isoformat():10s} {90 - state.sun_zenith:6.1f} "
        for key, (refl, masks, dem, pixel, truth, ground, cloud_top, cast) in by_sensor.items():
            shadow = relief_shadow(dem=np.nan_to_num(dem, nan=float(np.nanmedian(dem))), pixel_size=pixel,
                                   sun_azimuth=state.sun_azimuth, sun_elevation=90.0 - state.sun_zenith)
            out = detect_snow(reflectance=refl, masks=masks, dem=_da(dem), params=SnowParams.for_pixel_size(pixel),
                              relief_shadow=_da(shadow))
            cloud, bad = tally(totals, key, masks=masks, out=out, truth=truth, ground=ground, cloud_top=cloud_top,
                               cast=cast, shadow=shadow)
            line += f"{bad:8d} / {cloud:7d} {bad / cloud if cloud else float('nan'):6.2%} "
        print(line, flush=True)
    print(f"\ntotals over the dates (share of the true cloud; cirrus-only truth is {CIRRUS_MIN} cirrus and up)")
    names = list(next(iter(totals.values())))
    print(f"{'':42s}" + "".join(f"{k:>16s}" for k in totals))
    for name in names:
        print(f"{name:42s}" + "".join(f"{row[name] / row['true cloud']:16.2%}" for row in totals.values()))
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
