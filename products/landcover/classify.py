"""Supervised per-pixel classification: train on samples, predict a class map and a confidence map.

The reference model is iota2's random forest (science.md B.4): 100 trees, maximum depth 25, a
node with fewer than 5 samples is not split (OpenCV `min_sample_count` -> sklearn
`min_samples_split=5`), sqrt(n) variables tried per split, bootstrap. Its class is the majority
of the trees' votes and its confidence the share of trees voting for it (0-100), as iota2's
`Confidence` layer. Other models give the probability of the winning class x 100.

The default, `rf_iota2_adaptive`, is that same forest (trained identically) with early-stopped
voting: trees vote in stages and a pixel is settled once its leading class leads the runner-up by
2 x sqrt(trees so far); only uncertain pixels go through all 100 trees. Its confidence is the vote
share among the trees evaluated for the pixel. `rf_iota2_compiled` runs the forest from ONNX graphs,
and `et_compiled` extremely randomized trees on half-sample bootstraps, both with the earlier stop
(`AGREEMENT_VOTING`, `compiled.py`). Measurements in `bench/bench_landcover.py`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata as importlib_metadata
from typing import Any

import numpy as np
import xarray as xr
from sklearn.ensemble import (
    ExtraTreesClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)

from products.errors import BadInputError, MissingDataError
from products.landcover.nomenclature import NODATA
from products.landcover.samples import Samples, TooFewSamplesError
from products.landcover.votes import staged_votes, tree_groups


class FeatureMismatchError(BadInputError):
    """The features given do not contain those the model was trained on."""

    def __str__(self) -> str:
        return self.args[0]


@dataclass(frozen=True)
class ClassifierSpec:
    """A model family, its training parameters (sklearn names) and its prediction options.

    Forests accept early-stop options for prediction: trees are evaluated in groups, `vote_batch` at a time or
    up to each cumulative count of `vote_stages`, and a pixel stops being evaluated once `vote_agreement` of the
    trees evaluated so far vote for one class, or once its leading class leads the runner-up by `vote_margin` x
    sqrt(trees so far) (see `forest_votes`).
    """

    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)
    predict_options: Mapping[str, Any] = field(default_factory=dict)

    def build(self, *, seed: int = 0, n_jobs: int | None = None) -> Any:
        params = dict(self.params)
        if self.kind == "random_forest":
            return RandomForestClassifier(random_state=seed, n_jobs=n_jobs, **params)
        if self.kind == "extra_trees":
            return ExtraTreesClassifier(random_state=seed, n_jobs=n_jobs, **params)
        if self.kind == "hist_gradient_boosting":
            return HistGradientBoostingClassifier(random_state=seed, **params)
        if self.kind == "compiled_forest":
            from products.landcover.compiled import CompiledForest

            family = params.pop("family", "random_forest")
            if "vote_stages" in self.predict_options:
                raise ValueError("a compiled forest votes in batches of `vote_batch` trees (one ONNX graph each); "
                                 "it takes no `vote_stages`")
            return CompiledForest(kind=family, params=params, batch=int(self.predict_options.get("vote_batch", 5)),
                                  seed=seed, n_jobs=n_jobs)
        if self.kind == "svm":
            from products.landcover.svm import CrossValidatedSVM

            return CrossValidatedSVM(random_state=seed, n_jobs=n_jobs, **params)
        raise ValueError(f"unknown classifier kind {self.kind!r}")


RF_IOTA2 = ClassifierSpec(
    "random_forest",
    {"n_estimators": 100, "max_depth": 25, "min_samples_split": 5, "max_features": "sqrt", "bootstrap": True},
)
"""iota2 / OSO default random forest (science.md B.4)."""

RF_IOTA2_ADAPTIVE = ClassifierSpec(
    "random_forest",
    RF_IOTA2.params,
    {"vote_stages": (5, 10, 20, 40), "vote_margin": 2.0},
)
"""iota2's forest, trained identically, with early-stopped voting: trees vote in stages of 5, 10, 20, 40 and 100,
and a pixel stops once its leading class leads the runner-up by 2 x sqrt(trees so far) (5 of 5, 9 of 10, 15 to 5 of
20, ...), a lead the remaining trees are unlikely to overturn. 1.5x and 1.3x the speed of the earlier rule (8 of the
first 10 trees, 16 of 20, ...) on the real eo-learn series and the simulated year, at the same kappa
(bench/README.md, issue 21)."""

AGREEMENT_VOTING = {"vote_batch": 10, "vote_agreement": 0.8}
"""The earlier early stop, kept by the compiled forests (one ONNX graph per batch of 10 trees): a pixel stops when 8
of the first 10 trees agree, 16 of the first 20, and so on. With 5 trees and 0.7 (4 of 5) the demo world's July crop
kappa lost 0.022 to the same trees all voting (issue 18)."""

RF_SMALL = ClassifierSpec(
    "random_forest",
    {"n_estimators": 20, "max_depth": 25, "min_samples_split": 5, "max_features": "sqrt", "bootstrap": True},
)
"""The same forest with 20 trees."""

RF_IOTA2_COMPILED = ClassifierSpec("compiled_forest", RF_IOTA2.params, AGREEMENT_VOTING)
"""iota2's forest compiled to ONNX and run by ONNX Runtime (`compiled.py`), voting as `AGREEMENT_VOTING`."""

