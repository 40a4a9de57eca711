"""Snow benchmark: one cell-day of Let-It-Snow (load, compute, write COGs, index) against only loading it.

Both run as the snow flow runs a unit: whole, on one single-threaded worker of a local dask cluster (one
worker per core), so throughput is per core; the same unit is timed ``--repeat`` times each, in turn, best of them,
in wall time and in the workers' CPU seconds (which other jobs' load on a shared machine moves less). The
baseline loads and reprojects the inputs the unit reads (green, red, swir16, SCL; blue and NIR and the DEM with
its margin for the relief shadow when the shaded-snow test runs, as by default; the DEM and the tree cover density)
and nothing else. SIMULATED scenes; each area size gets its own index and a fresh cluster, so the
peak memory per worker is that size's. A 100 km cell at 20 m is 25 Mpx: ``--sizes 100`` measures it whole,
slowly. Prints a table; asserts nothing. ``--profile``: then a profile of one unit of the last size in the bench's
process (synchronous dask) and its SQL statements.

    .venv/bin/python bench/bench_snow.py [--sizes 20 40] [--profile] [--profile-out FILE]
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass

from common import MONITOR_INTERVAL, profile_unit, simulated_index, worker_peak_mb

INPUT_BYTES_PER_PIXEL = 5 * 4 + 1 + 4 + 1  # green, red, swir16, blue, NIR float32, SCL, DEM float32, TCD
GDAL_CACHE_MB = "256"  # GDAL's block cache per worker; its default (5 % of RAM) fills with whatever is read


@dataclass(frozen=True)
class Row:
    size_km: float
    shape: tuple[int, int]
    load_s: float
    snow_s: float
    load_cpu_s: float
    snow_cpu_s: float
    chunk: int
    idle_mb: float
    load_peak_mb: float  # the baseline returns the unit's arrays whole, so this one follows the unit
    peak_mb: float

    @property
    def mpx(self) -> float:
        return self.shape[0] * self.shape[1] / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=float, nargs="+", default=[20, 40], help="area sides in km")
    parser.add_argument("--repeat", type=int, default=2, help="timed runs of each, alternating (best of them)")
    parser.add_argument("--profile", action="store_true",
                        help="then profile one unit of the last size in this process (synchronous dask, no cluster)")
    parser.add_argument("--profile-out", help="with --profile, also write the profile's statistics to this file")
    args = parser.parse_args()
    os.environ.setdefault("GDAL_CACHEMAX", GDAL_CACHE_MB)  # worker processes inherit these
    os.environ.setdefault("DASK_DISTRIBUTED__ADMIN__SYSTEM_MONITOR__INTERVAL", MONITOR_INTERVAL)
    rows = []
    for size in args.sizes:
        with simulated_index(size_km=size, start="2024-01-10", end="2024-01-20") as sim:
            rows.append(run(sim, size_km=size, repeat=args.repeat, profile=args.profile and size == args.sizes[-1],
                            profile_out=args.profile_out))
        print_table(rows)  # so far: a later size may be slow or fail


def run(sim, *, size_km: float, repeat: int = 2, profile: bool = False, profile_out: str | None = None) -> Row:
    from flows.pipelines.index import index_scenes
    from flows.pipelines.snow_cover import (
        CHUNK,
        SnowParams,
        day_datasets,
        find_snow_jobs,
        snow_cover_unit,
    )
    from flows.run.cluster import dask_client, local_worker_count
    from flows.run.fanout import on_cluster
    from flows.simulator.scenes import TCD_FILE
    from flows.storage.grid import Cell, aligned_geobox, footprint
    from flows.storage.index import connect

    index_scenes(static=[str(sim.catalog)], tcd=[str(sim.out_dir / TCD_FILE)])
    dc = connect()
    jobs = find_snow_jobs(time=("2024-01-10", "2024-01-20"), products=["s2_l2a"], dc=dc)
    job = max(jobs, key=lambda j: len(day_datasets(dc, j.product, Cell.parse(j.cell), j.day)))
    cell = Cell.parse(job.cell)
    gbox = aligned_geobox(footprint(day_datasets(dc, job.product, cell, job.day), within=cell.geometry), resolution=20)
    params = SnowParams.for_pixel_size(20).to_dict()
    cores = local_worker_count()
    print(f"{size_km:g} km: unit {job.key}, {gbox.shape[0]} x {gbox.shape[1]} px at 20 m, run whole on one of "
          f"{cores} single-threaded workers, as the flow runs it")
    with dask_client(workers=cores) as client:
        on_cluster(load_only, job, gbox)  # warm-up: imports, GDAL, the index connection
        idle = max(client.run(worker_peak_mb, reset=True).values())
        timings: dict[str, list[float]] = {}
        cpu: dict[str, list[float]] = {}
        peaks: dict[str, float] = {}
        for name in ("load", "snow") * repeat:
            cpu_before = sum(client.run(process_cpu_s).values())
            t = time.perf_counter()
            if name == "load":
                on_cluster(load_only, job, gbox)
            else:
                on_cluster(snow_cover_unit, job, params=params, resolution=20.0, overwrite=True)
            timings.setdefault(name, []).append(time.perf_counter() - t)
            cpu.setdefault(name, []).append(sum(client.run(process_cpu_s).values()) - cpu_before)
            peaks[name] = max(peaks.get(name, 0.0), *client.run(worker_peak_mb, reset=True).values())
    if profile:
        profile_unit(snow_cover_unit, out=profile_out, job=job, params=params, resolution=20.0, overwrite=True)
    return Row(size_km=size_km, shape=tuple(gbox.shape), load_s=min(timings["load"]),
               snow_s=min(timings["snow"]), load_cpu_s=min(cpu["load"]), snow_cpu_s=min(cpu["snow"]), chunk=CHUNK,
               idle_mb=idle, load_peak_mb=peaks["load"],
               peak_mb=peaks["snow"])


def process_cpu_s() -> float:
    """CPU seconds of this (worker) process so far, all its threads."""
    return time.process_time()


def load_only(job, gbox) -> None:
    """The baseline, on a worker as a unit runs: load and reproject the inputs the snow unit reads, nothing else."""
    import dask

    from flows.pipelines.snow_cover import (
        CHUNK,
        SENSORS,
        SnowParams,
        day_datasets,
        shaded_snow_inputs,
        shadow_margin,
    )
    from flows.storage.grid import Cell
    from flows.storage.index import connect
    from flows.storage.load import load
    from products.sensors import needs

    dc = connect()
    sensor = SENSORS[job.product]
    sources = day_datasets(dc, job.product, Cell.parse(job.cell), job.day)
    sun, _ = shaded_snow_inputs(sources, sensor=sensor, params=SnowParams.for_pixel_size(20))
    bands = list(needs("snow", sensor)) + (list(needs("shaded_snow", sensor)) if sun else [])
    data = load(job.product, geobox=gbox, measurements=bands, datasets=sources, chunks=CHUNK, dc=dc)
    dems = [load("dem_cop30", geobox=gbox, chunks=CHUNK, dc=dc)]
    if sun:
        dems.append(load("dem_cop30", geobox=gbox.pad(shadow_margin(gbox, sun=sun)), chunks=CHUNK, dc=dc))
    tcd = load("tcd", geobox=gbox, resampling="nearest", chunks=CHUNK, dc=dc)
    dask.compute(data, *dems, tcd)


def print_table(rows: list[Row]) -> None:
    print("\nsnow cell-day vs load only (best of --repeat each; Mpx/s/core; CPU s of the workers; MB: largest RSS "
          "sampled every "
          f"{MONITOR_INTERVAL} on the busiest worker, after a warm-up (idle), during the load-only runs and during "
          "the snow runs)")
    header = (f"{'area':>6} {'pixels':>11} {'Mpx':>5} {'load s':>7} {'snow s':>7} {'load':>6} {'snow':>6} "
              f"{'ratio':>6} {'load cpu':>8} {'snow cpu':>8} {'ratio':>6} {'inputs MB':>9} {'idle MB':>8} {'load MB':>8} "
              f"{'snow MB':>8}")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r.size_km:>4g}km {r.shape[0]:>5}x{r.shape[1]:<5} {r.mpx:>5.1f} {r.load_s:>7.2f} {r.snow_s:>7.2f} "
              f"{r.mpx / r.load_s:>6.2f} {r.mpx / r.snow_s:>6.2f} {r.load_s / r.snow_s:>6.2f} "
              f"{r.load_cpu_s:>8.2f} {r.snow_cpu_s:>8.2f} {r.load_cpu_s / r.snow_cpu_s:>6.2f} "
              f"{r.mpx * INPUT_BYTES_PER_PIXEL:>9.0f} {r.idle_mb:>8.0f} {r.load_peak_mb:>8.0f} {r.peak_mb:>8.0f}")
    print(f"ratio = snow throughput / load-only throughput, in wall time then in CPU seconds (goal >= 0.8, floor 0.65: "
          f"issue 21). Chunks are {rows[0].chunk} px, GDAL's cache "
          f"{os.environ['GDAL_CACHEMAX']} MB per worker; inputs MB is the unit's loaded bands, which the snow peak per worker "
          "should not follow.")


if __name__ == "__main__":
    main()
