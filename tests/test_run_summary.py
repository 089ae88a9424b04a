"""The end-of-run summary and the model report's stamp, from the facts a run saved."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from lead_scoring.hooks import STORE_SOURCE, stamp_report, trained_on_html
from lead_scoring.run_summary import RunSummaryHook, format_summary


def test_a_scoring_summary_counts_leads_and_tiers_and_names_the_files():
    facts = {
        "batch_tally": {"read": 1000, "scored": 990, "quarantined": 10},
        "tiers": Counter(hot=200, warm=500, cold=290),
        "scoring_model_version": {"name": "lead_scoring", "version": "3", "aliases": ["champion"]},
        "drift_alerts": ["city_tier"],
    }
    block = format_summary(
        "inference", facts, {"Call list (best first)": "data/08_reporting/call_list.csv"}, None
    ).splitlines()
    assert " inference run summary " in block[0] and set(block[-1]) == {"="}
    assert block[1:-1] == [
        "Leads read 1,000, scored 990, quarantined 10",
        "Tiers: hot 200 (20%), warm 500 (51%), cold 290 (29%)",
        "Model: lead_scoring version 3, alias champion",
        "Drift: 1 feature(s) drifting (city_tier)",
        "Call list (best first): data/08_reporting/call_list.csv",
    ]


def test_the_report_is_stamped_once_under_its_title(tmp_path):
    report = tmp_path / "model_report.html"
    report.write_text("<html><body>\n<h1>Lead scoring model report</h1>\n<p>rest</p></body>")
    trained = {"path": "/data/my.csv", "rows": 1234, "first": "2021-07-01", "last": "2022-02-28"}
    model = {"name": "lead_scoring", "version": "4", "aliases": ["champion"]}
    for _ in range(2):
        assert stamp_report(report, trained_on_html(trained, model))
    page = report.read_text()
    assert page.count('class="trained-on"') == 1
    assert page.index("<h1>") < page.index("trained-on") < page.index("<p>rest</p>")
    assert "your export <code>/data/my.csv</code>: 1,234 valid leads" in page
    assert "version <strong>4</strong>, alias <strong>champion</strong>" in page
    assert not stamp_report(tmp_path / "missing.html", "<p></p>")


def body(pipeline_name: str, facts: dict, files: dict | None = None) -> list[str]:
    """The lines between a summary's rules."""
    block = format_summary(pipeline_name, facts, files or {}, None).splitlines()
    assert f" {pipeline_name} run summary " in block[0] and set(block[-1]) == {"="}
    return block[1:-1]


def test_an_ingest_summary_counts_the_new_files_and_the_store():
    totals = {
        "files": 7,
        "rows_read": 7000,
        "leads_new": 6990,
        "leads_updated": 4,
        "leads_unchanged": 1,
        "quarantined": 5,
        "labels_filled": 0,
        "labels_changed": 2,
        "outcomes_pending": 30,
        "pending_applied": 12,
        "files_reread": 1,
        "files_deferred": 2,
        "files_refused": 0,
        "leads_stored": 12000,
    }
    assert body("ingest", {"ingest_summary": totals}) == [
        "Landing files ingested 7: rows read 7,000, new leads 6,990, updated 4, unchanged 1, "
        "quarantined 5, labels filled 0",
        "Files read again (changed) 1, deferred 2, refused 0; labels changed 2, outcomes "
        "pending 30, pending outcomes applied 12",
        "The store holds 12,000 leads",
    ]
    nothing = {**totals, "files": 0}
    assert body("ingest", {"ingest_summary": nothing}) == [
        "No new landing file; the store holds 12,000 leads"
    ]


def test_a_train_summary_reports_the_labels_changed_since_the_last_training():
    changes = {"labels_changed": 20, "to_completed": 12, "to_not_completed": 8, "files": ["o.csv"]}
    lines = body("train_from_store", {"label_change_report": changes})
    assert lines == ["Labels changed since the last report 20 (0 to 1: 12, 1 to 0: 8)"]
    none = body("train_from_store", {"label_change_report": {"labels_changed": 0}})
    assert none == ["Labels changed since the last report 0"]


