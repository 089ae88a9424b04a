"""The served answer's JSON, written by the json module's C encoder.

`mlflow models serve` writes a prediction with ``json.dump(..., cls=NumpyEncoder)``, and
``json.dump`` always takes the json module's pure-Python encoder, which hands every key,
separator and value to the output as its own piece: 1,000 leads' answers cost 6-19 ms that
way against 2-8 ms through ``json.dumps``, which takes the C encoder (a loaded 2-core machine).
The two encoders write the same text for the same value (one set of separators, ``float``'s own
repr, the same ``default`` for other types), so a client reads the same bytes.

Why a private name: MLflow (3.17) offers no public way to this; the server writes its answer
with ``mlflow.pyfunc.scoring_server.predictions_to_json``, looked up by name on every request.
That function is wrapped, only in a process that runs the server, and only for this model's
answers (``LeadAnswers``): any other prediction is written by MLflow's own function.
tests/pipelines/lead_model/test_served_json.py holds the bytes to MLflow's and fails when the
name goes.
"""

from __future__ import annotations

import functools
import json
import sys
from typing import Any

_SERVER = "mlflow.pyfunc.scoring_server"


def encode_answers_in_c() -> bool:
    """Wrap the scoring server's JSON writer, when this process runs the server."""
    server: Any = sys.modules.get(_SERVER)
    write = getattr(server, "predictions_to_json", None)
    if write is None or getattr(write, "encodes_answers", False):
        return False

    @functools.wraps(write)
    def predictions_to_json(raw_predictions, output, metadata=None):
        # Here, not at the top: the nodes import pandas, and this module loads with the server.
        from lead_scoring.pipelines.lead_model.nodes import LeadAnswers

        if not isinstance(raw_predictions, LeadAnswers) or (metadata and "predictions" in metadata):
            return write(raw_predictions, output, metadata)
        predictions = server._get_jsonable_obj(raw_predictions, pandas_orient="records")
        answer = {"predictions": predictions, **(metadata or {})}
        output.write(json.dumps(answer, cls=server.NumpyEncoder))

    # Marks the wrapper, so it is never wrapped twice.
    predictions_to_json.encodes_answers = True  # type: ignore[attr-defined]
    server.predictions_to_json = predictions_to_json
    return True


encode_answers_in_c()
