"""Float32 tree thresholds that split exactly as scikit-learn's float64 ones do."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import onnx
from onnx import helper

_TREE_OPS = ("TreeEnsembleClassifier", "TreeEnsembleRegressor")


class SklearnTree(Protocol):
    """What is read of a fitted sklearn ``Tree`` (scikit-learn ships no types)."""

    node_count: int
    children_left: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray


class TreeEnsemble(Protocol):
    """A fitted sklearn tree ensemble: forests, gradient boosting, IsolationForest."""

    estimators_: Any  # a list, or a [stage, class] array for gradient boosting


def sklearn_trees(model: TreeEnsemble) -> list[SklearnTree]:
    """The fitted sklearn ``Tree`` objects in skl2onnx's tree-id order."""
    est = np.asarray(model.estimators_, dtype=object).ravel()  # GB: [stage, class] row-major
    return [e.tree_ for e in est]


def floor_float32(thr: np.ndarray) -> np.ndarray:
    """Largest float32 <= each float64 threshold.

    scikit-learn sends x left when float32(x) <= threshold (float64).  A plain
    float32 cast rounds the threshold to nearest, which can lie above it; a
    float32 input equal to that value then goes left in ONNX and right in
    sklearn.  Rounding down makes both comparisons identical for every float32
    x.  (skl2onnx 1.20 already rounds down for the converters used here;
    ``fix_thresholds`` enforces it whatever the converter version does.)
    """
    f = thr.astype(np.float32)
    up = f.astype(np.float64) > thr
    f[up] = np.nextafter(f[up], np.float32(-np.inf))
    return f


def _close(values: np.ndarray, thr: np.ndarray) -> bool:
    """True if skl2onnx's float32 values are within one float32 step of sklearn's."""
    # skl2onnx does not always round to nearest, so allow one step either way.
    return bool(np.all(np.abs(values.astype(np.float64) - thr)
                       <= np.spacing(np.abs(thr).astype(np.float32))))


def _thresholds_of(tree: SklearnTree, node_ids: list[int]) -> np.ndarray:
    return np.asarray(tree.threshold, dtype=np.float64)[node_ids]


def fix_thresholds(onx: onnx.ModelProto, model: TreeEnsemble) -> int:
    """Rewrite every tree operator's thresholds in place; returns how many moved.

    One operator holds all trees (tree ids index ``sklearn_trees``), or, as
    for IsolationForest, one operator per tree, matched to its tree by values.
    """
    trees = sklearn_trees(model)
    ops = [n for n in onx.graph.node if n.op_type in _TREE_OPS]
    per_tree = len(ops) == len(trees) and len(ops) > 1
    unused = set(range(len(trees)))
    moved = 0
    for node in ops:
        attrs = {a.name: a for a in node.attribute}
        tree_ids = np.array(attrs["nodes_treeids"].ints)
        node_ids = np.array(attrs["nodes_nodeids"].ints)
        branch = np.array([m == b"BRANCH_LEQ" for m in attrs["nodes_modes"].strings])
        if not all(m in (b"BRANCH_LEQ", b"LEAF") for m in attrs["nodes_modes"].strings):
            raise RuntimeError("unexpected tree node mode")
        old = np.array(attrs["nodes_values"].floats, dtype=np.float32)
        if per_tree:  # find this operator's tree among those not matched yet
            match = [k for k in sorted(unused) if trees[k].node_count == len(old) and _close(
                old[branch], _thresholds_of(trees[k], list(node_ids[branch])))]
            if not match:
                raise RuntimeError("a tree operator matches no sklearn tree")
            unused.discard(match[0])
            tree_ids = np.full_like(tree_ids, match[0])
        thr = np.array([trees[t].threshold[n] for t, n in zip(tree_ids, node_ids, strict=True)])
        if not _close(old[branch], thr[branch]):
            raise RuntimeError("tree thresholds do not map onto the sklearn trees")
        new = old.copy()
        new[branch] = floor_float32(thr[branch])
        moved += int((new != old).sum())
        node.attribute.remove(attrs["nodes_values"])
        node.attribute.append(helper.make_attribute("nodes_values", new.tolist()))
    return moved


def tree_probes(model: TreeEnsemble, x: np.ndarray, n_probes: int, seed: int) -> np.ndarray:
    """float32 feature rows placed exactly on, and one float32 step above, tree thresholds.

    Each probe copies a random row of x and sets one split feature to the
    float32 just below or at the threshold (goes left) or the next one up
    (goes right): the inputs where float rounding decides the branch.
    """
    rng = np.random.default_rng(seed)
    # Bagging models (IsolationForest) fit each tree on a permuted feature subset.
    subsets = getattr(model, "estimators_features_", None)
    splits = []
    for k, tree in enumerate(sklearn_trees(model)):
        inner = np.flatnonzero(tree.children_left >= 0)
        cols = subsets[k] if subsets is not None else np.arange(x.shape[1])
        splits += [(int(cols[tree.feature[i]]), float(tree.threshold[i])) for i in inner]
    if not splits or len(x) == 0:
        return np.zeros((0, x.shape[1]), dtype=np.float32)
    pick = rng.choice(len(splits), size=min(n_probes // 2, len(splits)), replace=False)
    rows = []
    for j in pick:
        feat, thr = splits[j]
        low = floor_float32(np.array([thr]))[0]
        for value in (low, np.nextafter(low, np.float32(np.inf))):
            row = x[rng.integers(len(x))].astype(np.float32)
            row[feat] = value
            rows.append(row)
    return np.array(rows, dtype=np.float32)
