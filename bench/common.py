"""What every benchmark needs: a throw-away PostGIS index with SIMULATED scenes indexed, a worker memory probe."""

from __future__ import annotations

import json
import os
import resource
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mb() -> float:
    """Peak resident memory of the calling process (run it on dask workers with ``client.run``).

    A spawned worker inherits the peak of the process it was forked from (Linux keeps it across exec):
    use :func:`worker_peak_mb` for what a worker itself used."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


MONITOR_INTERVAL = "100ms"  # set before the cluster starts: DASK_DISTRIBUTED__ADMIN__SYSTEM_MONITOR__INTERVAL


def worker_peak_mb(dask_worker, reset: bool = False) -> float:
    """Largest resident memory a dask worker's system monitor sampled since the last reset (``client.run``)."""
    samples = dask_worker.monitor.quantities["memory"]
    peak = max(samples, default=0) / 2**20
    if reset:
        samples.clear()
    return peak


@contextmanager
def simulated_index(*, size_km: float, start: str, end: str, centre: tuple[float, float] | None = None) -> Iterator:
    """Yields the simulation summary once its scenes are indexed in a private index (destroyed afterwards)."""
    state = Path(tempfile.mkdtemp(prefix="snowland-bench-"))
    os.environ.update(SNOWLAND_HOME=str(state), SNOWLAND_DB_PORT=str(_free_port()))
    os.environ.pop("ODC_ENVIRONMENT", None)
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")  # a busy machine starts it slowly
    from odc_config.settings import apply_environ

    apply_environ()
    from flows.cube import init_index
    from flows.simulate import simulate_scenes
    from infra.localdb import LocalPostgis

    db = LocalPostgis(root=state / "pg", port=int(os.environ["SNOWLAND_DB_PORT"]))
    db.up()
    try:
        init_index()
        t = time.perf_counter()
        sim = simulate_scenes(state / "sim", size_km=size_km, start=start, end=end, centre=centre)
        print(f"simulate: {sum(sim.items.values())} SIMULATED items, {size_km:g} km, in {time.perf_counter() - t:.1f} s")
        yield sim
    finally:
        db.destroy()


def world_bounds(sim) -> tuple[float, float, float, float]:
    return tuple(json.loads(Path(sim.truth).read_text())["world"]["bounds"])
