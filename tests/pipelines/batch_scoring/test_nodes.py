"""Inference nodes: finding and loading the registered model, scoring a chunk, splitting, counts."""

from __future__ import annotations

import logging
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from lead_scoring.errors import LeadScoringError
from lead_scoring.pipelines.batch_scoring.nodes import (
    NoTrainedModelError,
    ScoringContractError,
    add_tallies,
    find_model_version,
    load_scoring_model,
    measure_realised_performance,
    quarantined_leads,
    score_chunk,
    scored_leads,
    summarise_batch,
    tally_chunk,
)
from lead_scoring.pipelines.feature_engineering import feature_columns
from tests.pipelines.batch_scoring.conftest import (
    BROKEN,
    SCORED_COLUMNS,
    UNSEEN_LEVEL_ROW,
    predictions_frame,
    tracking_store,
)

MODEL = {"name": "lead_scoring", "alias": "champion", "version": None}


def tally_of(predictions: pd.DataFrame, leads: pd.DataFrame | None = None) -> dict:
    """The tally of one chunk: the raw leads only matter for their label."""
    label = None if leads is None else leads["app_complete_flag"].set_axis(predictions.index)
    return tally_chunk(predictions, label)


@pytest.fixture(scope="module")
def champion(trained_project):
    """The trained project's champion, found and loaded as the pipeline does it."""
    path = list(sys.path)
    with tracking_store(trained_project):
        version = find_model_version(MODEL)
        model = load_scoring_model(version)
    # Loading puts the model's code copy first on sys.path; later imports in this session
    # should keep coming from the project.
    sys.path[:] = path
    return version, model


def test_a_store_without_the_model_says_to_train_first(tmp_path):
    with tracking_store(tmp_path), pytest.raises(NoTrainedModelError) as error:
        find_model_version(MODEL)
    message = str(error.value)
    assert isinstance(error.value, LeadScoringError)
    assert "\n" not in message
    assert "kedro run --pipeline=train" in message
    assert "alias 'champion'" in message


def test_an_unknown_version_is_reported_by_number(trained_project):
    with tracking_store(trained_project), pytest.raises(NoTrainedModelError, match="version 99"):
        find_model_version({**MODEL, "version": 99})


def test_the_champion_resolves_to_a_version_loaded_by_number(champion):
    version, _ = champion
    assert version["version"] == "1"
    assert version["uri"] == "models:/lead_scoring/1"
    assert version["run_id"]


def test_a_chunk_scores_one_row_per_input_row_in_order(champion, new_leads):
    version, model = champion
    chunk = new_leads.iloc[:200]
    predictions = score_chunk(model, chunk, version)
    assert len(predictions) == len(chunk)
    assert predictions["lead_id"].tolist() == chunk[""].tolist()
    assert (predictions["model_version"] == "1").all()
    broken = [row for row in BROKEN if row < len(chunk)]
    assert set(np.flatnonzero(predictions["status"] == "quarantined")) == set(broken)


def test_the_label_does_not_change_a_score(champion, new_leads):
    version, model = champion
    chunk = new_leads.iloc[:100]
    with_label = score_chunk(model, chunk, version)
    without = score_chunk(model, chunk.drop(columns="app_complete_flag"), version)
    pd.testing.assert_frame_equal(with_label, without)


def test_split_keeps_scored_rows_in_order_and_quarantined_with_their_reason():
    predictions = predictions_frame(["scored", "quarantined", "scored", "scored", "quarantined"])
    lines = np.array([2, 3, 5, 6, 7])  # line 4 held no lead
    predictions["line"] = pd.array(lines, dtype="Int64")
    scored, quarantined = scored_leads(predictions), quarantined_leads(predictions)
    assert scored.columns.tolist() == ["line", *SCORED_COLUMNS]
    assert scored["lead_id"].tolist() == ["L0", "L2", "L3"]
    assert scored["line"].tolist() == [2, 5, 6]
    assert quarantined.columns.tolist() == ["row", "line", "lead_id", "reason"]
    assert quarantined["row"].tolist() == [1, 4]
    assert quarantined["line"].tolist() == [3, 7]
    assert quarantined["lead_id"].tolist() == ["L1", "L4"]
    assert quarantined["reason"].str.startswith("created_date").all()


def test_the_summary_counts_add_up_and_end_the_log(caplog):
    predictions = predictions_frame(["scored"] * 5 + ["quarantined"] * 2)
    with caplog.at_level(logging.INFO):
        metrics = summarise_batch(tally_of(predictions))
    assert caplog.records[-1].getMessage() == "7 read, 5 scored, 2 quarantined"
    assert metrics["rows_read"]["value"] == 7
    assert metrics["rows_quarantined"]["value"] == 2


def test_an_unknown_status_breaks_the_count_contract():
    with pytest.raises(ScoringContractError, match="3 leads read but 2 scored"):
        summarise_batch(tally_of(predictions_frame(["scored", "scored", "pending"])))


def test_realised_auc_is_measured_on_scored_labelled_rows():
    predictions = predictions_frame(["scored"] * 6 + ["quarantined"])
    labels = ["0", "1", "0", "1", "1", "", "1"]
    leads = pd.DataFrame({"app_complete_flag": labels})
    metrics = measure_realised_performance(tally_of(predictions, leads))
    # Row 5 has no label and row 6 was quarantined: five leads count.
    expected = roc_auc_score([0, 1, 0, 1, 1], predictions["probability"].iloc[:5])
    assert metrics["roc_auc"]["value"] == pytest.approx(expected)
    assert metrics["labelled_leads"]["value"] == 5


def test_a_batch_tallied_in_chunks_measures_as_one_tally():
    predictions = predictions_frame(["scored"] * 5 + ["quarantined"] + ["scored"] * 4)
    leads = pd.DataFrame({"app_complete_flag": list("0110101001")})
    whole = tally_of(predictions, leads)
    tally = None
    for rows in (slice(0, 4), slice(4, 7), slice(7, 10)):
        tally = add_tallies(tally, tally_of(predictions.iloc[rows], leads.iloc[rows]))
    assert (tally["read"], tally["scored"], tally["quarantined"]) == (10, 9, 1)
    assert measure_realised_performance(tally) == measure_realised_performance(whole)


def test_no_label_means_no_realised_metrics():
    assert measure_realised_performance(tally_of(predictions_frame(["scored"]))) == {}


def test_one_outcome_only_gives_no_auc(caplog):
    leads = pd.DataFrame({"app_complete_flag": ["1", "1"]})
    metrics = measure_realised_performance(tally_of(predictions_frame(["scored", "scored"]), leads))
    assert "roc_auc" not in metrics
    assert "no realised ROC AUC" in caplog.text


def test_the_answer_carries_the_model_input_it_scored_outside_its_columns(
    champion, new_leads, interaction_mapping
):
    version, model = champion
    chunk = new_leads.iloc[:100]
    predictions = score_chunk(model, chunk, version)
    model_input, levels = predictions.attrs["model_input"], predictions.attrs["lead_levels"]
    scored = predictions.index[predictions["status"] == "scored"]
    assert model_input.index.equals(scored) and levels.index.equals(scored)
    assert list(model_input.columns) == feature_columns(interaction_mapping)
    # The unseen platform folds into the rare level the model scored; its own level stays.
    assert model_input.loc[UNSEEN_LEVEL_ROW, "first_platform_c"] == "rare"
    assert levels.loc[UNSEEN_LEVEL_ROW, "first_platform_c"] == "Level999"
    assert not {"model_input", "lead_levels"} & set(predictions.columns)
