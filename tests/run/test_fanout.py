"""Units on the cluster: which scheduler a unit's own graphs use, and which waiting unit starts first."""

from __future__ import annotations

import itertools
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dask
import dask.local
import pytest
from distributed import Client, LocalCluster

from flows.run.fanout import local_threads, on_cluster


@pytest.fixture(scope="module")
def one_worker():
    """One single-threaded worker that takes no task ahead of the one it runs."""
    with dask.config.set({"distributed.scheduler.worker-saturation": 1.0}), \
            LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        yield client


def test_a_single_threaded_worker_computes_a_units_graphs_synchronously(one_worker):
    assert on_cluster(dask.base.get_scheduler) is dask.local.get_sync
    assert on_cluster(local_threads) == 1  # the COG writer compresses one band at a time there


def _tasks(dask_scheduler) -> int:
    return len(dask_scheduler.tasks)


def _wait_for(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the cluster did not get there in time"
        time.sleep(0.02)


_ORDER = itertools.count()


def _ticket() -> int:
    """This call's place among the calls in this process (the worker runs in it, one unit at a time)."""
    return next(_ORDER)


def _hold_until(path: str) -> None:
    """Hold the worker's only thread until ``path`` exists (an Event.wait would secede from it)."""
    _wait_for(Path(path).exists, timeout=120)


def test_of_the_units_waiting_for_a_worker_the_higher_priority_starts_first(one_worker, tmp_path):
    priorities = [-40, -5, -30, 0, -20]
    release = tmp_path / "release"
    with ThreadPoolExecutor(len(priorities) + 2) as pool:
        busy = pool.submit(on_cluster, _hold_until, str(release))  # holds the only worker until released
        _wait_for(lambda: one_worker.run_on_scheduler(_tasks) == 1)
        ahead = pool.submit(on_cluster, _ticket)  # dask hands a group's first tasks to a worker at once
        _wait_for(lambda: one_worker.run_on_scheduler(_tasks) == 2)
        started = {p: pool.submit(on_cluster, _ticket, priority=p) for p in priorities}  # these queue
        _wait_for(lambda: one_worker.run_on_scheduler(_tasks) == len(priorities) + 2)
        release.touch()
        busy.result()
        order = sorted(priorities, key=lambda p: started[p].result())
        assert ahead.result() < min(f.result() for f in started.values())
    assert order == sorted(priorities, reverse=True)


def test_outside_a_worker_the_thread_budget_is_the_machines():
    with dask.config.set(num_workers=None):
        assert local_threads() == os.cpu_count()
    with dask.config.set(num_workers=3):
        assert local_threads() == 3
