import numpy as np
import pandas as pd
import pytest
from catboost import CatBoostClassifier

from lead_scoring.contract import LABEL
from lead_scoring.pipeline_registry import create_scoring_core
from lead_scoring.pipelines.feature_engineering import CATEGORICAL_FEATURES
from lead_scoring.pipelines.lead_model import leaf_shap
from lead_scoring.pipelines.lead_model.nodes import explain_predictions, model_pool
from tests.conftest import REAL_EXPORT, needs_shared
from tests.pipelines.conftest import run_in_process


def catboost_shap(model, pool) -> np.ndarray:
    return model.get_feature_importance(pool, type="ShapValues", thread_count=1)


@pytest.fixture(scope="module")
def model(learned):
    return learned.load("lead_scoring_model")


@pytest.fixture(scope="module")
def holdout(learned):
    return learned.load("model_input_holdout")


@pytest.fixture(scope="module")
def tables(model):
    built = leaf_shap.build_tables(model)
    assert built is not None, "the project's own model must be explained from the tables"
    return built


@pytest.mark.parametrize("leads", [1, 7, 31, 32, 1000, None])
def test_table_values_are_catboosts_shap_values(model, holdout, tables, leads):
    # Below 32 leads the rows are summed by indexing, from 32 by a sparse product.
    pool = model_pool(model, holdout.iloc[:leads])
    np.testing.assert_allclose(
        leaf_shap.table_shap_values(model, pool, tables), catboost_shap(model, pool), atol=1e-9
    )


def test_table_values_hold_across_blocks_of_leads(model, holdout, tables, monkeypatch):
    monkeypatch.setattr(leaf_shap, "_BLOCK_LEAVES", 100 * model.tree_count_)
    pool = model_pool(model, holdout.iloc[:350])
    np.testing.assert_allclose(
        leaf_shap.table_shap_values(model, pool, tables), catboost_shap(model, pool), atol=1e-9
    )


@needs_shared
def test_table_values_are_catboosts_on_the_real_export(learned, fast_parameters, model, tables):
    from lead_scoring.datasets import RawLeadsDataset

    core = create_scoring_core()
    inputs = {name: learned.load(name) for name in core.inputs() if name in learned}
    inputs["scoring_leads"] = RawLeadsDataset(filepath=str(REAL_EXPORT)).load()
    scored = run_in_process(core, fast_parameters, inputs)
    model_input = scored.load("scoring_model_input")
    assert len(model_input) > 20_000
    pool = model_pool(model, model_input)
    np.testing.assert_allclose(
        leaf_shap.table_shap_values(model, pool, tables), catboost_shap(model, pool), atol=1e-9
    )


def test_explanations_of_a_model_the_tables_do_not_describe_come_from_catboost(learned, holdout):
    # Depthwise trees are not oblivious: a leaf no longer stands for one path per depth.
    train = learned.load("model_input_train")
    features = list(learned.load("lead_scoring_model").feature_names_)
    depthwise = CatBoostClassifier(
        iterations=30, depth=4, grow_policy="Depthwise", verbose=0, thread_count=1
    )
    depthwise.fit(
        train[features].astype(dict.fromkeys(CATEGORICAL_FEATURES, str)),
        train[LABEL],
        cat_features=CATEGORICAL_FEATURES,
    )
    assert leaf_shap.build_tables(depthwise) is None
    explained = explain_predictions(depthwise, holdout.iloc[:50])
    np.testing.assert_allclose(
        explained.to_numpy(),
        catboost_shap(depthwise, model_pool(depthwise, holdout.iloc[:50])),
        atol=1e-12,
    )


def test_tables_that_disagree_with_catboost_are_not_used(model, holdout, tables, monkeypatch):
    wrong = leaf_shap.LeafTables(tables.rows[::-1].copy(), tables.leaves_per_tree, tables.expected)
    monkeypatch.setattr(leaf_shap, "build_tables", lambda _: wrong)
    monkeypatch.setattr(leaf_shap, "_TABLES", {})
    explained = explain_predictions(model, holdout.iloc[:5])
    pool = model_pool(model, holdout.iloc[:5])
    np.testing.assert_allclose(explained.to_numpy(), catboost_shap(model, pool), atol=1e-12)
    assert leaf_shap._TABLES[id(model)][1] is None


def test_explanations_reuse_the_tables_built_for_the_model(model, holdout, monkeypatch):
    monkeypatch.setattr(leaf_shap, "_TABLES", {})
    built = []
    build = leaf_shap.build_tables
    monkeypatch.setattr(leaf_shap, "build_tables", lambda m: built.append(m) or build(m))
    first = explain_predictions(model, holdout.iloc[:3])
    second = explain_predictions(model, holdout.iloc[3:6])
    assert built == [model]
    both = explain_predictions(model, holdout.iloc[:6])
    pd.testing.assert_frame_equal(pd.concat([first, second]), both, atol=1e-12)
