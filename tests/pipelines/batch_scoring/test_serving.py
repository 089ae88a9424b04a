"""`mlflow models serve` answers raw leads with the scores the batch pipeline wrote."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import kedro_env
from tests.pipelines.batch_scoring.conftest import BROKEN, MISSING_OPTIONAL, UNSEEN_LEVEL_ROW

BIN = Path(sys.executable).parent
STARTUP_TIMEOUT = 120


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except (urllib.error.URLError, OSError):
        return 0


@contextmanager
def model_server(project: Path, log: Path):
    """`mlflow models serve` of the champion on a free loopback port, stopped on exit."""
    port = free_port()
    env = kedro_env()
    # The server execs uvicorn by name: the venv's bin must be on the PATH.
    env.update(
        MLFLOW_TRACKING_URI=f"sqlite:///{project / 'mlflow.db'}",
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    command = [
        str(BIN / "mlflow"),
        "models",
        "serve",
        "-m",
        "models:/lead_scoring@champion",
        "--env-manager",
        "local",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with log.open("w") as out:
        server = subprocess.Popen(
            command,
            cwd=project,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while _get(f"{url}/ping") != 200:
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the model server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.25)
        yield url
    finally:
        # The server runs uvicorn as a child: stop the whole session this test started.
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def invoke(url: str, records: list[dict]) -> list[dict]:
    body = json.dumps({"dataframe_records": records}).encode()
    request = urllib.request.Request(
        f"{url}/invocations", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["predictions"]


def raw_records(export: Path, n: int) -> list[dict]:
    """The first ``n`` leads as a client sends them: empty fields left out of half the records,
    null in the other half, the label not sent."""
    raw = pd.read_csv(export, dtype=str, keep_default_na=False, nrows=n).drop(
        columns="app_complete_flag"
    )
    records = []
    for i, record in enumerate(raw.to_dict(orient="records")):
        if i % 2:
            records.append({k: (v if v != "" else None) for k, v in record.items()})
        else:
            records.append({k: v for k, v in record.items() if v != ""})
    return records


@pytest.mark.slow
def test_the_served_model_answers_the_batch_scores(scored_project, served_champion):
    records = raw_records(scored_project / "data" / "01_raw" / "new_leads.csv", 100)
    assert records[UNSEEN_LEVEL_ROW]["first_platform_c"] == "Level999"
    left_out = [row for row in MISSING_OPTIONAL if row % 2 == 0]
    assert left_out and all(not set(MISSING_OPTIONAL[row]) & set(records[row]) for row in left_out)
    batch = (
        pd.read_csv(
            scored_project / "data" / "07_model_output" / "scored_leads.csv", dtype={"lead_id": str}
        )
        .drop_duplicates("lead_id")
        .set_index("lead_id")
    )

    # The scored project is a copy of the trained one: the server's champion scored the batch.
    answers = pd.DataFrame(invoke(served_champion, records))

    assert len(answers) == len(records)
    assert answers["lead_id"].tolist() == [r["Unnamed: 0"] for r in records]
    quarantined = answers["status"] == "quarantined"
    assert set(answers.index[quarantined]) == {row for row in BROKEN if row < len(records)}
    served = answers.loc[~quarantined].set_index("lead_id")
    expected = batch.loc[served.index]
    pd.testing.assert_series_equal(served["probability"], expected["probability"], atol=1e-6)
    for column in ["score", "tier", "reason_1", "reason_2", "reason_3"]:
        assert served[column].tolist() == expected[column].tolist(), column
