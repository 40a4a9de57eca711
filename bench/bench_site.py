"""Files served by `snowland serve`: 20 concurrent readers of one COG from a warm server, against the same reads
from the local disk in this process (warm too).

Runs on its own throw-away PostGIS cluster with SIMULATED scenes; the readers use a signed link (as a download
manager given an order). Prints whole files per second and MB/s, then range requests (64 KiB at random offsets, as
GDAL's /vsicurl/ reads a COG) per second and MB/s, each with its ratio to the disk; asserts nothing.

    .venv/bin/python bench/bench_site.py [--readers 20] [--requests 400] [--size-km 10]
"""

from __future__ import annotations

import argparse
import os
import random
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import simulated_index

from infra.ports import free_port

RANGE = 64 * 1024


def _timed(readers: int, jobs: list, read) -> tuple[float, int]:
    """Seconds and bytes for ``readers`` threads to do every job with ``read``."""
    start = time.perf_counter()
    with ThreadPoolExecutor(readers) as pool:
        got = sum(pool.map(read, jobs))
    return time.perf_counter() - start, got


def _http(url: str):
    def read(job: tuple[int, int] | None) -> int:
        headers = {"Range": f"bytes={job[0]}-{job[0] + job[1] - 1}"} if job else {}
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=300) as answer:
            return len(answer.read())
    return read


def _disk(path: Path):
    def read(job: tuple[int, int] | None) -> int:
        with open(path, "rb") as f:
            if job is None:
                return len(f.read())
            return len(os.pread(f.fileno(), job[1], job[0]))
    return read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--size-km", type=float, default=10)
    args = parser.parse_args()
    with simulated_index(size_km=args.size_km, start="2024-01-01", end="2024-01-06") as sim:
        run(args, sim)


def run(args, sim) -> None:
    from flows.ask.catalogue import dataset_files
    from flows.ask.serve import running
    from flows.ask.site.files import PREFIX, file_url, local_path
    from flows.ask.site.signing import Signer, site_key
    from flows.pipelines.index import index_items, read_static_items
    from flows.storage.index import connect
    from odc_config.settings import load_settings

    index_items.fn(list(read_static_items(sim.catalog)))  # the task's body: no Prefect server for a benchmark
    dc = connect()
    files = [(ds, local_path(url)) for product in dc.index.products.get_all()
             for ds in dc.find_datasets(product=product.name) for url in dataset_files(ds).values()]
    if not files:
        raise SystemExit(f"nothing indexed from {sim.catalog}")
    dataset, path = max(((ds, p) for ds, p in files if p and p.suffix == ".tif"), key=lambda f: f[1].stat().st_size)
    size = path.stat().st_size
    signer = Signer(key=site_key(load_settings().state_dir / "site"))
    rng = random.Random(42)
    ranges = [(rng.randrange(0, max(1, size - RANGE)), min(RANGE, size)) for _ in range(args.requests)]
    wholes = [None] * max(args.readers, args.requests // 10)
    with running(port=free_port()) as server:
        url = file_url(base=server.url, dataset_id=str(dataset.id), name=path.name)
        url += "?" + signer.link_query(f"{PREFIX}{dataset.id}/{path.name}")
        print(f"one COG of {size / 1e6:.2f} MB ({path.name}); {args.readers} concurrent readers")
        for label, jobs in (("whole files", wholes), (f"{RANGE // 1024} KiB ranges", ranges)):
            figures = {}
            for side, read in (("disk", _disk(path)), ("served", _http(url))):
                _timed(args.readers, jobs[: args.readers], read)  # warm
                seconds, got = _timed(args.readers, jobs, read)
                figures[side] = (len(jobs) / seconds, got / seconds / 1e6)
            (disk_n, disk_mb), (http_n, http_mb) = figures["disk"], figures["served"]
            print(f"{label:14s} served {http_n:8.1f} /s {http_mb:8.1f} MB/s   disk {disk_n:9.1f} /s {disk_mb:8.1f} "
                  f"MB/s   served / disk {http_mb / disk_mb:.3f}")


if __name__ == "__main__":
    main()
