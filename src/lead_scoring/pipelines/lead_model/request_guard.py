"""The served model's answer to a request whose JSON is nested too deep to parse.

MLflow's scoring server parses the request before the model sees it, and answers a
``RecursionError`` from ``json.loads`` (JSON nested a few thousand levels deep) with a 500 and its
stack trace. This module is imported with the scoring pipeline, so with the model the server
loads, and turns that error into the 400 an unparseable request gets.

Why a private name: MLflow (3.17) offers no public way to this. ``mlflow models serve`` builds
its FastAPI app itself, with no hook for middleware or for parsing the body; the body is decoded
by ``mlflow.pyfunc.scoring_server._decode_json_input`` before the model's ``predict`` is called,
and that function turns only ``JSONDecodeError`` and ``UnicodeDecodeError`` into a 400; raising
Python's recursion limit only moves the depth, and past some depth crashes the C parser. So the
decoder is wrapped, by name, only when the server's module is loaded in this process.
tests/pipelines/lead_model/test_request_guard.py fails when the name goes or when MLflow starts
answering such a request itself (then this module can go), and tests/reliability/
test_bad_requests.py holds the served answer.
"""

from __future__ import annotations

import functools
import sys
from typing import Any

_SERVER = "mlflow.pyfunc.scoring_server"


def guard_deep_json() -> bool:
    """Wrap the scoring server's JSON decoding, when this process runs the server."""
    server: Any = sys.modules.get(_SERVER)
    decode = getattr(server, "_decode_json_input", None)
    if decode is None or getattr(decode, "guards_depth", False):
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

    # Marks the wrapper, so a second import of this module does not wrap it again.
    decode_json_input.guards_depth = True  # type: ignore[attr-defined]
    server._decode_json_input = decode_json_input
    return True


guard_deep_json()
