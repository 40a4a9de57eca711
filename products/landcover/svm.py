"""The near-real-time chain's classifier: a support vector machine, RBF kernel, on standardised features.

The chain this product follows (science.md, near-real-time land cover) classified with an SVM trained on past
years. Here the features are standardised (mean 0, variance 1 per feature, from the training pixels), and C and
gamma are chosen by a grid search with cross-validation on the training samples, the folds made of whole polygons
(a parcel's pixels are never on both sides; the same parcel in two past years counts as two polygons), scored by
kappa. gamma is given per feature (``gamma_grid`` / number of features, sklearn's "scale" on standardised data).

An SVM's training grows with the square of its samples, so it is bounded apart from the flow's cap: at most
``max_samples_per_class`` pixels per class are fitted, ``cv_samples_per_class`` searched over. Its confidence is
the share of the one-against-one duels the winning class won (as the forest's share of votes), not Platt's
probabilities, which would fit every model five times more.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import cohen_kappa_score, make_scorer
from sklearn.model_selection import GridSearchCV, GroupKFold, StratifiedKFold
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from products.landcover.samples import rows_per_class


class CrossValidatedSVM(ClassifierMixin, BaseEstimator):
    """Standardisation and an RBF SVC whose C and gamma are cross-validated on the training samples."""

    def __init__(self, *, c_grid: Sequence[float] = (1.0, 10.0, 100.0), gamma_grid: Sequence[float] = (0.3, 1.0, 3.0),
                 folds: int = 3, max_samples_per_class: int = 600, cv_samples_per_class: int = 200,
                 random_state: int = 0, n_jobs: int | None = None) -> None:
        self.c_grid = c_grid
        self.gamma_grid = gamma_grid
        self.folds = folds
        self.max_samples_per_class = max_samples_per_class
        self.cv_samples_per_class = cv_samples_per_class
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, x: np.ndarray, y: np.ndarray, groups: np.ndarray | None = None) -> CrossValidatedSVM:
        x, y = np.asarray(x, dtype=np.float32), np.asarray(y)
        groups = np.arange(len(y)) if groups is None else np.asarray(groups)
        rng = np.random.default_rng(self.random_state)
        fit_rows = rows_per_class(y, self.max_samples_per_class, rng=rng)
        self.scaler_ = StandardScaler().fit(x[fit_rows])
        z = self.scaler_.transform(x).astype(np.float32)
        cv_rows = fit_rows[rows_per_class(y[fit_rows], self.cv_samples_per_class, rng=rng)]
        self.best_params_ = self._search(z[cv_rows], y[cv_rows], groups[cv_rows])
        self.svc_ = SVC(kernel="rbf", decision_function_shape="ovo", **self.best_params_).fit(z[fit_rows], y[fit_rows])
        self.classes_ = self.svc_.classes_
        return self

    def _search(self, z: np.ndarray, y: np.ndarray, groups: np.ndarray) -> dict[str, float]:
        """C and gamma of the best mean kappa over folds of whole polygons (stratified pixels when too few)."""
        grid = {"C": list(self.c_grid), "gamma": [g / z.shape[1] for g in self.gamma_grid]}
        folds = (GroupKFold(n_splits=self.folds) if len(np.unique(groups)) >= self.folds
                 else StratifiedKFold(n_splits=self.folds, shuffle=True, random_state=self.random_state))
        search = GridSearchCV(SVC(kernel="rbf"), grid, cv=folds, scoring=make_scorer(cohen_kappa_score),
                              n_jobs=self.n_jobs, refit=False, error_score=0.0)
        search.fit(z, y, groups=groups)
        return {k: float(v) for k, v in search.best_params_.items()}

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """(n, classes) share of the one-against-one duels each class won."""
        decision = self.svc_.decision_function(self.scaler_.transform(np.asarray(x, dtype=np.float32)))
        k = len(self.classes_)
        if k == 2:
            won_second = (decision > 0).astype(np.float32)
            return np.stack([1 - won_second, won_second], axis=1)
        votes = np.zeros((len(decision), k), dtype=np.float32)
        pair = 0
        for i in range(k):
            for j in range(i + 1, k):
                first = decision[:, pair] > 0
                votes[first, i] += 1
                votes[~first, j] += 1
                pair += 1
        return votes / (k - 1)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.classes_[self.predict_proba(x).argmax(axis=1)]

