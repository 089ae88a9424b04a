"""`realised_performance` run in process on a store with two versions and outcomes set in parts."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from kedro.io import DataCatalog, DatasetError, MemoryDataset
from kedro.runner import SequentialRunner
from kedro_datasets.pandas import CSVDataset
from kedro_datasets.text import TextDataset
from sklearn.metrics import average_precision_score, roc_auc_score

from lead_scoring.datasets import LeadStoreDataset
from lead_scoring.errors import RealisedPerformanceAlertError
from lead_scoring.pipelines.realised_performance import create_pipeline
from lead_scoring.pipelines.realised_performance.queries import (
    RealisedPerformanceDataset,
    labelled_scores,
)
from lead_scoring.store import SchemaOutOfDateError
from lead_scoring.store.schema import head_revision, is_current
from tests.pipelines.realised_performance.conftest import (
    LEADS_PER_MONTH,
    MONTHS,
    build_loop_store,
)
from tests.store.test_migrations import build_old_store

PARAMS = {"min_outcomes": 40, "alert_roc_auc": 0.6, "segment_min_leads": 100}


def run_measurement(url: str, tmp_path: Path, city_tiers, **params) -> dict:
    """One `kedro run --pipeline=realised_performance`, in process, on the store at ``url``."""
    catalog = DataCatalog(
        {
            "lead_store": LeadStoreDataset(url=url),
            "realised_performance_table": RealisedPerformanceDataset(url=url),
            "realised_performance_page": TextDataset(
                filepath=str(tmp_path / "realised_performance.html")
            ),
            "segments": CSVDataset(
                filepath=str(tmp_path / "segments.csv"), save_args={"index": False}
            ),
            "city_tiers": MemoryDataset(city_tiers),
            "params:feature_engineering": MemoryDataset(
                {"default_city_tier": 3, "rare_level": "rare", "missing_level": "missing"}
            ),
            "params:realised_performance": MemoryDataset({**PARAMS, **params}),
        }
    )
    SequentialRunner().run(create_pipeline(), catalog)
    return {
        "table": RealisedPerformanceDataset(url=url).load(),
        "page": (tmp_path / "realised_performance.html").read_text(),
        "segments": pd.read_csv(tmp_path / "segments.csv", dtype={"segment": str}),
    }


def stored_labelled_scores(url: str) -> pd.DataFrame:
    """The stored probabilities and labels, read straight from the tables, not the pipeline."""
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        return pd.read_sql(
            "SELECT s.model_version, s.role, s.probability, s.tier, l.created_date, "
            "l.app_complete_flag FROM scored_leads s JOIN leads l ON s.lead_id = l.lead_id "
            "WHERE l.app_complete_flag IS NOT NULL",
            connection,
        )


def row(table: pd.DataFrame, version: str, period: str) -> pd.Series:
    found = table.loc[(table["model_version"] == version) & (table["period"] == period)]
    assert len(found) == 1, f"one row of version {version}, period {period}"
    return found.iloc[0]


def test_figures_are_exactly_what_scikit_learn_computes(loop_store, tracking, tmp_path, city_tiers):
    assert_exactly_scikit_learns(loop_store, tmp_path, city_tiers)


def test_postgresql_stores_the_same_figures(postgres, tracking, tmp_path, city_tiers):
    loop_store = build_loop_store(postgres.new_database())
    assert_exactly_scikit_learns(loop_store, tmp_path, city_tiers)


def assert_exactly_scikit_learns(loop_store, tmp_path, city_tiers) -> None:
    """Every stored figure equals scikit-learn's on the stored probabilities and labels."""
    for month in MONTHS:
        loop_store.land_outcomes(month)
    table = run_measurement(loop_store.url, tmp_path, city_tiers)["table"]
    scores = stored_labelled_scores(loop_store.url)
    scores["period"] = scores["created_date"].str[:7]
    checked = 0
    for (version, role), mine in scores.groupby(["model_version", "role"]):
        for period, leads in [("all", mine), *mine.groupby("period")]:
            stored = row(table, version, period)
            label, probability = leads["app_complete_flag"], leads["probability"]
            assert stored["role"] == role
            assert stored["roc_auc"] == roc_auc_score(label, probability)
            assert stored["pr_auc"] == average_precision_score(label, probability)
            hot = leads["tier"] == "hot"
            assert stored["hot_precision"] == label[hot].mean()
            assert stored["cold_completers_lost"] == label[leads["tier"] == "cold"].sum()
            assert stored["labelled_leads"] == len(leads)
            assert stored["completers"] == label.sum()
            assert stored["completion_rate"] == label.mean()
            assert stored["mean_probability"] == pytest.approx(probability.mean(), rel=1e-12)
            assert pd.isna(stored["note"])
            checked += 1
    # Two versions, each in its role, over two months and all: six rows, all checked.
    assert checked == len(table) == 6
    # The better model (less noise) ranks better: the figures are not swapped between versions.
    assert row(table, "1", "all")["roc_auc"] > row(table, "2", "all")["roc_auc"] > 0.6


