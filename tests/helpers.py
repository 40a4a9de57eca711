"""Helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import pytest
from distributed.diagnostics.plugin import WorkerPlugin

from infra.ports import free_port

__all__ = ["BENCH_DIR", "REAL_DATA", "StepFaults", "bench_module", "environ_restored", "free_port", "full_disk",
           "headless_chromium", "kill_this_process", "outside_requests", "purge", "real_sample", "restart_database"]

BENCH_DIR = Path(__file__).resolve().parents[1] / "bench"
REAL_DATA = Path(os.environ.get("SNOWLAND_REAL_DATA")
                 or Path(__file__).resolve().parents[2] / "shared" / "data" / "real")  # ../shared beside the checkout


def real_sample(path: Path) -> Path:
    """``path``, a real sample of ../shared/data/real; where it is missing the test skips, saying so, or fails
    under CI (``CI=true``), where a run must not pass without the tests on real data."""
    if path.exists():
        return path
    message = (f"real sample data not found at {path} (expected in ../shared/data/real beside the checkout, "
               "or where SNOWLAND_REAL_DATA points)")
    if os.environ.get("CI", "").strip().lower() in ("true", "1"):
        pytest.fail(f"{message}; CI must run the tests on real data", pytrace=False)
    pytest.skip(message)


def bench_module(name: str) -> ModuleType:
    """A script of bench/ imported as a module (bench/ is not a package: its scripts run as files)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BENCH_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # where dataclasses look a module's names up while its classes are made
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def purge(dc, ids: list[str]) -> None:
    """Remove datasets from the index, products made from others first."""
    for id_ in reversed(ids):
        if dc.index.datasets.has(id_):
            dc.index.datasets.archive([id_])
            dc.index.datasets.purge([id_])


@contextmanager
def environ_restored() -> Iterator[None]:
    """Put the process environment back as it was: ``snowland`` commands export the ODC and Prefect settings of
    the index they were pointed at, and the session's index must be the one later tests see."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def kill_this_process() -> None:
    """A fault: the worker process dies at once (SIGKILL), as when the kernel's OOM killer takes it."""
    os.kill(os.getpid(), signal.SIGKILL)


def full_disk() -> None:
    """A fault: the disk is full (ENOSPC), as the writer would meet it."""
    raise OSError(28, "No space left on device")


def restart_database(database) -> None:
    """A fault: the index's PostgreSQL (an ``infra.localdb.LocalPostgis``) stopped and started again, which drops
    every connection to it (the pools' and the claims')."""
    database.down()
    database.up()


def _armed(module_name: str, name: str, *, action: Callable[[], None], marker: Path) -> None:
    """Wrap ``module.name`` so that its first caller in the cluster (the one that creates ``marker``) does
    ``action`` before the call."""
    module = importlib.import_module(module_name)
    original = getattr(module, name)

    @functools.wraps(original)
    def fault(*args, **kwargs):
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            pass
        else:
            action()
        return original(*args, **kwargs)

    fault.original = original
    setattr(module, name, fault)


class StepFaults(WorkerPlugin):
    """A worker plugin (``client.register_plugin``) that arms every worker, restarted ones too, to do ``action`` (a
    picklable callable: ``kill_this_process``, ``full_disk``, ``partial(restart_database, db)``, ...) at each step ``(module,
    name)`` once in the whole cluster: the first worker to reach a step takes its marker file in ``marks`` and does it.
    One run then meets a fault at every step, each at a deterministic point of a unit. The steps are functions the
    unit's code looks up by name at call time, so the wrapper is met."""

    name = "snowland-step-faults"

    def __init__(self, *, steps: dict[str, tuple[str, str]], action: Callable[[], None], marks: Path) -> None:
        self.steps, self.action, self.marks = steps, action, Path(marks)
        self.met: set[str] = set()

    def setup(self, worker) -> None:
        for step, (module, name) in self.steps.items():
            _armed(module, name, action=self.action, marker=self.marks / step)

    def teardown(self, worker) -> None:
        for module_name, name in reversed(self.steps.values()):
            module = importlib.import_module(module_name)
            setattr(module, name, getattr(getattr(module, name), "original", getattr(module, name)))

    @classmethod
    @contextmanager
    def armed(cls, client, *, steps: dict[str, tuple[str, str]], action: Callable[[], None],
              marks: Path) -> Iterator[StepFaults]:
        """The faults armed on ``client``'s workers while the block runs; afterwards ``met`` holds the steps whose
        fault happened, and no worker, running or restarted later, does any more."""
        faults = cls(steps=steps, action=action, marks=marks)
        client.register_plugin(faults, name=cls.name)
        try:
            yield faults
        finally:
            faults.met = {step for step in steps if (faults.marks / step).exists()}
            for step in steps:  # a taken marker disarms its step on the workers already armed
                (faults.marks / step).touch()
            client.unregister_worker_plugin(cls.name)


@contextmanager
def headless_chromium(*, logs: bool = False) -> Iterator:
    """Debian's chromium in headless mode (``flows.ask.mappage.browser``); the test fails where it is missing."""
    from flows.ask.mappage.browser import headless_chromium as chromium
    from flows.ask.mappage.browser import missing_browser

    if missing := missing_browser():
        pytest.fail(missing)
    with chromium(logs=logs) as driver:
        yield driver


def outside_requests(driver, *, served: str) -> set[str]:
    """The network requests of a ``headless_chromium(logs=True)`` page that went anywhere but ``served`` (a URL prefix)."""
    import json

    urls = set()
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.add(message["params"]["request"]["url"])
    return {u for u in urls if u.startswith(("http:", "https:", "ws:", "wss:", "ftp:")) and not u.startswith(served)}


def blob_samples(*, n_per_class: int = 60, n_features: int = 6, spread: float = 0.7, seed: int = 0):
    """Land-cover training samples of three classes (11, 22, 33) around 0, 2 and 4 in every feature, ten pixels
    per polygon: separable enough for a classifier to learn, close enough for votes to disagree."""
    import numpy as np

    from products.landcover.samples import Samples

    rng = np.random.default_rng(seed)
    centres = {11: 0.0, 22: 2.0, 33: 4.0}
    x = np.concatenate([rng.normal(c, spread, size=(n_per_class, n_features)) for c in centres.values()])
    polygons = np.repeat(np.arange(1, 3 * n_per_class // 10 + 1), 10)
    return Samples(x.astype(np.float32), np.repeat(list(centres), n_per_class), polygons,
                   tuple(f"f_d{i:03d}" for i in range(n_features)))
