"""Monitoring nodes: binning, PSI against hand-computed values, reference and batch profiles."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from lead_scoring.contract import TIERS
from lead_scoring.datasets import ScoredChunksDataset
from lead_scoring.datasets.scored_chunks_dataset import ScoredChunk
from lead_scoring.pipelines.feature_engineering.nodes import feature_columns
from lead_scoring.pipelines.monitoring.nodes import (
    HISTORY_COLUMNS,
    add_profiles,
    build_reference_profile,
    compare_with_reference,
    drift_history_rows,
    drift_metrics,
    drift_status,
    flag_drift,
    level_counts,
    numeric_bin_labels,
    numeric_counts,
    plot_drift,
    population_stability_index,
    profile_batch,
    profile_scored_batch,
    quantile_edges,
)

PARAMS = {
    "numeric_bins": 10,
    "score_bins": 10,
    "psi_epsilon": 0.0001,
    "psi_watch": 0.1,
    "psi_alert": 0.2,
    "min_batch_rows": 100,
    "reference_artifact": "drift_reference.json",
}
VERSION = {"name": "lead_scoring", "version": "7", "run_id": "r", "uri": "models:/lead_scoring/7"}


# --- PSI against values computed by hand ----------------------------------------------------


def test_psi_of_two_known_distributions():
    # (0.7 - 0.5) ln(0.7 / 0.5) + (0.3 - 0.5) ln(0.3 / 0.5) = 0.0672944 + 0.1021651
    assert population_stability_index([0.5, 0.5], [0.7, 0.3], 1e-4) == pytest.approx(
        0.1694595, abs=1e-6
    )
    # -0.15 ln 0.4 - 0.05 ln 0.8 + 0.05 ln 1.2 + 0.15 ln 1.6
    # = 0.1374436 + 0.0111572 + 0.0091161 + 0.0705006
    assert population_stability_index(
        [0.25, 0.25, 0.25, 0.25], [0.1, 0.2, 0.3, 0.4], 1e-4
    ) == pytest.approx(0.2282175, abs=1e-6)


def test_psi_floors_an_empty_bin_at_epsilon():
    # (0.5 - 1) ln(0.5) + (0.5 - 0.0001) ln(0.5 / 0.0001) = 0.3465736 + 4.2577449
    assert population_stability_index([1.0, 0.0], [0.5, 0.5], 1e-4) == pytest.approx(
        4.6043185, abs=1e-6
    )


def test_psi_of_a_distribution_with_itself_is_zero():
    assert population_stability_index([0.2, 0.3, 0.5], [0.2, 0.3, 0.5], 1e-4) == 0


def test_psi_from_raw_samples_through_the_profiles():
    """70/30 of two levels against a 50/50 reference: the first hand-computed case again."""
    reference = {
        "rows": 1000,
        "features": {"colour": {"kind": "categorical", "bins": ["a", "b"], "shares": [0.5, 0.5]}},
    }
    batch = pd.DataFrame({"colour": ["a"] * 700 + ["b"] * 300})
    predictions = pd.DataFrame({"status": ["scored"] * 1000})
    profile = profile_batch(batch, batch, predictions, reference)
    report = compare_with_reference(profile, reference, VERSION, PARAMS)
    assert report["features"]["colour"]["psi"] == pytest.approx(0.1694595, abs=1e-6)
    assert report["features"]["colour"]["status"] == "watch"


# --- binning ----------------------------------------------------------------------------------


def test_edges_sit_on_reference_quantiles_and_ties_merge():
    assert quantile_edges(pd.Series(np.arange(1, 11)), 5) == [2, 4, 6, 8]
    mostly_zero = pd.Series([0.0] * 999 + [5.0])
    assert quantile_edges(mostly_zero, 10) == [0.0]
    assert quantile_edges(pd.Series([np.nan, np.nan]), 10) == []


def test_bins_are_right_closed_with_a_missing_bin_last():
    values = pd.Series([0, 1, 1.5, 2, 3, np.nan, 7], dtype="float32")
    assert numeric_counts(values, [1.0, 2.0]).tolist() == [2, 2, 2, 1]
    assert numeric_bin_labels([1.0, 2.0]) == ["<= 1", "(1, 2]", "> 2", "missing"]
    assert numeric_counts(values, []).tolist() == [6, 1]


def test_levels_are_counted_in_the_reference_order():
    values = pd.Categorical(["rare", "Level1", "Level1", "missing"])
    assert level_counts(pd.Series(values), ["Level1", "rare", "missing"]).tolist() == [2, 1, 1]


@pytest.mark.parametrize(
    ("psi", "rows", "status"),
    [
        (0.05, 5000, "stable"),
        (0.15, 5000, "watch"),
        (0.25, 5000, "drift"),
        (0.25, 50, "too few rows"),
        (None, 0, "no rows"),
    ],
)
def test_status_follows_the_psi_levels_and_the_batch_size(psi, rows, status):
    assert drift_status(psi, rows, PARAMS) == status


# --- reference and batch on the trained project's data -----------------------------------------


@pytest.fixture(scope="module")
def training_outputs(trained_project):
    data = trained_project / "data"
    return {
        "model_input_fit": pd.read_parquet(data / "05_model_input" / "model_input_fit.parquet"),
        "model_input_holdout": pd.read_parquet(
            data / "05_model_input" / "model_input_holdout.parquet"
        ),
        "holdout_predictions": pd.read_parquet(
            data / "07_model_output" / "holdout_predictions.parquet"
        ),
        "category_vocabulary": json.loads(
            (data / "06_models" / "category_vocabulary.json").read_text()
        ),
        "logged_reference": json.loads(
            (data / "08_reporting" / "drift_reference.json").read_text()
        ),
    }


def raw_levels(model_input: pd.DataFrame) -> pd.DataFrame:
    """Stand-in for raw leads: the levels as the model input spells them, missing as missing."""
    columns = ["city_mapped", "first_platform_c", "first_utm_medium_c", "first_utm_source_c"]
    return model_input[columns].astype(str).replace({"missing": np.nan})


@pytest.fixture(scope="module")
def reference(training_outputs, interaction_mapping):
    fit = training_outputs["model_input_fit"]
    # Stand-in for the raw fitting leads: their levels as the model input spells them.
    fit_leads = raw_levels(fit)
    return build_reference_profile(
        fit,
        fit_leads,
        training_outputs["holdout_predictions"],
        training_outputs["category_vocabulary"],
        interaction_mapping,
        PARAMS,
    )


def test_the_train_run_saved_a_reference_for_every_feature(training_outputs, interaction_mapping):
    logged = training_outputs["logged_reference"]
    assert list(logged["features"]) == [*feature_columns(interaction_mapping), "score", "tier"]
    # The reference describes the registered model's own rows: every labelled lead.
    labelled = len(training_outputs["model_input_fit"]) + len(
        training_outputs["model_input_holdout"]
    )
    assert logged["rows"] == labelled
    assert logged["vocabulary"] == training_outputs["category_vocabulary"]
    for name, entry in logged["features"].items():
        assert sum(entry["shares"]) == pytest.approx(1), name
        assert len(entry["shares"]) == len(entry["bins"]), name
    platform = logged["features"]["first_platform_c"]
    assert set(training_outputs["category_vocabulary"]["first_platform_c"]) <= set(
        platform["known_levels"]
    )
    assert platform["bins"][-2:] == ["rare", "missing"]


def test_reference_tier_shares_are_the_holdout_tiers(reference, training_outputs):
    tiers = training_outputs["holdout_predictions"]["tier"].value_counts(normalize=True)
    shares = dict(zip(TIERS, reference["features"]["tier"]["shares"], strict=True))
    for tier in TIERS:
        assert shares[tier] == pytest.approx(tiers.get(tier, 0.0))


def batch_of(model_input: pd.DataFrame, predictions: pd.DataFrame):
    """A batch's inputs to ``profile_batch``: features, raw levels and the model's answer."""
    leads = raw_levels(model_input)
    answer = predictions[["probability", "tier"]].assign(status="scored").reset_index(drop=True)
    return model_input.reset_index(drop=True), leads.reset_index(drop=True), answer


def test_the_holdout_barely_drifts_from_its_own_reference(reference, training_outputs):
    holdout = training_outputs["model_input_holdout"]
    profile = profile_batch(*batch_of(holdout, training_outputs["holdout_predictions"]), reference)
    report = compare_with_reference(profile, reference, VERSION, PARAMS)
    # Scores and tiers of the holdout are the reference itself.
    assert report["features"]["score"]["psi"] == pytest.approx(0, abs=1e-9)
    assert report["features"]["tier"]["psi"] == pytest.approx(0, abs=1e-9)
    assert report["features"]["total_leads_droppped"]["psi"] < 0.1
    assert report["rows"] == len(holdout)


def test_a_shifted_platform_mix_alerts(reference, training_outputs, caplog):
    holdout = training_outputs["model_input_holdout"].reset_index(drop=True)
    predictions = training_outputs["holdout_predictions"].reset_index(drop=True)
    # The most frequent platform comes back four more times: it now dominates the batch.
    one_level = holdout["first_platform_c"] == holdout["first_platform_c"].mode()[0]
    shifted = pd.concat([holdout, *[holdout.loc[one_level]] * 4], ignore_index=True)
    shifted_predictions = pd.concat([predictions, *[predictions.loc[one_level]] * 4])
    report = compare_with_reference(
        profile_batch(*batch_of(shifted, shifted_predictions), reference),
        reference,
        VERSION,
        PARAMS,
    )
    assert report["features"]["first_platform_c"]["status"] == "drift"
    with caplog.at_level(logging.WARNING):
        alerts = flag_drift(report, PARAMS)
    assert "first_platform_c" in alerts
    assert "Drift in first_platform_c" in caplog.text


def test_unseen_levels_are_counted_against_all_training_levels(reference, training_outputs):
    holdout = training_outputs["model_input_holdout"].iloc[:200]
    model_input, leads, answer = batch_of(
        holdout, training_outputs["holdout_predictions"].iloc[:200]
    )
    leads.loc[:49, "first_platform_c"] = "Level999"
    profile = profile_batch(model_input, leads, answer, reference)
    report = compare_with_reference(profile, reference, VERSION, PARAMS)
    assert report["features"]["first_platform_c"]["unseen_share"] == pytest.approx(0.25)
    assert report["features"]["total_leads_droppped"]["unseen_share"] is None


def test_chunk_profiles_add_up_to_the_batch_profile(reference, training_outputs):
    model_input, leads, answer = batch_of(
        training_outputs["model_input_holdout"], training_outputs["holdout_predictions"]
    )
    whole = profile_batch(model_input, leads, answer, reference)
    half = len(model_input) // 2
    first = profile_batch(model_input[:half], leads[:half], answer[:half], reference)
    second = profile_batch(model_input[half:], leads[half:], answer[half:], reference)
    assert add_profiles(first, second) == whole


def test_quarantined_rows_are_left_out_of_the_profile(reference, training_outputs):
    model_input, leads, answer = batch_of(
        training_outputs["model_input_holdout"].iloc[:10],
        training_outputs["holdout_predictions"].iloc[:10],
    )
    answer.loc[3, "status"] = "quarantined"
    profile = profile_batch(model_input.drop(index=3), leads.drop(index=3), answer, reference)
    assert profile["rows"] == 9
    assert sum(profile["features"]["score"]["counts"]) == 9


def test_scored_chunks_profile_as_the_model_input_they_carry(reference, training_outputs, tmp_path):
    """Monitoring profiles the chunks a scoring run wrote, from the features the model scored."""
    model_input, leads, answer = batch_of(
        training_outputs["model_input_holdout"], training_outputs["holdout_predictions"]
    )
    answer.loc[[2, 7], "status"] = "quarantined"
    scored = answer["status"] == "scored"
    rows = pd.concat(
        [
            answer,
            model_input.loc[scored].add_prefix("input."),
            leads.loc[scored].add_prefix("level."),
        ],
        axis=1,
    )
    chunks = ScoredChunksDataset(filepath=str(tmp_path / "scored_chunks"))
    half = len(rows) // 2
    for part in (rows.iloc[:half], rows.iloc[half:]):
        chunks.save(ScoredChunk(part, pd.DataFrame(columns=["line", "lead_id", "reason"])))
    # Every scored lead's features, not a sample of them.
    params = {**PARAMS, "profile_rows_per_chunk": len(rows), "profile_seed": 7}
    profile = profile_scored_batch(chunks.load(), reference, params)
    expected = profile_batch(model_input.loc[scored], leads.loc[scored], answer, reference)
    assert profile == expected
    assert profile["rows"] == profile["sampled"] == len(rows) - 2
    # A sample profiles at most its size per chunk; scores and tiers still of every lead.
    sampled = profile_scored_batch(
        chunks.load(), reference, {**params, "profile_rows_per_chunk": 50}
    )
    assert (sampled["rows"], sampled["sampled"]) == (len(rows) - 2, 100)
    assert sampled["features"]["score"] == expected["features"]["score"]
    chunks.discard()
    assert not list(tmp_path.iterdir())


def test_a_model_without_its_model_input_is_monitored_on_scores_and_tiers(
    reference, training_outputs, tmp_path, caplog
):
    """A model registered before its answer carried the model input still scores and drifts."""
    _, _, answer = batch_of(
        training_outputs["model_input_holdout"], training_outputs["holdout_predictions"]
    )
    chunks = ScoredChunksDataset(filepath=str(tmp_path / "scored_chunks"))
    chunks.save(ScoredChunk(answer, pd.DataFrame(columns=["line", "lead_id", "reason"])))
    params = {**PARAMS, "profile_rows_per_chunk": 100, "profile_seed": 7}
    with caplog.at_level(logging.WARNING):
        profile = profile_scored_batch(chunks.load(), reference, params)
    assert set(profile["features"]) == {"score", "tier"}
    report = compare_with_reference(profile, reference, VERSION, PARAMS)
    assert report["features"]["score"]["psi"] == pytest.approx(0, abs=1e-9)
    assert report["features"]["first_platform_c"]["status"] == "no rows"
    assert "carries no model input" in caplog.text
    chunks.discard()


# --- what a run writes ------------------------------------------------------------------------


@pytest.fixture
def report(reference, training_outputs):
    profile = profile_batch(
        *batch_of(training_outputs["model_input_holdout"], training_outputs["holdout_predictions"]),
        reference,
    )
    return compare_with_reference(profile, reference, VERSION, PARAMS)


def test_history_has_one_row_per_feature(report):
    rows = drift_history_rows(report)
    assert rows.columns.tolist() == HISTORY_COLUMNS
    assert rows["feature"].tolist() == list(report["features"])
    assert (rows["model_version"] == "7").all()
    assert rows["run_time"].nunique() == 1


def test_metrics_carry_psi_unseen_share_and_tier_shares(report):
    metrics = drift_metrics(report)
    assert {"psi.city_mapped", "psi.score", "psi.tier", "unseen_share.city_mapped"} <= set(metrics)
    assert sum(metrics[f"tier_share.{t}"]["value"] for t in TIERS) == pytest.approx(1)


def test_the_report_is_json(report):
    assert json.loads(json.dumps(report)) == report


def test_the_plot_shows_psi_and_tiers(report):
    figure = plot_drift(report, PARAMS)
    assert isinstance(figure, Figure)
    psi_axes, tier_axes = figure.axes
    assert len(psi_axes.patches) == len(report["features"])
    assert [t.get_text() for t in tier_axes.get_xticklabels()] == list(TIERS)


def test_without_a_reference_nothing_is_compared():
    profile = profile_batch(pd.DataFrame(), pd.DataFrame(), pd.DataFrame({"status": []}), {})
    report = compare_with_reference(profile, {}, VERSION, PARAMS)
    assert report["features"] == {}
    assert drift_history_rows(report).empty
    assert drift_metrics(report) == {}
    assert isinstance(plot_drift(report, PARAMS), Figure)
