"""Training and validation samples from rasterised reference polygons, split by polygon.

Every pixel of a reference polygon is a sample (iota2 `strategy: all`). The split is made over
polygons, per class (stratified), so that no polygon has pixels on both sides (iota2 `ratio`,
default 0.5 of each class's polygons for learning, science.md B.4); `runs` splits use seeds
`seed, seed + 1, ...`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from products.errors import MissingDataError
from products.landcover.features import to_samples

SPLIT_RATIO = 0.5


class NoPolygonError(MissingDataError):
    """No reference polygon (with a class) covers any usable pixel of the area."""


class TooFewSamplesError(MissingDataError):
    """A class has too few polygons or pixels to be learnt and validated."""

    def __init__(self, message: str, *, class_code: int, count: int, needed: int, what: str):
        super().__init__(message)
        self.class_code, self.count, self.needed, self.what = class_code, count, needed, what


@dataclass(frozen=True)
class Samples:
    """Sample pixels: features (n, f), class labels (n,), polygon ids (n,), feature names."""

    features: np.ndarray
    labels: np.ndarray
    polygons: np.ndarray
    feature_names: tuple[str, ...]

    def __post_init__(self) -> None:
        n = len(self.labels)
        if self.features.shape != (n, len(self.feature_names)) or len(self.polygons) != n:
            raise ValueError("features, labels, polygons and feature names do not agree in size")

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, polygons: Collection[int]) -> Samples:
        keep = np.isin(self.polygons, np.fromiter(polygons, dtype=np.int64, count=len(polygons)))
        return Samples(self.features[keep], self.labels[keep], self.polygons[keep], self.feature_names)

    def polygon_classes(self) -> dict[int, int]:
        ids, first = np.unique(self.polygons, return_index=True)
        return dict(zip(ids.tolist(), self.labels[first].tolist()))

    def class_counts(self) -> dict[int, int]:
        codes, counts = np.unique(self.labels, return_counts=True)
        return dict(zip(codes.tolist(), counts.tolist()))


@dataclass(frozen=True)
class PolygonSplit:
    """One run's learning / validation polygons; classes left out with the reason."""

    seed: int
    ratio: float
    train: frozenset[int]
    validation: frozenset[int]
    dropped: Mapping[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SampleSplit:
    split: PolygonSplit
    train: Samples
    validation: Samples


def extract_samples(
    features: xr.DataArray,
    polygon_ids: np.ndarray | xr.DataArray,
    polygon_classes: Mapping[int, int],
    *,
    clear_observations: np.ndarray | xr.DataArray | None = None,
    min_clear_dates: int = 0,
) -> Samples:
    """Pixels of the polygons in `polygon_classes` (id -> class) with finite features.

    `polygon_ids` is the (y, x) raster of polygon ids (0 = none) on the features' grid. With
    `clear_observations`, only pixels seen clear on more than `min_clear_dates` dates are kept
    (iota2 `cloud_threshold`).
    """
    ids = np.asarray(polygon_ids).astype(np.int64)
    spatial = tuple(d for d in features.dims if d != "feature")
    if ids.shape != tuple(features.sizes[d] for d in spatial):
        raise ValueError(f"polygon id raster {ids.shape} does not match the features' grid {spatial}")
    known = np.fromiter(polygon_classes.keys(), dtype=np.int64, count=len(polygon_classes))
    mask = (ids > 0) & np.isin(ids, known)
    if clear_observations is not None:
        mask &= np.asarray(clear_observations) > min_clear_dates
    if not mask.any():
        raise NoPolygonError(
            f"no reference polygon in the area: {len(polygon_classes)} polygon(s) given, "
            f"none covers a usable pixel of the {ids.shape[0]}x{ids.shape[1]} grid"
        )
    values = to_samples(features, mask)
    pixel_ids = ids[mask]
    finite = np.isfinite(values).all(axis=1)
    if not finite.any():
        raise NoPolygonError("no reference pixel has valid features (no clear date under any polygon)")
    lookup = dict(polygon_classes)
    labels = np.array([lookup[i] for i in pixel_ids[finite].tolist()], dtype=np.int32)
    return Samples(values[finite], labels, pixel_ids[finite], tuple(features["feature"].values.tolist()))


def split_polygons(
    polygon_classes: Mapping[int, int],
    *,
    ratio: float = SPLIT_RATIO,
    seed: int = 0,
    min_polygons: int = 2,
    rare: str = "raise",
) -> PolygonSplit:
    """Stratified split of polygons: per class, `ratio` x n polygons, rounded half up, at least one
    and leaving at least one, go to learning; the rest to validation.

    A class with fewer than `min_polygons` polygons raises `TooFewSamplesError` (`rare="raise"`)
    or is left out and listed in `dropped` (`rare="drop"`).
    """
    if not 0 < ratio < 1:
        raise ValueError("ratio must be strictly between 0 and 1")
    if rare not in ("raise", "drop"):
        raise ValueError("rare must be 'raise' or 'drop'")
    if not polygon_classes:
        raise NoPolygonError("no reference polygon in the area")
    rng = np.random.default_rng(seed)
    by_class: dict[int, list[int]] = {}
    for pid, code in sorted(polygon_classes.items()):
        by_class.setdefault(int(code), []).append(int(pid))
    train: set[int] = set()
    validation: set[int] = set()
    dropped: dict[int, str] = {}
    for code, pids in sorted(by_class.items()):
        if len(pids) < max(min_polygons, 2):
            reason = f"class {code} has {len(pids)} polygon(s); at least {max(min_polygons, 2)} are needed to learn and validate it"
            if rare == "raise":
                raise TooFewSamplesError(reason, class_code=code, count=len(pids), needed=max(min_polygons, 2), what="polygons")
            dropped[code] = reason
            continue
        order = rng.permutation(len(pids))
        n_train = min(max(int(np.floor(ratio * len(pids) + 0.5)), 1), len(pids) - 1)
        train.update(pids[i] for i in order[:n_train])
        validation.update(pids[i] for i in order[n_train:])
    if not train:
        raise TooFewSamplesError(
            "no class has enough polygons to be split: " + "; ".join(dropped.values()),
            class_code=next(iter(dropped), -1), count=0, needed=max(min_polygons, 2), what="polygons",
        )
    return PolygonSplit(seed=seed, ratio=ratio, train=frozenset(train), validation=frozenset(validation), dropped=dict(dropped))


def split_samples(
    samples: Samples,
    *,
    ratio: float = SPLIT_RATIO,
    seed: int = 0,
    min_polygons: int = 2,
    min_samples: int = 1,
    max_train_per_class: int | None = None,
    rare: str = "raise",
) -> SampleSplit:
    """Split `samples` by polygon (see `split_polygons`) and check each class's pixel counts.

    A class with fewer than `min_samples` learning pixels, or no validation pixel, raises
    `TooFewSamplesError` or, with `rare="drop"`, is left out. `max_train_per_class` draws at most
    that many learning pixels per class at random (None: all, as iota2).
    """
    split = split_polygons(samples.polygon_classes(), ratio=ratio, seed=seed, min_polygons=min_polygons, rare=rare)
    train, validation = samples.subset(split.train), samples.subset(split.validation)
    dropped = dict(split.dropped)
    train_counts, valid_counts = train.class_counts(), validation.class_counts()
    for code in sorted(set(train_counts) | set(valid_counts)):
        n_train, n_valid = train_counts.get(code, 0), valid_counts.get(code, 0)
        if n_train >= min_samples and n_valid >= 1:
            continue
        side, count, needed = ("learning", n_train, min_samples) if n_train < min_samples else ("validation", n_valid, 1)
        reason = f"class {code} has {count} {side} pixel(s) (seed {seed}); at least {needed} needed"
        if rare == "raise":
            raise TooFewSamplesError(reason, class_code=code, count=count, needed=needed, what=f"{side} pixels")
        dropped[code] = reason
    if len(dropped) > len(split.dropped):
        keep = [c for c in train_counts if c not in dropped]
        if not keep:
            raise TooFewSamplesError("no class has enough samples: " + "; ".join(dropped.values()), class_code=-1, count=0, needed=min_samples, what="pixels")
        train = _only_classes(train, keep)
        validation = _only_classes(validation, keep)
        split = PolygonSplit(split.seed, split.ratio, frozenset(train.polygons.tolist()), frozenset(validation.polygons.tolist()), dict(dropped))
    if max_train_per_class is not None:
        train = cap_per_class(train, max_train_per_class, seed=seed)
    return SampleSplit(split=split, train=train, validation=validation)


def split_runs(samples: Samples, *, runs: int = 1, seed: int = 0, **kwargs: object) -> tuple[SampleSplit, ...]:
    """`runs` independent splits with seeds `seed`, `seed + 1`, ... (keyword args of `split_samples`)."""
    if runs < 1:
        raise ValueError("runs must be at least 1")
    return tuple(split_samples(samples, seed=seed + r, **kwargs) for r in range(runs))


def _only_classes(samples: Samples, classes: Collection[int]) -> Samples:
    keep = np.isin(samples.labels, list(classes))
    return Samples(samples.features[keep], samples.labels[keep], samples.polygons[keep], samples.feature_names)


MAX_SAMPLES_PER_CLASS = 10_000
"""The training pixels drawn per class by default. Measured against a plain RF(100, 25) on every pixel (bench/README.md,
"Land cover at key dates"): on the demo's world in March, 3 000 per class kept 27 334 of 125 000 pixels and lost
0.012 OA; 10 000 keeps 76 124 and loses 0.006, crop kappa level, in 3.4x the training time of 3 000 (0.003 with
the forest's vote stopped at 8 of 10 trees rather than 4 of 5)."""


def cap_per_class(samples: Samples, cap: int, *, seed: int) -> Samples:
    """At most ``cap`` samples of each class, drawn at random (reproducibly from ``seed``)."""
    keep = rows_per_class(samples.labels, cap, rng=np.random.default_rng(seed))
    return Samples(samples.features[keep], samples.labels[keep], samples.polygons[keep], samples.feature_names)


def rows_per_class(labels: np.ndarray, cap: int, *, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of at most ``cap`` rows of each class of ``labels``, drawn at random."""
    keep = np.zeros(len(labels), dtype=bool)
    for code in np.unique(labels):
        where = np.flatnonzero(labels == code)
        keep[rng.choice(where, size=min(cap, len(where)), replace=False)] = True
    return np.flatnonzero(keep)