ET_COMPILED = ClassifierSpec(
    "compiled_forest",
    {**RF_IOTA2.params, "family": "extra_trees", "max_samples": 0.5},
    AGREEMENT_VOTING,
)
"""iota2's forest parameters with random split thresholds (extremely randomized trees), each tree on a bootstrap
of half the samples, compiled and voted as `rf_iota2_compiled`: no threshold search and half the rows make
training several times faster, and the smaller trees evaluate faster."""

HIST_GRADIENT_BOOSTING = ClassifierSpec(
    "hist_gradient_boosting",
    {"max_iter": 100, "learning_rate": 0.1, "max_leaf_nodes": 31, "early_stopping": False},
)

SVM_RBF = ClassifierSpec(
    "svm",
    {"c_grid": (1.0, 10.0, 100.0), "gamma_grid": (0.3, 1.0, 3.0), "folds": 3, "max_samples_per_class": 600,
     "cv_samples_per_class": 200},
)
"""The near-real-time chain's SVM (products.landcover.svm): C and gamma cross-validated on the past years."""

CLASSIFIERS: Mapping[str, ClassifierSpec] = {
    "rf_iota2": RF_IOTA2,
    "rf_iota2_adaptive": RF_IOTA2_ADAPTIVE,
    "rf_small": RF_SMALL,
    "hist_gradient_boosting": HIST_GRADIENT_BOOSTING,
    "rf_iota2_compiled": RF_IOTA2_COMPILED,
    "et_compiled": ET_COMPILED,
    "svm_rbf": SVM_RBF,
}
DEFAULT_CLASSIFIER = "rf_iota2_adaptive"
"""Chosen by measurement (bench/bench_landcover.py): on the real eo-learn series and the simulated OSO 23 year, a
paired kappa within 0.001 of `rf_iota2`, and 5.0x / 5.9x its pixels per second on one core, timed on a quiet
machine (the 8-of-10 rule before it: 3.3x and 4.5x in the same runs; bench/README.md, issue 21).
`et_compiled` trains about 13x faster at the same kappa and predicts at 6.9x / 6.3x (under load): the choice for
frequent retraining."""


@dataclass(frozen=True)
class TrainedModel:
    """A fitted model and what it was trained on."""

    estimator: Any
    spec: ClassifierSpec
    classes: tuple[int, ...]
    feature_names: tuple[str, ...]
    nomenclature: str
    years: tuple[int, ...] = ()
    area: str = ""
    key_date: str | None = None
    seed: int = 0
    class_counts: Mapping[int, int] = field(default_factory=dict)
    library_versions: Mapping[str, str] = field(default_factory=dict)
    trained_at: str = ""
    model_id: str = ""

    def __dask_tokenize__(self) -> tuple[str, str]:
        return ("TrainedModel", self.model_id)

    def metadata(self) -> dict[str, Any]:
        """Everything but the estimator, JSON-ready."""
        return {
            "model_id": self.model_id,
            "kind": self.spec.kind,
            "params": dict(self.spec.params),
            "predict_options": dict(self.spec.predict_options),
            "chosen_params": dict(getattr(self.estimator, "best_params_", {})),  # a cross-validated model's choice
            "classes": list(self.classes),
            "feature_names": list(self.feature_names),
            "nomenclature": self.nomenclature,
            "years": list(self.years),
            "area": self.area,
            "key_date": self.key_date,
            "seed": self.seed,
            "class_counts": {str(k): int(v) for k, v in self.class_counts.items()},
            "library_versions": dict(self.library_versions),
            "trained_at": self.trained_at,
        }


