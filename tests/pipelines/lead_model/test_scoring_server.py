"""MLflow's private request decoder and answer writer, as the served model wraps them: still
needed, wrapped once, and answering as MLflow does apart from what the wrappers are for."""

import inspect
import io
import json

import numpy as np
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException
from mlflow.pyfunc import scoring_server

from lead_scoring.pipelines.lead_model import scoring_server as adapted
from lead_scoring.pipelines.lead_model.nodes import (
    combine_scored_and_quarantined,
    explain_predictions,
    score_leads,
)

DEEP = '{"dataframe_records": [{"city_mapped": ' + "[" * 5000 + "]" * 5000 + "}]}"
RECORDS = json.dumps({"dataframe_records": [{"city_mapped": "pune", "lead_id": 7}]})


@pytest.fixture(scope="module")
def decoder():
    """The server's decoder as the served model leaves it."""
    adapted.adapt_scoring_server()
    return scoring_server._decode_json_input


@pytest.fixture(scope="module")
def writer():
    """The server's JSON writer as the served model leaves it."""
    adapted.adapt_scoring_server()
    return scoring_server.predictions_to_json


def test_the_server_is_adapted_once(decoder, writer):
    assert decoder.adapted_for_leads and writer.adapted_for_leads
    assert not adapted.adapt_scoring_server()
    assert scoring_server._decode_json_input is decoder
    assert scoring_server.predictions_to_json is writer


def test_mlflow_still_fails_deep_json_with_a_recursion_error(decoder):
    # When MLflow answers this itself, the decoder's wrapper can go.
    with pytest.raises(RecursionError):
        inspect.unwrap(decoder)(DEEP)


def test_deep_json_is_a_bad_request(decoder):
    with pytest.raises(MlflowException) as refused:
        decoder(DEEP)
    assert refused.value.get_http_status_code() == 400
    assert "nested too deeply to hold leads" in refused.value.message


def test_requests_decode_as_mlflow_decodes_them(decoder):
    assert decoder(RECORDS) == inspect.unwrap(decoder)(RECORDS) == json.loads(RECORDS)
    with pytest.raises(MlflowException) as refused:
        decoder("{not json")
    assert refused.value.get_http_status_code() == 400


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
