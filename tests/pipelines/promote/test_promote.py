"""promote on real models and real outcomes: score_new in shadow, outcomes in parts, a decision.

Each walk copies the project with two registered models (conftest.py), lands three daily files,
ingests and scores them (champion and challenger), lands the outcomes and runs promote, every
step an in-process `kedro run`.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from lead_scoring.contract import LABEL
from lead_scoring.pipelines.batch_scoring import call_list_rows
from lead_scoring.pipelines.promote.nodes import bootstrap_gains, weighted_roc_auc
from lead_scoring.store.role_queries import paired_outcomes, promotion_log
from tests.pipelines.promote.conftest import (
    DAYS,
    alias_version,
    copy_of,
    land,
    partial_outcomes,
    registry,
    run_pipeline,
    store_of,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def printed(project: Path, pipeline: str, monkeypatch, **params) -> str:
    """What a run printed on stdout: its summary."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        run_pipeline(project, pipeline, monkeypatch, **params)
    return out.getvalue()


def summary_body(output: str, pipeline: str) -> list[str]:
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if f" {pipeline} run summary " in line)
    end = next(i for i in range(start + 1, len(lines)) if set(lines[i]) == {"="})
    return lines[start + 1 : end]


def read_call_list(project: Path) -> pd.DataFrame:
    return pd.read_csv(
        project / "data" / "08_reporting" / "call_list_new.csv", dtype=str, keep_default_na=False
    )


def scored_and_labelled(project: Path, monkeypatch, walk: dict, **score_params) -> None:
    """Land the days, ingest, score_new; then outcomes of one day's first 30 leads, promote;
    then every outcome, promote."""
    daily = project / "daily"
    land(project, *(daily / f"{day}_leads.csv" for day in DAYS))
    run_pipeline(project, "ingest", monkeypatch)
    walk["score_new"] = printed(project, "score_new", monkeypatch, **score_params)
    walk["scored"] = store_of(project).table("scored_leads")
    walk["score_log"] = store_of(project).table("score_log")
    walk["call_list"] = read_call_list(project)
    walk["score again"] = printed(project, "score_new", monkeypatch, **score_params)
    walk["scored again"] = store_of(project).table("scored_leads")
    early = partial_outcomes(
        daily / f"{DAYS[0]}_outcomes.csv", project / "early_outcomes.csv", rows=30
    )
    land(project, early)
    run_pipeline(project, "ingest", monkeypatch)
    walk["too few"] = printed(project, "promote", monkeypatch)
    land(project, *(daily / f"{day}_outcomes.csv" for day in DAYS))
    run_pipeline(project, "ingest", monkeypatch)
    walk["decided"] = printed(project, "promote", monkeypatch)
    walk["log"] = promotion_log(store_of(project))


@pytest.fixture(scope="module")
def worse_challenger(contenders_project, tmp_path_factory) -> dict:
    """Champion version 1, challenger version 2 (shuffled labels)."""
    project = copy_of(contenders_project, tmp_path_factory.mktemp("worse") / "project")
    walk = {"project": project}
    with pytest.MonkeyPatch.context() as monkeypatch:
        scored_and_labelled(project, monkeypatch, walk)
    return walk


@pytest.fixture(scope="module")
def better_challenger(contenders_project, tmp_path_factory) -> dict:
    """The aliases swapped before any scoring: champion version 2, challenger version 1."""
    project = copy_of(contenders_project, tmp_path_factory.mktemp("better") / "project")
    client = registry(project)
    client.set_registered_model_alias("lead_scoring", "champion", "2")
    client.set_registered_model_alias("lead_scoring", "challenger", "1")
    walk = {"project": project}
    # Version 2 learned nothing, so its scores sit far from its own training reference: the
    # drift alert (tested in score_new) would stop the run after storing; not this test's point.
    quiet = {"score_new": {"drift_alert": {"score_psi": 100.0, "feature_psi": 100.0}}}
    with pytest.MonkeyPatch.context() as monkeypatch:
        scored_and_labelled(project, monkeypatch, walk, **quiet)
        walk["after promotion"] = printed(project, "score_new", monkeypatch)
        walk["scored after promotion"] = store_of(project).table("scored_leads")
        walk["call list after promotion"] = read_call_list(project)
    return walk


