"""Units on the cluster: which scheduler a unit's own graphs use, and which waiting unit starts first."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import dask
import dask.local
import pytest
from distributed import Client, LocalCluster

from flows.cube import _local_threads
from flows.fanout import on_cluster


@pytest.fixture(scope="module")
def one_worker():
    """One single-threaded worker: units run strictly one after the other."""
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        yield client


def test_a_single_threaded_worker_computes_a_units_graphs_synchronously(one_worker):
    assert on_cluster(dask.base.get_scheduler) is dask.local.get_sync
    assert on_cluster(_local_threads) == 1  # the COG writer compresses one band at a time there


def test_of_the_units_waiting_for_a_worker_the_higher_priority_starts_first(one_worker):
    priorities = [1, 5, 3, 10, 2]
    with ThreadPoolExecutor(len(priorities) + 2) as pool:
        busy = pool.submit(on_cluster, time.sleep, 0.5)  # holds the only worker while the others queue
        ahead = pool.submit(on_cluster, time.time)  # dask sends a worker one task ahead (worker-saturation 1.1)
        time.sleep(0.2)
        started = {p: pool.submit(on_cluster, time.time, priority=p) for p in priorities}
        busy.result()
        order = sorted(priorities, key=lambda p: started[p].result())
        assert ahead.result() < min(f.result() for f in started.values())
    assert order == sorted(priorities, reverse=True)


def test_without_a_worker_the_threads_budget_is_the_machines():
    with dask.config.set(num_workers=None):
        assert _local_threads() >= 1
    with dask.config.set(num_workers=3):
        assert _local_threads() == 3
