"""Forest votes by groups of trees, with the early stop the adaptive forests share (`classify.py`, `compiled.py`):
a pixel leaves once its vote so far is decided, by the leader's share or by its lead over the runner-up."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def tree_groups(n_trees: int, *, batch: int | None = None, stages: Sequence[int] | None = None) -> list[slice]:
    """The trees' groups, evaluated in turn: cut at the cumulative counts `stages`, else every `batch` trees,
    else one group of all."""
    if stages is not None:
        cuts: Sequence[int] = stages
    elif batch:
        cuts = range(batch, n_trees, batch)
    else:
        cuts = ()
    bounds = [0, *sorted({int(c) for c in cuts if 0 < c < n_trees}), n_trees]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


def staged_votes(groups: Sequence[tuple[int, Callable[[np.ndarray], np.ndarray]]], x: np.ndarray, *,
                 n_classes: int, agreement: float | None = None, margin: float | None = None) -> np.ndarray:
    """(n, classes) vote shares from tree groups evaluated in turn, each a (number of trees, function of the
    active rows giving their (rows, classes) vote counts). A row leaves once one class has `agreement` of the
    votes so far, or leads the runner-up by `margin` x sqrt(votes so far) (a sequential test: a lead that the
    remaining trees are unlikely to overturn); with neither, every tree votes."""
    n_trees = sum(size for size, _ in groups)
    votes = np.zeros((len(x), n_classes), dtype=np.float32)
    evaluated = np.full(len(x), n_trees, dtype=np.float32)
    active = np.arange(len(x))
    done = 0
    for size, group in groups:
        votes[active] += group(x if len(active) == len(x) else x[active])
        done += size
        if (agreement is None and margin is None) or done == n_trees:
            continue
        settled = _decided(votes[active], done, agreement=agreement, margin=margin)
        evaluated[active[settled]] = done
        active = active[~settled]
        if not active.size:
            break
    return votes / evaluated[:, None]


def _decided(votes: np.ndarray, done: int, *, agreement: float | None, margin: float | None) -> np.ndarray:
    """Rows whose vote is settled after `done` trees (a forest has at least two classes: `classify.train`)."""
    settled = np.zeros(len(votes), dtype=bool)
    if agreement is not None:
        settled |= votes.max(axis=1) >= agreement * done
    if margin is not None:
        runner_up, leader = np.partition(votes, -2, axis=1)[:, -2:].T
        settled |= leader - runner_up >= margin * np.sqrt(done)
    return settled