def test_a_store_loop_retrain_reports_the_champion_and_puts_the_challengers_report_beside(
    contenders_project,
):
    assert (
        alias_version(contenders_project, "champion"),
        alias_version(contenders_project, "challenger"),
    ) == ("1", "2")
    reports = contenders_project / "data" / "08_reporting"
    champion = (reports / "model_report.html").read_text(encoding="utf-8")
    challenger = (reports / "model_report_challenger.html").read_text(encoding="utf-8")
    assert "version <strong>1</strong>, alias <strong>champion</strong>" in champion
    assert "version <strong>2</strong>, alias <strong>challenger</strong>" in challenger
    assert (
        "challenger&#x27;s</strong> report" in challenger
        or "challenger's</strong> report" in challenger
    )
    # The reason the holdout comparison gave, in the report and in the registry.
    why = registry(contenders_project).get_model_version("lead_scoring", "2").tags["alias_reason"]
    assert "does not beat version 1" in why


def test_score_new_stores_both_roles_and_lists_the_champions_calls_best_first(worse_challenger):
    scored = worse_challenger["scored"]
    leads = LEADS_TOTAL = len(store_of(worse_challenger["project"]).table("leads"))
    by_role = scored.groupby(["role", "model_version"]).size().to_dict()
    assert by_role == {("champion", "1"): LEADS_TOTAL, ("challenger", "2"): leads}
    # Scored the same leads as they stood, with different models.
    champion = scored.loc[scored["role"] == "champion"].set_index("lead_id")
    challenger = scored.loc[scored["role"] == "challenger"].set_index("lead_id")
    assert (champion["content_hash"] == challenger.loc[champion.index, "content_hash"]).all()
    assert not np.allclose(champion["probability"], challenger.loc[champion.index, "probability"])
    assert set(worse_challenger["score_log"]["role"]) == {"champion", "challenger"}

    calls = worse_challenger["call_list"]
    assert len(calls) == LEADS_TOTAL
    assert set(calls["model_version"]) == {"1"}
    # The batch call list's columns first, then who scored it.
    batch_columns = list(
        call_list_rows(
            pd.DataFrame(
                columns=[
                    "status",
                    "score",
                    "tier",
                    "reason_1",
                    "reason_2",
                    "reason_3",
                    "lead_id",
                    "created_date",
                    "probability",
                ]
            )
        ).columns
    )
    assert list(calls.columns) == [
        *batch_columns,
        "model_name",
        "model_version",
        "trained_on",
        "alert",
    ]
    assert calls["trained_on"].str.contains("labelled leads").all()
    # Best first: score, then probability, descending; each the champion's stored figure.
    order = calls[["score", "probability"]].astype(float)
    assert order.equals(order.sort_values(["score", "probability"], ascending=False))
    stored = champion.loc[calls["lead_id"], "score"].astype(int).to_numpy()
    assert (calls["score"].astype(int).to_numpy() == stored).all()
    assert "Challenger version 2 scored" in worse_challenger["score_new"]
    # Run again: neither model has anything new to score.
    pd.testing.assert_frame_equal(worse_challenger["scored again"], scored)
    assert "Nothing new to score" in worse_challenger["score again"]


def test_too_few_outcomes_is_one_line_and_decides_nothing(worse_challenger):
    body = summary_body(worse_challenger["too few"], "promote")
    decision = [line for line in body if line.startswith("Promote:")]
    first = worse_challenger["log"].iloc[0]
    assert first["outcome"] == "too_few_outcomes" and first["leads_compared"] == 30
    assert pd.isna(first["champion_roc_auc"]) and pd.isna(first["gain_low"])
    found = re.fullmatch(
        r"Promote: too few outcomes: (\d+) completers and (\d+) non-completers among the 30 "
        r"labelled leads both scored, 50 of each needed",
        decision[0],
    )
    assert len(decision) == 1 and found
    assert int(found[1]) + int(found[2]) == 30


