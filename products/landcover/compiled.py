"""iota2's forest compiled to ONNX tree ensembles and run by ONNX Runtime, with early-stopped voting.

scikit-learn fits the forest; each tree is then written as ONNX nodes whose leaves give one vote
to the tree's majority class, so that ONNX Runtime sums hard votes exactly as iota2 counts them.
Thresholds are rounded down to float32 (features are float32), so every tree takes the same branch
as in scikit-learn and the votes are identical to `classify.forest_votes`. Trees are grouped in
batches of `vote_batch`, one ONNX graph each, and a pixel stops once `vote_agreement` of the trees
evaluated so far agree, as `rf_iota2_adaptive`. The graphs are bytes inside the pickled model (one
file, one checksum); a worker needs only the onnxruntime wheel, no compiler.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier

from products.landcover.votes import staged_votes, tree_groups

ONNX_OPSET = 17
ML_OPSET = 3


class CompiledForest:
    """A scikit-learn forest fitted, then kept only as ONNX graphs of `batch` trees each.

    `kind` is "random_forest" or "extra_trees"; `params` are the scikit-learn forest's.
    """

    def __init__(self, *, kind: str = "random_forest", params: Mapping[str, Any], batch: int = 5, seed: int = 0,
                 n_jobs: int | None = None) -> None:
        self.kind = kind
        self.params = dict(params)
        self.batch = batch
        self.seed = seed
        self.n_jobs = n_jobs
        self.graphs: tuple[bytes, ...] = ()
        self.classes_ = np.array([])
        self.n_trees = 0
        self._sessions: list[Any] | None = None

    def fit(self, x: np.ndarray, y: np.ndarray) -> CompiledForest:
        family = {"random_forest": RandomForestClassifier, "extra_trees": ExtraTreesClassifier}[self.kind]
        forest = family(random_state=self.seed, n_jobs=self.n_jobs, **self.params).fit(x, y)
        self.classes_ = forest.classes_
        self.n_trees = len(forest.estimators_)
        trees = forest.estimators_
        self.graphs = tuple(
            compile_trees([t.tree_ for t in trees[g]], n_classes=len(self.classes_), n_features=x.shape[1])
            for g in tree_groups(len(trees), batch=self.batch)
        )
        self._sessions = None
        return self

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_sessions": None}

    def sessions(self) -> list[Any]:
        """One single-threaded ONNX Runtime session per tree batch (a dask worker thread runs one block)."""
        if self._sessions is None:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            self._sessions = [ort.InferenceSession(g, options, providers=["CPUExecutionProvider"]) for g in self.graphs]
        return self._sessions

    def class_shares(self, x: np.ndarray, *, agreement: float | None = None, margin: float | None = None
                     ) -> np.ndarray:
        """(n, classes) share of the evaluated trees voting for each class; see `classify.forest_votes`."""
        groups = [(g.stop - g.start, partial(_run, session))
                  for g, session in zip(tree_groups(self.n_trees, batch=self.batch), self.sessions(), strict=True)]
        return staged_votes(groups, np.ascontiguousarray(x, dtype=np.float32), n_classes=len(self.classes_),
                            agreement=agreement, margin=margin)


def _run(session: Any, x: np.ndarray) -> np.ndarray:
    return session.run(["votes"], {"x": x})[0]


def compile_trees(trees: Sequence[Any], *, n_classes: int, n_features: int) -> bytes:
    """One ONNX graph, input "x" (n, n_features) float32, output "votes" (n, n_classes): per class, the
    number of `trees` (scikit-learn `Tree` objects) whose leaf's majority is that class."""
    from onnx import TensorProto, helper

    cols: dict[str, list] = {k: [] for k in ("tree", "node", "feature", "value", "mode", "true", "false")}
    target: dict[str, list] = {k: [] for k in ("tree", "node", "id", "weight")}
    for t, tree in enumerate(trees):
        left, right = tree.children_left, tree.children_right
        leaf = left == -1
        n = tree.node_count
        cols["tree"] += [t] * n
        cols["node"] += range(n)
        cols["feature"] += np.where(leaf, 0, tree.feature).tolist()
        cols["value"] += np.where(leaf, 0, float32_at_most(tree.threshold)).tolist()
        cols["mode"] += np.where(leaf, "LEAF", "BRANCH_LEQ").tolist()
        cols["true"] += np.where(leaf, 0, left).tolist()
        cols["false"] += np.where(leaf, 0, right).tolist()
        leaves = np.flatnonzero(leaf)
        target["tree"] += [t] * len(leaves)
        target["node"] += leaves.tolist()
        target["id"] += tree.value[leaves, 0, :].argmax(axis=1).tolist()
        target["weight"] += [1.0] * len(leaves)
    node = helper.make_node(
        "TreeEnsembleRegressor", ["x"], ["votes"], domain="ai.onnx.ml",
        n_targets=n_classes, aggregate_function="SUM", post_transform="NONE",
        nodes_treeids=cols["tree"], nodes_nodeids=cols["node"], nodes_featureids=cols["feature"],
        nodes_values=cols["value"], nodes_modes=cols["mode"], nodes_truenodeids=cols["true"],
        nodes_falsenodeids=cols["false"], nodes_hitrates=[1.0] * len(cols["tree"]),
        nodes_missing_value_tracks_true=[0] * len(cols["tree"]),
        target_treeids=target["tree"], target_nodeids=target["node"], target_ids=target["id"],
        target_weights=target["weight"],
    )
    graph = helper.make_graph(
        [node], "forest_votes",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, n_features])],
        [helper.make_tensor_value_info("votes", TensorProto.FLOAT, [None, n_classes])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", ONNX_OPSET),
                                                   helper.make_opsetid("ai.onnx.ml", ML_OPSET)])
    model.ir_version = 8
    return model.SerializeToString()


def float32_at_most(threshold: np.ndarray) -> np.ndarray:
    """The largest float32 <= each float64 threshold: for float32 x, x <= t exactly when x <= that value."""
    t32 = threshold.astype(np.float32)
    above = t32.astype(np.float64) > threshold
    t32[above] = np.nextafter(t32[above], np.float32(-np.inf))
    return t32
