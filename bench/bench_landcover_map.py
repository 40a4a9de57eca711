"""The yearly land-cover map's time and peak memory per dask worker at 10 m against 20 m, in one run, and whether
memory is bounded per chunk rather than by area (10 m over the whole world and over a quarter of it).

SIMULATED land-cover world (``--size-km``, Sentinel-2 every ``--every-days``) of two calendar years in a private
index; a yearly model trained on the first year at 20 m (``--max-samples-per-class``, no validation runs), then
the land-cover flow maps the second year with it, as ``snowland land-cover --resolution`` does: 20 m and 10 m over
the whole world, 10 m over its south-west quarter, each sieved to ``--mmu``. Each map runs on the flows' own local cluster (``--workers``
single-threaded worker processes), after a warm-up map; peak memory is the largest resident memory a worker's
monitor sampled during the map. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_landcover_map.py [--size-km 10] [--every-days 30] [--workers 2] [--mmu 1000]
"""

from __future__ import annotations

import argparse
import os
import time

from common import MONITOR_INTERVAL, simulated_index, world_bounds, worker_peak_mb

YEARS = (2023, 2024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-km", type=float, default=10, help="side of the world (default 10)")
    parser.add_argument("--every-days", type=int, default=30, help="Sentinel-2 cadence (default 30)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-samples-per-class", type=int, default=300)
    parser.add_argument("--mmu", type=float, default=1000,
                        help="minimum mapping unit in m² of every map (default 1000, OSO's 0.1 ha; 0: no sieve)")
    args = parser.parse_args()
    os.environ["DASK_DISTRIBUTED__ADMIN__SYSTEM_MONITOR__INTERVAL"] = MONITOR_INTERVAL
    from flows.simulator.scenes import LANDCOVER_CENTRE

    with simulated_index(size_km=args.size_km, start=f"{YEARS[0]}-01-01", end=f"{YEARS[1]}-12-31",
                         centre=LANDCOVER_CENTRE, s2_every_days=args.every_days, l8_every_days=16 * 64) as sim:
        run(sim, workers=args.workers, cap=args.max_samples_per_class, mmu=args.mmu)


def lonlat_box(x0: float, y0: float, x1: float, y1: float) -> list[float]:
    from odc.geo import geom

    box = geom.box(x0, y0, x1, y1, crs="EPSG:3035").to_crs("EPSG:4326").boundingbox
    return [box.left, box.bottom, box.right, box.top]


def run(sim, *, workers: int, cap: int, mmu: float) -> None:
    from flows.pipelines.index import index_scenes
    from flows.pipelines.landcover import land_cover, train_land_cover
    from flows.pipelines.landcover.train import TrainingOptions
    from flows.run.cluster import dask_client

    print(index_scenes(static=[str(sim.catalog)]).summary())
    reference = str(sim.truth.parent / "landcover.gpkg")
    t = time.perf_counter()
    trained = train_land_cover(reference=reference, years=[YEARS[0]], options=TrainingOptions(
        year_column="year", runs=0, resolution_m=20, max_samples_per_class=cap, drop_rare=True))
    model = trained.ids[0]
    print(f"yearly model of {YEARS[0]} at 20 m in {time.perf_counter() - t:.0f} s")
    x0, y0, x1, y1 = world_bounds(sim)
    inner = (x0 + 1, y0 + 1, x1 - 1, y1 - 1)  # the world's own pixels, not the neighbours' edges
    quarter = (inner[0], inner[1], (x0 + x1) / 2, (y0 + y1) / 2)
    runs = [("20 m, whole world", 20, inner), ("10 m, whole world", 10, inner), ("10 m, a quarter", 10, quarter)]
    print(f"{'map':<20} {'Mpx':>6} {'s':>7} {'s/Mpx':>7} {'peak MB/worker':>15}")
    with dask_client(workers=workers) as client:
        os.environ["SNOWLAND_DASK_ADDRESS"] = client.scheduler.address
        land_cover(year=YEARS[1], model=model, bbox=lonlat_box(*quarter), resolution_m=20, overwrite=True)  # warm-up
        for label, resolution, box in runs:
            client.run(worker_peak_mb, reset=True)
            t = time.perf_counter()
            report = land_cover(year=YEARS[1], model=model, bbox=lonlat_box(*box), resolution_m=resolution,
                                min_mapping_unit_m2=mmu, overwrite=True)
            seconds = time.perf_counter() - t
            peak = max(client.run(worker_peak_mb).values())
            mpx = (box[2] - box[0]) * (box[3] - box[1]) / resolution**2 / 1e6
            failed = f" ({len(report.failed)} failed)" if report.failed else ""
            print(f"{label:<20} {mpx:6.2f} {seconds:7.1f} {seconds / mpx:7.1f} {peak:15.0f}{failed}", flush=True)
        os.environ.pop("SNOWLAND_DASK_ADDRESS", None)
    print(f"load average {open('/proc/loadavg').read().split()[:3]}")


if __name__ == "__main__":
    main()