def test_a_worse_challenger_is_kept_with_figures_sklearn_recomputes(worse_challenger):
    project = worse_challenger["project"]
    log = worse_challenger["log"]
    decision = log.iloc[-1]
    assert decision["outcome"] == "kept"
    pairs = paired_outcomes(store_of(project), "lead_scoring", "1", "2")
    assert decision["leads_compared"] == len(pairs) == len(store_of(project).table("leads"))
    label = pairs[LABEL].astype(int)
    assert decision["champion_roc_auc"] == roc_auc_score(label, pairs["champion_probability"])
    assert decision["challenger_roc_auc"] == roc_auc_score(label, pairs["challenger_probability"])
    assert decision["gain_low"] < decision["gain"] < decision["gain_high"] < 0
    assert (alias_version(project, "champion"), alias_version(project, "challenger")) == ("1", "2")
    run = registry(project).get_run(decision["mlflow_run_id"])
    assert run.info.run_name.startswith("promote")
    assert run.data.tags["promote.outcome"] == "kept"
    assert run.data.metrics["promote.gain"] == pytest.approx(decision["gain"])
    assert run.data.params["challenger_version"] == "2"
    assert "Promote: kept: challenger v2 ROC AUC" in worse_challenger["decided"]


def test_a_better_challenger_is_promoted_and_the_old_champion_kept_for_rollback(
    better_challenger,
):
    project = better_challenger["project"]
    decision = better_challenger["log"].iloc[-1]
    assert decision["outcome"] == "promoted"
    assert (decision["champion_version"], decision["challenger_version"]) == ("2", "1")
    assert decision["gain"] > decision["margin"] and decision["gain_low"] > 0
    assert alias_version(project, "champion") == "1"
    assert alias_version(project, "challenger") is None
    assert alias_version(project, "previous_champion") == "2"
    why = registry(project).get_model_version("lead_scoring", "1").tags["alias_reason"]
    assert why.startswith("promoted on realised results: challenger v1 ROC AUC")
    # The report a team opens is the new champion's; no challenger's report is left beside it.
    reports = project / "data" / "08_reporting"
    page = (reports / "model_report.html").read_text(encoding="utf-8")
    assert "version <strong>1</strong>" in page
    assert not (reports / "model_report_challenger.html").exists()
    # The new champion scores again, as champion, the recent leads it scored in shadow: the
    # call list and the call queue read champion scores only.
    after = better_challenger["scored after promotion"]
    by_version_1 = after.loc[after["model_version"] == "1"]
    assert set(by_version_1["role"]) == {"champion"}
    assert len(by_version_1) == len(store_of(project).table("leads"))
    calls = better_challenger["call list after promotion"]
    assert set(calls["model_version"]) == {"1"} and len(calls) == len(by_version_1)


def test_no_challenger_is_one_line(trained_project, tmp_path, monkeypatch):
    project = copy_of(trained_project, tmp_path / "project")
    store_of(project)
    body = summary_body(printed(project, "promote", monkeypatch), "promote")
    assert [line for line in body if line.startswith("Promote:")] == [
        "Promote: no challenger: champion version 1 stays, nothing to compare"
    ]
    assert promotion_log(store_of(project))["outcome"].tolist() == ["no_challenger"]


def test_the_resampled_auc_is_sklearns_on_the_resampled_leads():
    rng = np.random.default_rng(5)
    label = rng.integers(0, 2, 500)
    # Rounded: ties between leads, as scores of equal leads have.
    score = np.round(rng.random(500) + 0.4 * label, 2)
    draws = rng.integers(0, 500, size=(4, 500))
    counts = np.stack([np.bincount(draw, minlength=500) for draw in draws])
    expected = [roc_auc_score(label[draw], score[draw]) for draw in draws]
    assert weighted_roc_auc(label, score, counts) == pytest.approx(expected, abs=1e-12)
    gains = bootstrap_gains(label, score, score, samples=50, seed=1)
    assert len(gains) == 50 and np.allclose(gains, 0)


def test_the_notebook_describes_the_champion_after_a_challenger_retrain(
    contenders_project, tmp_path, monkeypatch
):
    from tests.test_notebook import run_notebook

    _, printed = run_notebook(copy_of(contenders_project, tmp_path / "project"), monkeypatch)
    # The last train run made version 2 the challenger; the notebook reads version 1.
    assert "lead_scoring version 1 is the champion" in printed
    assert "not the champion's: the data sections above describe that run's export" in printed
    assert "Why: there was no champion yet" in printed
