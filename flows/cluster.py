"""The one place that makes the dask cluster the flows compute on."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from distributed import Client, LocalCluster


def local_worker_count() -> int:
    return max(1, len(os.sched_getaffinity(0)))


@contextmanager
def dask_client(*, address: str | None = None, workers: int | None = None, memory_limit: str = "auto") -> Iterator[Client]:
    """A client on ``address`` (or ``SNOWLAND_DASK_ADDRESS``), else on a local cluster sized to the machine.

    Local workers are processes with one thread each (GDAL and numpy release the GIL, but the ODC
    loader and pure-Python parts do not); they inherit the ODC_* and GDAL_* variables of this process.
    """
    address = address or os.environ.get("SNOWLAND_DASK_ADDRESS")
    if address:
        with Client(address) as client:
            yield client
        return
    with LocalCluster(
        n_workers=workers or local_worker_count(),
        threads_per_worker=1,
        processes=True,
        memory_limit=memory_limit,
        dashboard_address=None,
    ) as cluster, Client(cluster) as client:
        yield client