def test_outcomes_arriving_in_parts_fill_the_months_they_belong_to(
    loop_store, tracking, tmp_path, city_tiers
):
    loop_store.land_outcomes(MONTHS[0])
    first = run_measurement(loop_store.url, tmp_path, city_tiers)["table"]
    assert set(first["period"]) == {"all", MONTHS[0]}
    assert row(first, "1", "all")["labelled_leads"] == LEADS_PER_MONTH
    january = row(first, "1", MONTHS[0])

    loop_store.land_outcomes(MONTHS[1])
    second = run_measurement(loop_store.url, tmp_path, city_tiers)["table"]
    # Upserted by key: one row per version, role and period, none left over from the first run.
    assert not second.duplicated(["model_name", "model_version", "role", "period"]).any()
    assert set(second["period"]) == {"all", *MONTHS}
    assert row(second, "1", "all")["labelled_leads"] == 2 * LEADS_PER_MONTH
    # January's leads did not change: the same figures, measured again.
    assert row(second, "1", MONTHS[0])["roc_auc"] == january["roc_auc"]
    assert row(second, "1", MONTHS[0])["measured_at"] >= january["measured_at"]


def test_too_few_outcomes_give_counts_and_a_note_but_no_figure(
    loop_store, tracking, tmp_path, city_tiers
):
    loop_store.land_outcomes(MONTHS[0])
    table = run_measurement(loop_store.url, tmp_path, city_tiers, min_outcomes=10_000)["table"]
    stored = row(table, "1", "all")
    completers = stored["completers"]
    assert stored["labelled_leads"] == LEADS_PER_MONTH and 0 < completers < LEADS_PER_MONTH
    assert pd.isna(stored["roc_auc"]) and pd.isna(stored["pr_auc"])
    assert pd.isna(stored["hot_precision"])
    assert stored["note"] == (
        f"too few outcomes: {completers} completers and {LEADS_PER_MONTH - completers} "
        "non-completers, 10000 of each needed"
    )


def test_no_outcome_yet_measures_nothing_and_does_not_alert(
    loop_store, tracking, tmp_path, city_tiers
):
    result = run_measurement(loop_store.url, tmp_path, city_tiers, alert_roc_auc=1.0)
    assert result["table"].empty
    assert "Realised performance" in result["page"]


def test_a_low_champion_auc_alerts_after_everything_is_kept(
    loop_store, tracking, tmp_path, city_tiers
):
    for month in MONTHS:
        loop_store.land_outcomes(month)
    with pytest.raises(RealisedPerformanceAlertError, match="realised ROC AUC 0\\.\\d+ on 800"):
        run_measurement(loop_store.url, tmp_path, city_tiers, alert_roc_auc=0.99)
    # Stored, drawn and logged before the run stopped.
    table = RealisedPerformanceDataset(url=loop_store.url).load()
    assert len(table) == 6
    assert (tmp_path / "realised_performance.html").exists()
    run_id = tracking.get_model_version("lead_scoring", "1").run_id
    logged = tracking.get_run(run_id).data.metrics
    assert logged["realised.champion.all.roc_auc"] == row(table, "1", "all")["roc_auc"]


