"""Accuracy of a classification against validation pixels, and its spread over runs.

Confusion matrix rows are the reference classes, columns the predicted ones. Over several runs
(seeds), each figure is given as its mean and a 95 % confidence interval from Student's t
distribution with runs - 1 degrees of freedom (iota2 with `runs > 1`, science.md B.4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Accuracy:
    """One run's accuracy figures; per-class dicts are keyed by class code."""

    classes: tuple[int, ...]
    confusion: np.ndarray
    overall_accuracy: float
    kappa: float
    precision: Mapping[int, float]
    recall: Mapping[int, float]
    f1: Mapping[int, float]
    support: Mapping[int, int]

    @property
    def n(self) -> int:
        return int(self.confusion.sum())

    def as_dict(self) -> dict:
        return {
            "classes": list(self.classes),
            "n": self.n,
            "overall_accuracy": self.overall_accuracy,
            "kappa": self.kappa,
            "precision": {str(k): v for k, v in self.precision.items()},
            "recall": {str(k): v for k, v in self.recall.items()},
            "f1": {str(k): v for k, v in self.f1.items()},
            "support": {str(k): v for k, v in self.support.items()},
            "confusion": self.confusion.tolist(),
        }


@dataclass(frozen=True)
class Interval:
    """Mean and 95 % confidence interval over runs (`low == high == mean` for one run)."""

    mean: float
    low: float
    high: float
    runs: int

    def as_dict(self) -> dict:
        return {"mean": self.mean, "low": self.low, "high": self.high, "runs": self.runs}


@dataclass(frozen=True)
class RunsSummary:
    runs: tuple[Accuracy, ...]
    classes: tuple[int, ...]
    overall_accuracy: Interval
    kappa: Interval
    f1: Mapping[int, Interval]
    precision: Mapping[int, Interval]
    recall: Mapping[int, Interval]
    confusion: np.ndarray = field(repr=False)

    def as_dict(self) -> dict:
        return {
            "classes": list(self.classes),
            "overall_accuracy": self.overall_accuracy.as_dict(),
            "kappa": self.kappa.as_dict(),
            "f1": {str(k): v.as_dict() for k, v in self.f1.items()},
            "precision": {str(k): v.as_dict() for k, v in self.precision.items()},
            "recall": {str(k): v.as_dict() for k, v in self.recall.items()},
            "confusion_sum": self.confusion.tolist(),
            "runs": [r.as_dict() for r in self.runs],
        }


def confusion_matrix(reference: np.ndarray, predicted: np.ndarray, classes: Sequence[int]) -> np.ndarray:
    """Counts, rows = reference, columns = predicted, in the order of `classes`.

    Pixels whose reference is not in `classes` are ignored; predictions outside `classes` are in
    no column (they still count as errors in `accuracy`).
    """
    ref, pred = np.asarray(reference).ravel(), np.asarray(predicted).ravel()
    if ref.shape != pred.shape:
        raise ValueError(f"reference ({ref.size}) and prediction ({pred.size}) differ in size")
    i, j = _positions(ref, classes), _positions(pred, classes)
    keep = (i >= 0) & (j >= 0)
    matrix = np.zeros((len(classes), len(classes)), dtype=np.int64)
    np.add.at(matrix, (i[keep], j[keep]), 1)
    return matrix


def _positions(values: np.ndarray, classes: Sequence[int]) -> np.ndarray:
    """Index of each value in `classes`, -1 when absent."""
    uniques, inverse = np.unique(values, return_inverse=True)
    index = {int(c): k for k, c in enumerate(classes)}
    return np.array([index.get(int(u), -1) for u in uniques.tolist()], dtype=np.int64)[inverse]


def accuracy(reference: np.ndarray, predicted: np.ndarray, *, classes: Sequence[int] | None = None) -> Accuracy:
    """OA, Cohen's kappa, per-class precision / recall / F1 from reference and predicted codes.

    `classes` defaults to every code in the reference or the prediction.
    """
    ref = np.asarray(reference).ravel()
    pred = np.asarray(predicted).ravel()
    if ref.size == 0:
        raise ValueError("no validation pixel")
    if classes is None:
        classes = np.union1d(np.unique(ref), np.unique(pred))
    classes = tuple(int(c) for c in classes)
    cm = confusion_matrix(ref, pred, classes)
    row = np.bincount(_positions(ref, classes) + 1, minlength=len(classes) + 1)[1:].astype(float)
    col = cm.sum(axis=0).astype(float)
    total = float(row.sum())
    oa = float(np.trace(cm)) / total if total else float("nan")
    expected = float((row * col).sum()) / total**2 if total else float("nan")
    kappa = (oa - expected) / (1 - expected) if expected < 1 else (1.0 if oa == 1 else 0.0)
    diag = np.diag(cm).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(col > 0, diag / col, 0.0)
        recall = np.where(row > 0, diag / row, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return Accuracy(
        classes=classes,
        confusion=cm,
        overall_accuracy=oa,
        kappa=float(kappa),
        precision=dict(zip(classes, precision.tolist())),
        recall=dict(zip(classes, recall.tolist())),
        f1=dict(zip(classes, f1.tolist())),
        support=dict(zip(classes, row.astype(int).tolist())),
    )


def interval(values: Sequence[float], *, confidence: float = 0.95) -> Interval:
    """Mean and Student-t confidence interval of `values` (NaN values are ignored)."""
    v = np.asarray([x for x in values if np.isfinite(x)], dtype=float)
    if v.size == 0:
        return Interval(float("nan"), float("nan"), float("nan"), 0)
    mean = float(v.mean())
    if v.size == 1:
        return Interval(mean, mean, mean, 1)
    half = float(stats.t.ppf(0.5 + confidence / 2, df=v.size - 1) * v.std(ddof=1) / np.sqrt(v.size))
    return Interval(mean, mean - half, mean + half, int(v.size))


def summarise_runs(runs: Sequence[Accuracy], *, confidence: float = 0.95) -> RunsSummary:
    """Mean and confidence interval of every figure over runs; the confusion matrices summed.

    A class absent from a run's validation pixels does not enter that class's per-class figures.
    """
    if not runs:
        raise ValueError("no run to summarise")
    classes = tuple(sorted({c for r in runs for c in r.classes}))
    total = np.zeros((len(classes), len(classes)), dtype=np.int64)
    for r in runs:
        idx = [classes.index(c) for c in r.classes]
        total[np.ix_(idx, idx)] += r.confusion

    def per_class(attr: str) -> Mapping[int, Interval]:
        return dict({
            c: interval([getattr(r, attr)[c] for r in runs if c in r.classes and r.support[c] > 0], confidence=confidence)
            for c in classes
        })

    return RunsSummary(
        runs=tuple(runs),
        classes=classes,
        overall_accuracy=interval([r.overall_accuracy for r in runs], confidence=confidence),
        kappa=interval([r.kappa for r in runs], confidence=confidence),
        f1=per_class("f1"),
        precision=per_class("precision"),
        recall=per_class("recall"),
        confusion=total,
    )
