"""The processes a run started, found and stopped as one set, however they were started.

A process started with its own session, or whose parent died, leaves the run's process tree: PostgreSQL
daemonises under ``pg_ctl``, a Prefect worker's flow runs start sessions of their own. So a run marks itself
with an environment variable that every process it starts inherits (``mark_run``), and finds them by it
afterwards (``started_by``), whatever became of their parents.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterable

import psutil

RUN_MARK = "SNOWLAND_RUN"

# Started by multiprocessing for this interpreter's whole life (dask's spawned workers need it); it ends with it.
INTERPRETER_HELPERS = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")


def mark_run(token: str) -> None:
    """Mark this process, and so every process it starts from now on, as part of the run ``token``."""
    os.environ[RUN_MARK] = token


def started_by(token: str) -> list[psutil.Process]:
    """Live processes of the run ``token``: this process's descendants and every process carrying its mark,
    not this process itself nor the interpreter's own helpers."""
    found = {p.pid: p for p in psutil.Process().children(recursive=True)}
    for process in psutil.process_iter():
        if process.pid not in found and carries(process, token):
            found[process.pid] = process
    return [p for p in found.values() if p.pid != os.getpid() and _alive(p) and not _interpreter_helper(p)]


def tree(pid: int) -> list[psutil.Process]:
    """``pid`` and its live descendants (none when it is gone)."""
    try:
        root = psutil.Process(pid)
        return [p for p in [root, *root.children(recursive=True)] if _alive(p)]
    except psutil.NoSuchProcess:
        return []


def stop(processes: Iterable[psutil.Process], *, grace: float = 10.0) -> list[psutil.Process]:
    """Ask ``processes`` to end (SIGTERM), kill those still alive after ``grace`` seconds; the killed ones."""
    processes = list(processes)
    for process in processes:
        _signal(process, signal.SIGTERM)
    _, alive = psutil.wait_procs(processes, timeout=grace)
    for process in alive:
        _signal(process, signal.SIGKILL)
    psutil.wait_procs(alive, timeout=grace)
    return alive


def describe(process: psutil.Process) -> str:
    """``pid command line`` (shortened), or what is known of a process that ended meanwhile."""
    try:
        command = " ".join(process.cmdline()) or process.name()
    except psutil.Error:
        command = "(ended)"
    return f"{process.pid} {command[:200]}"


def carries(process: psutil.Process, token: str) -> bool:
    """Whether ``process`` carries the mark of the run ``token`` (False for another user's process)."""
    try:
        return process.environ().get(RUN_MARK) == token
    except psutil.Error:  # ended, a kernel thread, or another user's process
        return False


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _interpreter_helper(process: psutil.Process) -> bool:
    try:
        command = " ".join(process.cmdline())
        return process.ppid() == os.getpid() and any(helper in command for helper in INTERPRETER_HELPERS)
    except psutil.Error:
        return False


def _signal(process: psutil.Process, signum: int) -> None:
    try:
        process.send_signal(signum)
    except psutil.Error:  # already gone
        pass
