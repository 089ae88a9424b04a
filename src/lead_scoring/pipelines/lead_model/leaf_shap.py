"""CatBoost's SHAP values, read from per-leaf tables built once per model.

CatBoost's trees are oblivious: every node at one depth splits on the same condition, so a lead's
path through a tree, and with it its path-dependent TreeSHAP contribution in that tree, depends
only on the leaf it reaches. CatBoost tabulates these contributions for every leaf of every tree
again on each SHAP call, or walks every tree per lead; either is most of a served lead's scoring.
The tables here are the same numbers, built once per model object, and a lead's SHAP values are
the sum of its leaves' rows. Measured on the quick bench model (84 trees, 16 features, one idle
core): one lead 3.0 ms of CatBoost SHAP against 0.05 ms (leaf indexes and the sum), 1,000 leads
61 against 2.5 ms, 20,000 leads 883 against 95 ms; 100,000 leads of a batch 9.6 s against 0.5 s
(two threads, a loaded machine). Building the tables takes about 1 ms a tree (0.1 s for these).

The tables are CatBoost's own algorithm (catboost/libs/fstr/shap_prepared_trees.cpp and
shap_values.cpp, CatBoost 1.2), written as the Shapley values that path-dependent TreeSHAP
computes exactly: per tree, over its distinct split classes, v(S) is the tree's value when the
classes in S follow the lead and the others are averaged by the training weight below each node,
walking the tree from its last split to its first as CatBoost does; a subtree without training
weight is never entered; a CTR split is one class, its value shared equally among the CTR's
categorical features. They agree with CatBoost's ``ShapValues`` to 1e-15 on real leads
(tests/pipelines/lead_model/test_leaf_shap.py), and each model's tables are checked against
CatBoost on the first leads they explain: a model they do not fit is explained by CatBoost.
"""

from __future__ import annotations

import json
import math
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse
from catboost import CatBoost, Pool

# CatBoost's FuzzyEquals(1 + weight, 1): a subtree this light holds no training weight.
_NO_WEIGHT = 1e-13
# The split kinds the tables know how to attribute; any other kind leaves the model to CatBoost.
_KNOWN_SPLITS = {"FloatFeature", "OnlineCtr"}
# Leads checked against CatBoost's own values on a model's first call.
_CHECKED_LEADS = 64
# Leaves (leads x trees) summed per sparse product: bounds its arrays to some 24 MB.
_BLOCK_LEAVES = 2_000_000
# Below this many leads, fancy indexing beats building a sparse matrix (0.007 against 0.044 ms
# for one lead, 12 against 0.7 ms for 1,000).
_SPARSE_FROM = 32
_THREADED_FROM = 10_000


@dataclass(frozen=True)
class LeafTables:
    """Each tree's leaves' SHAP rows, ``[trees * leaves_per_tree, features]``, and the base."""

    rows: np.ndarray
    leaves_per_tree: int
    expected: float


def _split_classes(model_json: dict) -> list[tuple[int, ...]]:
    """The flat features each binary feature is attributed to, by CatBoost's split index."""
    info = model_json["features_info"]
    cat_flat = {
        f["feature_index"]: f["flat_feature_index"] for f in info.get("categorical_features", [])
    }
    # Binary features are numbered float borders first, then CTR borders.
    classes: list[tuple[int, ...]] = []
    for feature in info.get("float_features", []):
        classes += [(feature["flat_feature_index"],)] * len(feature.get("borders") or [])
    for ctr in info.get("ctrs", []):
        # CatBoost leaves out the binarized float features a combination may hold.
        flat = tuple(
            cat_flat[e["cat_feature_index"]] for e in ctr["elements"] if "cat_feature_index" in e
        )
        classes += [flat] * len(ctr.get("borders") or [])
    return classes


def _shapley_weights(classes: int) -> np.ndarray:
    """``[subsets, classes]``: +w(|S|-1) where S holds the class, -w(|S|) where it does not."""
    subsets = np.arange(1 << classes)
    holds = ((subsets[:, None] >> np.arange(classes)) & 1).astype(bool)
    others = holds.sum(axis=1)[:, None] - holds
    weight = np.vectorize(lambda k: math.factorial(k) * math.factorial(classes - k - 1))(others)
    return np.where(holds, weight, -weight) / math.factorial(classes)


