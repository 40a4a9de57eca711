"""Scaling benchmark: the snow-cover flow over 8 cells on 1 dask worker and on 2, in turn, in the same run.

SIMULATED scenes: two square areas, each centred on a corner of the EEA 100 km grid so that it spans four
cells (8 cells in all), a few Sentinel-2 and Landsat-8 dates each. The default 100 km areas make units of
6 Mpx (a quarter of a cell, about a third of a real cell-day's 17.5 Mpx); 30 km areas make 0.6 Mpx units
of under a second, where the per-unit cost of Prefect and the index weighs several times more. Every configuration runs the same flow
(``snow_cover(overwrite=True)``, so every unit is computed and written again) on local clusters of
single-threaded worker processes made as the flows make them, both open, after a warm-up on each; the runs alternate
between them, so that a drift of the machine's speed (seen here: the same 1-worker run 51 s, then 64 s) weighs on both.
It also measures what running two jobs at once costs the machine itself (`machine_contention`) and the scheduler's overhead per task: many
no-op tasks through the dask client, and through a Prefect flow's task runner. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_scaling.py [--size-km 30] [--days 10] [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass

from common import (  # dask's 500 ms memory samples: enough here
    CpuAccount,
    settle,
    simulated_index,
    worker_peak_mb,
)

CORNERS = ((4_000_000.0, 2_400_000.0), (4_200_000.0, 2_400_000.0))  # 100kmE39-40N23-24, 100kmE41-42N23-24
START = "2024-01-10"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-km", type=float, default=100, help="side of each of the two areas (default 100)")
    parser.add_argument("--days", type=int, default=10, help="length of the period (default 10)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per configuration, 1 and 2 workers in turn; "
                        "the best of each is kept and each pair's ratio printed (default 2)")
    parser.add_argument("--noop-tasks", type=int, default=500)
    args = parser.parse_args()
    end = _plus_days(START, args.days)
    with simulated_index(size_km=args.size_km, start=START, end=end, centre=CORNERS[0]) as sim:
        run(sim, size_km=args.size_km, end=end, repeat=args.repeat, noop_tasks=args.noop_tasks)


def _plus_days(day: str, days: int) -> str:
    import datetime as dt

    return (dt.date.fromisoformat(day) + dt.timedelta(days=days)).isoformat()


def _noop(i: int) -> int:
    return i


def _kernel_cpu(kind: str) -> float:
    """CPU seconds of a fixed numpy job: "memory" streams 80 MB arrays (as a unit's whole-array passes do),
    "cache" sorts an array that fits in a core's L2."""
    import numpy as np

    a = np.random.default_rng(0).random(20_000_000 if kind == "memory" else 50_000).astype(np.float32)
    start = time.process_time()
    for _ in range(15 if kind == "memory" else 3000):
        if kind == "memory":
            (a * np.float32(1.5) + np.float32(2.0)).sum()
        else:
            np.sort(a)
    return time.process_time() - start


def machine_contention(client) -> dict[str, float]:
    """Extra CPU a job takes when both workers run it at once rather than one alone, per kind of job: what
    sharing the memory bus and the L3 cache costs on this machine, whatever the code."""
    first = next(iter(client.scheduler_info()["workers"]))
    extra = {}
    for kind in ("cache", "memory"):
        client.run(_kernel_cpu, kind)  # warm
        alone = client.run(_kernel_cpu, kind, workers=[first])[first]
        together = client.run(_kernel_cpu, kind).values()
        extra[kind] = sum(together) / len(together) / alone - 1
    return extra


@dataclass(frozen=True, kw_only=True)
class Busy:
    """Where a flow run's wall time went, from dask's task stream: units computing on the workers, and the
    flow's own time before the first unit starts and after the last one ends."""

    unit_seconds: float
    before_first: float
    after_last: float
    wall: float

    @classmethod
    def of(cls, stream: list[dict], *, started: float, wall: float) -> Busy:
        spans = [(s["start"], s["stop"]) for task in stream for s in task["startstops"] if s["action"] == "compute"]
        first, last = min(a for a, _ in spans), max(b for _, b in spans)
        offset = time.time() - time.perf_counter()  # the stream is in wall-clock seconds
        return cls(unit_seconds=sum(b - a for a, b in spans), before_first=first - (started + offset),
                   after_last=(started + offset + wall) - last, wall=wall)

    def describe(self, workers: int) -> str:
        return (f"workers computing units {100 * self.unit_seconds / (workers * self.wall):.0f} % of the run; "
                f"the flow took {self.before_first:.1f} s before the first unit started and "
                f"{self.after_last:.1f} s after the last one ended")


@dataclass(frozen=True, kw_only=True)
class Run:
    """One timed flow run on one cluster."""

    wall: float
    worker_cpu: float  # the cluster's workers, read from the workers themselves
    cpu: dict  # this bench's other processes, by kind (CpuAccount; idle workers of the other cluster left out)
    busy: Busy
    waited: float
    units: int
    skipped: int
    failed: int


def timed_run(client, *, end: str) -> Run:
    """The snow flow over the period on `client`'s cluster, after the bench's processes have gone quiet."""
    from distributed import get_task_stream

    from flows.pipelines.snow_cover import snow_cover

    os.environ["SNOWLAND_DASK_ADDRESS"] = client.scheduler.address  # for a flow that makes its own client
    try:
        with client.as_current():
            waited = settle()
            account = CpuAccount().start()
            before = sum(client.run(time.process_time).values())
            t = time.perf_counter()
            with get_task_stream(client) as stream:
                report = snow_cover(start=START, end=end, overwrite=True)
            wall = time.perf_counter() - t
            worker_cpu = sum(client.run(time.process_time).values()) - before
            cpu = {k: v for k, v in account.stop().items() if k != "dask worker"}
    finally:
        os.environ.pop("SNOWLAND_DASK_ADDRESS", None)
    return Run(wall=wall, worker_cpu=worker_cpu, cpu=cpu, busy=Busy.of(stream.data, started=t, wall=wall),
               waited=waited, units=len(report.written) + len(report.replaced), skipped=len(report.skipped),
               failed=len(report.failed))


def run(sim, *, size_km: float, end: str, repeat: int, noop_tasks: int) -> None:
    from prefect import flow, task
    from prefect.cache_policies import NONE as NO_CACHE
    from prefect.task_runners import ThreadPoolTaskRunner

    from flows.pipelines.index import index_scenes
    from flows.pipelines.snow_cover import find_snow_jobs, snow_cover
    from flows.run.cluster import dask_client
    from flows.simulator.scenes import simulate_scenes
    from flows.storage.index import connect

    sims = [sim]
    for centre in CORNERS[1:]:
        sims.append(simulate_scenes(sim.catalog.parent.parent / f"sim_{int(centre[0])}", size_km=size_km,
                                    start=START, end=end, centre=centre))
    for s in sims:
        report = index_scenes(static=[str(s.catalog)])  # the first flow also starts Prefect's local server
        print(report.summary())
    jobs = find_snow_jobs(time=(START, end), dc=connect())
    cells = sorted({j.cell for j in jobs})
    print(f"{len(jobs)} unit(s) (cell x day x sensor) over {len(cells)} cells: {', '.join(cells)}")

    @task(cache_policy=NO_CACHE)
    def noop_task(i: int) -> int:
        return i

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=2))
    def noop_flow(n: int) -> int:
        return sum(f.result() for f in noop_task.map(range(n)))

    runs: dict[int, list[Run]] = {1: [], 2: []}
    with dask_client(workers=1) as one, dask_client(workers=2) as two:  # the flows' own local clusters
        clients = {1: one, 2: two}
        for client in clients.values():
            client.run(lambda: __import__("flows.pipelines.snow_cover"))
            with client.as_current():
                snow_cover(start=START, end=START, overwrite=True)  # warm-up: one day
            client.run(worker_peak_mb, reset=True)
        two.gather(two.map(_noop, range(10), pure=False))
        t = time.perf_counter()
        two.gather(two.map(_noop, range(noop_tasks), pure=False))
        dask_per_task = (time.perf_counter() - t) / noop_tasks
        contention = machine_contention(two)
        for _ in range(repeat):
            for workers, client in clients.items():  # in turn, so that a drift of the machine's speed weighs on both
                runs[workers].append(timed_run(client, end=end))
        peaks = {w: max(c.run(worker_peak_mb).values()) for w, c in clients.items()}
    for workers, done in runs.items():
        best = min(done, key=lambda r: r.wall)
        print(f"{workers} worker(s): {best.wall:6.1f} s for {best.units} unit(s) written, {best.skipped} skipped, "
              f"{best.failed} failed; {best.wall / max(best.units, 1):.2f} s per unit; peak worker memory "
              f"{peaks[workers]:.0f} MB; runs {', '.join(f'{r.wall:.1f}' for r in done)} s")
        print(f"  CPU seconds in that run: the cluster's workers {best.worker_cpu:.1f}, " +
              ", ".join(f"{k} {v:.1f}" for k, v in sorted(best.cpu.items())) +
              f"; {(best.worker_cpu + sum(best.cpu.values())) / best.wall:.2f} cores busy on average")
        print(f"  {best.busy.describe(workers)}; {best.waited:.1f} s waited before it for the bench's processes to go "
              "quiet")
    noop_flow(10)  # last: Prefect's server digests the events of these runs for a while after them
    t = time.perf_counter()
    noop_flow(noop_tasks)
    prefect_per_task = (time.perf_counter() - t) / noop_tasks
    fastest = {w: min(r.wall for r in done) for w, done in runs.items()}
    paired = [a.wall / b.wall for a, b in zip(runs[1], runs[2])]
    print(f"speed-up 2 workers / 1 worker: {fastest[1] / fastest[2]:.2f}x best against best (goal >= 1.85, floor 1.8, on 2 "
          f"cores); run by run {', '.join(f'{x:.2f}x' for x in paired)}")
    cpu = {w: sum(r.worker_cpu for r in done) / len(done) for w, done in runs.items()}
    extra = cpu[2] / cpu[1] - 1
    print(f"  the same units took {100 * extra:+.1f} % worker CPU on 2 workers than on 1 (mean of the runs): two "
          f"workers busy all the time give at most {2 / (1 + extra):.2f}x; this machine's own cost of running two "
          f"jobs at once: {100 * contention['memory']:+.1f} % CPU streaming 80 MB arrays, "
          f"{100 * contention['cache']:+.1f} % within a core's cache")
    print(f"overhead per task: dask client {dask_per_task * 1e3:.1f} ms, "
          f"Prefect task runner (ThreadPool, 2 threads) {prefect_per_task * 1e3:.1f} ms")
    settle()  # Prefect's server still records the no-op tasks' events: stopped now, it logs a failed flush


if __name__ == "__main__":
    main()
