"""The days after the default export, scored by the model trained on it: as good as promised."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from lead_scoring.contract import COLD, HOT, LABEL, LEAD_ID, TIERS, WARM
from lead_scoring.datasets import RawLeadsDataset
from lead_scoring.pipelines.generate_daily.nodes import generate_daily_exports, reference_intercept
from tests.conftest import SMALL_EXPORT_LEADS, run_kedro
from tests.pipelines.batch_scoring.conftest import copy_trained_project

pytestmark = pytest.mark.slow


def labelled_new_days(parameters, city_tiers, interaction_mapping) -> pd.DataFrame:
    """Two weeks after the trained project's export, in its world, each lead with its outcome."""
    # The trained project's export: the default settings, SMALL_EXPORT_LEADS leads.
    generate = {**parameters["generate"], "n_leads": SMALL_EXPORT_LEADS}
    daily = {**parameters["generate_daily"], "days": 14, "outcome_delay_days": 0}
    intercept = reference_intercept(city_tiers, interaction_mapping, generate, daily)
    exports, outcomes = generate_daily_exports(
        city_tiers, interaction_mapping, generate, daily, intercept
    )
    leads = pd.concat(exports.values(), ignore_index=True)
    labels = pd.concat(outcomes.values(), ignore_index=True)
    assert leads[LEAD_ID].equals(labels[LEAD_ID])
    return leads.drop(columns=[LEAD_ID]).assign(**{LABEL: labels[LABEL]})


def test_the_trained_model_scores_the_new_days_as_its_holdout_promised(
    trained_project, parameters, city_tiers, interaction_mapping, tmp_path
):
    project = copy_trained_project(trained_project, tmp_path / "project")
    leads = labelled_new_days(parameters, city_tiers, interaction_mapping)
    path = project / "data" / "01_raw" / "new_days.csv"
    RawLeadsDataset(filepath=str(path)).save(leads)
    result = run_kedro(
        project, "run", "--pipeline=batch_scoring", f"--params=new_leads_path={path}"
    )

    realised = re.search(
        r"Realised ROC AUC (\d\.\d+) on (\d+) labelled", result.stdout + result.stderr
    )
    assert realised and int(realised.group(2)) == len(leads)
    holdout = json.loads((project / "data" / "08_reporting" / "holdout_metrics.json").read_text())
    # Not the "optimistic" comparison of days inside the training period: these came after it.
    assert float(realised.group(1)) > holdout["roc_auc"] - 0.03
    scored = pd.read_csv(project / "data" / "07_model_output" / "scored_leads.csv")
    completion = leads[LABEL].mean()
    assert scored["probability"].mean() == pytest.approx(completion, abs=0.04)
    # The tiers still sort the leads: hot ones complete far more often than cold ones.
    label = leads[LABEL].to_numpy()
    rates = {tier: label[(scored["tier"] == tier).to_numpy()].mean() for tier in TIERS}
    assert rates[HOT] > rates[WARM] > rates[COLD], rates
    assert rates[HOT] > completion + 0.2 and rates[COLD] < completion - 0.25, rates
