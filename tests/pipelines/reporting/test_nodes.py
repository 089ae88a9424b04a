"""Reporting nodes: decile table, SHAP importance, business view, plots and the raw-data profile."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest
from catboost import CatBoostClassifier
from matplotlib.figure import Figure

from lead_scoring.datasets import ReportFigureDataset
from lead_scoring.pipelines.reporting import nodes


def test_decile_table_splits_leads_into_equal_groups_and_adds_up(holdout_predictions):
    table = nodes.build_decile_table(holdout_predictions, {"n_deciles": 10})
    label = holdout_predictions["app_complete_flag"]
    assert table["decile"].tolist() == list(range(1, 11))
    assert table["leads"].tolist() == [500] * 10
    assert table["completers"].sum() == label.sum()
    assert table["cumulative_completers_share"].iloc[-1] == pytest.approx(1.0)
    assert table["cumulative_completers_share"].is_monotonic_increasing
    # Lift is the decile's rate over the overall rate, so the lead-weighted mean lift is 1.
    assert np.average(table["lift"], weights=table["leads"]) == pytest.approx(1.0)
    assert table["lift"].iloc[0] > 1.5 > 0.5 > table["lift"].iloc[-1]
    # Decile 1 holds the highest scores.
    assert table["min_probability"].iloc[0] >= table["max_probability"].iloc[1]


def test_decile_table_by_hand():
    predictions = pd.DataFrame(
        {
            "probability": [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05],
            "app_complete_flag": [1, 1, 1, 0, 1, 0, 0, 0, 0, 0],
        }
    )
    table = nodes.build_decile_table(predictions, {"n_deciles": 5})
    assert table["completers"].tolist() == [2, 1, 1, 0, 0]
    assert table["completion_rate"].tolist() == [1.0, 0.5, 0.5, 0.0, 0.0]
    assert table["lift"].tolist() == pytest.approx([2.5, 1.25, 1.25, 0.0, 0.0])
    assert table["cumulative_completers_share"].tolist() == pytest.approx([0.5, 0.75, 1, 1, 1])
    assert table["cumulative_lift"].iloc[0] == pytest.approx(2.5)


def test_tied_probabilities_still_make_equal_deciles():
    predictions = pd.DataFrame({"probability": [0.5] * 100, "app_complete_flag": [0, 1] * 50})
    table = nodes.build_decile_table(predictions, {"n_deciles": 10})
    assert table["leads"].tolist() == [10] * 10


def test_business_summary_by_hand(tier_cuts):
    predictions = pd.DataFrame(
        {
            "created_date": pd.to_datetime(["2022-01-03"] * 5 + ["2022-01-09"] * 5),
            "app_complete_flag": [1, 1, 1, 0, 1, 0, 1, 0, 0, 0],
            "tier": ["hot", "hot", "hot", "warm", "warm", "warm", "cold", "cold", "cold", "cold"],
        }
    )
    summary, metrics = nodes.summarise_business_impact(predictions, tier_cuts)
    assert summary["leads"] == 10
    assert summary["completers"] == 5
    assert summary["tiers"]["hot"] == {
        "leads": 3,
        "share": 0.3,
        "completers": 3,
        "completion_rate": 1.0,
        "share_of_completers": 0.6,
    }
    assert summary["tiers"]["cold"]["completion_rate"] == 0.25
    # Skipping 4 cold leads of 10 saves 400 calls per 1,000 leads and loses 1 of 5 completers.
    assert summary["calls_saved_per_1000_leads"] == 400
    assert summary["cold_completers_lost_share"] == 0.2
    assert summary["completers_lost_per_1000_leads"] == 100
    assert summary["calls_per_completer_all"] == 2.0
    assert summary["calls_per_completer_skip_cold"] == 1.5
    assert (summary["period_start"], summary["period_end"]) == ("2022-01-03", "2022-01-09")
    assert metrics["calls_saved_per_1000_leads"] == {"value": 400.0, "step": 0}

    text = nodes.describe_business_impact(summary)
    assert "Skipping the cold tier saves a rep 400 calls per 1,000 leads" in text
    assert "loses 20.0% of the completers" in text
    assert "Hot tier (scores 70 to 99): 3 leads (30.0%), of whom 100.0% completed" in text
    assert "2.00 when every lead is called, 1.50 when cold leads are skipped" in text
    assert "Warm tier (scores 30 to 69)" in text and "Cold tier (scores 1 to 29)" in text


def test_cold_cut_confusion_counts_every_lead_once(holdout_predictions, tier_cuts):
    matrix = nodes.cold_cut_confusion(holdout_predictions, tier_cuts)
    label = holdout_predictions["app_complete_flag"]
    cold = holdout_predictions["score"] < tier_cuts["cold_below_score"]
    assert matrix.to_numpy().sum() == len(holdout_predictions)
    assert matrix.loc["completed", "skipped (cold)"] == ((label == 1) & cold).sum()
    assert matrix.loc["did not complete", "called (hot or warm)"] == ((label == 0) & ~cold).sum()


def test_shap_importance_ranks_the_feature_that_decides_first():
    rng = np.random.default_rng(0)
    n = 1_500
    frame = pd.DataFrame(
        {
            "first_platform_c": pd.Categorical(rng.choice(["Level0", "Level3"], n)),
            "total_leads_droppped": rng.integers(1, 6, n).astype("float32"),
            "created_hour": rng.integers(0, 24, n).astype("int8"),
        }
    )
    label = (frame["total_leads_droppped"] >= 3).astype(int)
    model = CatBoostClassifier(iterations=30, depth=3, verbose=False, allow_writing_files=False)
    model.fit(frame, label, cat_features=["first_platform_c"])

    importance = nodes.compute_shap_importance(
        model, frame, {"shap_sample_size": 400, "random_seed": 1}
    )
    assert importance["feature"].iloc[0] == "total_leads_droppped"
    assert set(importance["feature"]) == set(frame.columns)
    assert importance["share"].sum() == pytest.approx(1.0)
    assert (importance["sample_size"] == 400).all()
    assert importance["mean_abs_shap"].is_monotonic_decreasing


@pytest.mark.parametrize(
    ("plot", "inputs"),
    [
        (nodes.plot_roc_curves, ("predictions", "metrics")),
        (nodes.plot_precision_recall_curves, ("predictions", "metrics")),
        (nodes.plot_calibration, ("predictions", "metrics", "params")),
        (nodes.plot_score_distributions, ("predictions", "cuts", "params")),
        (nodes.plot_cold_cut_confusion, ("predictions", "cuts")),
    ],
)
def test_plots_are_figures_that_save_and_load_back_as_png(
    plot, inputs, holdout_predictions, holdout_metrics, tier_cuts, reporting_params, tmp_path
):
    values = {
        "predictions": holdout_predictions,
        "metrics": holdout_metrics,
        "cuts": tier_cuts,
        "params": reporting_params,
    }
    figure = plot(*(values[name] for name in inputs))
    assert isinstance(figure, Figure)
    dataset = ReportFigureDataset(filepath=str(tmp_path / "plot.png"))
    dataset.save(figure)
    assert dataset.load().startswith(b"\x89PNG\r\n\x1a\n")


def test_roc_and_calibration_plots_name_model_and_baseline_with_their_numbers(
    holdout_predictions, holdout_metrics, reporting_params
):
    roc = nodes.plot_roc_curves(holdout_predictions, holdout_metrics)
    labels = [text.get_text() for text in roc.axes[0].get_legend().get_texts()]
    assert labels[:2] == ["CatBoost (AUC 0.812)", "logistic baseline (AUC 0.782)"]
    calibration = nodes.plot_calibration(holdout_predictions, holdout_metrics, reporting_params)
    assert "Brier score 0.1789" in calibration.axes[0].get_title()
    # One point per quantile bin, for the model and the baseline.
    model_line = calibration.axes[0].get_lines()[0]
    assert len(model_line.get_xdata()) == reporting_params["calibration_bins"]


def test_gains_and_importance_plots_draw_from_their_tables(holdout_predictions):
    table = nodes.build_decile_table(holdout_predictions, {"n_deciles": 10})
    gains = nodes.plot_gains_and_lift(table)
    curve = gains.axes[0].get_lines()[0]
    assert curve.get_ydata()[-1] == pytest.approx(1.0)
    assert len(gains.axes[1].patches) == 10
    importance = pd.DataFrame(
        {"feature": ["a", "b"], "mean_abs_shap": [0.4, 0.1], "share": [0.8, 0.2], "sample_size": 9}
    )
    figure = nodes.plot_feature_importance(importance)
    assert [bar.get_width() for bar in figure.axes[0].patches] == [0.1, 0.4]


@pytest.fixture
def raw_export(interaction_mapping) -> pd.DataFrame:
    """Six raw leads as text, with a bad count, a blank city and the export's index column."""
    interactions = list(interaction_mapping["interaction_type"])
    frame = pd.DataFrame(
        {
            "Unnamed: 0": [str(i) for i in range(6)],
            "created_date": [f"2021-0{month}-01 10:00:00" for month in range(1, 7)],
            "city_mapped": ["mumbai", "  ", "unlisted town", "pune", "mumbai", None],
            "first_platform_c": ["Level0", "Level0", "Level3", "Level0", "Level10", "Level3"],
            "first_utm_medium_c": ["Level1"] * 6,
            "first_utm_source_c": ["Level2"] * 6,
            "total_leads_droppped": ["1", "2", "2", "12", None, "1"],
            "referred_lead": ["0", "1", "0", "0", None, "0"],
            **{column: [None] * 6 for column in interactions},
            "app_complete_flag": ["1", "1", "0", "1", "0", "0"],
        }
    ).astype("str")
    frame[interactions[0]] = [None, "3", None, None, None, None]
    return frame.mask(frame.isin(["None"]))


