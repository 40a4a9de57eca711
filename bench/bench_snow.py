"""Snow benchmark: one cell-day of Let-It-Snow (load, compute, write COGs, index) against only loading it.

Both run in the same process on the same unit, on a local dask cluster of one single-threaded worker per
core; the baseline loads and reprojects the same bands (green, red, swir16, SCL and the DEM) and nothing
else. SIMULATED scenes, 40 km by default (a 100 km cell at 20 m is 25 Mpx: --size-km 100 measures it whole,
slowly). Prints figures; asserts nothing.

    .venv/bin/python bench/bench_snow.py [--size-km 40]
"""

from __future__ import annotations

import argparse
import time

from common import peak_rss_mb, simulated_index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-km", type=float, default=40)
    args = parser.parse_args()
    with simulated_index(size_km=args.size_km, start="2024-01-10", end="2024-01-20") as sim:
        run(sim)


def run(sim) -> None:
    import dask

    from flows.cluster import dask_client, local_worker_count
    from flows.cube import connect, load, write_dataset
    from flows.index import index_scenes
    from flows.snow import REFLECTANCE, SnowParams, _day_datasets, _footprint_geobox, compute_snow_cover, find_snow_jobs
    from flows.grid import Cell

    index_scenes(static=[str(sim.catalog)])
    dc = connect()
    jobs = [j for j in find_snow_jobs(time=("2024-01-10", "2024-01-20"), products=["s2_l2a"], dc=dc)]
    job = max(jobs, key=lambda j: len(_day_datasets(dc, j.product, Cell.parse(j.cell), j.day)))
    gbox = _footprint_geobox(Cell.parse(job.cell), _day_datasets(dc, job.product, Cell.parse(job.cell), job.day))
    mpx = gbox.shape[0] * gbox.shape[1] / 1e6
    cores = local_worker_count()
    print(f"unit {job.key}: {gbox.shape[0]} x {gbox.shape[1]} px = {mpx:.1f} Mpx at 20 m on {cores} workers")
    with dask_client(workers=cores) as client:
        load("s2_l2a", geobox=gbox, measurements=["red"], time=(job.day, job.day), dc=dc).red[0, :8, :8].compute()

        def load_only() -> None:
            data = load("s2_l2a", geobox=gbox, time=(job.day, job.day), measurements=[*REFLECTANCE, "scl"], dc=dc)
            dem = load("dem_cop30", geobox=gbox, dc=dc)
            dask.compute(data, dem)

        def snow() -> None:
            out = compute_snow_cover(job, params=SnowParams.for_pixel_size(20), dc=dc)
            write_dataset(out.bands, geobox=out.geobox, product="snow_cover", key=job.key, region=job.cell,
                          when=f"{job.day}T10:00:00Z", sources=out.lineage, properties=out.properties,
                          overwrite=True, dc=dc)

        timings = {}
        for name, fn in (("load only", load_only), ("snow", snow), ("load only", load_only), ("snow", snow)):
            t = time.perf_counter()
            fn()
            timings.setdefault(name, []).append(time.perf_counter() - t)
        peak = max(client.run(peak_rss_mb).values())
    best = {k: min(v) for k, v in timings.items()}
    for name, seconds in best.items():
        print(f"{name:10s}: {seconds:6.2f} s = {mpx / seconds / cores:.2f} Mpx/s/core (best of 2)")
    print(f"snow throughput / load-only throughput: {best['load only'] / best['snow']:.2f} (goal >= 0.5)")
    print(f"peak memory per worker: {peak:.0f} MB; the unit's inputs are {mpx * 1e6 * 17 / 2**20:.0f} MB "
          "(3 float32 bands, SCL, float32 DEM)")


if __name__ == "__main__":
    main()