def test_each_measurement_is_a_step_on_the_versions_own_run(
    loop_store, tracking, tmp_path, city_tiers
):
    loop_store.land_outcomes(MONTHS[0])
    run_measurement(loop_store.url, tmp_path, city_tiers)
    loop_store.land_outcomes(MONTHS[1])
    table = run_measurement(loop_store.url, tmp_path, city_tiers)["table"]
    for version, role in [("1", "champion"), ("2", "challenger")]:
        run_id = tracking.get_model_version("lead_scoring", version).run_id
        history = tracking.get_metric_history(run_id, f"realised.{role}.all.labelled_leads")
        assert [(m.step, m.value) for m in history] == [
            (0, LEADS_PER_MONTH),
            (1, 2 * LEADS_PER_MONTH),
        ]
        metrics = tracking.get_run(run_id).data.metrics
        assert (
            metrics[f"realised.{role}.{MONTHS[1]}.roc_auc"]
            == (row(table, version, MONTHS[1])["roc_auc"])
        )


def test_the_page_plots_each_month_next_to_the_holdout_promise(
    loop_store, tracking, tmp_path, city_tiers
):
    for month in MONTHS:
        loop_store.land_outcomes(month)
    page = run_measurement(loop_store.url, tmp_path, city_tiers)["page"]
    assert page.count("data:image/png;base64,") == 2
    assert "Realised ROC AUC per month" in page and "Realised hot precision per month" in page
    # The holdout figures each version's run logged, beside the realised ones.
    assert "0.8100" in page and "0.7800" in page
    assert 'href="model_report.html"' in page
    assert "lead_scoring version 1" in page


def test_segments_hold_the_champions_realised_figures_and_fold_small_ones(
    loop_store, tracking, tmp_path, city_tiers
):
    for month in MONTHS:
        loop_store.land_outcomes(month)
    segments = run_measurement(loop_store.url, tmp_path, city_tiers)["segments"]
    assert set(segments["dimension"]) == {"platform", "city tier", "UTM source", "UTM medium"}
    platforms = segments.loc[segments["dimension"] == "platform"].set_index("segment")
    # Level9 holds about 2% of 800 leads, under segment_min_leads = 100: folded into "other".
    assert set(platforms.index) == {"Level0", "Level1", "other"}
    assert platforms["realised_leads"].sum() == 2 * LEADS_PER_MONTH
    level0 = pd.read_sql(
        "SELECT s.probability, l.app_complete_flag FROM scored_leads s JOIN leads l "
        "ON s.lead_id = l.lead_id WHERE s.role = 'champion' AND l.first_platform_c = 'Level0'",
        loop_store.store.engine,
    )
    expected = roc_auc_score(level0["app_complete_flag"], level0["probability"])
    assert platforms.loc["Level0", "realised_roc_auc"] == expected
    tiers = segments.loc[segments["dimension"] == "city tier", "segment"]
    assert set(tiers) <= {"1", "2", "3", "other"}
    # No train run logged holdout segments in this tracking store: holdout columns are empty.
    assert (segments["holdout_leads"] == 0).all()
    assert segments["model_version"].astype(str).eq("1").all()


def test_a_store_of_the_previous_release_is_upgraded_then_measured(
    store_url, raw_leads, tracking, tmp_path, city_tiers, caplog
):
    """The first run of this release on the old store: upgraded, its old scores the champion's."""
    build_old_store(store_url, raw_leads)
    engine = sa.create_engine(store_url)
    assert not is_current(engine)
    engine.dispose()
    caplog.set_level("INFO", logger="lead_scoring.store.repository")
    # The old scores are 0.5 each: a ROC AUC of 0.5, under the default alert level.
    table = run_measurement(store_url, tmp_path, city_tiers, min_outcomes=1, alert_roc_auc=0.4)[
        "table"
    ]
    assert f"from schema revision 0001 to {head_revision()}" in caplog.text
    scores = stored_labelled_scores(store_url)
    # Two of the old store's three leads have an outcome, one of each; both scored by version 1.
    assert sorted(scores["app_complete_flag"]) == [0, 1]
    assert set(scores["role"]) == {"champion"}
    stored = row(table, "1", "all")
    assert stored["role"] == "champion" and stored["labelled_leads"] == len(scores) == 2
    label, probability = scores["app_complete_flag"], scores["probability"]
    assert stored["completers"] == label.sum() == 1
    assert stored["roc_auc"] == roc_auc_score(label, probability)
    assert stored["pr_auc"] == average_precision_score(label, probability)
    # The old store kept no tier: no lead scored hot, and the row says so.
    assert pd.isna(stored["hot_precision"])
    assert stored["note"] == "no lead scored hot: no hot precision"


