"""Progress of a run's units, told to whoever listens (the CLI's progress bar); silent when nobody does.

A flow says how many units it will run and when each ends::

    with progress.units("snow_cover", total=len(jobs)) as done:
        for outcome in ...:
            done(outcome.status)

The CLI installs a sink with ``progress.listen(sink)``; Python users and Prefect workers get none. A module-level
sink, not a context variable, because Prefect runs a flow and its tasks on threads of its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol


class Sink(Protocol):
    def start(self, label: str, total: int) -> None: ...
    def advance(self, status: str) -> None: ...
    def stop(self) -> None: ...


_SINK: Sink | None = None
_LOCK = threading.Lock()


@contextmanager
def listen(sink: Sink) -> Iterator[Sink]:
    """Send every run's progress to ``sink`` while the block runs."""
    global _SINK
    previous, _SINK = _SINK, sink
    try:
        yield sink
    finally:
        _SINK = previous


@contextmanager
def units(label: str, *, total: int) -> Iterator[Callable[[str], None]]:
    """A run of ``total`` units; the callable it yields marks one unit done with its status."""
    sink = _SINK
    if sink is None:
        yield lambda status="done": None
        return
    sink.start(label, total)

    def done(status: str = "done") -> None:
        with _LOCK:
            sink.advance(status)

    try:
        yield done
    finally:
        sink.stop()
