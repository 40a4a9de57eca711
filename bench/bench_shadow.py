"""Shaded-snow benchmark: the relief shadow of a unit (hillshade + cast shadows by one sweep) against LIS itself.

Pure compute, in this process, on one core's worth of numpy: a SIMULATED 20 km world's December state (low sun,
long shadows), mirrored into a larger square so that the terrain stays continuous, then LIS (``detect_snow``) run
on numpy-backed arrays without the shaded-snow test, and with it given the relief shadow. The unit's loading and
writing are left out (``bench_snow.py`` measures them: LIS is about half a unit's time there), so the ratio
printed is an upper bound of what the shadow adds to a snow unit. The three are timed in turn, best of 3 each (a
busy machine slows one round, not all). Prints a table; asserts nothing.

    .venv/bin/python bench/bench_shadow.py [--side-px 3000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np


def best_in_turn(runs: dict, rounds: int = 3) -> dict[str, float]:
    """Each run's best time, the runs taking turns."""
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(rounds):
        for name, run in runs.items():
            t = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - t)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--side-px", type=int, default=3000, help="side of the unit in 20 m pixels (a cell: 5000)")
    args = parser.parse_args()

    import xarray as xr

    from flows.simulator.spectra import BANDS
    from flows.simulator.world import build_world
    from products.snow import SnowParams, detect_snow
    from products.terrain import relief_shadow

    world = build_world(42, 20.0)
    state = world.state(dt.date(2023, 12, 27))
    n = args.side_px

    def grow(a: np.ndarray) -> np.ndarray:
        reps = -(-n // a.shape[0])
        return np.pad(a, ((0, (reps - 1) * a.shape[0]), (0, (reps - 1) * a.shape[1])), mode="symmetric")[:n, :n]

    def da(a: np.ndarray) -> xr.DataArray:
        return xr.DataArray(grow(a), dims=("y", "x"))

    dem = grow(world.terrain.elevation)
    bands = {"green": "B03", "red": "B04", "swir16": "B11", "blue": "B02", "nir": "B08"}
    reflectance = xr.Dataset({k: da(state.reflectance[BANDS.index(b)]) for k, b in bands.items()})
    masks = xr.Dataset({"all_cloud": da(state.sky.cloud | state.sky.shadow_mask), "shadow": da(state.sky.shadow_mask),
                        "high_cloud": da(state.sky.cirrus_mask)})
    sun = {"sun_azimuth": state.sun_azimuth, "sun_elevation": 90.0 - state.sun_zenith}

    bits = relief_shadow(dem=dem, pixel_size=20.0, **sun)
    elevation, shade = xr.DataArray(dem, dims=("y", "x")), xr.DataArray(bits, dims=("y", "x"))
    best = best_in_turn({
        "shadow": lambda: relief_shadow(dem=dem, pixel_size=20.0, **sun),
        "lis": lambda: detect_snow(reflectance=reflectance, masks=masks, dem=elevation,
                                   params=SnowParams(detect_shaded_snow=False)).snow.values,
        "lis_shaded": lambda: detect_snow(reflectance=reflectance, masks=masks, dem=elevation,
                                          relief_shadow=shade).snow.values,
    })
    shadow_s, without_s, with_s = best["shadow"], best["lis"], best["lis_shaded"]
    mpx = n * n / 1e6
    print(f"\nrelief shadow vs LIS on a {n} x {n} px unit ({mpx:.1f} Mpx), SIMULATED 2023-12-27, sun "
          f"{sun['sun_elevation']:.1f} deg high at {sun['sun_azimuth']:.0f} deg; {100 * (bits != 0).mean():.0f} % of "
          f"it in relief shadow (best of 3 in turn, s)")
    print(f"{'shadow':>8} {'LIS':>8} {'LIS+shaded':>10} {'shadow/LIS':>10} {'(LIS+shaded+shadow)/LIS':>24}")
    print(f"{shadow_s:8.2f} {without_s:8.2f} {with_s:10.2f} {shadow_s / without_s:10.2f} "
          f"{(with_s + shadow_s) / without_s:24.2f}")


if __name__ == "__main__":
    main()
