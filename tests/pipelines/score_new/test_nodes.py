"""score_new's checks: drift past its alert levels and tier shares against the last runs."""

from __future__ import annotations

import pandas as pd
import pytest

from lead_scoring.datasets.lead_store import LeadStore, ScoreBatch
from lead_scoring.pipelines.score_new.nodes import (
    ScoreRunAlertError,
    check_score_run,
    drifting_features,
    score_run_alerts,
)


def _check(store, run, drift_report, params) -> dict:
    """The run judged and checked as score_new's last two nodes do, without a challenger."""
    alerts = score_run_alerts(store, run, drift_report, params)
    return check_score_run(store, run, alerts, {}, run["leads_scored"])


def _run(run_id: str, at: str, hot: float, warm: float, scored: int = 500) -> dict:
    return {
        "run_id": run_id,
        "scored_at": at,
        "model_name": "lead_scoring",
        "model_version": "1",
        "leads_selected": scored,
        "leads_scored": scored,
        "leads_quarantined": 0,
        "rescored": 0,
        "hot_share": hot,
        "warm_share": warm,
        "cold_share": 1 - hot - warm,
        "max_psi": 0.01,
        "drifting_features": "",
    }


@pytest.fixture
def store(tmp_path) -> LeadStore:
    store = LeadStore(f"sqlite:///{tmp_path / 'lead_store.db'}")
    for day in range(3):
        run = _run(f"r{day}", f"2026-01-0{day + 1}T10:00:00+00:00", hot=0.30, warm=0.45)
        store.write_scores(ScoreBatch(pd.DataFrame(), pd.DataFrame(), run))
    return store


def test_tier_shares_far_from_the_last_runs_stop_the_run_after_storing(store, parameters):
    run = _run("now", "2026-01-05T10:00:00+00:00", hot=0.60, warm=0.30)
    store.write_scores(ScoreBatch(pd.DataFrame(), pd.DataFrame(), run))
    with pytest.raises(ScoreRunAlertError, match=r"are stored, but the hot tier took 60\.0%"):
        _check(store, run, {"features": {}}, parameters["score_new"])


def test_tier_shares_near_the_last_runs_pass(store, parameters):
    run = _run("now", "2026-01-05T10:00:00+00:00", hot=0.35, warm=0.42)
    assert _check(store, run, {"features": {}}, parameters["score_new"]) == run


def test_small_runs_and_a_short_history_are_not_judged(store, parameters):
    small = _run("small", "2026-01-05T10:00:00+00:00", hot=0.9, warm=0.05, scored=20)
    assert _check(store, small, {"features": {}}, parameters["score_new"]) == small
    fresh = LeadStore(f"sqlite:///{store.url.removeprefix('sqlite:///')}.fresh")
    first = _run("first", "2026-01-05T10:00:00+00:00", hot=0.9, warm=0.05)
    assert _check(fresh, first, {"features": {}}, parameters["score_new"]) == first


def test_drift_alerts_skip_time_of_day_and_batches_too_small_to_judge(parameters):
    alert = parameters["score_new"]["drift_alert"]
    report = {
        "features": {
            "created_weekday": {"kind": "numeric", "psi": 7.6, "status": "drift"},
            "first_platform_c": {"kind": "categorical", "psi": 0.4, "status": "drift"},
            "city_mapped": {"kind": "categorical", "psi": 1.4, "status": "drift"},
            "referred_lead": {"kind": "numeric", "psi": 3.0, "status": "too few rows"},
            "score": {"kind": "score", "psi": 0.25, "status": "drift"},
            "tier": {"kind": "tier", "psi": 0.05, "status": "stable"},
        }
    }
    assert drifting_features(report, alert) == ["city_mapped", "score"]
