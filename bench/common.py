"""What every benchmark needs: a throw-away PostGIS index with SIMULATED scenes indexed, a worker memory probe.

A bench keeps everything in one folder of its own, made on first use and removed, with every process the bench
started, when it exits, however it exits (an error, Ctrl-C, SIGTERM): its indexes, simulations, Prefect's
database and the temporary files of its processes (``TMPDIR``), so that nothing a killed worker leaves stays.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from infra.ports import free_port
from infra.processes import RUN_MARK, carries, mark_run, started_by, stop

MONITOR_INTERVAL = "100ms"  # set before the cluster starts: DASK_DISTRIBUTED__ADMIN__SYSTEM_MONITOR__INTERVAL


def worker_peak_mb(dask_worker, reset: bool = False) -> float:
    """Largest resident memory a dask worker's system monitor sampled since the last reset (``client.run``)."""
    samples = dask_worker.monitor.quantities["memory"]
    peak = max(samples, default=0) / 2**20
    if reset:  # keep the latest sample: the monitor reads it
        for _ in range(len(samples) - 1):
            samples.popleft()
    return peak


@cache
def bench_folder() -> Path:
    """This bench's folder, made on first call; it goes with the bench's processes when the bench exits."""
    root = Path(tempfile.mkdtemp(prefix="snowland-bench-"))
    atexit.register(_clean_up, root)  # before Prefect registers its server's stop: runs after it
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM unwinds the bench as Ctrl-C does
    mark_run(root.name)
    (root / "tmp").mkdir()
    os.environ["TMPDIR"] = tempfile.tempdir = str(root / "tmp")
    os.environ.setdefault("PREFECT_HOME", str(root / "prefect"))  # one for the bench: its server outlives an index
    return root


def _clean_up(root: Path) -> None:
    stop(started_by(root.name))
    shutil.rmtree(root, ignore_errors=True)


@contextmanager
def simulated_index(*, size_km: float, start: str, end: str, centre: tuple[float, float] | None = None,
                    **simulation: Any) -> Iterator:
    """Yields the simulation summary once its scenes are simulated in a private index (removed afterwards);
    ``simulation``: more arguments of ``simulate_scenes`` (e.g. ``s2_every_days``)."""
    state = Path(tempfile.mkdtemp(prefix="index-", dir=bench_folder()))
    os.environ.update(SNOWLAND_HOME=str(state), SNOWLAND_DB_PORT=str(free_port()))
    os.environ.pop("ODC_ENVIRONMENT", None)
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")  # a busy machine starts it slowly
    import distributed  # noqa: F401  (importing it sets its loggers to INFO)

    logging.getLogger("distributed").setLevel(logging.WARNING)  # the in-process scheduler's lines drown the figures
    from odc_config.settings import apply_environ

    apply_environ()
    from flows.simulator.scenes import simulate_scenes
    from flows.storage.index import init_index
    from infra.localdb import LocalPostgis

    db = LocalPostgis(root=state / "pg", port=int(os.environ["SNOWLAND_DB_PORT"]))
    try:
        db.up()
        init_index()
        t = time.perf_counter()
        sim = simulate_scenes(state / "sim", size_km=size_km, start=start, end=end, centre=centre, **simulation)
        print(f"simulate: {sum(sim.items.values())} SIMULATED items, {size_km:g} km, in {time.perf_counter() - t:.1f} s")
        yield sim
    finally:
        db.destroy()
        shutil.rmtree(state, ignore_errors=True)


def world_bounds(sim) -> tuple[float, float, float, float]:
    return tuple(json.loads(Path(sim.truth).read_text())["world"]["bounds"])


class CpuAccount:
    """CPU seconds used by each kind of this bench's processes (those carrying its mark, ``bench_folder``) between
    ``start()`` and ``stop()``: other jobs on a shared machine run PostgreSQL and Prefect servers too.

    Samples every process's cumulative CPU time twice a second, so processes that start and end in between
    (PostgreSQL backends, a flow's subprocesses) are counted up to their last sample. Kinds are named from
    the command line: the calling process, dask workers, the dask scheduler, PostgreSQL, Prefect's server.
    """

    KINDS = (("dask worker", ("distributed.nanny", "spawn_main", "dask-worker", "from multiprocessing")),
             ("postgres", ("postgres",)), ("prefect server", ("prefect", "uvicorn")))

    def __init__(self, interval: float = 0.5) -> None:
        import threading

        self.interval = interval
        self._last: dict[int, tuple[str, float, float]] = {}  # pid -> (kind, cpu at start, latest cpu)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _kind(self, proc) -> str | None:
        if proc.pid == os.getpid():
            return "this process"
        if RUN_MARK in os.environ and not carries(proc, os.environ[RUN_MARK]):
            return None
        try:
            cmd = " ".join(proc.cmdline())
        except Exception:
            return None
        for kind, words in self.KINDS:
            if any(w in cmd for w in words):
                return kind
        return None

    def _sample(self, *, baseline: bool = False) -> None:
        import psutil

        for proc in psutil.process_iter():
            try:
                t = proc.cpu_times()
                cpu = t.user + t.system
            except Exception:
                continue
            if proc.pid in self._last:
                kind, first, _ = self._last[proc.pid]
                self._last[proc.pid] = (kind, first, cpu)
            elif (kind := self._kind(proc)) is not None:  # a process born after start() counts from zero
                self._last[proc.pid] = (kind, cpu if baseline else 0.0, cpu)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def start(self) -> "CpuAccount":
        self._sample(baseline=True)
        self._thread.start()
        return self

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        self._sample()
        totals: dict[str, float] = {}
        for kind, first, latest in self._last.values():
            totals[kind] = totals.get(kind, 0.0) + latest - first
        return totals


def settle(*, below: float = 0.1, within: float = 60.0) -> float:
    """Wait until this bench's other processes (Prefect's server digesting the last run's events, PostgreSQL,
    idle workers) use less than ``below`` of a core over a second, for at most ``within`` seconds, so that a timed
    run starts warm rather than behind the tail of the one before; returns the seconds waited."""
    started = time.perf_counter()
    while time.perf_counter() - started < within:
        account = CpuAccount(interval=1.0).start()
        time.sleep(1.0)
        busy = account.stop()
        if sum(v for kind, v in busy.items() if kind != "this process") < below:
            break
    return time.perf_counter() - started


def profile_unit(unit, *, out: str | None = None, lines: int = 40, **kwargs: Any) -> None:
    """Profile ``unit(**kwargs)`` in this process (synchronous dask, no cluster), after one run unprofiled (warm:
    imports, GDAL, pyproj's transformers, the index connection), and print its costliest calls and the SQL
    statements it sent, most frequent first; ``out``: also write the profile's statistics there."""
    import cProfile
    import pstats
    from collections import Counter

    import dask
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        statements.append(" ".join(statement.split())[:90])

    event.listen(Engine, "before_cursor_execute", record)
    try:
        with dask.config.set(scheduler="synchronous"):
            unit(**kwargs)
            statements.clear()
            profiler = cProfile.Profile()
            profiler.runcall(unit, **kwargs)
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(lines)
    if out:
        profiler.dump_stats(out)
    print(f"{len(statements)} SQL statements:")
    for text, n in Counter(statements).most_common():
        print(f"{n:4d}  {text}")
