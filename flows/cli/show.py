"""What the command line shows: a progress bar fed by ``flows.run.progress`` and the table of what a run wrote.

The bar is drawn only on a terminal (a test, a pipe or cron sees none); the table is always printed, wide
enough off a terminal that dataset ids and paths stay on one line each.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from flows.run import progress

OFF_TERMINAL_WIDTH = 250  # columns of a table written to a file or a pipe


def console() -> Console:
    """A console on the current ``sys.stdout`` (a test's capture included)."""
    terminal = sys.stdout.isatty()
    return Console(file=sys.stdout, width=None if terminal else OFF_TERMINAL_WIDTH, soft_wrap=not terminal,
                   highlight=False)


class ProgressBar:
    """A ``progress.Sink``: one bar per run of units, with units done / total and the outcomes so far."""

    def __init__(self, out: Console):
        self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  TextColumn("{task.fields[outcomes]}"), TimeElapsedColumn(), console=out,
                                  transient=True)
        self._runs: list[tuple[Any, Counter]] = []

    def start(self, label: str, total: int) -> None:
        if not self._runs:
            self._progress.start()
        self._runs.append((self._progress.add_task(label, total=total, outcomes=""), Counter()))

    def advance(self, status: str) -> None:
        if not self._runs:
            return
        task, counts = self._runs[-1]
        counts[status] += 1
        self._progress.update(task, advance=1, outcomes=", ".join(f"{n} {s}" for s, n in counts.items()))

    def stop(self) -> None:
        if not self._runs:
            return
        task, _ = self._runs.pop()
        self._progress.refresh()  # its last state, before it goes
        self._progress.remove_task(task)
        if not self._runs:
            self._progress.stop()


@contextmanager
def progress_bars() -> Iterator[None]:
    """Show the progress of every run while the block runs, on a terminal only."""
    out = console()
    with progress.listen(ProgressBar(out)) if out.is_terminal else nullcontext():
        yield


def report(result: Any) -> None:
    """A flow's result: its table of units (unit, outcome, dataset id, path or reason) and its summary line.

    ``Report`` of ``flows.run.outcomes`` gives ``rows()``; a result without them (a training result) prints its
    summary alone.
    """
    out = console()
    rows = result.rows() if hasattr(result, "rows") else None
    if not rows:
        out.print(result.summary(), markup=False)
        return
    table = Table("unit", "outcome", "dataset id", "path or reason", box=None, pad_edge=False)
    for unit, outcome, id_, path in rows:
        table.add_row(unit, outcome, id_, path)
    out.print(table)
    out.print("\n".join([result.summary().splitlines()[0],
                         *(f"  {k}: {v}" for k, v in getattr(result, "details", {}).items())]), markup=False)
    paths = [path for _, outcome, id_, path in rows if id_ and path]
    if paths:
        where = os.path.commonpath(paths) if len(paths) > 1 else os.path.dirname(paths[0])
        out.print(f"{len(paths)} dataset(s) under {where}", markup=False)
