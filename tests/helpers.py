"""Helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from contextlib import contextmanager
import sys
from pathlib import Path
from types import ModuleType

import pytest
from distributed.diagnostics.plugin import WorkerPlugin

from infra.ports import free_port

__all__ = ["BENCH_DIR", "FULL_DISK", "KILL", "REAL_DATA", "FaultPerWorker", "arm_workers", "bench_module",
           "disarm_workers", "environ_restored", "free_port", "purge", "real_sample"]

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


_ARM = """
import importlib, os, signal
module = importlib.import_module({module!r})
original = getattr(module, {name!r})
def fault(*args, **kwargs):
    setattr(module, {name!r}, original)  # once per worker process (a restarted worker is a new, unarmed one)
    {action}
    return original(*args, **kwargs)
fault.original = original
setattr(module, {name!r}, fault)
"""
KILL = "os.kill(os.getpid(), signal.SIGKILL)"
FULL_DISK = "raise OSError(28, 'No space left on device')"


def arm_workers(client, *, module: str, name: str, action: str) -> None:
    """Make every worker of ``client`` do ``action`` (``KILL``, ``FULL_DISK``) the first time it calls
    ``module.name`` (a function its code looks up by name at call time, so the unit's own step is reached)."""
    client.run(exec, _ARM.format(module=module, name=name, action=action), {})  # globals of its own


def disarm_workers(client, *, module: str, name: str) -> None:
    """Undo ``arm_workers`` on the workers whose fault was not met."""
    code = (f"import importlib\nmodule = importlib.import_module({module!r})\n"
            f"setattr(module, {name!r}, getattr(getattr(module, {name!r}), 'original', getattr(module, {name!r})))")
    client.run(exec, code, {})


class FaultPerWorker(WorkerPlugin):
    """A worker plugin that arms each worker process, those running and each a nanny starts in a killed one's place,
    with the next fault of a queue (``(module, name, action)``, as ``arm_workers``), and records the ``name`` of each
    fault met in ``met``: one flow run meets a worker's death at each step of a unit in turn, with no re-run between.

        with FaultPerWorker.armed(client, folder, [(module, name, KILL), ...]) as met: ...
    """

    name = "fault-per-worker"

    def __init__(self, queue: Path) -> None:
        self.queue = str(queue)

    @classmethod
    @contextmanager
    def armed(cls, client, folder: Path, faults: list[tuple[str, str, str]]) -> Iterator[Path]:
        import json

        queue = folder / "faults.json"
        queue.write_text(json.dumps(faults))
        client.register_plugin(cls(queue), name=cls.name)
        try:
            yield Path(f"{queue}.met")
        finally:
            client.unregister_worker_plugin(cls.name)

    def setup(self, worker) -> None:
        import fcntl
        import json

        with open(self.queue, "r+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            faults = json.load(f)
            if not faults:
                return
            module, name, action = faults.pop(0)
            f.seek(0)
            f.truncate()
            json.dump(faults, f)
        met = (f"_fd = os.open({self.queue + '.met'!r}, os.O_WRONLY | os.O_APPEND | os.O_CREAT); "
               f"os.write(_fd, {(name + chr(10)).encode()!r}); os.close(_fd)")  # on disk before the fault
        exec(_ARM.format(module=module, name=name, action=f"{met}; {action}"), {})