def test_an_old_store_the_run_may_not_upgrade_stops_in_one_line_naming_the_command(
    store_url, raw_leads
):
    build_old_store(store_url, raw_leads)
    for dataset in (
        LeadStoreDataset(url=store_url, auto_upgrade=False),
        RealisedPerformanceDataset(url=store_url),
    ):
        with pytest.raises(DatasetError) as stopped:
            dataset.load()
        # The command line shows the cause: one line naming the revision and the command.
        cause = stopped.value.__cause__
        assert isinstance(cause, SchemaOutOfDateError), type(cause)
        assert "\n" not in str(cause) and "revision 0001" in str(cause)
        assert "`kedro store upgrade`" in str(cause)
    # Nothing was changed: the store is still the previous release's.
    engine = sa.create_engine(store_url)
    assert not is_current(engine) and not sa.inspect(engine).has_table("realised_performance")
    engine.dispose()


def test_a_score_written_without_a_role_counts_as_the_champions(loop_store):
    loop_store.land_outcomes(MONTHS[0])
    with loop_store.store.engine.begin() as connection:
        connection.execute(sa.text("UPDATE scored_leads SET role = NULL WHERE model_version = '1'"))
    scores = labelled_scores(loop_store.store.engine)
    assert len(scores) == 2 * LEADS_PER_MONTH
    roles = scores.groupby("model_version")["role"].agg(set).to_dict()
    assert roles == {"1": {"champion"}, "2": {"challenger"}}


def test_segments_fold_levels_as_the_champions_training_did_beside_its_holdout(
    loop_store, tracking, tmp_path, city_tiers
):
    run_id = tracking.get_model_version("lead_scoring", "1").run_id
    # The champion's training kept Level0 only of the platforms; the rest were "rare" to it.
    vocabulary = {
        "city_mapped": ["mumbai", "pune"],
        "first_platform_c": ["Level0"],
        "first_utm_medium_c": ["Level2", "Level5"],
        "first_utm_source_c": ["Level3", "Level4"],
    }
    tracking.log_text(run_id, json.dumps(vocabulary), "category_vocabulary.json")
    tracking.log_text(
        run_id,
        "dimension,segment,leads,completers,roc_auc,hot_precision\n"
        "platform,Level0,900,450,0.8123,0.8456\nplatform,rare,600,300,0.7012,0.7345\n",
        "reporting/holdout_segments.csv",
    )
    for month in MONTHS:
        loop_store.land_outcomes(month)
    segments = run_measurement(loop_store.url, tmp_path, city_tiers)["segments"]
    platforms = segments.loc[segments["dimension"] == "platform"].set_index("segment")
    assert set(platforms.index) == {"Level0", "rare"}
    assert platforms.loc["Level0", "holdout_leads"] == 900
    assert platforms.loc["rare", "holdout_roc_auc"] == 0.7012
    rare = pd.read_sql(
        "SELECT s.probability, l.app_complete_flag FROM scored_leads s JOIN leads l "
        "ON s.lead_id = l.lead_id WHERE s.role = 'champion' AND l.first_platform_c != 'Level0'",
        loop_store.store.engine,
    )
    assert platforms.loc["rare", "realised_leads"] == len(rare)
    assert platforms.loc["rare", "realised_roc_auc"] == roc_auc_score(
        rare["app_complete_flag"], rare["probability"]
    )


def test_without_a_champions_score_the_challenger_is_measured_and_nothing_alerts(
    loop_store, tracking, tmp_path, city_tiers
):
    with loop_store.store.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM scored_leads WHERE role = 'champion'"))
    loop_store.land_outcomes(MONTHS[0])
    result = run_measurement(loop_store.url, tmp_path, city_tiers, alert_roc_auc=1.0)
    assert set(result["table"]["role"]) == {"challenger"}
    assert "none has scored a labelled lead" in result["page"]
    assert result["segments"].empty
