"""Forest votes by groups of trees, with the early stop the adaptive forests share (`classify.py`, `compiled.py`):
a pixel leaves once one class holds the agreed share of the votes so far."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def staged_votes(groups: Sequence[tuple[int, Callable[[np.ndarray], np.ndarray]]], x: np.ndarray, *,
                 n_classes: int, agreement: float | None) -> np.ndarray:
    """(n, classes) vote shares from tree groups evaluated in turn, each a (number of trees, function of the
    active rows giving their (rows, classes) vote counts); with `agreement`, a row leaves once one class has that
    share of the votes so far."""
    n_trees = sum(size for size, _ in groups)
    votes = np.zeros((len(x), n_classes), dtype=np.float32)
    evaluated = np.full(len(x), n_trees, dtype=np.float32)
    active = np.arange(len(x))
    done = 0
    for size, group in groups:
        votes[active] += group(x if len(active) == len(x) else x[active])
        done += size
        if agreement is None or done == n_trees:
            continue
        settled = votes[active].max(axis=1) >= agreement * done
        evaluated[active[settled]] = done
        active = active[~settled]
        if not active.size:
            break
    return votes / evaluated[:, None]
