"""Cube benchmark: indexing rate and load-and-reproject throughput, against a read-only baseline.

Runs on its own throw-away PostGIS cluster and SIMULATED scenes (20 km, Jan-Feb 2024 by default), on a
local dask cluster of one single-threaded worker per core. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_cube.py [--size-km 20] [--start 2024-01-01] [--end 2024-02-29] [--profile]

The indexing figures need more items than the default's 14: ``--size-km 10 --end 2024-12-31`` gives about 60.
``--profile``: instead of the figures, where indexing's time goes (reading the catalog, building the documents,
adding them) in this process's CPU, with the costliest calls of each and the SQL statements of the add.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

from common import MONITOR_INTERVAL, simulated_index, worker_peak_mb, world_bounds


def _read_band(href: str) -> int:
    """Baseline: read one band at its native grid, no reprojection; returns the pixel count."""
    import rasterio

    with rasterio.open(href) as src:
        return int(src.read(1).size)


BUILD_ROUNDS = 3


def _built_all(items: list, check: str) -> None:
    """Every item's document, built as the indexer builds them (its threads, one GDAL environment each), not added."""
    from concurrent.futures import ThreadPoolExecutor

    from flows.pipelines.index import BUILD_THREADS, _built
    from flows.storage.sources.stac import HeaderChecks, item_to_eo3

    checks = HeaderChecks(every=check == "all")
    with ThreadPoolExecutor(BUILD_THREADS) as pool:
        built = list(pool.map(_built, [lambda item=item: item_to_eo3(item, verify=checks) for item in items]))
    if any(isinstance(b, Exception) for b in built):
        raise next(b for b in built if isinstance(b, Exception))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-km", type=float, default=20)
    parser.add_argument("--start", default="2024-01-01")
    parser.add_argument("--end", default="2024-02-29")
    parser.add_argument("--profile", action="store_true", help="profile indexing's parts instead of the figures")
    args = parser.parse_args()
    os.environ.setdefault("DASK_DISTRIBUTED__ADMIN__SYSTEM_MONITOR__INTERVAL", MONITOR_INTERVAL)
    with simulated_index(size_km=args.size_km, start=args.start, end=args.end) as sim:
        profile_indexing(sim) if args.profile else run(sim)


def profile_indexing(sim, *, lines: int = 25) -> None:
    """Indexing's parts one after the other, each profiled in this thread (cProfile sees one thread; the indexer
    builds on several): reading the catalog, building each document, adding them in one transaction (with its SQL
    statements), after a warm-up as the figures have."""
    import cProfile
    import pstats
    from collections import Counter

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from flows.pipelines.index import _added, _built, index_items, read_static_items
    from flows.storage.index import connect
    from flows.storage.sources.stac import HeaderChecks, item_to_eo3

    def profiled(what: str, call):
        profiler = cProfile.Profile(time.process_time)  # CPU time: on a shared machine wall time blames at random
        t, cpu = time.perf_counter(), time.process_time()
        result = profiler.runcall(call)
        wall, cpu = time.perf_counter() - t, time.process_time() - cpu
        print(f"\n=== {what}: {wall:.3f} s wall, {cpu:.3f} CPU-s")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(lines)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(lines)
        return result

    items = profiled("reading the catalog", lambda: list(read_static_items(sim.catalog)))
    warm = list({(item.collection_id, item.properties.get("proj:epsg")): item for item in items}.values())
    index_items.fn(warm)
    timed = [i for i in items if i not in warm]
    checks = HeaderChecks()
    built = profiled(f"building {len(timed)} documents (header sample), one by one",
                     lambda: [_built(lambda item=item: item_to_eo3(item, verify=checks)) for item in timed])
    statements: list[str] = []
    event.listen(Engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *a: statements.append(" ".join(statement.split())[:100]))
    index = connect().index
    profiled(f"adding {len(timed)} documents in one transaction",
             lambda: _added(index, [f"{i.collection_id}/{i.id}" for i in timed], built))
    print(f"{len(statements)} SQL statements:")
    for text, n in Counter(statements).most_common():
        print(f"{n:4d}  {text}")


