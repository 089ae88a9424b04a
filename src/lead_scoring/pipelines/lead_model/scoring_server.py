"""Two changes the served model makes to MLflow's scoring server, each through a private name.

Why private names: MLflow (3.17) offers no public way to either. `mlflow models serve` builds its
FastAPI app itself, with no hook for middleware, for parsing a request or for writing an answer.
This module is imported with the scoring code, so with the model the server loads, and wraps two
functions of ``mlflow.pyfunc.scoring_server`` by name, only in a process that has loaded it:

- ``_decode_json_input`` decodes a request before the model's ``predict`` is called. It turns
  only ``JSONDecodeError`` and ``UnicodeDecodeError`` into a 400, and answers a
  ``RecursionError`` (JSON nested a few thousand levels deep) with a 500 and its stack trace.
  Raising Python's recursion limit only moves the depth, and past some depth crashes the C
  parser; the wrapper answers 400, as for any unparseable request.
- ``predictions_to_json`` writes the answer with ``json.dump(..., cls=NumpyEncoder)``, and
  ``json.dump`` always takes the json module's pure-Python encoder, which hands every key,
  separator and value to the output as its own piece: 1,000 leads' answers cost 6-19 ms that way
  against 2-8 ms through ``json.dumps``, which takes the C encoder (a loaded 2-core machine). The
  two encoders write the same text for the same value, so a client reads the same bytes. Only
  this model's answers (``LeadAnswers``) go that way; MLflow writes any other prediction.

tests/pipelines/lead_model/test_scoring_server.py fails when a name goes, when MLflow starts
answering deep JSON itself (then that wrapper can go), or when an answer's bytes differ from
MLflow's; tests/reliability/test_bad_requests.py holds the served answers.
"""

from __future__ import annotations

import functools
import json
import sys
from typing import Any

_SERVER = "mlflow.pyfunc.scoring_server"


def adapt_scoring_server() -> bool:
    """Wrap the scoring server's request decoder and answer writer, when this process runs it."""
    server: Any = sys.modules.get(_SERVER)
    decode = getattr(server, "_decode_json_input", None)
    write = getattr(server, "predictions_to_json", None)
    if decode is None or write is None or getattr(write, "adapted_for_leads", False):
        return False

    @functools.wraps(decode)
    def decode_json_input(json_input):
        try:
            return decode(json_input)
        except RecursionError:
            # Here, not at the top: the server has imported MLflow; `kedro` need not (2 s).
            from mlflow.exceptions import MlflowException
            from mlflow.protos.databricks_pb2 import BAD_REQUEST

            raise MlflowException(
                "The request's JSON is nested too deeply to hold leads: send "
                '{"dataframe_records": [...]} with one value per field.',
                error_code=BAD_REQUEST,
            ) from None

    @functools.wraps(write)
    def predictions_to_json(raw_predictions, output, metadata=None):
        # Here, not at the top: the nodes import pandas, and this module loads with the server.
        from lead_scoring.pipelines.lead_model.nodes import LeadAnswers

        if not isinstance(raw_predictions, LeadAnswers) or (metadata and "predictions" in metadata):
            return write(raw_predictions, output, metadata)
        predictions = server._get_jsonable_obj(raw_predictions, pandas_orient="records")
        answer = {"predictions": predictions, **(metadata or {})}
        output.write(json.dumps(answer, cls=server.NumpyEncoder))

    # Marks the wrappers, so that a second call does not wrap them again.
    decode_json_input.adapted_for_leads = True  # type: ignore[attr-defined]
    predictions_to_json.adapted_for_leads = True  # type: ignore[attr-defined]
    server._decode_json_input = decode_json_input
    server.predictions_to_json = predictions_to_json
    return True


adapt_scoring_server()
