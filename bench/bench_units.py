"""Units through one flow run: the snow-cover flow at 100, 500 and 2 000 units, and what each unit costs beyond its
compute.

SIMULATED scenes over a 10 km world (100 EEA cells of 1 km), Sentinel-2 every 5 days and Landsat-8 every 16 days,
indexed once. The flow runs as it is (``snow_cover(cell_km=1)``: a unit is a 1 km cell x solar day x sensor, 50 x
50 px at 20 m, so each is cheap and the per-unit cost of Prefect, dask and the index shows), on the flows' own
local cluster, kept warm between runs; each size takes the next days of the period, so every run computes new
units. For each size it prints:

- orchestration per unit: the run's wall time less the workers' time computing units (dask's task stream) per
  worker, divided by the units, and its ratio to the first size's (goal: within 1.2x at 2 000);
- the flow process's peak resident memory in the run and its rise over the run's start;
- the most connections to the index's database open at once, and how many stay open after the run;
- Prefect's own time: CPU seconds per unit of Prefect's server and of this process (the flow's engine, its task
  threads and the in-process dask scheduler);
- nothing lost or duplicated: ``snow_cover`` datasets indexed by the run against the units written, and each unit
  ending once.

Asserts nothing.

    .venv/bin/python bench/bench_units.py [--units 100 500 2000] [--size-km 10]
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from common import CpuAccount, settle, simulated_index

START = "2024-01-01"
WORKERS = 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, nargs="+", default=[100, 500, 2000], help="units per run, in turn")
    parser.add_argument("--size-km", type=int, default=10, help="side of the world: (size-km)^2 cells of 1 km")
    parser.add_argument("--empty", action="store_true",
                        help="units that only take their claim: the flow's fan-out alone, without LIS")
    args = parser.parse_args()
    cells = args.size_km ** 2
    days = int((sum(args.units) + 2 * cells) / (cells * (1 / 5 + 1 / 16)) * 1.15) + 5  # and a warm-up day
    end = _plus_days(START, days)
    if args.empty:
        args.size_km, end = 2, START  # an index for the claims
    with simulated_index(size_km=args.size_km, start=START, end=end, s2_every_days=5) as sim:
        run(sim, sizes=args.units, end=end, empty=args.empty)


def _plus_days(day: str, days: int) -> str:
    import datetime as dt

    return (dt.date.fromisoformat(day) + dt.timedelta(days=days)).isoformat()


class Sampler:
    """The flow process's resident memory and the index's open connections, sampled in a thread while a run lasts."""

    def __init__(self, interval: float = 0.25) -> None:
        import psutil

        from flows.storage.index import connect

        self.interval = interval
        self._process = psutil.Process()
        self._engine = connect().index._db._engine  # one connection of the bench's own, left out of the count
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.rss_start = self.rss_peak = self._process.memory_info().rss
        self.connections_peak = 0
        self.by_application: Counter[str] = Counter()

    def connections(self) -> Counter[str]:
        from sqlalchemy import text

        with self._engine.connect() as conn:
            rows = conn.execute(text("select application_name, count(*) from pg_stat_activity "
                                     "where datname = current_database() and pid <> pg_backend_pid() "
                                     "group by application_name")).all()
        return Counter({name or "(unnamed)": n for name, n in rows})

    def _sample(self) -> None:
        self.rss_peak = max(self.rss_peak, self._process.memory_info().rss)
        now = self.connections()
        if sum(now.values()) > self.connections_peak:
            self.connections_peak, self.by_application = sum(now.values()), now

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


@dataclass(frozen=True, kw_only=True)
class Row:
    units: int
    wall: float
    compute: float  # seconds the workers spent computing units, summed over workers
    rss_peak_mb: float
    rss_rise_mb: float
    connections_peak: int
    connections_after: int
    prefect_cpu: float
    flow_cpu: float
    indexed: int
    written: int
    skipped: int
    failed: int
    ended_once: bool

    @property
    def orchestration(self) -> float:
        return (self.wall - self.compute / WORKERS) / self.units


def snow_cover_count(dc) -> int:
    return dc.index.datasets.count(product="snow_cover")


def run(sim, *, sizes: list[int], end: str, empty: bool) -> None:
    from flows.pipelines.index import index_scenes
    from flows.pipelines.snow_cover import find_snow_jobs, snow_cover
    from flows.run.cluster import dask_client
    from flows.storage.index import connect

    t = time.perf_counter()
    report = index_scenes(static=[str(sim.catalog)])  # also starts Prefect's local server
    print(report.summary().splitlines()[0] + f" ({time.perf_counter() - t:.1f} s)")
    dc = connect()
    if empty:
        empty_units = empty_units_flow()
        runs = [(f"empty units {i}", lambda i=i, n=n: empty_units([f"{i}/{u}" for u in range(n)]), n)
                for i, n in enumerate(sizes)]
        warm_up = lambda: empty_units([f"warm-up/{u}" for u in range(20)])
    else:
        jobs = find_snow_jobs(time=(START, end), cell_size_m=1000, dc=dc)
        per_day = Counter(j.day for j in jobs)
        days = sorted(per_day)
        print(f"{len(jobs)} unit(s) of 1 km over {len(days)} days, {len({j.cell for j in jobs})} cells")
        runs, i = [], 1  # the first day warms up
        for size in sizes:
            first, n = i, 0
            while n < size and i < len(days):
                n, i = n + per_day[days[i]], i + 1
            if n < size:
                print(f"only {n} unit(s) left for the run of {size}: give a larger --size-km")
            runs.append((f"{days[first]}..{days[i - 1]}",
                         lambda a=days[first], b=days[i - 1]: snow_cover(start=a, end=b, cell_km=1), n))
        few = sorted({j.cell for j in jobs if j.day == days[0]})[:4]
        warm_up = lambda: snow_cover(start=days[0], end=days[0], cells=few, cell_km=1)

    rows = []
    with dask_client(workers=WORKERS) as client:
        client.run(lambda: __import__("flows.pipelines.snow_cover"))
        warm_up()  # Prefect, the workers' imports and connections
        for label, flow_run, n in runs:
            rows.append(measure(flow_run, units=n, label=label, client=client, dc=dc))
    print_table(rows)


def measure(flow_run: Callable[[], Any], *, units: int, label: str, client, dc) -> Row:
    """One flow run of ``units`` units, with what it cost."""
    from distributed import get_task_stream

    settle()
    before = snow_cover_count(dc)
    account = CpuAccount().start()
    t = time.perf_counter()
    with Sampler() as sampler, get_task_stream(client) as stream:
        report = flow_run()
    wall = time.perf_counter() - t
    cpu = account.stop()
    time.sleep(1)
    after = sum(sampler.connections().values())
    compute = sum(s["stop"] - s["start"] for task in stream.data for s in task["startstops"]
                  if s["action"] == "compute")
    ended = [o.unit for o in report]
    row = Row(units=len(ended), wall=wall, compute=compute, rss_peak_mb=sampler.rss_peak / 2**20,
              rss_rise_mb=(sampler.rss_peak - sampler.rss_start) / 2**20,
              connections_peak=sampler.connections_peak, connections_after=after,
              prefect_cpu=cpu.get("prefect server", 0.0), flow_cpu=cpu.get("this process", 0.0),
              indexed=snow_cover_count(dc) - before, written=len(report.written), skipped=len(report.skipped),
              failed=len(report.failed), ended_once=len(set(ended)) == len(ended) == units)
    print(f"{label}: {row.units} units in {wall:.1f} s; connections at the peak: "
          + ", ".join(f"{k} {v}" for k, v in sorted(sampler.by_application.items())), flush=True)
    for o in report.failed[:3]:
        print(f"  failed {o.unit}: {o.reason}")
    return row


def empty_unit(key: str):
    """A unit that only takes its claim and looks for its dataset, as ``snow_cover_unit`` does before computing."""
    from flows.run.outcomes import Skipped
    from flows.storage.index import connect
    from flows.storage.writer import unit_claim

    with unit_claim("snow_cover", key, overwrite=False, dc=connect()) as ended:
        return ended or Skipped(unit=key, reason="an empty unit")


def empty_units_flow() -> Callable[[list[str]], Any]:
    """The snow-cover flow's fan-out (a Prefect task per unit, on a dask worker, gathered) over empty units."""
    from prefect import flow, task
    from prefect.cache_policies import NONE as NO_CACHE
    from prefect.task_runners import ThreadPoolTaskRunner

    from flows.pipelines.snow_cover import UNITS_IN_FLIGHT
    from flows.run.cluster import flow_client
    from flows.run.fanout import on_cluster
    from flows.run.outcomes import Report, gather
    from flows.run.retry import TRANSIENT_RETRIES

    @task(**TRANSIENT_RETRIES, cache_policy=NO_CACHE)
    def empty_task(key: str):
        return on_cluster(empty_unit, key)

    @flow(name="empty-units", task_runner=ThreadPoolTaskRunner(max_workers=UNITS_IN_FLIGHT))
    def empty_units(keys: list[str]) -> Report:
        with flow_client():
            return Report(flow="empty-units").extend(gather(empty_task.map(keys), units=keys, label="empty units"))

    return empty_units


def print_table(rows: list[Row]) -> None:
    base = rows[0].orchestration
    print(f"\n{'units':>6} {'wall s':>7} {'compute s':>9} {'orch. ms/unit':>13} {'x first':>7} {'flow RSS MB':>11} "
          f"{'rise MB':>7} {'db conn peak':>12} {'after':>5} {'prefect srv ms/u':>16} {'flow proc ms/u':>14} "
          f"{'indexed':>7} {'written':>7} {'skipped':>7} {'failed':>6} {'once':>4}")
    for r in rows:
        print(f"{r.units:>6} {r.wall:>7.1f} {r.compute:>9.1f} {1e3 * r.orchestration:>13.0f} "
              f"{r.orchestration / base:>7.2f} {r.rss_peak_mb:>11.0f} {r.rss_rise_mb:>7.0f} {r.connections_peak:>12} "
              f"{r.connections_after:>5} {1e3 * r.prefect_cpu / r.units:>16.1f} {1e3 * r.flow_cpu / r.units:>14.1f} "
              f"{r.indexed:>7} {r.written:>7} {r.skipped:>7} {r.failed:>6} {'yes' if r.ended_once else 'NO':>4}")
    print(f"load average: {Path('/proc/loadavg').read_text().split()[:3]}; {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
