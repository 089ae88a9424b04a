"""The served answer's JSON through the C encoder: the bytes MLflow's own writer gives."""

import inspect
import io

import numpy as np
import pandas as pd
import pytest
from mlflow.pyfunc import scoring_server

from lead_scoring.pipelines.lead_model import served_json
from lead_scoring.pipelines.lead_model.nodes import (
    combine_scored_and_quarantined,
    explain_predictions,
    score_leads,
)


@pytest.fixture(scope="module")
def writer():
    """The server's JSON writer as the served model leaves it."""
    served_json.encode_answers_in_c()
    return scoring_server.predictions_to_json


@pytest.fixture(scope="module")
def answer(learned):
    holdout = learned.load("model_input_holdout").head(40)
    shap = explain_predictions(learned.load("lead_scoring_model"), holdout)
    scored = score_leads(
        holdout,
        shap,
        learned.load("tier_cuts"),
        learned.load("probability_calibration"),
        {"n_reasons": 3},
    )
    # Quarantined rows between scored ones: None in every answer column they lack.
    scored.index = [i for i in range(45) if i % 9 != 4]
    leads = pd.DataFrame(
        {
            "lead_id": [None if i == 3 else f'L{i} \u00e9"quoted"' for i in range(45)],
            "created_date": ["2021-08-01 10:00:00"] * 45,
        }
    )
    quarantined = pd.DataFrame(
        {"reason": ["bad date \u2014 2021-13-01"] * 5}, index=range(4, 45, 9)
    )
    return combine_scored_and_quarantined(leads, scored, quarantined)


def _written(write, predictions, metadata=None) -> str:
    output = io.StringIO()
    write(predictions, output, metadata)
    return output.getvalue()


def test_the_server_writer_is_wrapped_once(writer):
    assert writer.encodes_answers
    assert not served_json.encode_answers_in_c()
    assert scoring_server.predictions_to_json is writer


def test_an_answer_is_written_byte_for_byte_as_mlflow_writes_it(writer, answer):
    ours = _written(writer, answer)
    assert ours == _written(inspect.unwrap(writer), answer)
    assert '"quarantine_reason": null' in ours and '"status": "quarantined"' in ours
    assert _written(writer, answer, {"id": 7}) == _written(
        inspect.unwrap(writer), answer, {"id": 7}
    )


def test_other_predictions_are_written_by_mlflow(writer):
    plain = pd.DataFrame({"probability": [0.5, np.nan], "when": pd.to_datetime(["2021-08-01"] * 2)})
    assert _written(writer, plain) == _written(inspect.unwrap(writer), plain)
    assert _written(writer, np.arange(3)) == '{"predictions": [0, 1, 2]}'