def library_versions() -> dict[str, str]:
    out = {}
    for name in ("scikit-learn", "numpy", "scipy", "joblib", "xarray", "dask", "onnx", "onnxruntime"):
        try:
            out[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            continue
    return out


def train(
    samples: Samples,
    *,
    nomenclature: str,
    spec: ClassifierSpec | str = DEFAULT_CLASSIFIER,
    seed: int = 0,
    years: tuple[int, ...] = (),
    area: str = "",
    key_date: str | None = None,
    n_jobs: int | None = None,
) -> TrainedModel:
    """Fit a classifier on `samples` (labels are class codes of `nomenclature`)."""
    spec = CLASSIFIERS[spec] if isinstance(spec, str) else spec
    if len(samples) == 0:
        raise MissingDataError("no training sample")
    classes = np.unique(samples.labels)
    if len(classes) < 2:
        raise TooFewSamplesError(f"training needs at least two classes; samples have only {classes.tolist()}",
                                 class_code=int(classes[0]), count=len(samples), needed=2, what="classes")
    estimator = spec.build(seed=seed, n_jobs=n_jobs)
    by_polygon = {"groups": samples.polygons} if spec.kind == "svm" else {}  # its search's folds: whole polygons
    estimator.fit(np.ascontiguousarray(samples.features, dtype=np.float32), samples.labels, **by_polygon)
    return TrainedModel(
        estimator=estimator,
        spec=spec,
        classes=tuple(int(c) for c in estimator.classes_),
        feature_names=tuple(samples.feature_names),
        nomenclature=nomenclature,
        years=tuple(int(y) for y in years),
        area=area,
        key_date=key_date,
        seed=seed,
        class_counts=dict(samples.class_counts()),
        library_versions=dict(library_versions()),
        trained_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        model_id=uuid.uuid4().hex,
    )


def predict(model: TrainedModel, features: np.ndarray, *, nodata: int = NODATA) -> tuple[np.ndarray, np.ndarray]:
    """Class codes (n,) and confidence 0-100 (n,) uint8 for a (n, feature) matrix.

    Rows with a non-finite feature get `nodata` and confidence 0.
    """
    x = np.asarray(features, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != len(model.feature_names):
        raise FeatureMismatchError(f"expected (n, {len(model.feature_names)}) features, got {x.shape}")
    codes = np.full(len(x), nodata, dtype=np.int32)
    confidence = np.zeros(len(x), dtype=np.uint8)
    ok = np.isfinite(x).all(axis=1)
    if ok.any():
        rows = np.ascontiguousarray(x if ok.all() else x[ok])  # a map's block is seldom gappy: no copy then
        share = _class_shares(model.estimator, rows, model.spec.predict_options)
        best = share.argmax(axis=1)
        codes[ok] = np.asarray(model.classes, dtype=np.int32)[best]
        confidence[ok] = np.rint(100 * share[np.arange(len(best)), best]).astype(np.uint8)
    return codes, confidence


def _class_shares(estimator: Any, x: np.ndarray, options: Mapping[str, Any]) -> np.ndarray:
    """Share of tree votes per class for forests (hard voting), class probabilities otherwise."""
    if hasattr(estimator, "class_shares"):
        return estimator.class_shares(x, agreement=options.get("vote_agreement"), margin=options.get("vote_margin"))
    if isinstance(estimator, (RandomForestClassifier, ExtraTreesClassifier)):
        return forest_votes(estimator, x, batch=options.get("vote_batch"), stages=options.get("vote_stages"),
                            agreement=options.get("vote_agreement"), margin=options.get("vote_margin"))
    return estimator.predict_proba(x)


def forest_votes(forest: Any, x: np.ndarray, *, batch: int | None = None, stages: tuple[int, ...] | None = None,
                 agreement: float | None = None, margin: float | None = None) -> np.ndarray:
    """(n, classes) share of the evaluated trees voting for each class.

    Without `agreement` or `margin` every tree votes. With them, trees are evaluated in groups (`batch` at a
    time, or up to each of `stages`) and a pixel is settled as soon as one class has at least `agreement` of the
    votes so far, or leads the next by `margin` x sqrt(votes so far); its shares are then over the trees
    evaluated for it. Undecided pixels go on to the last tree.
    """
    trees = forest.estimators_
    if agreement is None and margin is None:
        groups_of = tree_groups(len(trees))  # every tree votes: one group
    else:
        groups_of = tree_groups(len(trees), batch=max(1, int(batch or 1)), stages=stages)
    n_classes = len(forest.classes_)

    def group_votes(group: list[Any]) -> Callable[[np.ndarray], np.ndarray]:
        def votes(xa: np.ndarray) -> np.ndarray:
            out = np.zeros((len(xa), n_classes), dtype=np.float32)
            for tree in group:
                leaf_class = tree.tree_.value[:, 0, :].argmax(axis=1)
                out[np.arange(len(xa)), leaf_class[tree.apply(xa, check_input=False)]] += 1
            return out
        return votes

    groups = [(len(trees[g]), group_votes(trees[g])) for g in groups_of]
    return staged_votes(groups, x, n_classes=n_classes, agreement=agreement, margin=margin)


def predict_samples(model: TrainedModel, samples: Samples, *, nodata: int = NODATA) -> tuple[np.ndarray, np.ndarray]:
    """`predict` on samples whose feature columns are matched to the model's by name."""
    index = {name: i for i, name in enumerate(samples.feature_names)}
    missing = [f for f in model.feature_names if f not in index]
    if missing:
        raise FeatureMismatchError(f"samples lack {len(missing)} of the model's features, e.g. {missing[:3]}")
    columns = [index[f] for f in model.feature_names]
    x = samples.features if columns == list(range(samples.features.shape[1])) else samples.features[:, columns]
    return predict(model, x, nodata=nodata)


def align_features(model: TrainedModel, features: xr.DataArray) -> xr.DataArray:
    """`features` restricted to, and ordered as, the model's feature names."""
    have = features["feature"].values.tolist()
    missing = [f for f in model.feature_names if f not in set(have)]
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise FeatureMismatchError(
            f"features lack {len(missing)} of the model's {len(model.feature_names)} features ({shown}); "
            f"the model was trained on {model.feature_names[0]} ... {model.feature_names[-1]}"
            + (f" for key date {model.key_date!r}" if model.key_date else "")
        )
    if have == list(model.feature_names):
        return features
    return features.sel(feature=list(model.feature_names))


def class_dtype(model: TrainedModel, nodata: int = NODATA) -> np.dtype:
    top = max(max(model.classes), nodata)
    return np.dtype(np.uint8 if top <= 255 and min(model.classes) >= 0 else np.int32)


def predict_map(model: TrainedModel, features: xr.DataArray, *, nodata: int = NODATA) -> xr.Dataset:
    """`classification` and `confidence` maps from (y, x, feature) features, block by block on dask."""
    features = align_features(model, features)
    spatial = [d for d in features.dims if d != "feature"]
    features = features.transpose(*spatial, "feature")
    dtype = class_dtype(model, nodata)
    if features.chunks:
        data = features.data.rechunk({features.ndim - 1: -1})
        out = data.map_blocks(
            _predict_block, model=model, nodata=nodata, dtype=np.int32,
            chunks=data.chunks[:-1] + ((2,),),
        )
    else:
        out = _predict_block(features.values, model=model, nodata=nodata)
    coords = {k: v for k, v in features.coords.items() if "feature" not in v.dims}
    attrs = {"nomenclature": model.nomenclature, "model_id": model.model_id, "nodata": nodata}
    return xr.Dataset(
        {
            "classification": (spatial, out[..., 0].astype(dtype), {**attrs}),
            "confidence": (spatial, out[..., 1].astype(np.uint8), {"units": "percent", "nodata": 0}),
        },
        coords=coords,
        attrs=attrs,
    )


def _predict_block(block: np.ndarray, *, model: TrainedModel, nodata: int) -> np.ndarray:
    shape = block.shape[:-1]
    codes, confidence = predict(model, block.reshape(-1, block.shape[-1]), nodata=nodata)
    return np.stack([codes, confidence.astype(np.int32)], axis=-1).reshape(*shape, 2)
