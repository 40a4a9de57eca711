"""Run one unit of work whole on a dask worker: its reads, its compute and its writes in one process.

A Prefect task of a flow calls ``on_cluster(unit_fn, ...)`` and waits for a small result (the unit's typed
outcome, ``flows.run.outcomes``), so arrays never travel back to the flow's process and each worker's memory holds one unit at a time.
With N workers, N units run at once; the flow's process only orchestrates. If a worker dies, the scheduler
runs the unit again on another worker: units write atomically under deterministic ids, so nothing is
duplicated. Without a dask client the unit runs in the calling thread.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from products.errors import SnowlandError

R = TypeVar("R")


def _run_in_worker(fn: Callable[..., R], args: tuple[Any, ...], kwargs: dict[str, Any]) -> R:
    """Inside a worker: the unit's own dask graphs use the worker's threads, not the cluster again (one thread:
    dask's synchronous scheduler, which hands no task between threads)."""
    import dask
    from distributed import get_worker

    from flows.run.retry import is_transient

    threads = max(1, int(getattr(get_worker().state, "nthreads", 1)))
    with dask.config.set(scheduler="threads" if threads > 1 else "sync", num_workers=threads):
        try:
            return fn(*args, **kwargs)
        except SnowlandError as err:
            if not is_transient(err):  # a verdict on the unit's input, whose message says it all, crosses as itself:
                err.__cause__ = err.__context__ = None  # distributed sends the chain, and a library's error
            raise                                        # there may not unpickle (then it sends a bare Exception)


def local_threads() -> int:
    """Threads the code running here may compute with: inside a unit, its worker's own (``num_workers``, set
    above), so that N single-threaded workers on N cores do not oversubscribe them; else the machine's cores."""
    import dask

    return max(1, int(dask.config.get("num_workers", None) or os.cpu_count() or 1))


def on_cluster(fn: Callable[..., R], /, *args: Any, priority: int = 0, **kwargs: Any) -> R:
    """``fn(*args, **kwargs)`` on a worker of the current dask client, else here; ``fn`` must be importable.

    Of the units waiting for a worker, those of higher ``priority`` start first. dask's priorities hold across
    every client of a scheduler, and other work has priority 0.
    """
    from distributed import default_client

    try:
        client = default_client()
    except ValueError:  # no client: compute here
        return fn(*args, **kwargs)
    return client.submit(_run_in_worker, fn, args, kwargs, pure=False, priority=priority).result()
