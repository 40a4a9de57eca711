"""Daily snow map benchmark: one cell-day of snow_daily against one snow-cover unit on the same cell, in one run.

Both run as their flows run a unit: whole, on one single-threaded worker of a local dask cluster. The snow unit is
the day's Sentinel-2 unit (load, LIS, COGs, index); the daily map is timed two ways: continued from the day before
(its map read back from its COGs, plus the day's scene products; what the daily schedule does) and rebuilt from the
whole window (the day before missing). The three alternate (snow, daily, rebuild, snow, daily, ...) so that a
change of the machine's load reaches each alike; best of ``--repeat`` each, with the peak memory of the busiest
worker. SIMULATED scenes; asserts nothing.

    .venv/bin/python bench/bench_snow_daily.py [--size-km 20] [--repeat 3] [--profile]
"""

from __future__ import annotations

import argparse
import os
import time

from common import MONITOR_INTERVAL, profile_unit, simulated_index, worker_peak_mb

PERIOD = ("2024-01-10", "2024-01-20")
DAY = "2024-01-15"  # a Sentinel-2 day of the simulated calendar: the map reads a scene product


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-km", type=float, default=20, help="side of the simulated area in km")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side, alternating (best of them)")
    parser.add_argument("--profile", action="store_true",
                        help="then profile one daily cell-day from D-1 in this process (synchronous dask, no cluster)")
    parser.add_argument("--profile-out", help="with --profile, also write the profile's statistics to this file")
    args = parser.parse_args()
    os.environ.setdefault("DASK_DISTRIBUTED__ADMIN__SYSTEM_MONITOR__INTERVAL", MONITOR_INTERVAL)
    with simulated_index(size_km=args.size_km, start=PERIOD[0], end=PERIOD[1]) as sim:
        run(sim, size_km=args.size_km, repeat=args.repeat, profile=args.profile, profile_out=args.profile_out)


def run(sim, *, size_km: float, repeat: int = 3, profile: bool = False,
        profile_out: str | None = None) -> None:
    import datetime as dt

    from flows.pipelines.index import index_scenes
    from flows.pipelines.snow_cover import SnowParams, find_snow_jobs, snow_cover, snow_cover_unit
    from flows.pipelines.snow_daily import CellDays, snow_daily, snow_daily_unit
    from flows.run.cluster import dask_client
    from flows.run.fanout import on_cluster
    from flows.simulator.scenes import TCD_FILE
    from flows.storage.eo3 import dataset_id
    from flows.storage.index import connect

    index_scenes(static=[str(sim.catalog)], tcd=[str(sim.out_dir / TCD_FILE)])
    dc = connect()
    job = next(j for j in find_snow_jobs(time=(DAY, DAY), products=["s2_l2a"], dc=dc))
    day = dt.date.fromisoformat(DAY)
    with dask_client(workers=2) as client:
        snow_cover(start=PERIOD[0], end=PERIOD[1], cells=[job.cell])
        snow_daily(start=PERIOD[0], end=DAY, cells=[job.cell])
        shape = CellDays(job.cell, start=day, end=day, window_days=7, resolution=20.0, dc=dc).geobox.shape
        print(f"{size_km:g} km: cell-day {job.cell}/{DAY}, daily map {shape[0]} x {shape[1]} px at 20 m; snow unit "
              f"{job.key}")
        params = SnowParams.for_pixel_size(20).to_dict()
        daily = {"cell": job.cell, "start": DAY, "end": DAY, "window_days": 7, "resolution": 20.0, "overwrite": True}
        before = dataset_id("snow_daily", f"{job.cell}/{(day - dt.timedelta(days=1)).isoformat()}")
        client.run(worker_peak_mb, reset=True)
        timings: dict[str, list[float]] = {}
        peaks: dict[str, float] = {}
        for name in ("snow", "daily", "rebuild") * repeat:
            if name == "rebuild":
                dc.index.datasets.archive([before])
                dc.index.datasets.purge([before])
            t = time.perf_counter()
            if name == "snow":
                on_cluster(snow_cover_unit, job, params=params, resolution=20.0, overwrite=True)
            else:
                on_cluster(snow_daily_unit, **daily)
            timings.setdefault(name, []).append(time.perf_counter() - t)
            peaks[name] = max(peaks.get(name, 0.0), *client.run(worker_peak_mb, reset=True).values())
            if name == "rebuild":
                snow_daily(start=(day - dt.timedelta(days=1)).isoformat(), end=(day - dt.timedelta(days=1)).isoformat(),
                           cells=[job.cell])
    if profile:
        profile_unit(snow_daily_unit, out=profile_out, **daily)
    best = {k: min(v) for k, v in timings.items()}
    print(f"\nbest of {repeat}, alternating, on one single-threaded worker; MB: largest RSS of the busiest worker "
          f"sampled every {MONITOR_INTERVAL}")
    print(f"{'unit':34s} {'s':>7s} {'/ snow':>7s} {'peak MB':>8s}")
    for name, label in (("snow", "snow_cover unit (Sentinel-2)"), ("daily", "snow_daily cell-day, from D-1"),
                        ("rebuild", "snow_daily cell-day, from window")):
        print(f"{label:34s} {best[name]:7.2f} {best[name] / best['snow']:7.3f} {peaks[name]:8.0f}")
    print("goal: the daily cell-day (from D-1) at most 0.25 of the snow unit")


if __name__ == "__main__":
    main()
