"""Typed outcomes of a unit of work, and the one report every flow returns.

A task returns one of ``Written``, ``Exists``, ``Elsewhere``, ``Skipped`` or ``Failed`` for its unit (a cell-day-sensor, a cell-year,
an item); a flow gathers them into a ``Report``. One failure policy everywhere: a failed unit is recorded with its
reason and the other units go on; the run's exit status says whether any failed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from flows.run import progress
from products.errors import SnowlandError


@dataclass(frozen=True, kw_only=True)
class Written:
    """A dataset written and indexed by this run (``replaced``: it took the place of an older one; ``note``: what a
    reader of the product should know, e.g. that it holds no observation)."""

    unit: str
    id: str
    path: Path | None = None
    replaced: bool = False
    note: str = ""

    @property
    def status(self) -> str:
        return "replaced" if self.replaced else "written"


@dataclass(frozen=True, kw_only=True)
class Exists:
    """The unit's dataset was already in the index: nothing to do."""

    unit: str
    id: str
    path: Path | None = None
    status = "already there"


@dataclass(frozen=True, kw_only=True)
class Elsewhere:
    """Another run holds the unit's claim (``flows.run.claims``) and is computing it: this run leaves it alone."""

    unit: str
    reason: str = "another run is computing it"
    status = "in progress elsewhere"


@dataclass(frozen=True, kw_only=True)
class Skipped:
    """The unit cannot give a product, for a reason that is not an error (an all-cloud day, a scene lacking bands)."""

    unit: str
    reason: str
    status = "skipped"


@dataclass(frozen=True, kw_only=True)
class Failed:
    """The unit failed: its reason, said in one line."""

    unit: str
    reason: str
    status = "failed"


Outcome = Union[Written, Exists, Elsewhere, Skipped, Failed]
_ORDER = ("written", "replaced", "already there", "in progress elsewhere", "skipped", "failed")


@dataclass(kw_only=True)
class Report:
    """What one flow run did, unit by unit."""

    flow: str
    outcomes: list[Outcome] = field(default_factory=list)
    details: dict[str, str] = field(default_factory=dict)  # run-wide facts to show (model id, validation figures)

    def add(self, outcome: Outcome) -> Outcome:
        self.outcomes.append(outcome)
        return outcome

    def extend(self, outcomes: Iterable[Outcome]) -> Report:
        for outcome in outcomes:
            self.add(outcome)
        return self

    def merge(self, other: Report) -> Report:
        return Report(flow=self.flow, outcomes=[*self.outcomes, *other.outcomes], details={**self.details, **other.details})

    def _of(self, status: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]

    written = property(lambda self: self._of("written"), doc="Units whose dataset this run wrote.")
    replaced = property(lambda self: self._of("replaced"), doc="Units whose dataset this run wrote anew.")
    exists = property(lambda self: self._of("already there"), doc="Units whose dataset was already there.")
    elsewhere = property(lambda self: self._of("in progress elsewhere"), doc="Units another run is computing.")
    skipped = property(lambda self: self._of("skipped"), doc="Units that cannot give a product, with why.")
    failed = property(lambda self: self._of("failed"), doc="Units that failed, with why.")

    @property
    def ids(self) -> list[str]:
        """Ids of the datasets this run's units ended with (written, replaced or already there)."""
        return [o.id for o in self.outcomes if isinstance(o, (Written, Exists))]

    def __iter__(self) -> Iterator[Outcome]:
        return iter(self.outcomes)

    def counts(self) -> dict[str, int]:
        return {status: len(self._of(status)) for status in _ORDER}

    def summary(self) -> str:
        """One line of counts, then one line per skipped or failed unit with its reason."""
        counts = ", ".join(f"{n} {status}" for status, n in self.counts().items()
                           if n or status != "in progress elsewhere")  # said only when it happens
        lines = [f"{self.flow}: {counts}"]
        lines += [f"  {k}: {v}" for k, v in self.details.items()]
        lines += [f"  {o.status} {o.unit}: {o.reason}" for o in self.outcomes
                  if isinstance(o, (Elsewhere, Skipped, Failed))]
        return "\n".join(lines)

    def rows(self) -> list[tuple[str, str, str, str]]:
        """(unit, outcome, dataset id, path or reason) per unit: the table the CLI prints at the end of a run."""
        out = []
        for o in sorted(self.outcomes, key=lambda o: (_ORDER.index(o.status), o.unit)):
            if isinstance(o, (Written, Exists)):
                out.append((o.unit, o.status, o.id, str(o.path or "")))
            else:
                out.append((o.unit, o.status, "", o.reason))
        return out


def failed(unit: str, err: BaseException) -> Failed:
    """The ``Failed`` outcome of a unit that raised ``err``: a user's error by its message (it names the cause), any
    other error with its type, as a bug or an outage needs it."""
    reason = str(err) if isinstance(err, SnowlandError) else f"{type(err).__name__}: {err}"
    return Failed(unit=unit, reason=" ".join(reason.split()))


def gather(futures: Sequence[Any], *, units: Sequence[str], label: str) -> list[Outcome]:
    """The outcomes of a flow's fanned-out units, one per Prefect future, in the order of ``units``.

    The one failure policy: a unit whose task raised (after its retries) is ``Failed`` with its reason and the
    others go on. Each unit is told to ``progress`` as it ends, whatever the order.
    """
    from prefect.futures import as_completed

    unit_of = dict(zip(futures, units, strict=True))
    ended: dict[str, Outcome] = {}
    with progress.units(label, total=len(units)) as done:
        for future in as_completed(list(futures)):
            unit = unit_of[future]
            try:
                ended[unit] = future.result()
            except Exception as err:  # noqa: BLE001 - recorded with its reason; a re-run computes what is missing
                ended[unit] = failed(unit, err)
            done(ended[unit].status)
    return [ended[unit] for unit in units]
