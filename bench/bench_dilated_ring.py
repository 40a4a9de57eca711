"""How Landsat's dilated-cloud ring should enter the LIS cloud mask: three ways, on SIMULATED winter scenes.

CFMask grows every cloud by 3 Landsat pixels and flags the ring (QA_PIXEL bit 1). Each winter date of a simulated
world over snowy relief is sampled to its Landsat 30 m grid as the simulator writes it (QA_PIXEL with the ring drawn
in Landsat pixels) and LIS runs on it (rf = 8) with the ring taken

- ``cloud``: as cloud outright (in all_cloud and in the refined cloud mask): snowland before issue 17;
- ``candidate``: in all_cloud (out of pass 1 and the zs histogram) but out of the refined cloud mask, like LIS's
  dark clouds: pass 2 may call it snow, back-to-cloud (red > rB) keeps a bright one cloud; snowland now;
- ``clear``: not a cloud at all (LIS on Collection-1 pixel_qa, which had no ring).

Against the truth it prints, per way: the share of clear ground called cloud (all of it, then the sunlit part: LIS
calls the L2A mask's cloud shadows cloud by design), of snow called cloud, of true cloud called snow ("snow on
cloud"), accuracy and kappa on clear pixels; and Sentinel-2 (SCL, 20 m, the world's own grid) on the same dates for
comparison. No database, no files: the simulator's world in memory.

    .venv/bin/python bench/bench_dilated_ring.py [--seeds 7 11 42] [--size-km 20] [--every-days 4]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np
import xarray as xr

from flows.simulator import sensors as sim_sensors
from flows.simulator.geometry import landsat_grid, utm_epsg, utm_zone
from flows.simulator.scenes import _Sampler
from flows.simulator.world import QA_FILL, build_world, dilated_cloud_ring
from products.sensors import LANDSAT_C2L2, S2_L2A
from products.snow import SnowParams, detect_snow
from products.snow.cloud_masks import CANDIDATE, masks_from_qa_pixel, masks_from_scl
from products.snow.codes import CLOUD, NODATA
from products.snow.validation import score_snow

WAYS = ("cloud", "candidate", "clear")
WINTER = (dt.date(2023, 12, 1), dt.date(2024, 3, 31))


def _da(a: np.ndarray) -> xr.DataArray:
    return xr.DataArray(a, dims=("y", "x"))


def ring_as(masks: xr.Dataset, way: str) -> xr.Dataset:
    """The LIS masks of one scene with the dilated ring taken one of three ways (masks as snowland makes them)."""
    if way == "candidate":
        return masks
    ring = masks[CANDIDATE]
    masks = masks.drop_vars(CANDIDATE)
    return masks if way == "cloud" else masks.assign(all_cloud=masks.all_cloud & ~ring)


def landsat_scene(world, sampler: _Sampler, day: dt.date):
    """Reflectance, QA_PIXEL (with the ring), DEM and truth of one date on the Landsat grid."""
    state = world.state(day)
    bands = {LANDSAT_C2L2.role(r).name: r for r in ("green", "red", "swir16")}
    reflectance = xr.Dataset({
        role: _da(sampler.sample(sim_sensors.landsat_reflectance(state.reflectance, name), np.nan).astype("float32"))
        for name, role in bands.items()})
    qa = dilated_cloud_ring(sampler.sample(state.qa_pixel, QA_FILL))
    dem = _da(sampler.sample(world.terrain.elevation, np.nan).astype("float32"))
    truth = sampler.sample(state.truth, NODATA)
    return state, reflectance, qa, dem, truth


def sunlit(truth: np.ndarray, shadow: np.ndarray) -> np.ndarray:
    """The truth with cloud-shadowed ground left out (255): LIS calls the L2A mask's shadows cloud by design."""
    return np.where(shadow, NODATA, truth)


def _days(every: int) -> list[dt.date]:
    """Winter dates every ``every`` days (the world's weather is drawn per date: any date is a Landsat date here)."""
    return [WINTER[0] + dt.timedelta(days=d) for d in range(0, (WINTER[1] - WINTER[0]).days + 1, every)]


def run(seeds: list[int], size_km: float, every: int) -> dict[str, dict]:
    totals: dict[str, dict] = {}
    for seed in seeds:
        world = build_world(seed=seed, size_km=size_km)
        lon, _ = world.centre_lonlat
        sampler = _Sampler(world, landsat_grid(world.grid, utm_epsg(utm_zone(lon))), None)
        for day in _days(every):
            state, refl, qa, dem, truth = landsat_scene(world, sampler, day)
            cloud_share = float((truth == CLOUD).mean())
            if not 0.02 < cloud_share < 0.9:
                continue  # near-clear or overcast dates say nothing about a ring
            masks = masks_from_qa_pixel(qa_pixel=_da(qa))
            shade = sampler.sample(state.sky.shadow_mask, False)
            for way in WAYS:
                out = detect_snow(reflectance=refl, masks=ring_as(masks, way), dem=dem,
                                  params=SnowParams.for_pixel_size(30)).snow.values
                _add(totals, f"landsat {way}", out, truth, shade)
            s2 = detect_snow(reflectance=xr.Dataset({b: _da(state.band(S2_L2A.measurement(b).aliases[0]))
                                                      for b in ("green", "red", "swir16")}),
                             masks=masks_from_scl(scl=_da(state.scl)), dem=_da(world.terrain.elevation),
                             params=SnowParams.for_pixel_size(20)).snow.values
            _add(totals, "sentinel-2 (SCL)", s2, state.truth, state.sky.shadow_mask)
            ring = float(((qa & 2) > 0).sum() / (qa != QA_FILL).sum())
            totals.setdefault("_dates", []).append((seed, day.isoformat(), round(cloud_share, 3), round(ring, 3)))
    return totals


def _add(totals: dict, key: str, product: np.ndarray, truth: np.ndarray, shadow: np.ndarray) -> None:
    scores = (score_snow(product=product, reference=truth), score_snow(product=product, reference=sunlit(truth, shadow)))
    if key in totals:
        scores = tuple(a + b for a, b in zip(totals[key], scores, strict=True))
    totals[key] = scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 11, 42])
    parser.add_argument("--size-km", type=float, default=20.0)
    parser.add_argument("--every-days", type=int, default=4)
    args = parser.parse_args()
    started = time.perf_counter()
    totals = run(args.seeds, args.size_km, args.every_days)
    dates = totals.pop("_dates")
    print(f"{len(dates)} partly cloudy winter dates (seed, date, true cloud share, ring share of the scene):")
    print("  " + "; ".join(f"{s} {d} {c:.0%} {r:.0%}" for s, d, c, r in dates))
    print(f"{'ring taken as':20s} {'clear px':>9s} {'clear->cloud':>12s} {'sunlit->cloud':>13s} {'snow->cloud':>11s} "
          f"{'cloud->snow':>11s} {'accuracy':>8s} {'kappa':>6s}")
    for key, (all_clear, lit) in totals.items():
        print(f"{key:20s} {all_clear.n + all_clear.clear_called_cloud:9d} {all_clear.clear_called_cloud_share:12.2%} "
              f"{lit.clear_called_cloud_share:13.2%} {all_clear.snow_called_cloud_share:11.2%} "
              f"{all_clear.cloud_called_snow_share:11.2%} {all_clear.accuracy:8.4f} {all_clear.kappa:6.3f}")
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
