"""The guard on MLflow's private request decoder: still needed, still in place, still harmless."""

import inspect
import json

import pytest
from mlflow.exceptions import MlflowException
from mlflow.pyfunc import scoring_server

from lead_scoring.pipelines.lead_model import request_guard

DEEP = '{"dataframe_records": [{"city_mapped": ' + "[" * 5000 + "]" * 5000 + "}]}"
RECORDS = json.dumps({"dataframe_records": [{"city_mapped": "pune", "lead_id": 7}]})


@pytest.fixture(scope="module")
def decoder():
    """The server's decoder as the served model leaves it."""
    request_guard.guard_deep_json()
    return scoring_server._decode_json_input


def test_the_server_decoder_is_wrapped_once(decoder):
    assert decoder.guards_depth
    assert not request_guard.guard_deep_json()
    assert scoring_server._decode_json_input is decoder


def test_mlflow_still_fails_deep_json_with_a_recursion_error(decoder):
    # When MLflow answers this itself, request_guard.py can go.
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