def run(sim) -> None:
    from odc.geo import geom

    from flows.pipelines.index import ADD_BATCH, BUILD_THREADS, index_items, index_scenes, read_static_items
    from flows.run.cluster import dask_client, local_worker_count
    from flows.storage.grid import EEA_CRS
    from flows.storage.index import connect
    from flows.storage.load import load
    from products.sensors import S2_L2A, needs

    t = time.perf_counter()
    items = list(read_static_items(sim.catalog))
    print(f"reading the catalog: {len(items)} items in {time.perf_counter() - t:.2f} s (not in the indexing figures)")
    # warm-up: the index's connection, its products, the projections from each CRS to its spatial indexes
    warm = list({(item.collection_id, item.properties.get("proj:epsg")): item for item in items}.values())
    index_items.fn(warm)
    timed = [i for i in items if i not in warm]
    best: dict[str, tuple[float, float]] = {}
    for _ in range(BUILD_ROUNDS):  # building the documents alone, paired on the same items, in turn
        for check in ("all", "sample"):
            t, cpu = time.perf_counter(), time.process_time()
            _built_all(timed, check)
            wall, cpu = time.perf_counter() - t, time.process_time() - cpu
            best[check] = tuple(min(a, b) for a, b in zip(best.get(check, (wall, cpu)), (wall, cpu), strict=True))
    for check, (wall, cpu) in best.items():
        print(f"documents built (not added), band headers checked: {check}, best of {BUILD_ROUNDS}: {len(timed)} in "
              f"{wall:.2f} s = {len(timed) / wall:.1f} /s; {len(timed) / cpu:.1f} per CPU-s")
    print(f"sampled / every header: {best['all'][0] / best['sample'][0]:.2f}x wall, "
          f"{best['all'][1] / best['sample'][1]:.2f}x CPU")
    t, cpu = time.perf_counter(), time.process_time()
    report = index_items.fn(timed)
    direct, cpu = time.perf_counter() - t, time.process_time() - cpu
    print(f"indexing (indexer only, warm, documents built on {BUILD_THREADS} threads "
          f"while the previous batch of up to {ADD_BATCH} is added; "
          f"band headers {report.details['band headers']}): {len(report.written)} datasets in {direct:.2f} s = "
          f"{len(report.written) / direct:.1f} datasets/s; {cpu:.2f} CPU-s in this process = "
          f"{len(report.written) / cpu:.1f} datasets per CPU-s (load average {os.getloadavg()[0]:.1f})")
    t = time.perf_counter()
    again = index_scenes(static=[str(sim.catalog)])
    flow_s = time.perf_counter() - t
    print(f"re-indexing through the Prefect flow (all already there: {len(again.exists)} of {len(items)}): "
          f"{flow_s:.2f} s = {len(again.exists) / flow_s:.1f} datasets/s (includes Prefect start-up)")

    cores = local_worker_count()
    x0, y0, x1, y1 = world_bounds(sim)
    area = geom.box(x0, y0, x1, y1, crs=EEA_CRS)
    bands = list(needs("snow", S2_L2A))
    s2_items = [i for i in items if i.collection_id == "sentinel-2-l2a"]
    hrefs = [h if os.path.isabs(h) else str((Path(i.get_self_href()).parent / h).resolve())
             for i in s2_items for h in [i.assets[b].href for b in bands]]
    with dask_client(workers=cores) as client:
        t = time.perf_counter()
        native_px = sum(client.gather(client.map(_read_band, hrefs, pure=False)))
        read_s = time.perf_counter() - t
        read_rate = native_px / 1e6 / read_s / cores
        print(f"baseline read only (native grids, no reprojection): {native_px / 1e6:.1f} Mpx in {read_s:.2f} s "
              f"= {read_rate:.1f} Mpx/s/core")

        data = load("s2_l2a", geometry=area, measurements=bands, resolution=20, chunks=1024, dc=connect())
        data.isel(time=0, y=slice(0, 8), x=slice(0, 8)).compute()  # warm-up: workers import the loader
        t = time.perf_counter()
        data = data.persist()
        client.gather(client.futures_of(data))
        load_s = time.perf_counter() - t
        out_px = data.sizes["time"] * data.sizes["y"] * data.sizes["x"] * len(bands)
        load_rate = out_px / 1e6 / load_s / cores
        peak = max(client.run(worker_peak_mb).values())
    print(f"load and reproject to EPSG:3035 20 m, fused per solar day: {data.sizes['time']} days x "
          f"{data.sizes['y']} x {data.sizes['x']} x {len(bands)} bands = {out_px / 1e6:.1f} Mpx in {load_s:.2f} s "
          f"= {load_rate:.1f} Mpx/s/core")
    print(f"ratio load-and-reproject / read-only throughput (output vs native pixels): {load_rate / read_rate:.2f}; "
          f"wall time {load_s:.2f} s vs {read_s:.2f} s to read the same files = {load_s / read_s:.1f}x")
    print(f"  were warping and fusing free, a load reading every native pixel would take the read's time: the ratio "
          f"would be {out_px / native_px:.2f} (output / native pixels); above that only by reading fewer pixels")
    print(f"peak memory per worker: {peak:.0f} MB ({cores} workers x 1 thread); "
          f"bench process peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