def test_profile_infers_types_and_missing_shares(raw_export, interaction_mapping, city_tiers):
    params = {"top_levels": 2, "leads_dropped_cap": 8, "type_sample_size": 100}
    profile = nodes.profile_raw_leads(
        raw_export, interaction_mapping, city_tiers, "Unnamed: 0", 3, params
    )
    columns = {column["column"]: column for column in profile["columns"]}
    assert profile["rows"] == 6
    assert "Unnamed: 0" not in columns
    assert columns["created_date"]["kind"].startswith("timestamp")
    assert columns["first_platform_c"]["kind"] == "level (LevelN)"
    assert columns["total_leads_droppped"]["kind"] == "whole number"
    assert columns["city_mapped"]["kind"] == "text"
    # A blank cell is missing, like an empty one.
    assert columns["city_mapped"]["missing_share"] == pytest.approx(2 / 6)
    assert columns["total_leads_droppped"]["summary"].startswith("min 1, median 2")
    assert columns[interaction_mapping["interaction_type"][1]]["kind"] == "empty"

    distributions = profile["distributions"]
    tiers = {
        row["value"]: row
        for row in distributions[next(k for k in distributions if k.startswith("City tier"))]
    }
    # mumbai and pune are tier 1; the unlisted town and both missing cities fall to tier 3.
    assert (tiers["1"]["leads"], tiers["3"]["leads"]) == (3, 3)
    assert tiers["1"]["completion_rate"] == pytest.approx(2 / 3)
    platforms = [row["value"] for row in distributions["Platform of first visit"]]
    assert platforms == ["Level0", "Level3", "all other values"]
    dropped = {
        row["value"]: row["leads"]
        for row in distributions["Courses checked (total_leads_droppped)"]
    }
    assert dropped == {"1": 2, "2": 2, "8 or more": 1, "(missing)": 1}
    clicks = {row["value"]: row["leads"] for row in distributions["Website interactions"]}
    assert clicks == {"no click": 5, "any click": 1}
    outcome = {row["value"]: row["share"] for row in distributions["Outcome (app_complete_flag)"]}
    assert outcome == {"completed": 0.5, "did not complete": 0.5}


def test_mlflow_identifiers_come_from_the_active_run(monkeypatch):
    assert nodes.describe_mlflow_run({"roc_auc": 0.8})["run_id"] is None

    class Info:
        run_id, run_name, experiment_id, artifact_uri = "abc123", "train", "7", "/runs/abc123"

    class Run:
        info = Info()

    class Experiment:
        name = "lead_scoring"

    monkeypatch.setattr(mlflow, "active_run", lambda: Run())
    monkeypatch.setattr(mlflow, "get_experiment", lambda experiment_id: Experiment())
    described = nodes.describe_mlflow_run({"roc_auc": 0.8})
    assert described["run_id"] == "abc123"
    assert (described["experiment_id"], described["experiment_name"]) == ("7", "lead_scoring")
    assert described["registered_model"] == "lead_scoring"