def test_a_score_new_summary_names_scores_tiers_model_and_drift():
    run = {
        "leads_selected": 1021,
        "leads_scored": 1020,
        "leads_quarantined": 1,
        "rescored": 0,
        "hot_share": 0.29,
        "warm_share": 0.4,
        "cold_share": 0.31,
        "drifting_features": "city_mapped,created_weekday",
    }
    # Watched, not alerting: an alert would have stopped the run before its summary.
    drift = {"features": {"city_mapped": {"status": "drift"}, "score": {"status": "stable"}}}
    facts = {
        "new_scores_drift": drift,
        "score_run": run,
        "scoring_model_version": {"name": "lead_scoring", "version": "1", "aliases": ["champion"]},
    }
    files = {"Drift report": "data/08_reporting/score_new_drift_report.json"}
    assert body("score_new", facts, files) == [
        "Stored leads scored 1,020, quarantined 1 (0 rescored for a new champion)",
        "Tiers: hot 29%, warm 40%, cold 31%",
        "Model: lead_scoring version 1, alias champion",
        "Drift: no feature past the alert levels",
        "Drift report: data/08_reporting/score_new_drift_report.json",
    ]
    small = {**facts, "new_scores_drift": {"features": {"score": {"status": "too few rows"}}}}
    assert body("score_new", small)[-1] == "Drift: not judged, too few leads"
    idle = {**facts, "score_run": {**run, "leads_selected": 0, "leads_scored": 0}}
    assert body("score_new", idle) == [
        "Nothing new to score: every stored lead has this model's score",
        "Model: lead_scoring version 1, alias champion",
    ]


def test_a_generate_daily_summary_counts_the_days_it_wrote():
    hook = RunSummaryHook()
    hook.before_pipeline_run({}, None, None)
    days = {
        "2022-02-16_leads": pd.DataFrame({"x": range(3)}),
        "2022-02-15_leads": pd.DataFrame({"x": range(2)}),
    }
    hook.after_dataset_saved("daily_landing_exports", days, None)
    outcomes = {"2022-02-16_outcomes": pd.DataFrame({"app_complete_flag": [0, 1]})}
    hook.after_dataset_saved("daily_outcome_exports", outcomes, None)
    assert body("generate_daily", hook._facts) == [
        "Wrote 2 daily export(s) of 5 leads in all, 2022-02-15 to 2022-02-16, "
        "and 1 outcome export(s) of 2 outcomes, each of leads created days before"
    ]


def test_a_model_trained_from_the_store_says_so_in_its_report():
    trained = {"path": STORE_SOURCE, "rows": 6998, "first": "2022-02-15", "last": "2022-02-21"}
    paragraph = trained_on_html(trained, None)
    assert "the lead store's labelled leads" in paragraph and "export" not in paragraph
    assert "6,998 valid leads, created 2022-02-15 to 2022-02-21" in paragraph


def test_a_realised_performance_summary_gives_each_versions_figures_or_its_note():
    rows = pd.DataFrame(
        {
            "model_name": "lead_scoring",
            "model_version": ["1", "1", "2"],
            "role": ["champion", "champion", "challenger"],
            "period": ["all", "2022-02", "all"],
            "labelled_leads": [6000, 6000, 30],
            "completers": [3014, 3014, 12],
            "roc_auc": [0.8228, 0.8228, float("nan")],
            "hot_precision": [0.7608, 0.7608, float("nan")],
            "note": [None, None, "too few outcomes: 12 completers, 40 needed"],
        }
    )
    files = {"Realised performance": "data/08_reporting/realised_performance.html"}
    assert body("realised_performance", {"realised_performance_table": rows}, files) == [
        "Stored 3 row(s) in realised_performance: 2 model version(s) over 1 month(s) of leads "
        "with known outcomes",
        "lead_scoring version 1 (champion): ROC AUC 0.823, hot precision 76.1% on 6,000 leads "
        "(3,014 completers)",
        "lead_scoring version 2 (challenger): 30 leads, too few outcomes: 12 completers, 40 needed",
        "Realised performance: data/08_reporting/realised_performance.html",
    ]
    empty = rows.iloc[:0]
    assert body("realised_performance", {"realised_performance_table": empty}) == [
        "No stored lead with a known outcome has a score yet: nothing measured"
    ]