def _tree_rows(values: np.ndarray, weights: np.ndarray, depth_class: list[int]) -> np.ndarray:
    """One tree's Shapley value of each class for a lead in each leaf, ``[leaves, classes]``.

    ``depth_class[k]`` is the class of the split at depth ``k`` and bit ``k`` of a leaf's index
    is its side of that split, the root being depth 0.
    """
    depth, classes = len(depth_class), max(depth_class) + 1
    leaves = np.arange(1 << depth)
    # The training weight above each leaf at each depth (0 the root, ``depth`` the leaf itself).
    above = np.empty((1 << depth, depth + 1))
    for level in range(depth + 1):
        prefix = leaves & ((1 << level) - 1)
        above[:, level] = np.bincount(prefix, weights=weights, minlength=1 << level)[prefix]
    entered = (above[:, 1:] > _NO_WEIGHT).all(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(above[:, :-1] > _NO_WEIGHT, above[:, 1:] / above[:, :-1], 0.0)
    bits = (leaves[:, None] >> np.arange(depth)) & 1
    # same_side[lead's leaf, leaf, depth]: the leaf lies on the lead's side of that split.
    same_side = bits[:, None, :] == bits[None, :, :]
    known = ((np.arange(1 << classes)[:, None] >> np.array(depth_class)) & 1).astype(bool)
    reach = np.where(known[None, :, None, :], same_side[:, None, :, :], share[None, None, :, :])
    expected = reach.prod(axis=3) @ (values * entered)  # [lead's leaf, subsets]
    return expected @ _shapley_weights(classes)


def build_tables(model: CatBoost) -> LeafTables | None:
    """The model's per-leaf SHAP tables, or None for a model they cannot describe."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "model.json"
        model.save_model(str(path), format="json")
        model_json = json.loads(path.read_text())
    trees = model_json.get("oblivious_trees")
    if not trees or model_json["features_info"].get("one_hot_features"):
        return None
    split_classes = _split_classes(model_json)
    n_features = len(model.feature_names_)
    scale, bias = model.get_scale_and_bias()
    depth = max(len(tree["splits"]) for tree in trees)
    rows = np.zeros((len(trees), 1 << depth, n_features))
    expected = float(np.ravel(bias)[0]) if np.size(bias) == 1 else math.nan
    for t, tree in enumerate(trees):
        splits = tree["splits"]
        values = scale * np.asarray(tree["leaf_values"], dtype="float64")
        weights = np.asarray(tree.get("leaf_weights") or [], dtype="float64")
        if (
            len(values) != 1 << len(splits)
            or len(weights) != len(values)
            or not weights.sum() > 0
            or any(split["split_type"] not in _KNOWN_SPLITS for split in splits)
        ):
            return None
        expected += float(values @ weights / weights.sum())
        groups = [split_classes[split["split_index"]] for split in splits]
        distinct = list(dict.fromkeys(groups))
        # CatBoost walks a tree from its last split to its first: in its own leaf numbering the
        # last split is the root, so the leaves are renumbered with their bits reversed.
        leaves = np.arange(len(values))
        flipped = np.zeros_like(leaves)
        for bit in range(len(splits)):
            flipped |= ((leaves >> bit) & 1) << (len(splits) - 1 - bit)
        by_class = _tree_rows(
            values[flipped], weights[flipped], [distinct.index(g) for g in reversed(groups)]
        )[flipped]
        for c, features in enumerate(distinct):
            for feature in features:
                rows[t, leaves, feature] += by_class[:, c] / len(features)
    if not math.isfinite(expected):
        return None
    return LeafTables(rows.reshape(-1, n_features), 1 << depth, expected)


def table_shap_values(
    model: CatBoost, pool: Pool, tables: LeafTables, thread_count: int = -1
) -> np.ndarray:
    """``pool``'s SHAP values from ``tables``: rows x (features + 1), the last the expected."""
    leads, trees = pool.num_row(), model.tree_count_
    # One thread below a batch: waking a second costs 1,000 leads 0.5-2 ms on a shared machine.
    threads = thread_count if leads >= _THREADED_FROM else 1
    offsets = tables.leaves_per_tree * np.arange(trees)
    out = np.empty((leads, tables.rows.shape[1] + 1))
    out[:, -1] = tables.expected
    # In blocks of leads: a batch's leaf indexes never all exist at once (memory stays flat).
    block_leads = max(1, _BLOCK_LEAVES // trees)
    for start in range(0, leads, block_leads):
        stop = min(leads, start + block_leads)
        part = pool if stop - start == leads else pool.slice(list(range(start, stop)))
        rows = model.calc_leaf_indexes(part, thread_count=threads)
        # Each leaf's row in the tables, in place: no second array of leads x trees.
        rows += offsets.astype(rows.dtype)
        if stop - start < _SPARSE_FROM:
            out[start:stop, :-1] = tables.rows[rows].sum(axis=1)
            continue
        # A lead's sum over its leaves' rows is a row of (leads x table rows, a 1 a tree) @ rows.
        picks = scipy.sparse.csr_matrix(
            (np.ones(rows.size), rows.ravel(), np.arange(0, rows.size + 1, trees)),
            shape=(stop - start, tables.rows.shape[0]),
        )
        out[start:stop, :-1] = picks @ tables.rows
    return out


# Per model object, the tables once checked, or None when CatBoost explains that model.
_TABLES: dict[int, tuple[CatBoost, LeafTables | None]] = {}
_LOCK = threading.Lock()


def shap_values(
    model: CatBoost, pool: Pool, thread_count: int, catboost_shap: Callable[[Pool], np.ndarray]
) -> np.ndarray:
    """``pool``'s SHAP values as ``catboost_shap`` gives them, from the tables when they fit."""
    with _LOCK:
        found = _TABLES.get(id(model))
        if found is None or found[0] is not model:
            tables = build_tables(model)
            if tables is not None:
                sample = pool.slice(list(range(min(pool.num_row(), _CHECKED_LEADS))))
                if not np.allclose(
                    table_shap_values(model, sample, tables, thread_count),
                    catboost_shap(sample),
                    rtol=0,
                    atol=1e-9,
                ):
                    tables = None
            if len(_TABLES) >= 4:
                _TABLES.clear()
            found = _TABLES[id(model)] = (model, tables)
    if found[1] is None:
        return catboost_shap(pool)
    return table_shap_values(model, pool, found[1], thread_count)
